package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SysfsHostFactsTest {
    @TempDir
    Path sys;

    private void write(String relative, String text) throws IOException {
        Path p = sys.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void readsCpusAndNumaNodesFromAFakeTree() throws IOException {
        write("devices/system/cpu/online", "0-7\n");
        write("devices/system/node/online", "0-1\n");
        write("devices/system/node/has_memory", "0\n");
        write("devices/system/node/node0/cpulist", "0-3\n");
        write("devices/system/node/node1/cpulist", "4-7\n");
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(CpuList.parse("0-7"), host.onlineCpus());
        assertEquals(CpuList.parse("0"), host.memoryNodes());
        assertEquals(new TreeMap<>(Map.of(0, CpuList.parse("0-3"), 1, CpuList.parse("4-7"))), host.numaNodes());
    }

    @Test
    void anAnswerStandsForTheHostForOneSecondThenTheHostIsReadAgain() throws Exception {
        write("devices/system/cpu/online", "0-7\n");
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(CpuList.parse("0-7"), host.onlineCpus());
        write("devices/system/cpu/online", "0-3\n"); // CPUs 4-7 unplugged
        assertEquals(CpuList.parse("0-7"), host.onlineCpus(), "within the window: the answer read before");
        Thread.sleep(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(SysfsHostFacts.FRESH) + 100);
        assertEquals(CpuList.parse("0-3"), host.onlineCpus(), "after it: the host as it is now");
        IllegalArgumentException first = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> host.blockDevice("/dev/jgovernor-test-no-such-device"));
        IllegalArgumentException again = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> host.blockDevice("/dev/jgovernor-test-no-such-device"));
        assertEquals(first.getMessage(), again.getMessage(), "a refusal is remembered as a refusal");
    }

    @Test
    void cgroupV2WhenTheMountRootItselfIsACgroup2Directory() throws IOException {
        write("fs/cgroup/unified/cgroup.controllers", "\n");  // hybrid: cgroup2 only in a subdirectory
        write("fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        assertEquals(false, new SysfsHostFacts(sys).cgroupV2());
        write("fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        assertEquals(true, new SysfsHostFacts(sys).cgroupV2());
        assertEquals(false, new SysfsHostFacts(sys, sys.resolve("fs/cgroup/unified/none")).cgroupV2());
    }

    @Test
    void hugePageSizesAndWhichControllersAHybridHostCanGive() throws IOException {
        Files.createDirectories(sys.resolve("kernel/mm/hugepages/hugepages-2048kB"));
        Files.createDirectories(sys.resolve("kernel/mm/hugepages/hugepages-1048576kB"));
        Files.createDirectories(sys.resolve("fs/cgroup/freezer"));
        Files.createDirectories(sys.resolve("fs/cgroup/net_cls,net_prio"));
        write("fs/cgroup/unified/cgroup.controllers", "hugetlb\n"); // this host: hugetlb on the cgroup2 tree
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(java.util.List.of(2L << 20, 1L << 30), java.util.List.copyOf(host.hugePageSizes()));
        assertEquals(java.util.Optional.empty(), host.controllerProblem("freezer"));
        assertEquals(java.util.Optional.empty(), host.controllerProblem("net_prio"));
        assertEquals("no cgroup v1 hierarchy of controller \"perf_event\" is mounted on this host",
                host.controllerProblem("perf_event").orElseThrow());
        assertEquals("no cgroup v1 hierarchy of controller \"hugetlb\" is mounted on this host; it is on this hybrid"
                + " host's cgroup2 tree (" + sys.resolve("fs/cgroup/unified") + "), where jgovernor keeps no groups:"
                + " mount a v1 hugetlb hierarchy, or boot with cgroup v2 only (systemd.unified_cgroup_hierarchy=1)",
                host.controllerProblem("hugetlb").orElseThrow());
        // v2: hugetlb where cgroup.controllers lists it; the freezer is in every directory
        Path v2 = sys.resolve("v2");
        Files.createDirectories(v2);
        Files.writeString(v2.resolve("cgroup.controllers"), "cpu memory pids\n");
        SysfsHostFacts unified = new SysfsHostFacts(sys, v2);
        assertEquals(java.util.Optional.empty(), unified.controllerProblem("freezer"));
        assertEquals("this host's cgroup v2 tree has no hugetlb controller (cgroup.controllers: cpu memory pids)",
                unified.controllerProblem("hugetlb").orElseThrow());
    }

    @Test
    void nodeListFallsBackToTheNodeDirectories() throws IOException {
        write("devices/system/cpu/online", "0-3\n");
        write("devices/system/node/node0/cpulist", "0-1\n");
        write("devices/system/node/node2/cpulist", "2-3\n");
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(CpuList.parse("0,2"), host.memoryNodes());
        assertEquals(new TreeMap<>(Map.of(0, CpuList.parse("0-1"), 2, CpuList.parse("2-3"))), host.numaNodes());
    }

    @Test
    void aKernelWithoutNumaIsOneNode() throws IOException {
        write("devices/system/cpu/online", "0-1\n");
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(new TreeMap<>(Map.of(0, CpuList.parse("0-1"))), host.numaNodes());
        assertEquals(CpuList.parse("0"), host.memoryNodes());
    }

    @Test
    void majMinMustExistUnderDevBlock() throws IOException {
        Files.createDirectories(sys.resolve("dev/block/8:0"));
        SysfsHostFacts host = new SysfsHostFacts(sys);
        assertEquals(new DeviceNumber(8, 0), host.blockDevice("8:0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> host.blockDevice("8:16"));
        assertEquals("block device 8:16 does not exist on this host (no " + sys.resolve("dev/block/8:16") + ")",
                e.getMessage());
    }

    @Test
    void pathsMustBeBlockDevices() throws IOException {
        SysfsHostFacts host = new SysfsHostFacts(sys);
        Path file = sys.resolve("plain");
        Files.writeString(file, "x");
        assertEquals(file + " is not a block device",
                assertThrows(IllegalArgumentException.class, () -> host.blockDevice(file.toString())).getMessage());
        assertEquals("/dev/does-not-exist does not exist",
                assertThrows(IllegalArgumentException.class, () -> host.blockDevice("/dev/does-not-exist")).getMessage());
        assertEquals("\"vda\" is neither an absolute device path like /dev/vda nor MAJ:MIN like 8:0",
                assertThrows(IllegalArgumentException.class, () -> host.blockDevice("vda")).getMessage());
        assertEquals("/dev/null is not a block device",
                assertThrows(IllegalArgumentException.class, () -> host.blockDevice("/dev/null")).getMessage());
    }

    @Test
    void rdevDecodesLikeGlibc() {
        assertEquals(new DeviceNumber(8, 16), SysfsHostFacts.fromRdev(0x0810));
        // major 259, minor 300: minor's high bits sit above the major's low 12 bits
        long rdev = ((259L & 0xfff) << 8) | (300L & 0xff) | ((300L & ~0xffL) << 12);
        assertEquals(new DeviceNumber(259, 300), SysfsHostFacts.fromRdev(rdev));
    }

    /** The machine's own devices: /dev/loop0 is 7:0 everywhere; /dev/vda is a virtio disk here. */
    @Test
    void resolvesRealDevicesOnThisMachine() {
        SysfsHostFacts host = new SysfsHostFacts();
        assumeTrue(Files.exists(Path.of("/dev/loop0")), "no /dev/loop0 on this machine");
        assertEquals(new DeviceNumber(7, 0), host.blockDevice("/dev/loop0"));
        assertEquals(new DeviceNumber(7, 0), host.blockDevice("7:0"));
        if (Files.exists(Path.of("/dev/vda"))) {
            DeviceNumber vda = host.blockDevice("/dev/vda");
            assertEquals(vda, host.blockDevice(vda.toString()));
        }
        assertEquals(CpuList.parse(readOnline()), host.onlineCpus());
    }

    private static String readOnline() {
        try {
            return Files.readString(Path.of("/sys/devices/system/cpu/online"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}

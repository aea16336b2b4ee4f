package io.jgovernor.cgroup;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountInfoTest {
    @Test
    void parsesThisHostsSeparateCpuAndCpuacct() {
        MountInfo info = MountInfo.parse(Fixtures.text("mountinfo-hybrid-host.txt"));
        MountInfo.Mount cpu = info.cgroupMounts().stream().filter(m -> m.mountPoint().equals("/sys/fs/cgroup/cpu"))
                .findFirst().orElseThrow();
        assertEquals(32, cpu.id());
        assertEquals(31, cpu.parentId());
        assertEquals("0:29", cpu.device());
        assertEquals("/", cpu.root());
        assertEquals(Set.of("cpu"), cpu.controllers());
        MountInfo.Mount systemd = info.cgroupMounts().stream()
                .filter(m -> m.mountPoint().equals("/sys/fs/cgroup/systemd")).findFirst().orElseThrow();
        assertEquals(Set.of("name=systemd"), systemd.controllers());
        MountInfo.Mount unified = info.cgroupMounts().stream().filter(MountInfo.Mount::isCgroup2).findFirst().orElseThrow();
        assertEquals("/sys/fs/cgroup/unified", unified.mountPoint());
        assertEquals(Set.of(), unified.controllers());
    }

    @Test
    void coMountedControllersComeFromSuperOptionsNotFlags() {
        MountInfo info = MountInfo.parse(Fixtures.text("mountinfo-rhel7.txt"));
        MountInfo.Mount cpu = info.cgroupMounts().stream()
                .filter(m -> m.mountPoint().equals("/sys/fs/cgroup/cpu,cpuacct")).findFirst().orElseThrow();
        assertEquals(Set.of("cpu", "cpuacct"), cpu.controllers()); // not "rw", "seclabel"
        MountInfo.Mount systemd = info.cgroupMounts().stream()
                .filter(m -> m.mountPoint().equals("/sys/fs/cgroup/systemd")).findFirst().orElseThrow();
        assertEquals(Set.of("name=systemd"), systemd.controllers()); // not xattr, release_agent=...
    }

    @Test
    void optionalFieldsAndEscapes() {
        MountInfo info = MountInfo.parse(Fixtures.text("mountinfo-container.txt"));
        MountInfo.Mount data = info.mounts().stream().filter(m -> m.mountPoint().equals("/data")).findFirst().orElseThrow();
        assertEquals("/var/lib/docker/volumes/with space/_data", data.root());
        assertEquals("ext4", data.fsType());
        MountInfo.Mount memory = info.cgroupMounts().stream()
                .filter(m -> m.mountPoint().equals("/sys/fs/cgroup/memory")).findFirst().orElseThrow();
        assertEquals("/docker/4c6a9e1b2f0d", memory.root());
    }

    @Test
    void aLaterMountAtTheSamePointHidesTheEarlier() {
        String text = """
                30 24 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
                31 30 0:40 / /sys/fs/cgroup/memory rw - tmpfs tmpfs rw
                """;
        assertEquals(List.of(), MountInfo.parse(text).cgroupMounts());
    }

    @Test
    void aBrokenLineIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MountInfo.parse("22 27 0:21 / /proc rw\n"));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void procCgroupLines() {
        ProcCgroup own = ProcCgroup.parse(Fixtures.text("cgroup-rhel7.txt"));
        assertEquals("/system.slice/jgovernor.service", own.pathOf("cpu").orElseThrow());
        assertEquals("/system.slice/jgovernor.service", own.pathOf("cpuacct").orElseThrow());
        assertEquals("/", own.pathOf("cpuset").orElseThrow());
        assertTrue(own.unifiedPath().isEmpty());
        ProcCgroup v2 = ProcCgroup.parse(Fixtures.text("cgroup-unified.txt"));
        assertEquals("/system.slice/jgovernor.service", v2.unifiedPath().orElseThrow());
    }
}

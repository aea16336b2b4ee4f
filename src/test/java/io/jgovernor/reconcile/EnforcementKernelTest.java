package io.jgovernor.reconcile;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A limit is only proven when a real process is held by it: each test applies a policy through
 * the reconciler, puts a real process into the group, and measures what the kernel did to it.
 */
class EnforcementKernelTest {
    private KernelGroups k;

    @BeforeEach
    void setUp() {
        k = new KernelGroups();
    }

    @AfterEach
    void tearDown() {
        k.close();
    }



    @Test
    void cpuQuotaOfTwentyPercentHoldsABusyLoopNearTwentyPercent() throws Exception {
        // A control loop in a group without a quota runs over the same window: it shows how much
        // CPU a loop could get on this (shared, 2-core) machine, so contention is not mistaken
        // for the quota, nor the quota for contention.
        k.apply("""
                name: spin
                cpu:
                  quota: 20%
                ---
                name: control
                cpu: {}
                """);
        assertEquals("20000", k.read("cpu", "spin", "cpu.cfs_quota_us"));
        Process p = k.shell("read go; while :; do :; done");
        Process control = k.shell("read go; while :; do :; done");
        k.join(p.pid(), "spin");
        k.join(control.pid(), "control");
        KernelGroups.go(p);
        KernelGroups.go(control);
        Thread.sleep(300); // let the loops start before the window opens
        long usage0 = Long.parseLong(k.read("cpuacct", "spin", "cpuacct.usage"));
        long control0 = Long.parseLong(k.read("cpuacct", "control", "cpuacct.usage"));
        long t0 = System.nanoTime();
        Thread.sleep(3000);
        long usage1 = Long.parseLong(k.read("cpuacct", "spin", "cpuacct.usage"));
        long control1 = Long.parseLong(k.read("cpuacct", "control", "cpuacct.usage"));
        long t1 = System.nanoTime();
        double share = (double) (usage1 - usage0) / (t1 - t0);
        double free = (double) (control1 - control0) / (t1 - t0);
        // never more than the quota plus a period's slack, however busy the machine is
        assertTrue(share < 0.26, "busy loop used " + share + " of a CPU under a 20% quota");
        String stat = k.read("cpu", "spin", "cpu.stat");
        long throttled = Long.parseLong(stat.lines().filter(l -> l.startsWith("nr_throttled "))
                .findFirst().orElseThrow().split(" ")[1]);
        if (free > 0.5) {
            // The machine had room (a free loop got over half a CPU): the quota, not contention,
            // held the loop, so it got about its 20% and was throttled again and again.
            assertTrue(share > 0.14, "busy loop used only " + share + " of a CPU under a 20% quota, while a free loop got " + free);
            assertTrue(throttled > 10, "throttled periods: " + stat);
        } else {
            System.err.println("cpu quota test: machine saturated (a free loop got " + free
                    + " of a CPU); only the upper bound was checked");
        }
    }

    /**
     * issue 15: v1 has no memory.low; the spec's nearest is the soft limit. It protects nothing, so
     * the proof is what it does do: it holds the value, a second pass leaves it, and a process
     * above it (below the hard limit) is not touched, while the group's usage shows it above.
     */
    @Test
    void memoryLowOnV1IsTheSoftLimitAndAProcessAboveItRunsOn() throws Exception {
        String yaml = """
                name: soft
                memory:
                  limit: 256Mi
                  low: 32Mi
                """;
        k.apply(yaml);
        assertEquals(String.valueOf(32 << 20), k.read("memory", "soft", "memory.soft_limit_in_bytes"));
        assertEquals(0, k.apply(yaml).writes(), "read back equal: nothing to write again");
        // 64 MiB written (not calloc'd: those pages would stay untouched), held until a second line
        Process p = k.shell("read go; exec python3 -c 'import sys; b = b\"x\" * (64 << 20); sys.stdin.readline()'");
        k.join(p.pid(), "soft");
        KernelGroups.go(p);
        long usage = 0;
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); usage < (64L << 20) && System.nanoTime() < end; ) {
            Thread.sleep(50);
            usage = Long.parseLong(k.read("memory", "soft", "memory.usage_in_bytes"));
        }
        assertTrue(usage >= 64L << 20, "the group's usage should pass the soft limit: " + usage);
        assertTrue(p.isAlive(), "above the soft limit, below the hard one: nothing is killed");
        KernelGroups.go(p);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    @Test
    void processAllocatingPastTheMemoryLimitIsOomKilled() throws Exception {
        k.apply("""
                name: hog
                memory:
                  limit: 32Mi
                  swapLimit: 32Mi
                """);
        assertEquals(String.valueOf(32 << 20), k.read("memory", "hog", "memory.limit_in_bytes"));
        // tail keeps a line in memory until it ends, and /dev/zero has no newline.
        Process p = k.shell("read go; head -c 268435456 /dev/zero | tail");
        k.join(p.pid(), "hog");
        KernelGroups.go(p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped");
        assertEquals(128 + 9, p.exitValue(), "tail should die of SIGKILL from the OOM killer");
        String oom = k.read("memory", "hog", "memory.oom_control");
        long kills = Long.parseLong(oom.lines().filter(l -> l.startsWith("oom_kill "))
                .findFirst().orElseThrow().split(" ")[1]);
        assertTrue(kills >= 1, "memory.oom_control: " + oom);
    }

    @Test
    void directReadFromALoopDeviceIsHeldNearOneMiBPerSecond() throws Exception {
        Path image = Files.createTempFile("jgovernor-test-", ".img");
        String loop = null;
        try {
            try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(16 << 20);
            }
            loop = KernelGroups.run("losetup", "--find", "--show", image.toString());
            k.apply("""
                    name: reader
                    io:
                      devices:
                        - device: %s
                          readBps: 1Mi
                    """.formatted(loop));
            assertTrue(k.read("blkio", "reader", "blkio.throttle.read_bps_device").contains(" 1048576"));
            // 3 MiB at 1 MiB/s: about 3 s (the first slice may pass a little more).
            Process p = k.shell("read go; exec dd if=" + loop + " of=/dev/null bs=64k count=48 iflag=direct");
            k.join(p.pid(), "reader");
            long t0 = System.nanoTime();
            KernelGroups.go(p);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "dd did not finish");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(0, p.exitValue());
            double mibPerSecond = 3.0 / seconds;
            assertTrue(mibPerSecond > 0.5 && mibPerSecond < 1.6, "direct read ran at " + mibPerSecond + " MiB/s");
        } finally {
            if (loop != null) {
                KernelGroups.run("losetup", "--detach", loop);
            }
            Files.deleteIfExists(image);
        }
    }

    @Test
    void aChildThatSetsOnlyCpuIsHeldByItsParentsMemoryAndPidsLimits() throws Exception {
        // policy.md: nested groups are contained. batch/low has a directory in memory and pids
        // (beneath batch's) although it sets neither, so batch's limits hold its processes.
        k.apply("""
                name: batch
                memory:
                  limit: 32Mi
                  swapLimit: 32Mi
                pids:
                  max: 4
                ---
                name: batch/low
                cpu:
                  shares: 256
                """);
        assertTrue(Files.isDirectory(k.dir("memory", "batch/low")), "batch/low in the memory hierarchy");
        assertTrue(Files.isDirectory(k.dir("pids", "batch/low")), "batch/low in the pids hierarchy");

        Process hog = k.shell("read go; head -c 268435456 /dev/zero | tail");
        k.join(hog.pid(), "batch/low");
        KernelGroups.go(hog);
        assertTrue(hog.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped by batch's limit");
        assertEquals(128 + 9, hog.exitValue(), "tail should die of SIGKILL from the OOM killer");

        Process forky = k.shell("read go; for i in 1 2 3 4 5 6; do sleep 5 & done; wait");
        k.join(forky.pid(), "batch/low");
        KernelGroups.go(forky);
        Thread.sleep(500);
        // v1 counts the refusal in the forking task's own group (batch/low), not in batch, whose
        // limit refused it (measured on this 6.18 kernel: batch's pids.events stays at 0).
        String events = k.read("pids", "batch/low", "pids.events");
        assertTrue(Long.parseLong(events.split("\\s+")[1]) >= 1, "batch/low's pids.events: " + events);
        assertTrue(Long.parseLong(k.read("pids", "batch", "pids.current")) <= 4);
    }

    @Test
    void pidsMaxStopsAFork() throws Exception {
        k.apply("""
                name: forky
                pids:
                  max: 3
                """);
        Process p = k.shell("read go; for i in 1 2 3 4 5 6; do sleep 5 & done; wait");
        k.join(p.pid(), "forky");
        KernelGroups.go(p);
        Thread.sleep(500);
        String events = k.read("pids", "forky", "pids.events");
        long refused = Long.parseLong(events.split("\\s+")[1]);
        assertTrue(refused >= 1, "pids.events: " + events);
        assertTrue(Long.parseLong(k.read("pids", "forky", "pids.current")) <= 3);
    }

    @Test
    void cpusetPinsAProcessToItsCpus() throws Exception {
        k.apply("""
                name: pinned
                cpuset:
                  cpus: "1"
                  mems: "0"
                """);
        Process p = k.cgroups.start("sleep", "30");
        k.join(p.pid(), "pinned");
        String allowed = Files.readAllLines(Path.of("/proc/" + p.pid() + "/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow();
        assertEquals("1", allowed.split("\\s+")[1]);
    }


}

package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.metrics.DaemonCollector;
import io.jgovernor.metrics.EventCounters;
import io.jgovernor.metrics.GroupCollector;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.metrics.GroupStats;
import io.jgovernor.metrics.Metrics;
import io.jgovernor.metrics.StatFiles;
import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The scrape-time metrics against real groups with real load: each test applies a policy, puts
 * a real process to work in the group, and reads the metric through the same collector the daemon
 * serves. No timing assertions: each waits (bounded) until the kernel's counter moved.
 */
class MetricsKernelTest {
    private KernelGroups k;
    private GroupStats stats;

    @BeforeEach
    void setUp() throws Exception {
        k = new KernelGroups();
        stats = GroupStats.of(StatFiles.of(k.cgroups.files()), Backend.of(k.cgroups.layout(), k.cgroups.files()));
    }

    @AfterEach
    void tearDown() {
        k.close();
    }



    private GroupSample sample(String group) {
        return stats.read(new GroupName(group));
    }

    private String scrape(String... groups) throws IOException {
        List<GroupName> names = java.util.Arrays.stream(groups).map(GroupName::new).toList();
        Metrics m = new Metrics(new GroupCollector(() -> names, stats, EventCounters.NONE),
                new DaemonCollector(() -> null, () -> 0, () -> 0, EventCounters.NONE), false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out, null);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        fail("timed out waiting for " + what);
    }

    @Test
    void cpuSecondsGrowAndThrottledPeriodsGrowUnderAQuota() throws Exception {
        k.apply("""
                name: spin
                cpu:
                  quota: 20%
                """);
        GroupSample before = sample("spin");
        assertEquals(0, before.throttledPeriods().orElseThrow());
        assertEquals(0.2, before.cpuQuotaCores().orElseThrow(), 1e-9);
        assertEquals(0, before.processes().orElseThrow());
        Process p = k.shell("read go; while :; do :; done");
        k.join(p.pid(), "spin");
        KernelGroups.go(p);
        long cpu0 = before.cpuUsageNanos().orElseThrow();
        await(() -> sample("spin").cpuUsageNanos().orElseThrow() > cpu0 + 50_000_000L, "CPU seconds to grow");
        await(() -> sample("spin").throttledPeriods().orElseThrow() >= 3, "throttled periods to grow");
        GroupSample after = sample("spin");
        assertTrue(after.throttledNanos().orElseThrow() > 0);
        assertEquals(1, after.processes().orElseThrow());
        String t = scrape("spin");
        assertTrue(t.contains("jgovernor_group_processes{group=\"spin\"} 1.0"), t);
        assertTrue(t.contains("jgovernor_group_cpu_throttled_periods_total{group=\"spin\"} "), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 0.0"), t);
    }

    @Test
    void memoryUsageAndLimitMatchTheFiles() throws Exception {
        k.apply("""
                name: mem
                memory:
                  limit: 64Mi
                """);
        // the shell allocates after joining: v1 charges memory to the group it is allocated in
        Process p = k.shell("read go; a=$(head -c 4000000 /dev/zero | tr '\\0' x); read done");
        k.join(p.pid(), "mem");
        KernelGroups.go(p);
        await(() -> sample("mem").memoryUsageBytes().orElseThrow() > 2_000_000, "memory usage above 2 MB");
        GroupSample s = sample("mem");
        assertEquals(64L << 20, s.memoryLimitBytes().orElseThrow());
        assertEquals(Long.parseLong(k.read("memory", "mem", "memory.limit_in_bytes")), s.memoryLimitBytes().orElseThrow());
        // usage moves on its own; read from the same file, it lies between two reads of it (give or take a page or so)
        long lo = Long.parseLong(k.read("memory", "mem", "memory.usage_in_bytes"));
        long usage = sample("mem").memoryUsageBytes().orElseThrow();
        long hi = Long.parseLong(k.read("memory", "mem", "memory.usage_in_bytes"));
        long slack = 1 << 20;
        assertTrue(usage >= Math.min(lo, hi) - slack && usage <= Math.max(lo, hi) + slack,
                "usage " + usage + " outside [" + lo + ", " + hi + "]");
        String t = scrape("mem");
        assertTrue(t.contains("jgovernor_group_memory_limit_bytes{group=\"mem\"} 6.7108864E7"), t);
    }

    @Test
    void noMemoryLimitIsNoLimitSeries() throws Exception {
        k.apply("""
                name: nolimit
                memory:
                  oomKillDisable: false
                """);
        GroupSample s = sample("nolimit");
        assertTrue(s.memoryUnlimited(), "memory.limit_in_bytes: " + k.read("memory", "nolimit", "memory.limit_in_bytes"));
        assertTrue(s.memoryLimitBytes().isEmpty());
        assertTrue(s.memoryUsageBytes().isPresent());
    }

    @Test
    void anOomKillShowsInOomKillsTotal() throws Exception {
        k.apply("""
                name: hog
                memory:
                  limit: 32Mi
                  swapLimit: 32Mi
                """);
        assertEquals(0, sample("hog").oomKills().orElseThrow());
        Process p = k.shell("read go; head -c 268435456 /dev/zero | tail");
        k.join(p.pid(), "hog");
        KernelGroups.go(p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped");
        assertTrue(sample("hog").oomKills().orElseThrow() >= 1);
        String t = scrape("hog");
        assertTrue(t.matches("(?s).*jgovernor_group_oom_kills_total\\{group=\"hog\"} [1-9].*"), t);
    }

    @Test
    void ioBytesGrowAfterDirectIoOnALoopDevice() throws Exception {
        Path image = Files.createTempFile("jgovernor-test-", ".img");
        String loop = null;
        try {
            try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(8 << 20);
            }
            loop = KernelGroups.run("losetup", "--find", "--show", image.toString());
            String device = KernelGroups.run("sh", "-c", "printf '%d:%d' 0x$(stat -c %t " + loop + ") 0x$(stat -c %T " + loop + ")");
            k.apply("""
                    name: disk
                    io:
                      weight: 200
                    """);
            Process p = k.shell("read go; dd if=" + loop + " of=/dev/null bs=64k count=32 iflag=direct && "
                    + "exec dd if=/dev/zero of=" + loop + " bs=64k count=16 oflag=direct");
            k.join(p.pid(), "disk");
            KernelGroups.go(p);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dd did not finish");
            assertEquals(0, p.exitValue());
            var io = sample("disk").io().stream().filter(d -> d.device().equals(device)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + device + " in " + sample("disk").io()));
            assertTrue(io.readBytes() >= 2 << 20, "read " + io.readBytes());
            assertTrue(io.writeBytes() >= 1 << 20, "written " + io.writeBytes());
            String t = scrape("disk");
            assertTrue(t.contains("jgovernor_group_io_read_bytes_total{device=\"" + device + "\",group=\"disk\"} "), t);
        } finally {
            if (loop != null) {
                KernelGroups.run("losetup", "--detach", loop);
            }
            Files.deleteIfExists(image);
        }
    }

    @Test
    void pidsCurrentCountsTheGroupsTasks() throws Exception {
        k.apply("""
                name: forky
                pids:
                  max: 10
                """);
        Process p = k.shell("read go; sleep 30 & sleep 30 & wait");
        k.join(p.pid(), "forky");
        KernelGroups.go(p);
        await(() -> sample("forky").pidsCurrent().orElseThrow() == 3, "pids.current to reach 3");
        assertEquals(3, sample("forky").processes().orElseThrow());
    }

}

package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.Psi;
import io.jgovernor.model.Pressure;
import io.jgovernor.metrics.DaemonCollector;
import io.jgovernor.metrics.EventCounters;
import io.jgovernor.metrics.GroupCollector;
import io.jgovernor.metrics.GroupStats;
import io.jgovernor.metrics.Metrics;
import io.jgovernor.metrics.PressureStats;
import io.jgovernor.metrics.StatFiles;
import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * On this hybrid host (v1 controllers, systemd's controller-less unified tree, PSI on): with
 * jgovernor.cgroup.hybrid-unified every group gets a directory in the unified tree too, its
 * processes join it, and the kernel counts their stalls there: waiting under the group's own v1
 * CFS quota shows as CPU pressure, reclaim under its v1 memory limit as memory pressure.
 */
class HybridPressureKernelTest {
    private KernelGroups k;
    private PressureStats pressure;
    private Hierarchy unified;

    @BeforeEach
    void setUp() {
        k = KernelGroups.withUnifiedGroups();
        Assumptions.assumeTrue(k.cgroups.layout().mode() == CgroupMode.HYBRID, "a hybrid host's test");
        unified = k.cgroups.layout().unified().orElseThrow();
        pressure = PressureStats.of(StatFiles.of(k.cgroups.files()), k.cgroups.layout());
    }

    @AfterEach
    void tearDown() {
        if (k != null) {
            k.close();
        }
    }

    private long micros(String group, Pressure.Resource r) {
        Psi p = pressure.group(new GroupName(group)).get(r);
        return p == null ? -1 : p.someMicros();
    }

    private static void await(LongSupplier value, long above, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long last = -1;
        while (System.nanoTime() < end) {
            last = value.getAsLong();
            if (last > above) {
                return;
            }
            Thread.sleep(50);
        }
        fail("timed out waiting for " + what + " (last " + last + ")");
    }

    @Test
    void aProcessHeldByItsV1QuotaShowsCpuPressureInItsUnifiedDirectory() throws Exception {
        Report r = k.apply("""
                name: spin
                cpu:
                  quota: 20%
                """);
        Path dir = k.cgroups.layout().groupDir(unified, new GroupName("spin"));
        assertTrue(Files.isDirectory(dir), "a unified-tree directory for the group: " + r);
        assertTrue(Files.exists(dir.resolve("cpu.pressure")));
        assertEquals(List.of(), k.reconciler.reconcileAll(k.policies("""
                name: spin
                cpu:
                  quota: 20%
                """)).errors());
        assertEquals(0, micros("spin", Pressure.Resource.CPU), "no process yet, no stall");
        Process p = k.shell("read go; while :; do :; done");
        k.joinAll(p.pid(), "spin");
        assertEquals(String.valueOf(p.pid()), Files.readString(dir.resolve("cgroup.procs")).strip());
        KernelGroups.go(p);
        // at 20% of one CPU a spinner waits ~80% of the time: 0.5 s of stall comes within a second or so
        await(() -> micros("spin", Pressure.Resource.CPU), 500_000, "CPU pressure of the throttled group");
        GroupStats stats = GroupStats.of(StatFiles.of(k.cgroups.files()), KernelGroups.backend(k.cgroups));
        Metrics m = new Metrics(new GroupCollector(() -> List.of(new GroupName("spin")), stats, EventCounters.NONE,
                pressure), new DaemonCollector(() -> null, () -> 0, () -> 0, EventCounters.NONE), false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out, null);
        String t = out.toString(StandardCharsets.UTF_8);
        assertTrue(t.matches("(?s).*jgovernor_group_pressure_cpu_waiting_seconds_total\\{group=\"spin\"} 0\\.[5-9].*"
                + "|(?s).*jgovernor_group_pressure_cpu_waiting_seconds_total\\{group=\"spin\"} [1-9].*"), t);
        assertTrue(t.contains("jgovernor_host_pressure_cpu_waiting_seconds_total "), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 0.0"), t);
    }

    @Test
    void reclaimUnderAV1MemoryLimitShowsMemoryPressure() throws Exception {
        k.apply("""
                name: cache
                memory:
                  limit: 16Mi
                """);
        Path file = Files.createTempFile(Path.of("/var/tmp"), "jgovernor-test-", ".dat");
        try {
            // the group writes 128 MiB and reads it back twice: under 16 MiB its own page cache is
            // reclaimed while it writes and refaults while it reads, each a memory stall
            Process p = k.shell("read go; dd if=/dev/zero of=" + file + " bs=1M count=128 status=none && "
                    + "cat " + file + " " + file + " > /dev/null; read done");
            k.joinAll(p.pid(), "cache");
            KernelGroups.go(p);
            await(() -> micros("cache", Pressure.Resource.MEMORY), 0, "memory pressure of the group");
            GroupStats stats = GroupStats.of(StatFiles.of(k.cgroups.files()), KernelGroups.backend(k.cgroups));
            var s = stats.read(new GroupName("cache"));
            long ws = (long) s.series().stream().filter(x -> x.metric().equals("jgovernor_group_memory_working_set_bytes"))
                    .findFirst().orElseThrow().value();
            assertTrue(ws <= s.memoryUsageBytes().orElseThrow() + (1 << 20), "working set " + ws + " within usage");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aRemovedGroupsUnifiedDirectoryGoesAndItsProcessesGoToTheParent() throws Exception {
        k.apply("""
                name: batch
                ---
                name: batch/low
                cpu:
                  shares: 100
                """);
        Process p = k.shell("read go");
        k.joinAll(p.pid(), "batch/low");
        Path low = k.cgroups.layout().groupDir(unified, new GroupName("batch/low"));
        assertTrue(Files.isDirectory(low));
        k.apply("""
                name: batch
                """);
        assertFalse(Files.exists(low), "removed with its group");
        Path batch = k.cgroups.layout().groupDir(unified, new GroupName("batch"));
        assertEquals(String.valueOf(p.pid()), Files.readString(batch.resolve("cgroup.procs")).strip(),
                "moved to the surviving parent, as on v1");
        assertEquals(Files.readString(batch.resolve("cgroup.subtree_control")).strip(), "",
                "nothing is enabled in a hybrid host's unified tree");
    }
}

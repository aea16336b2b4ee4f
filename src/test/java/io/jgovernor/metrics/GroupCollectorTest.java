package io.jgovernor.metrics;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Resources;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Report;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.jgovernor.cgroup.CgroupTextTest.captured;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupCollectorTest {
    private final FakeStatFiles files = new FakeStatFiles();
    private final GroupStats stats = new GroupStats(files, FakeStatFiles.sources());

    private Metrics metrics(List<GroupName> groups) {
        return new Metrics(new GroupCollector(() -> groups, stats, EventCounters.NONE),
                new DaemonCollector(() -> null, () -> 3, () -> 4, EventCounters.NONE), false);
    }

    private static String text(Metrics m, String accept) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out, accept);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Pressure files of a v2 or unified-tree directory, in memory, beside the v1 files. */
    private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified/jgovernor");
    private static final Path PROC_PRESSURE = Path.of("/proc/pressure");

    private Metrics withPressure(List<GroupName> groups) {
        PressureStats pressure = new PressureStats(files, UNIFIED, PROC_PRESSURE);
        return new Metrics(new GroupCollector(() -> groups, stats, EventCounters.NONE, pressure),
                new DaemonCollector(() -> null, () -> 3, () -> 4, EventCounters.NONE), false);
    }

    @Test
    void pressureTotalsInSecondsWorkingSetAndMemoryEvents() throws Exception {
        files.fullGroup("web", 2_500_000_000L, captured("cpu.stat-throttled"), 1048576, 268435456,
                captured("memory.oom_control-killed"), captured("blkio.throttle.io_service_bytes-host"), 7, "10\n11\n");
        files.put("memory", "web", "memory.stat", "cache 700000\ninactive_file 4096\ntotal_cache 700000\n"
                + "total_inactive_file 524288\n");
        files.files.put(UNIFIED.resolve("web/cpu.pressure"), io.jgovernor.cgroup.Fixtures.text("psi/cpu.pressure-quota"));
        files.files.put(UNIFIED.resolve("web/memory.pressure"),
                "some avg10=10.82 avg60=2.04 avg300=0.43 total=943834\nfull avg10=10.82 avg60=2.04 avg300=0.43 total=900000\n");
        files.files.put(UNIFIED.resolve("web/io.pressure"), "some avg10=0.00 avg60=0.00 avg300=0.00 total=297\n"
                + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        files.files.put(PROC_PRESSURE.resolve("cpu"), io.jgovernor.cgroup.Fixtures.text("psi/cpu.pressure-5.10"));
        files.files.put(PROC_PRESSURE.resolve("memory"), "some avg10=0.00 avg60=0.07 avg300=0.29 total=2602640\n"
                + "full avg10=0.00 avg60=0.06 avg300=0.27 total=2398631\n");
        // a v1 group without a unified-tree directory: no pressure series, and no error
        files.put("cpuacct", "batch", "cpuacct.usage", "5\n");
        String t = text(withPressure(List.of(new GroupName("web"), new GroupName("batch"))), null);
        assertTrue(t.contains("jgovernor_group_pressure_cpu_waiting_seconds_total{group=\"web\"} 3.738629\n"), t);
        assertTrue(t.contains("jgovernor_group_pressure_cpu_stalled_seconds_total{group=\"web\"} 3.738629\n"), t);
        assertTrue(t.contains("jgovernor_group_pressure_memory_waiting_seconds_total{group=\"web\"} 0.943834\n"), t);
        assertTrue(t.contains("jgovernor_group_pressure_memory_stalled_seconds_total{group=\"web\"} 0.9\n"), t);
        assertTrue(t.contains("jgovernor_group_pressure_io_waiting_seconds_total{group=\"web\"} 2.97E-4\n"), t);
        assertTrue(t.contains("jgovernor_group_pressure_io_stalled_seconds_total{group=\"web\"} 0.0\n"), t);
        assertFalse(t.contains("group=\"batch\"} 0.0\njgovernor_group_pressure"), t);
        assertFalse(t.contains("jgovernor_group_pressure_cpu_waiting_seconds_total{group=\"batch\"}"), t);
        assertTrue(t.contains("jgovernor_host_pressure_cpu_waiting_seconds_total 0.0\n"), t);
        assertFalse(t.contains("jgovernor_host_pressure_cpu_stalled_seconds_total "), "no full line before 5.13: " + t);
        assertTrue(t.contains("jgovernor_host_pressure_memory_stalled_seconds_total 2.398631\n"), t);
        assertFalse(t.contains("jgovernor_host_pressure_io_waiting_seconds_total "), "no /proc/pressure/io here: " + t);
        // 1048576 - total_inactive_file (hierarchical), not the group's own inactive_file
        assertTrue(t.contains("jgovernor_group_memory_working_set_bytes{group=\"web\"} 524288.0\n"), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 0.0\n"), t);
        promtoolCheckMetrics(t);
    }

    @Test
    void aBadPressureFileCostsItsSeriesAndCountsAsAnError() throws IOException {
        files.put("cpuacct", "web", "cpuacct.usage", "5\n");
        files.files.put(UNIFIED.resolve("web/cpu.pressure"), "some avg10=0.00\n");
        files.files.put(UNIFIED.resolve("web/memory.pressure"), "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
        String t = text(withPressure(List.of(new GroupName("web"))), null);
        assertFalse(t.contains("jgovernor_group_pressure_cpu_waiting_seconds_total{"), t);
        assertTrue(t.contains("jgovernor_group_pressure_memory_waiting_seconds_total{group=\"web\"} 7.0E-6\n"), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 1.0\n"), t);
    }

    /** promtool's lint of the exposition: no output when it is clean. */
    static void promtoolCheckMetrics(String exposition) throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals("", out.strip(), "promtool check metrics");
    }

    @Test
    void everySeriesOfAGroupFromItsFiles() throws IOException {
        files.fullGroup("web", 2_500_000_000L, captured("cpu.stat-throttled"), 1048576, 268435456,
                captured("memory.oom_control-killed"), captured("blkio.throttle.io_service_bytes-host"), 7, "10\n11\n");
        String t = text(metrics(List.of(new GroupName("web"))), null);
        assertTrue(t.contains("jgovernor_group_cpu_usage_seconds_total{group=\"web\"} 2.5\n"), t);
        assertTrue(t.contains("jgovernor_group_cpu_throttled_periods_total{group=\"web\"} 11.0\n"), t);
        assertTrue(t.contains("jgovernor_group_cpu_throttled_seconds_total{group=\"web\"} 0.817417509\n"), t);
        assertTrue(t.contains("jgovernor_group_cpu_quota_cores{group=\"web\"} 0.5\n"), t);
        assertTrue(t.contains("jgovernor_group_memory_usage_bytes{group=\"web\"} 1048576.0\n"), t);
        assertTrue(t.contains("jgovernor_group_memory_limit_bytes{group=\"web\"} 2.68435456E8\n"), t);
        assertTrue(t.contains("jgovernor_group_oom_kills_total{group=\"web\"} 1.0\n"), t);
        assertTrue(t.contains("jgovernor_group_oom_events_total{group=\"web\"} 0.0\n"), t);
        assertTrue(t.contains("jgovernor_group_io_read_bytes_total{device=\"254:0\",group=\"web\"} 1.552990208E9\n"), t);
        assertTrue(t.contains("jgovernor_group_io_write_bytes_total{device=\"7:0\",group=\"web\"} 0.0\n"), t);
        assertTrue(t.contains("jgovernor_group_pids_current{group=\"web\"} 7.0\n"), t);
        assertTrue(t.contains("jgovernor_group_processes{group=\"web\"} 2.0\n"), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 0.0\n"), t);
        assertTrue(t.contains("jgovernor_reconcile_errors_total 3.0\n"), t);
        assertTrue(t.contains("jgovernor_drift_corrections_total 4.0\n"), t);
        assertTrue(t.contains("jgovernor_webhook_deliveries_total{result=\"failure\"} 0.0\n"), t);
        assertTrue(t.contains("jgovernor_webhook_queue_depth 0.0\n"), t);
        assertTrue(t.contains("jgovernor_policies{state=\"valid\"} 0.0\n"), t);
    }

    /**
     * A controller's own series (hugetlb's, freezer's) reach the scrape with no field in
     * GroupSample and no line in the collector: the controller reads its file and adds them.
     */
    @Test
    void aControllersOwnSeriesAreReportedAsItSaysWithTheGroupsLabel() throws IOException {
        files.put("freezer", "web", "freezer.state", "FROZEN\n");
        Controller freezer = new Controller() {
            @Override
            public String name() {
                return "freezer";
            }

            @Override
            public boolean usedBy(Resources resources) {
                return false;
            }

            @Override
            public List<String> observedFiles() {
                return List.of();
            }

            @Override
            public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
                return List.of();
            }

            @Override
            public Map<String, String> fresh(GroupContext context) {
                return Map.of();
            }

            @Override
            public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
                String state = in.text(dir, "freezer.state");
                if (state != null) {
                    sample.series(new GroupSample.Series("jgovernor_group_frozen", "1 when frozen", null, false, Map.of(),
                            state.strip().equals("FROZEN") ? 1 : 0));
                    sample.series(new GroupSample.Series("jgovernor_group_hugetlb_failcnt", "refused", null, true,
                            Map.of("pagesize", "2MB"), 3));
                }
            }
        };
        List<Backend.StatSource> sources = new ArrayList<>(FakeStatFiles.sources());
        sources.add(new Backend.StatSource(freezer, FakeStatFiles.ROOT.resolve("freezer").resolve("jgovernor")));
        GroupStats withFreezer = new GroupStats(files, sources);
        Metrics m = new Metrics(new GroupCollector(() -> List.of(new GroupName("web"), new GroupName("db")), withFreezer,
                EventCounters.NONE), new DaemonCollector(() -> null, () -> 0, () -> 0, EventCounters.NONE), false);
        String t = text(m, null);
        assertTrue(t.contains("# HELP jgovernor_group_frozen 1 when frozen\n"), t);
        assertTrue(t.contains("jgovernor_group_frozen{group=\"web\"} 1.0\n"), t);
        assertFalse(t.contains("jgovernor_group_frozen{group=\"db\"}"), "db has no freezer.state: " + t);
        assertTrue(t.contains("jgovernor_group_hugetlb_failcnt_total{group=\"web\",pagesize=\"2MB\"} 3.0\n"), t);
    }

    @Test
    void noLimitIsNoLimitSeries() throws IOException {
        files.fullGroup("web", 1, captured("cpu.stat-idle"), 4096, 9223372036854771712L,
                captured("memory.oom_control-idle"), captured("blkio.throttle.io_service_bytes-fresh"), 1, "1\n");
        files.put("cpu", "web", "cpu.cfs_quota_us", "-1\n");
        String t = text(metrics(List.of(new GroupName("web"))), null);
        assertFalse(t.contains("jgovernor_group_memory_limit_bytes{"), t);
        assertFalse(t.contains("jgovernor_group_cpu_quota_cores{"), t);
        assertTrue(t.contains("jgovernor_group_memory_usage_bytes{group=\"web\"} 4096.0\n"), t);
        assertFalse(t.contains("jgovernor_group_io_read_bytes_total{"), t);
        GroupSample s = stats.read(new GroupName("web"));
        assertTrue(s.memoryUnlimited());
        assertEquals(0, stats.errors());
    }

    @Test
    void aGroupWithoutDirectoriesInSomeHierarchiesHasOnlyItsOwnSeries() throws IOException {
        // "batch/low" uses only cpu: the daemon makes cpu and cpuacct directories, no memory one
        files.put("cpuacct", "batch/low", "cpuacct.usage", "1000000000\n");
        files.put("cpuacct", "batch/low", "cgroup.procs", "");
        files.put("cpu", "batch/low", "cpu.stat", captured("cpu.stat-idle"));
        files.put("cpu", "batch/low", "cpu.cfs_quota_us", "-1\n");
        files.put("cpu", "batch/low", "cpu.cfs_period_us", "100000\n");
        String t = text(metrics(List.of(new GroupName("batch/low"))), null);
        assertTrue(t.contains("jgovernor_group_cpu_usage_seconds_total{group=\"batch/low\"} 1.0\n"), t);
        assertTrue(t.contains("jgovernor_group_processes{group=\"batch/low\"} 0.0\n"), t);
        assertFalse(t.contains("jgovernor_group_memory_usage_bytes{"), t);
        assertFalse(t.contains("jgovernor_group_pids_current{"), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 0.0\n"), t);
    }

    @Test
    void aVanishedGroupIsSkippedAndAnUnreadableFileCostsItsSeriesOnly() throws IOException {
        files.fullGroup("web", 2_000_000_000L, captured("cpu.stat-idle"), 1, 2, captured("memory.oom_control-idle"),
                "", 1, "1\n");
        files.unreadable("memory", "web", "memory.usage_in_bytes");
        files.put("pids", "web", "pids.current", "garbage\n");
        // "gone" is in the policies but its directories were removed a moment ago
        Metrics m = metrics(List.of(new GroupName("gone"), new GroupName("web")));
        String t = text(m, null);
        // only the daemon's own counter remains for it: every file series is skipped, with no error
        assertEquals(1, t.split("group=\"gone\"", -1).length - 1, t);
        assertTrue(t.contains("jgovernor_group_oom_events_total{group=\"gone\"} 0.0\n"), t);
        assertTrue(t.contains("jgovernor_group_cpu_usage_seconds_total{group=\"web\"} 2.0\n"), t);
        assertFalse(t.contains("jgovernor_group_memory_usage_bytes{"), t);
        assertFalse(t.contains("jgovernor_group_pids_current{"), t);
        assertTrue(t.contains("jgovernor_scrape_errors_total 2.0\n"), t);
        assertTrue(text(m, null).contains("jgovernor_scrape_errors_total 4.0\n"), "errors are counted per scrape");
    }

    @Test
    void aFailingGroupListOrEventCounterNeverFailsTheScrape() throws IOException {
        EventCounters broken = new EventCounters() {
            @Override
            public long oomEvents(GroupName group) {
                throw new IllegalStateException("boom");
            }

            @Override
            public Map<String, Long> webhookDeliveries() {
                throw new IllegalStateException("boom");
            }

            @Override
            public long webhookQueueDepth() {
                throw new IllegalStateException("boom");
            }
        };
        files.put("cpuacct", "web", "cpuacct.usage", "5\n");
        Metrics m = new Metrics(new GroupCollector(() -> List.of(new GroupName("web")), stats, broken),
                new DaemonCollector(() -> {
                    throw new IllegalStateException("boom");
                }, () -> 0, () -> 0, broken), false);
        String t = text(m, null);
        assertTrue(t.contains("jgovernor_group_cpu_usage_seconds_total{group=\"web\"} 5.0E-9\n"), t);
        Metrics noGroups = new Metrics(new GroupCollector(() -> {
            throw new IllegalStateException("boom");
        }, stats, broken), new DaemonCollector(() -> null, () -> 0, () -> 0, broken), false);
        assertTrue(text(noGroups, null).contains("jgovernor_scrape_errors_total 1.0\n"));
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() throws IOException {
        files.put("cpuacct", "web", "cpuacct.usage", "5\n");
        Metrics m = metrics(List.of(new GroupName("web")));
        String accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assertEquals(OpenMetricsTextFormatWriter.class, m.writerFor(accept).getClass());
        String t = text(m, accept);
        assertTrue(t.endsWith("# EOF\n"), t);
        assertTrue(t.contains("# UNIT jgovernor_group_cpu_usage_seconds seconds\n"), t);
        assertTrue(m.writerFor("text/plain").getContentType().startsWith("text/plain; version=0.0.4"));
        assertTrue(m.writerFor(null).getContentType().startsWith("text/plain; version=0.0.4"));
    }

    @Test
    void policiesAndReconcileDuration() throws IOException {
        Path p = Path.of("/etc/jgovernor/policies.d/a.yaml");
        CatalogState catalog = new CatalogState(new TreeMap<>(), List.of(
                new CatalogState.FileStatus(p, true, List.of(), new java.util.TreeSet<>(), false),
                new CatalogState.FileStatus(p.resolveSibling("b.yaml"), false, List.of(), new java.util.TreeSet<>(), true),
                new CatalogState.FileStatus(p.resolveSibling("c.yaml"), true, List.of(), new java.util.TreeSet<>(), false)),
                List.of());
        Metrics m = new Metrics(new GroupCollector(List::of, stats, EventCounters.NONE),
                new DaemonCollector(() -> catalog, () -> 0, () -> 0, EventCounters.NONE), false);
        m.passed(new Report(true, 3, 0, 0, 0, 0, List.of(), Set.of(), Duration.ofMillis(3)));
        m.passed(new Report(false, 0, 0, 0, 0, 0, List.of(), Set.of(), Duration.ZERO)); // nothing to do: not a pass
        String t = text(m, null);
        assertTrue(t.contains("jgovernor_policies{state=\"valid\"} 2.0\n"), t);
        assertTrue(t.contains("jgovernor_policies{state=\"invalid\"} 1.0\n"), t);
        assertTrue(t.contains("jgovernor_reconcile_duration_seconds_count 1\n"), t);
        assertTrue(t.contains("jgovernor_reconcile_duration_seconds_bucket{le=\"0.005\"} 1\n"), t);
    }

    /** The thousand-group shape the benchmark uses, here only checked for completeness. */
    static List<GroupName> groups(int n) {
        List<GroupName> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new GroupName("g" + i));
        }
        return out;
    }
}

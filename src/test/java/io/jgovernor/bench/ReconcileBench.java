package io.jgovernor.bench;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.Backend;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyCatalog;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.reconcile.Report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * In-process measurement for bin/bench (not a unit test: a main run by the bench on a root shell).
 * Builds the catalog and the reconciler the way app/Daemon does and times, on the policies of
 * POLICY_DIR:
 * <ol>
 *   <li>the cold-JVM first pass (catalog.refresh() + reconcileAll) on root COLD_ROOT, groups absent;</li>
 *   <li>WARMUPS cold applies and teardowns on root WARM_ROOT, to warm the JIT;</li>
 *   <li>the warm-JVM cold apply on WARM_ROOT (groups absent again, fresh catalog and reconciler);</li>
 *   <li>PASSES periodic full passes over the same, unchanged groups (refresh + reconcileAll).</li>
 * <li>with -Dbench.edit.file=F -Dbench.edit.a=A -Dbench.edit.b=B -Dbench.edit.count=N: N edits of
 *     policy file F (in place, alternately the contents of files B and A), each followed by what
 *     the daemon's loop does on an inotify event naming F: catalog.refresh([F]) + reconcileChanges. This is the
 *     in-process part of the edit latency (no inotify, no quiet time, no thread hand-off).</li>
 * </ol>
 * With -Dbench.jfr.dir=DIR, each phase is recorded by JFR (CPU-time samples) to DIR/PHASE.jfr.
 * Groups of COLD_ROOT and WARM_ROOT are left in place for bin/bench to check and remove.
 * Output: "key value" lines on stdout, times in milliseconds.
 *
 * <pre>ReconcileBench POLICY_DIR STATE_DIR COLD_ROOT WARM_ROOT WARMUPS PASSES</pre>
 */
public final class ReconcileBench {
    private ReconcileBench() {
    }

    public static void main(String[] args) throws Exception {
        Logger.getLogger("").setLevel(Level.WARNING);
        Path policyDir = Path.of(args[0]);
        Path stateDir = Path.of(args[1]);
        String coldRoot = args[2];
        String warmRoot = args[3];
        int warmups = Integer.parseInt(args[4]);
        int passes = Integer.parseInt(args[5]);

        // 1. Cold JVM, cold cgroups: what the daemon's first pass costs (minus Quarkus start).
        Setup cold = new Setup(policyDir, stateDir.resolve("accepted-cold"), coldRoot);
        print("cold_jvm_setup_ms", cold.setupMs);
        try (Phase p = new Phase("cold-jvm-apply")) {
            apply(cold, "cold_jvm");
        }

        // 2. Warm-up on another root: apply from cold, then tear down.
        for (int i = 0; i < warmups; i++) {
            Setup w = new Setup(policyDir, stateDir.resolve("accepted-warmup-" + i), warmRoot);
            w.reconciler.reconcileAll(w.catalog.refresh().desired());
            for (int p = 0; p < 3; p++) {
                w.reconciler.reconcileAll(w.catalog.refresh().desired());
            }
            Report gone = w.reconciler.reconcileAll(new TreeMap<>());
            if (!gone.errors().isEmpty()) {
                throw new IllegalStateException("teardown failed: " + gone.errors());
            }
            removeRoot(w.layout);
        }

        // 3. Warm JVM, cold cgroups.
        Setup warm = new Setup(policyDir, stateDir.resolve("accepted-warm"), warmRoot);
        try (Phase p = new Phase("warm-jvm-apply")) {
            apply(warm, "warm_jvm");
        }

        // 4. Periodic passes over unchanged groups.
        List<Double> refresh = new ArrayList<>();
        List<Double> reconcile = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        long writes = 0;
        long mkdirs = 0;
        long removals = 0;
        long errors = 0;
        Phase periodic = new Phase("periodic");
        for (int i = 0; i < passes; i++) {
            long t0 = System.nanoTime();
            CatalogState state = warm.catalog.refresh();
            long t1 = System.nanoTime();
            Report r = warm.reconciler.reconcileAll(state.desired());
            long t2 = System.nanoTime();
            refresh.add(ms(t1 - t0));
            reconcile.add(ms(t2 - t1));
            total.add(ms(t2 - t0));
            writes += r.writes();
            mkdirs += r.mkdirs();
            removals += r.removals();
            errors += r.errors().size();
        }
        periodic.close();
        print("periodic_passes", passes);
        print("periodic_refresh_p50_ms", pct(refresh, 50));
        print("periodic_reconcile_p50_ms", pct(reconcile, 50));
        print("periodic_total_p50_ms", pct(total, 50));
        print("periodic_total_p99_ms", pct(total, 99));
        print("periodic_total_max_ms", pct(total, 100));
        print("periodic_writes", writes);
        print("periodic_mkdirs", mkdirs);
        print("periodic_removals", removals);
        print("periodic_errors", errors);

        // 5. Edits, in-process.
        String editFile = System.getProperty("bench.edit.file");
        if (editFile != null) {
            edits(warm, Path.of(editFile), Files.readString(Path.of(System.getProperty("bench.edit.a"))),
                    Files.readString(Path.of(System.getProperty("bench.edit.b"))),
                    Integer.getInteger("bench.edit.count", 100));
        }
    }

    private static void edits(Setup s, Path file, String a, String b, int count) throws Exception {
        List<Double> refresh = new ArrayList<>();
        List<Double> reconcile = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        long writes = 0;
        long errors = 0;
        try (Phase p = new Phase("edit")) {
            for (int i = 0; i < count; i++) {
                Files.writeString(file, i % 2 == 0 ? b : a); // truncate + write + close, like `cat >`
                long t0 = System.nanoTime();
                // what the daemon's loop runs on an inotify event naming the file
                CatalogState state = s.catalog.refresh(List.of(file.getFileName().toString()));
                long t1 = System.nanoTime();
                Report r = s.reconciler.reconcileChanges(state.desired());
                long t2 = System.nanoTime();
                refresh.add(ms(t1 - t0));
                reconcile.add(ms(t2 - t1));
                total.add(ms(t2 - t0));
                writes += r.writes();
                errors += r.errors().size() + state.invalidCount();
                Thread.sleep(5);
            }
        }
        print("edit_inproc_count", count);
        print("edit_inproc_refresh_p50_ms", pct(refresh, 50));
        print("edit_inproc_reconcile_p50_ms", pct(reconcile, 50));
        print("edit_inproc_total_p50_ms", pct(total, 50));
        print("edit_inproc_total_p99_ms", pct(total, 99));
        print("edit_inproc_writes", writes);
        print("edit_inproc_errors", errors);
    }

    /** A JFR recording of one phase, when -Dbench.jfr.dir is set; CPU-time samples (JDK 25, Linux). */
    private static final class Phase implements AutoCloseable {
        private final String name;
        private final jdk.jfr.Recording recording;

        Phase(String name) {
            this.name = name;
            String dir = System.getProperty("bench.jfr.dir");
            if (dir == null) {
                recording = null;
                return;
            }
            recording = new jdk.jfr.Recording();
            recording.enable("jdk.CPUTimeSample").with("throttle", "1 ms");
            recording.enable("jdk.ExecutionSample").withPeriod(java.time.Duration.ofMillis(1));
            recording.enable("jdk.NativeMethodSample").withPeriod(java.time.Duration.ofMillis(1));
            recording.start();
        }

        @Override
        public void close() throws IOException {
            if (recording != null) {
                recording.stop();
                recording.dump(Path.of(System.getProperty("bench.jfr.dir"), name + ".jfr"));
                recording.close();
            }
        }
    }

    /** One independent daemon-like wiring: catalog, layout and reconciler, as app/Daemon builds them. */
    private static final class Setup {
        final PolicyCatalog catalog;
        final CgroupLayout layout;
        final Reconciler reconciler;
        final double setupMs;

        Setup(Path policyDir, Path accepted, String root) throws IOException {
            long t0 = System.nanoTime();
            CgroupFiles files = new CgroupFiles();
            layout = CgroupLayout.detect(CgroupLayout.DEFAULT_MOUNT, root, files);
            Files.createDirectories(accepted);
            catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts(Path.of("/sys"), CgroupLayout.DEFAULT_MOUNT)),
                    policyDir, accepted);
            // v1 or v2 as the daemon picks it (on v2 the bench runs with an absolute root, from a leaf)
            reconciler = new Reconciler(Backend.of(layout, files), files);
            setupMs = ms(System.nanoTime() - t0);
        }
    }

    private static void apply(Setup s, String key) throws IOException {
        long t0 = System.nanoTime();
        CatalogState state = s.catalog.refresh();
        long t1 = System.nanoTime();
        SortedMap<GroupName, Policy> desired = state.desired();
        Report r = s.reconciler.reconcileAll(desired);
        long t2 = System.nanoTime();
        print(key + "_refresh_ms", ms(t1 - t0));
        print(key + "_reconcile_ms", ms(t2 - t1));
        print(key + "_total_ms", ms(t2 - t0));
        print(key + "_report_took_ms", ms(r.took().toNanos()));
        print(key + "_groups", desired.size());
        print(key + "_invalid_files", state.invalidCount());
        print(key + "_mkdirs", r.mkdirs());
        print(key + "_writes", r.writes());
        print(key + "_errors", r.errors().size());
        if (!r.errors().isEmpty()) {
            System.err.println(key + ": " + r.errors().getFirst());
        }
        if (!state.errors().isEmpty()) {
            System.err.println(key + ": " + state.errors().getFirst());
        }
    }

    /** Removes the (now empty) root directory of every hierarchy. */
    private static void removeRoot(CgroupLayout layout) throws IOException {
        for (Hierarchy h : layout.hierarchies()) {
            Path root = layout.rootDir(h);
            if (Files.isDirectory(root)) {
                try (Stream<Path> below = Files.walk(root)) {
                    for (Path d : below.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(d);
                    }
                }
            }
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** Nearest-rank percentile. */
    private static double pct(List<Double> values, int p) {
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static void print(String key, double value) {
        System.out.println(key + " " + String.format(Locale.ROOT, "%.3f", value));
    }

    private static void print(String key, long value) {
        System.out.println(key + " " + value);
    }
}

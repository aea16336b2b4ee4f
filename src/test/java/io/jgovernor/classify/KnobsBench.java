package io.jgovernor.classify;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.sys.Libc;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What process knobs cost, as root, beneath the caller's own cgroups:
 * <ol>
 *   <li>setting all four knobs on a process of 201 threads and putting them back
 *       ({@link ThreadKnobs#settle}: listing, start times, earlier values read, three calls per
 *       thread), against the three calls per thread alone (nothing read or remembered) in the same
 *       run, and the sweep of a full pass over a process whose threads all have them;</li>
 *   <li>from pthread_create in a matched process to the new thread having the group's nice, as the
 *       process itself sees it (threads.c "l"), through the classifier's fork events.</li>
 * </ol>
 * Not a unit test: a main, on a quiet machine:
 *
 * <pre>./mvnw -B -q package -DskipTests &amp;&amp; java -cp "target/test-classes:target/classes:target/quarkus-app/lib/main/*" \
 *     --enable-native-access=ALL-UNNAMED io.jgovernor.classify.KnobsBench</pre>
 */
public final class KnobsBench {
    private static final int THREADS = 200;
    private static final int RUNS = 200;

    public static void main(String[] args) throws Exception {
        TestCgroups cg = TestCgroups.create();
        Path bin = Files.createTempDirectory("jgovernor-test-");
        List<Process> started = new ArrayList<>();
        try {
            Path binary = ProcessKnobsKernelTest.build(bin);
            ProcessKnobs knobs = TestPolicies.parse(Path.of("b.yaml"),
                    "name: b\nprocess: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}\n")
                    .get(new GroupName("b")).process().orElseThrow();

            Process big = new ProcessBuilder(binary.toString(), Integer.toString(THREADS)).start();
            started.add(big);
            cg.register(big.toHandle());
            new BufferedReader(new InputStreamReader(big.getInputStream(), StandardCharsets.UTF_8)).readLine();
            int pid = (int) big.pid();
            ProcFiles proc = new ProcFiles(Path.of("/proc"));
            ThreadKnobs tk = new ThreadKnobs(proc);
            long[] apply = new long[RUNS];
            long[] revert = new long[RUNS];
            long[] sweep = new long[RUNS];
            long[] bare = new long[RUNS];
            for (int warm = 0; warm < 2; warm++) {
                for (int i = 0; i < RUNS; i++) {
                    long t0 = System.nanoTime();
                    ThreadKnobs.State s = tk.settle(pid, null, Optional.of(knobs), false);
                    long t1 = System.nanoTime();
                    s = tk.settle(pid, s, Optional.of(knobs), true);
                    long t1b = System.nanoTime();
                    tk.settle(pid, s, Optional.empty(), false);
                    long t2 = System.nanoTime();
                    sweep[i] = t1b - t1;
                    int[] tids = proc.tids(pid);
                    for (int tid : tids) {
                        Libc.schedSetschedulerRaw(tid, 3, 0);
                        Libc.setNiceRaw(tid, 10);
                        Libc.ioprioSetRaw(tid, 3 << 13);
                    }
                    long t3 = System.nanoTime();
                    for (int tid : tids) { // back, uncounted
                        Libc.schedSetschedulerRaw(tid, 0, 0);
                        Libc.setNiceRaw(tid, 0);
                        Libc.ioprioSetRaw(tid, 0);
                    }
                    apply[i] = t1 - t0;
                    revert[i] = t2 - t1b;
                    bare[i] = t3 - t2;
                }
            }
            int n = proc.tids(pid).length;
            System.out.printf("%d threads: settle (set) median %s, p99 %s; a full pass's sweep median %s; put back"
                            + " median %s, p99 %s; the bare calls (list + 3 per thread) median %s; set/bare %.2fx;"
                            + " %d refusals%n", n, ms(apply, 50), ms(apply, 99), ms(sweep, 50), ms(revert, 50),
                    ms(revert, 99), ms(bare, 50), (double) pct(apply, 50) / pct(bare, 50), tk.refusedTotal());

            // fork-event latency through the classifier
            Reconciler reconciler = new Reconciler(Backend.of(cg.layout(), cg.files()), cg.files());
            String comm = binary.getFileName().toString();
            Path file = Path.of("/etc/jgovernor/policies.d/b.yaml");
            SortedMap<GroupName, Policy> desired = new TreeMap<>(TestPolicies.parse(file, "name: b\nmatch:\n  - comm: "
                    + comm + "\nprocess: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}\n"));
            CatalogState state = new CatalogState(desired, List.of(new CatalogState.FileStatus(file, true, List.of(),
                    new TreeSet<>(desired.keySet()), false)), List.of());
            reconciler.reconcileAll(desired);
            try (Classifier classifier = new Classifier(cg.layout(), cg.files(), reconciler, p -> false,
                    Duration.ofMillis(100), true, 1)) {
                classifier.start();
                classifier.rulesChanged(state).get(30, TimeUnit.SECONDS);
                Process p = new ProcessBuilder(binary.toString(), "4").start();
                started.add(p);
                cg.register(p.toHandle());
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                OutputStream in = p.getOutputStream();
                out.readLine();
                Thread.sleep(200); // moved at its exec
                long[] latency = new long[RUNS];
                int missed = 0;
                for (int i = 0; i < RUNS; i++) {
                    in.write("l\n".getBytes(StandardCharsets.US_ASCII));
                    in.flush();
                    latency[i] = Long.parseLong(out.readLine().substring(8));
                    if (latency[i] < 0) {
                        missed++;
                        latency[i] = Long.MAX_VALUE;
                    }
                }
                System.out.printf("a new thread has the group's nice %s after pthread_create at the median, %s at p99,"
                        + " %s max (%d runs, %d never within 1 s)%n", ms(latency, 50), ms(latency, 99), ms(latency, 100),
                        RUNS, missed);
            }
        } finally {
            started.forEach(Process::destroyForcibly);
            cg.close();
            ProcessKnobsKernelTest.removeFlat(bin);
        }
    }

    private static long pct(long[] values, int p) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1 < 0 ? 0 : (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    private static String ms(long[] values, int p) {
        long v = pct(values, p);
        return v == Long.MAX_VALUE ? "never" : String.format("%.3f ms", v / 1e6);
    }
}

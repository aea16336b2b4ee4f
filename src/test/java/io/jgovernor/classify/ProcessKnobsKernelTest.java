package io.jgovernor.classify;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code process:} knobs on the real kernel, on a multi-threaded C program (src/test/resources/
 * knobs/threads.c) matched by a rule: every thread gets them (read back from
 * /proc/PID/task/TID/stat and {@code ionice -p TID}), a thread made after the move too, and the
 * earlier values of each thread come back when the rule goes away.
 */
public class ProcessKnobsKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String KNOBS = "process: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}\n";

    private TestCgroups cg;
    private Reconciler reconciler;
    private Classifier classifier;
    private Path bin;
    /** threads.c, built for each test under a name of its own: its comm, which the test's rules name. */
    private Path binary;
    private String comm;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException, InterruptedException {
        cg = TestCgroups.create();
        reconciler = new Reconciler(Backend.of(cg.layout(), cg.files()), cg.files());
        bin = Files.createTempDirectory("jgovernor-test-");
        binary = build(bin);
        comm = binary.getFileName().toString();
    }

    @AfterEach
    void tearDown() throws IOException {
        if (classifier != null) {
            classifier.close();
        }
        started.forEach(Process::destroyForcibly);
        cg.close();
        removeFlat(bin);
    }

    /** A directory of files only, and the files. */
    static void removeFlat(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    /** threads.c built under a fresh unique name (its comm, at most 15 characters). */
    public static Path build(Path dir) throws IOException, InterruptedException {
        Path source = dir.resolve("threads.c");
        try (InputStream in = ProcessKnobsKernelTest.class.getResourceAsStream("/knobs/threads.c")) {
            Files.write(source, in.readAllBytes());
        }
        Path out = dir.resolve("jg" + UUID.randomUUID().toString().substring(0, 8));
        Process cc = new ProcessBuilder("gcc", "-O2", "-pthread", "-o", out.toString(), source.toString())
                .redirectErrorStream(true).start();
        String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, cc.waitFor(), "gcc: " + log);
        Files.delete(source);
        return out;
    }

    /** A running threads.c, at nice 3, with its stdin and stdout. */
    private final class Program {
        final Process process;
        final BufferedReader out;
        final OutputStream in;

        Program(Path binary, int threads) throws IOException {
            process = new ProcessBuilder("/usr/bin/nice", "-n", "3", binary.toString(), Integer.toString(threads))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            started.add(process);
            cg.register(process.toHandle());
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = process.getOutputStream();
            assertEquals("ready", out.readLine());
        }

        String ask(String command) throws IOException {
            in.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            return out.readLine();
        }

        int pid() {
            return (int) process.pid();
        }
    }

    private CatalogState catalog(String yaml) {
        Path file = Path.of("/etc/jgovernor/policies.d/knobs.yaml");
        SortedMap<GroupName, Policy> desired = new TreeMap<>(TestPolicies.parse(file, yaml));
        CatalogState state = new CatalogState(desired, List.of(new CatalogState.FileStatus(file, true, List.of(),
                new TreeSet<>(desired.keySet()), false)), List.of());
        assertEquals(List.of(), reconciler.reconcileAll(state.desired()).errors());
        return state;
    }

    private void startClassifier(boolean connector) throws Exception {
        classifier = new Classifier(cg.layout(), cg.files(), reconciler, pid -> false, Duration.ofMillis(100),
                connector, 1);
        classifier.start();
    }

    private void apply(CatalogState state) throws Exception {
        classifier.rulesChanged(state).get(30, TimeUnit.SECONDS);
    }

    /** What one thread runs with, as the kernel shows it: nice, policy (stat fields 19, 41), ionice -p. */
    public record Sched(int nice, int policy, String ionice) {
    }

    public static Sched sched(int pid, int tid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            Process p = new ProcessBuilder("ionice", "-p", Integer.toString(tid)).redirectErrorStream(true).start();
            String ionice = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            return new Sched(Integer.parseInt(f[16]), Integer.parseInt(f[38]), ionice);
        } catch (IOException e) {
            return null; // the thread is gone
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    public static Map<Integer, Sched> threads(int pid) throws IOException {
        Map<Integer, Sched> out = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                int tid = Integer.parseInt(t.getFileName().toString());
                Sched s = sched(pid, tid);
                if (s != null) {
                    out.put(tid, s);
                }
            }
        }
        return out;
    }

    static int oomScoreAdj(int pid) throws IOException {
        return Integer.parseInt(Files.readString(Path.of("/proc", Integer.toString(pid), "oom_score_adj")).strip());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private static final Sched SET = new Sched(10, 3, "idle");

    @Test
    void everyThreadGetsTheKnobsANewThreadTooAndEachGetsItsOwnValuesBackWhenTheRuleGoes() throws Exception {
        Program p = new Program(binary, 4);
        Map<Integer, Sched> before = threads(p.pid());
        assertEquals(5, before.size(), "main and 4 threads: " + before);
        assertEquals(new Sched(3, 0, "best-effort: prio 6"), before.get(p.pid()), "the earlier values: " + before);
        assertEquals(1, before.values().stream().filter(s -> s.nice() == 5).count(), "one thread of nice 5: " + before);
        assertEquals(100, oomScoreAdj(p.pid()));

        startClassifier(true);
        apply(catalog("name: batch\nmatch:\n  - comm: " + comm + "\n" + KNOBS));
        Map<Integer, Sched> moved = threads(p.pid());
        assertEquals(before.keySet(), moved.keySet());
        moved.forEach((tid, s) -> assertEquals(SET, s, "thread " + tid + " of " + moved));
        assertEquals(500, oomScoreAdj(p.pid()));

        // a thread made by one that has none of the knobs (the main thread resets itself first):
        // only the fork event can give it them
        String made = p.ask("t");
        assertTrue(made.startsWith("made "), made);
        int tid = Integer.parseInt(made.substring(5));
        await("the new thread " + tid + " has the knobs", () -> SET.equals(sched(p.pid(), tid)));
        assertEquals(new Sched(0, 0, "best-effort: prio 6"), sched(p.pid(), p.pid()), "the main thread reset itself");

        apply(catalog("name: batch\nmatch:\n  - comm: no" + comm.substring(2) + "\n" + KNOBS));
        Map<Integer, Sched> after = threads(p.pid());
        before.forEach((t, s) -> assertEquals(s, after.get(t), "thread " + t + " has its own earlier values back: " + after));
        assertEquals(before.get(p.pid()), after.get(tid), "the thread made later gets the process's earlier values");
        assertEquals(100, oomScoreAdj(p.pid()));
        assertEquals(0, classifier.errorsTotal());
    }

    @Test
    void aPolicyThatDropsItsKnobsPutsThemBackAndOneThatChangesThemSetsTheNewOnes() throws Exception {
        Program p = new Program(binary, 2);
        Map<Integer, Sched> before = threads(p.pid());
        startClassifier(true);
        String rule = "name: batch\nmatch:\n  - comm: " + comm + "\n";
        apply(catalog(rule + KNOBS));
        threads(p.pid()).forEach((tid, s) -> assertEquals(SET, s, "thread " + tid));

        apply(catalog(rule + "process: {nice: 15}\n"));
        Map<Integer, Sched> changed = threads(p.pid());
        before.forEach((t, s) -> assertEquals(new Sched(15, s.policy(), s.ionice()), changed.get(t),
                "only nice is set now; the rest is back: thread " + t));
        assertEquals(100, oomScoreAdj(p.pid()));

        apply(catalog(rule));
        assertEquals(before, threads(p.pid()), "no process: key, the process stays in the group with its own values");
        assertEquals(0, classifier.errorsTotal());
    }

    @Test
    void threadsThatEndWhileTheKnobsAreSetAreNoError() throws Exception {
        Program p = new Program(binary, 3);
        assertEquals("churning", p.ask("c"));
        startClassifier(true);
        for (int i = 0; i < 5; i++) {
            apply(catalog("name: batch\nmatch:\n  - comm: " + comm + "\n" + KNOBS));
            apply(catalog("name: batch\nmatch:\n  - comm: " + comm + "\nprocess: {nice: 12, schedPolicy: idle}\n"));
        }
        // the lasting threads (main, 3 waiting, the churning one) have them; short-lived ones come and go
        long set = threads(p.pid()).values().stream().filter(s -> s.nice() == 12 && s.policy() == 5).count();
        assertTrue(set >= 5, set + " of " + threads(p.pid()));
        assertEquals(0, classifier.errorsTotal(), "ESRCH of a thread that ended is no error");
    }

    @Test
    void withoutTheConnectorScansSetTheKnobsOnThreadsTheyFind() throws Exception {
        Program p = new Program(binary, 2);
        startClassifier(false);
        apply(catalog("name: batch\nmatch:\n  - comm: " + comm + "\n" + KNOBS));
        int tid = Integer.parseInt(p.ask("t").substring(5));
        await("a scan gave the new thread the knobs", () -> SET.equals(sched(p.pid(), tid)));
    }

    @Test
    void aPidOfAnotherProcessNowIsNeitherSetNorPutBack() throws Exception {
        Program p = new Program(binary, 2);
        Map<Integer, Sched> before = threads(p.pid());
        ProcFiles proc = new ProcFiles(Path.of("/proc"));
        ThreadKnobs knobs = new ThreadKnobs(proc);
        ProcessKnobs nice = new ProcessKnobs(OptionalInt.of(10), Optional.empty(), OptionalInt.empty(), OptionalInt.empty(),
                Optional.empty());
        // what the daemon remembers of a process that had this pid and another start time
        ThreadKnobs.State stale = new ThreadKnobs.State(proc.startTime(p.pid()) - 1);
        stale.applied = nice;
        stale.main = new ThreadKnobs.Before(0, 0, 0, 0, 0);
        assertNull(knobs.settle(p.pid(), stale, Optional.empty(), false), "nothing to put back into another process");
        assertNull(knobs.settle(p.pid(), stale, Optional.of(nice), true), "nor to set on it as the old one's");
        knobs.threadStarted(p.pid(), p.pid(), stale);
        assertEquals(before, threads(p.pid()), "untouched");

        ThreadKnobs.State state = knobs.settle(p.pid(), null, Optional.of(nice), false);
        threads(p.pid()).forEach((tid, s) -> assertEquals(10, s.nice(), "thread " + tid));
        // a remembered thread whose id now belongs to a thread started later: it gets the process's values
        int other = before.keySet().stream().filter(t -> t != p.pid() && before.get(t).nice() == 3).findFirst().orElseThrow();
        state.threads.put(other, new ThreadKnobs.Before(1, 19, 0, 0, 0));
        assertNull(knobs.settle(p.pid(), state, Optional.empty(), false));
        assertEquals(before, threads(p.pid()), "every thread back, the reused id to the process's earlier nice 3");
        assertEquals(0, knobs.refusedTotal());
    }
}

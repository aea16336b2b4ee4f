package io.jgovernor.classify;

import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The classifier on the real kernel: processes started before and after it, renamed, changing
 * user, in a burst; precedence; leaving; the hand-moved rule; the /proc-scan fallback. Test
 * processes run binaries copied under unique names, so no rule can match anything else.
 */
class ClassifierKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String WEB = """
            cpu: {shares: 512}
            memory: {limit: 256Mi}
            pids: {max: 1000}
            """;

    private TestCgroups cg;
    private Reconciler reconciler;
    private Classifier classifier;
    private Path bin;
    private final Set<Integer> workloads = ConcurrentHashMap.newKeySet();
    /**
     * When set, the classifier thread waits on it the first time it asks whether a matching
     * process is a workload: a test can hold the thread while the kernel's buffer fills.
     */
    private volatile java.util.concurrent.CountDownLatch holdFirstMatch;

    private boolean isWorkload(int pid) {
        java.util.concurrent.CountDownLatch hold = holdFirstMatch;
        if (hold != null) {
            holdFirstMatch = null;
            try {
                hold.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return workloads.contains(pid);
    }
    private final List<Long> strays = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        cg = TestCgroups.create();
        reconciler = new Reconciler(io.jgovernor.cgroup.Backend.of(cg.layout(), cg.files()), cg.files());
        bin = Files.createTempDirectory("jgovernor-test-");
    }

    @AfterEach
    void tearDown() throws IOException {
        if (classifier != null) {
            classifier.close();
        }
        for (long pid : strays) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        cg.close();
        try (var files = Files.list(bin)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(bin);
    }

    /** A copy of {@code binary} whose comm is a fresh unique name (at most 15 characters). */
    private String copy(String binary) throws IOException {
        String name = "jg" + UUID.randomUUID().toString().substring(0, 8);
        Path to = bin.resolve(name);
        Files.copy(Path.of(binary), to, StandardCopyOption.COPY_ATTRIBUTES);
        return name;
    }

    private Process start(String... command) throws IOException {
        List<String> c = new ArrayList<>(List.of(command));
        if (!c.getFirst().startsWith("/")) {
            c.set(0, bin.resolve(c.getFirst()).toString());
        }
        return cg.start(c.toArray(String[]::new));
    }

    /** Policies by file name, as the catalog would give them, and their groups made in the kernel. */
    private CatalogState catalog(Map<String, String> files) {
        SortedMap<GroupName, Policy> desired = new TreeMap<>();
        List<CatalogState.FileStatus> statuses = new ArrayList<>();
        for (var e : files.entrySet()) {
            Path file = Path.of("/etc/jgovernor/policies.d").resolve(e.getKey());
            SortedMap<GroupName, Policy> parsed = TestPolicies.parse(file, e.getValue());
            desired.putAll(parsed);
            TreeSet<GroupName> groups = new TreeSet<>(parsed.keySet());
            statuses.add(new CatalogState.FileStatus(file, true, List.of(), groups, false));
        }
        statuses.sort((a, b) -> a.file().compareTo(b.file()));
        CatalogState state = new CatalogState(desired, statuses, List.of());
        assertEquals(List.of(), reconciler.reconcileAll(state.desired()).errors());
        return state;
    }

    private CatalogState one(String yaml) {
        return catalog(Map.of("web.yaml", yaml));
    }

    private void startClassifier(boolean connector) throws Exception {
        startClassifier(connector, Classifier.RECEIVE_BUFFER);
    }

    private void startClassifier(boolean connector, int receiveBuffer) throws Exception {
        startClassifier(connector, 1, receiveBuffer);
    }

    /** {@code priority}: SCHED_FIFO priority of the classifier thread; 1 is the daemon's default. */
    private void startClassifier(boolean connector, int priority, int receiveBuffer) throws Exception {
        classifier = new Classifier(cg.layout(), cg.files(), reconciler, this::isWorkload,
                Duration.ofMillis(100), connector, priority, receiveBuffer);
        classifier.start();
        if (connector) {
            assertEquals(Classifier.Mode.CONNECTOR, classifier.mode(), "the connector works as root here");
        }
    }

    private void apply(CatalogState state) throws Exception {
        classifier.rulesChanged(state).get(30, TimeUnit.SECONDS);
    }

    /** The process's cgroup in every hierarchy the group has a directory in is that directory. */
    private boolean inGroup(long pid, String group) throws IOException {
        List<Path> dirs = reconciler.of(new GroupName(group));
        assertFalse(dirs.isEmpty(), "group " + group + " has directories");
        for (Path dir : dirs) {
            Hierarchy h = hierarchyOf(dir);
            String now = TestCgroups.cgroupOf(pid, h.controllers().iterator().next()).orElse("?");
            if (!now.equals(h.cgroupPath(dir))) {
                return false;
            }
        }
        return true;
    }

    /** Where the test JVM itself is, in every hierarchy: where processes start and return to. */
    private boolean atHome(long pid) throws IOException {
        for (Hierarchy h : cg.hierarchies()) {
            String c = h.controllers().iterator().next();
            if (!TestCgroups.cgroupOf(pid, c).equals(TestCgroups.cgroupOf(ProcessHandle.current().pid(), c))) {
                return false;
            }
        }
        return true;
    }

    private Hierarchy hierarchyOf(Path dir) {
        return cg.hierarchies().stream().filter(h -> dir.startsWith(h.mountPoint())).findFirst().orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    private boolean quietlyInGroup(long pid, String group) {
        try {
            return inGroup(pid, group);
        } catch (IOException e) {
            return false;
        }
    }

    private static String match(String group, String... comms) {
        StringBuilder y = new StringBuilder("name: " + group + "\nmatch:\n");
        for (String c : comms) {
            y.append("  - comm: ").append(c).append('\n');
        }
        return y + WEB;
    }

    @Test
    void processesStartedBeforeAndAfterLandInEveryHierarchyOfTheirGroup() throws Exception {
        String name = copy("/bin/sleep");
        String other = copy("/bin/sleep");
        Process before = start(name, "300");
        Process unrelatedBefore = start(other, "300");
        startClassifier(true);
        apply(one(match("web", name)));
        assertTrue(reconciler.of(new GroupName("web")).size() >= 3, "cpu, memory and pids at least");
        assertTrue(inGroup(before.pid(), "web"), "a process running before the classifier started is adopted by the scan");

        Process after = start(name, "300");
        Process unrelatedAfter = start(other, "300");
        await("the process started afterwards is in web", () -> quietlyInGroup(after.pid(), "web"));
        apply(one(match("web", name))); // a rescan: nothing outside the rules may have moved
        assertTrue(atHome(unrelatedBefore.pid()), "a process no rule names stays where it is");
        assertTrue(atHome(unrelatedAfter.pid()), "a process no rule names stays where it is");
        assertEquals(2L, classifier.classified().get(new GroupName("web")));
        assertEquals(0, classifier.errorsTotal());
        for (Path dir : reconciler.of(new GroupName("web"))) {
            assertEquals(Set.of(before.pid(), after.pid()), procs(dir), "nothing else is in " + dir);
        }
    }

    @Test
    void theClassifierThreadWaitsForEventsAtSchedFifoUnlessConfiguredOff() throws Exception {
        startClassifier(true);
        apply(one(match("web", copy("/bin/sleep")))); // the scan runs at normal priority, then back
        await("the classifier thread is SCHED_FIFO priority 1",
                () -> List.of(SCHED_FIFO, 1).equals(classifierScheduling()));
        classifier.close();

        startClassifier(true, 0, Classifier.RECEIVE_BUFFER);
        apply(one(match("web", copy("/bin/sleep"))));
        Thread.sleep(50);
        assertEquals(List.of(SCHED_OTHER, 0), classifierScheduling(), "priority 0: the normal scheduler");
    }

    @Test
    void aPriorityOutsideZeroToNinetyNineIsRefusedNamingTheKey() {
        for (int bad : new int[]{-1, 100}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Classifier(cg.layout(),
                    cg.files(), reconciler, workloads::contains, Duration.ofMillis(100), true, bad));
            assertTrue(e.getMessage().contains("jgovernor.classify.realtime-priority") && e.getMessage().contains("" + bad),
                    e.getMessage());
        }
    }

    @Test
    void aGroupRemovedAndMadeAgainBehindTheClassifiersBackStillReceivesProcesses() throws Exception {
        // The classifier keeps each group's cgroup.procs open; a directory removed and made again at
        // the same path (drift the reconciler repairs) leaves that descriptor pointing at nothing.
        String name = copy("/bin/sleep");
        startClassifier(true);
        CatalogState state = one(match("web", name));
        apply(state);
        Process first = start(name, "300");
        await("the first process is in web", () -> quietlyInGroup(first.pid(), "web"));
        first.destroyForcibly().waitFor();
        for (Path dir : reconciler.of(new GroupName("web"))) {
            await("the emptied " + dir + " is removed", () -> {
                try {
                    Files.delete(dir);
                    return true;
                } catch (IOException e) {
                    return false; // EBUSY while the killed process is still being released
                }
            });
        }
        assertEquals(List.of(), reconciler.reconcileAll(state.desired()).errors());
        for (Path dir : reconciler.of(new GroupName("web"))) {
            assertTrue(Files.isDirectory(dir), dir + " made again");
        }
        Process second = start(name, "300");
        await("a process started afterwards is in the group made again", () -> quietlyInGroup(second.pid(), "web"));
        assertEquals(0, classifier.errorsTotal());
    }

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;

    /** [policy, rt_priority] of the classifier's thread, from /proc/self/task/TID/stat. */
    private static List<Integer> classifierScheduling() {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String comm;
                String stat;
                try {
                    comm = Files.readString(task.resolve("comm")).strip();
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                if (!comm.equals("jgovernor-class")) {
                    continue;
                }
                return RealtimeKernelTest.scheduling(stat);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return List.of();
    }

    private Set<Long> procs(Path dir) throws IOException {
        Set<Long> out = new java.util.HashSet<>();
        for (int pid : cg.files().procs(dir)) {
            out.add((long) pid);
        }
        return out;
    }

    @Test
    void childrenOfAnAdoptedProcessStayInItsGroup() throws Exception {
        String shell = copy("/bin/sh");
        startClassifier(true);
        apply(one(match("web", shell)));
        Process parent = new ProcessBuilder(bin.resolve(shell).toString(), "-c", "read x; /bin/sleep 300 & echo $!; wait")
                .redirectErrorStream(true).start();
        cg.register(parent.toHandle());
        await("the shell is in web", () -> quietlyInGroup(parent.pid(), "web"));
        OutputStream in = parent.getOutputStream();
        in.write('\n');
        in.flush();
        long child = Long.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream())).readLine().strip());
        strays.add(child);
        assertTrue(inGroup(child, "web"), "a child starts in its parent's group");
        apply(one(match("web", shell))); // a rescan must not take the non-matching child out
        assertTrue(inGroup(child, "web"), "and stays there");
    }

    @Test
    void aProcessThatRenamesItselfIsAdopted() throws Exception {
        String newName = "jg" + UUID.randomUUID().toString().substring(0, 8);
        startClassifier(true);
        apply(one(match("web", newName)));
        Process p = start("/bin/sh", "-c", "read x; printf %s " + newName + " > /proc/self/comm; read y");
        apply(one(match("web", newName)));
        assertTrue(atHome(p.pid()), "not before the rename");
        p.getOutputStream().write('\n');
        p.getOutputStream().flush();
        await("the renamed shell is in web", () -> quietlyInGroup(p.pid(), "web"));
    }

    @Test
    void aProcessWhoseUidChangesToAMatchedUserMoves() throws Exception {
        String name = "jg" + UUID.randomUUID().toString().substring(0, 8);
        startClassifier(true);
        apply(one("name: web\nmatch:\n  - {comm: " + name + ", user: nobody}\n" + WEB));
        Process p = start("/usr/bin/python3", "-c", "import os, sys\n"
                + "open('/proc/self/comm', 'w').write('" + name + "')\n"
                + "sys.stdin.readline()\nos.setuid(65534)\nsys.stdin.readline()\n");
        await("python renamed itself", () -> name.equals(comm(p.pid())));
        apply(one("name: web\nmatch:\n  - {comm: " + name + ", user: nobody}\n" + WEB));
        assertTrue(atHome(p.pid()), "not while it runs as root");
        p.getOutputStream().write('\n');
        p.getOutputStream().flush();
        await("the process is in web after setuid(nobody)", () -> quietlyInGroup(p.pid(), "web"));
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (IOException e) {
            return null;
        }
    }

    @Test
    void twoHundredProcessesStartedInABurstAreAllClassified() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true);
        apply(one(match("web", name)));
        Process burst = start("/bin/sh", "-c", "for i in $(seq 200); do " + bin.resolve(name) + " 300 & done; wait");
        List<Long> pids = new ArrayList<>();
        await("200 processes started", () -> {
            pids.clear();
            pids.addAll(pidsNamed(name));
            return pids.size() == 200;
        });
        strays.addAll(pids);
        await("all 200 are in web", () -> pids.stream().allMatch(pid -> quietlyInGroup(pid, "web")));
        assertTrue(atHome(burst.pid()), "their parent shell matches nothing and stays");
        assertEquals(0, classifier.lostEventsTotal(), "an 8 MiB buffer holds a burst of 200");
        for (Path dir : reconciler.of(new GroupName("web"))) {
            assertEquals(Set.copyOf(pids), procs(dir), "exactly the 200 are in " + dir);
        }
    }

    @Test
    void whenTheKernelDropsEventsARescanFindsTheProcessesAnyway() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true, 1); // the kernel's minimum buffer: a burst overflows it
        apply(one(match("web", name)));
        // The classifier thread is held at the first sleeper it matches until the burst is over,
        // so the kernel's buffer overflows however quickly the thread would have drained it (at
        // SCHED_FIFO on a quiet machine it kept up with the burst below now and then).
        java.util.concurrent.CountDownLatch burstOver = new java.util.concurrent.CountDownLatch(1);
        holdFirstMatch = burstOver;
        Path over = bin.resolve("burst-over");
        // 2000 short-lived processes beside the 200: six thousand more events (fork, exec, exit)
        start("/bin/sh", "-c", "for i in $(seq 200); do " + bin.resolve(name) + " 300 & done;"
                + " for i in $(seq 2000); do /bin/true & done; wait $!; touch " + over + "; wait");
        await("the burst is over", () -> Files.exists(over));
        burstOver.countDown();
        List<Long> pids = new ArrayList<>();
        await("200 processes started", () -> {
            pids.clear();
            pids.addAll(pidsNamed(name));
            return pids.size() == 200;
        });
        strays.addAll(pids);
        await("all 200 are in web", () -> pids.stream().allMatch(pid -> quietlyInGroup(pid, "web")));
        assertTrue(classifier.lostEventsTotal() > 0, "the kernel reported lost events (ENOBUFS)");
    }

    private static List<Long> pidsNamed(String comm) {
        List<Long> out = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            if (comm.equals(comm(p.pid()))) {
                out.add(p.pid());
            }
        });
        return out;
    }

    @Test
    void theGroupFromTheFileWhoseNameSortsFirstWins() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("b-later.yaml", match("aaa", name));
        files.put("a-first.yaml", match("zzz", name));
        apply(catalog(files));
        Process p = start(name, "300");
        await("the process is in zzz, from a-first.yaml", () -> quietlyInGroup(p.pid(), "zzz"));
        assertFalse(inGroup(p.pid(), "aaa"));
        assertEquals(Map.of(new GroupName("zzz"), 1L), classifier.classified());
    }

    @Test
    void processesLeaveWhenTheRuleGoesAwayAndMoveWhenItChanges() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("a.yaml", match("web", name));
        files.put("b.yaml", match("db") );
        apply(catalog(files));
        Process p = start(name, "300");
        await("in web", () -> quietlyInGroup(p.pid(), "web"));

        files.put("a.yaml", "name: web\n" + WEB);
        files.put("b.yaml", match("db", name));
        apply(catalog(files));
        assertTrue(inGroup(p.pid(), "db"), "the rule moved to db: so does the process");

        files.put("b.yaml", "name: db\n" + WEB);
        apply(catalog(files));
        assertTrue(atHome(p.pid()), "no rule names it: back where it was found");
        assertEquals(Map.of(), classifier.classified());
    }

    @Test
    void aGroupThatGainsAHierarchyTakesItsProcessesThereToo() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true);
        apply(one("name: web\nmatch:\n  - comm: " + name + "\ncpu: {shares: 512}\n"));
        Process p = start(name, "300");
        await("in web", () -> quietlyInGroup(p.pid(), "web"));
        assertTrue(atHomeIn(p.pid(), "pids"), "web has no pids directory yet");
        classifier.catalogPassed(one(match("web", name)), false); // now with memory and pids too
        await("in web in every hierarchy, pids included", () -> quietlyInGroup(p.pid(), "web"));
        assertTrue(reconciler.of(new GroupName("web")).stream().anyMatch(d -> d.startsWith(cg.hierarchy("pids").mountPoint())));
    }

    private boolean atHomeIn(long pid, String controller) throws IOException {
        return TestCgroups.cgroupOf(pid, controller).equals(TestCgroups.cgroupOf(ProcessHandle.current().pid(), controller));
    }

    @Test
    void aProcessMovedByHandOutOfItsGroupIsLeftAlone() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(true);
        apply(one(match("web", name)));
        Process p = start(name, "300");
        await("in web", () -> quietlyInGroup(p.pid(), "web"));
        try (TestCgroups elsewhere = TestCgroups.create()) {
            Path manual = elsewhere.makeGroup("cpu", new GroupName("manual"));
            cg.files().moveProcess(manual, (int) p.pid());
            String there = TestCgroups.cgroupOf(p.pid(), "cpu").orElseThrow();
            apply(one(match("web", name)));
            assertEquals(there, TestCgroups.cgroupOf(p.pid(), "cpu").orElseThrow(), "not put back by a rescan");
            apply(one("name: web\n" + WEB));
            assertEquals(there, TestCgroups.cgroupOf(p.pid(), "cpu").orElseThrow(), "not returned when the rule goes");
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void kernelThreadsAndWorkloadsAreNeverMoved() throws Exception {
        String name = copy("/bin/sleep");
        Process workload = start(name, "300");
        workloads.add((int) workload.pid());
        startClassifier(true);
        apply(one(match("web", name, "kthreadd")));
        assertFalse(inGroup(2, "web"), "kthreadd (pid 2) matches by comm but is a kernel thread");
        assertTrue(atHome(workload.pid()), "a workload the daemon started is not reclassified");
        assertEquals(0, classifier.errorsTotal());
    }

    @Test
    void withoutTheConnectorPeriodicScansFindNewProcesses() throws Exception {
        String name = copy("/bin/sleep");
        startClassifier(false);
        assertEquals(Classifier.Mode.SCAN, classifier.mode());
        apply(one(match("web", name)));
        Process p = start(name, "300");
        await("a scan put it in web", () -> quietlyInGroup(p.pid(), "web"));
    }

    /** Whether /proc/PID/comm is {@code comm} now: the process has made its last exec. */
    private static boolean commIs(long pid, String comm) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip().equals(comm);
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void hostileCommandLinesFromNobodyNeitherStopNorStallTheClassifier() throws Exception {
        // nobody must be able to run the copies in the test's private directory
        Files.setPosixFilePermissions(bin, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String shell = copy("/bin/bash");
        String probe = copy("/bin/sleep");
        // Each rule also names the copy's comm, so that no process of the host can match it.
        startClassifier(true);
        CatalogState rules = catalog(Map.of(
                "10-hostile.yaml", "name: hostile\nmatch:\n"
                        + "  - {comm: " + shell + ", cmdline: '--opts=(a|b)*c'}\n"
                        + "  - {comm: " + shell + ", cmdline: '.*a.*b.*c.*d'}\n" + WEB,
                "20-probe.yaml", match("probe", probe)));
        apply(rules);
        String ab = "ab".repeat(30_000);
        String abc64k = "abc".repeat(21_800);
        Map<String, Boolean> lines = new LinkedHashMap<>(); // the hostile arguments, and whether RE2 matches them
        lines.put("--opts=" + ab, false);                                                  // 60 KB, no c
        lines.put("--opts=" + ab.substring(0, 2_000) + "c" + ab.substring(0, 58_000), true);  // 60 KB, a c at 2 KB
        lines.put(abc64k + " " + abc64k, false);                                           // 128 KB, no d
        lines.put("abc".repeat(1_000) + "d", true);                                        // 3 KB, a d at its end
        lines.put("x".repeat(ProcFiles.MAX_CMDLINE) + " --opts=c " + abc64k + "d", false); // both would match, past the 4 KiB read
        Map<Process, Boolean> hostile = new LinkedHashMap<>();
        for (var line : lines.entrySet()) {
            // argv: SHELL -c 'read x' ARG... (one argument, or two for the 128 KB line: 128 KiB is one argument's limit)
            List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    bin.resolve(shell).toString(), "-c", "read x", "hostile"));
            argv.addAll(List.of(line.getKey().split(" (?=abc)")));
            hostile.put(start(argv.toArray(String[]::new)), line.getValue());
        }
        for (Process p : hostile.keySet()) {
            await("a hostile process has made its exec", () -> commIs(p.pid(), shell));
            assertEquals(65534, Files.readString(Path.of("/proc/" + p.pid() + "/status")).lines()
                    .filter(l -> l.startsWith("Uid:")).map(l -> Integer.parseInt(l.split("\\s+")[2])).findFirst().orElseThrow());
        }
        Process late = start(probe, "30");
        long started = System.nanoTime();
        long deadline = started + Duration.ofSeconds(1).toNanos();
        while (!quietlyInGroup(late.pid(), "probe")) {
            if (System.nanoTime() - deadline > 0) {
                fail("the probe was not in its group 1 s after it started, behind the hostile command lines");
            }
            Thread.sleep(1);
        }
        assertTrue(classifier.running(), "the classifier thread is alive");
        assertEquals(0, classifier.failedProcessesTotal(), "no process's handling failed");
        for (var h : hostile.entrySet()) {
            long pid = h.getKey().pid();
            if (h.getValue()) {
                await("hostile process " + pid + " is in its group", () -> quietlyInGroup(pid, "hostile"));
            } else {
                // its exec came before the probe's, and events are handled in order
                assertTrue(atHome(pid), "RE2 does not match hostile process " + pid);
            }
        }
        for (Process p : hostile.keySet()) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        late.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
}

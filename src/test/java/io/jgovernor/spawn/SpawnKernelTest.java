package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;
import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Workloads started by the real exec stage, in real cgroups and namespaces. */
@KernelTest
class SpawnKernelTest {

    /** key=value lines a workload script wrote. */
    private static Map<String, String> results(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1),
                        (a, b) -> a + "\n" + b));
    }

    @Test
    void anIsolatedWorkloadSeesOnlyItsRootfsItsProcessesAndLo() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path out = Files.createDirectories(h.temp.resolve("out"));
            Path ro = Files.createDirectories(h.temp.resolve("ro"));
            Files.writeString(ro.resolve("given"), "from the host\n");
            String script = String.join("; ",
                    "echo pid=$$ > /out/r",
                    "echo hostname=$(hostname) >> /out/r",
                    "echo links=$(ip -o link | wc -l) >> /out/r",
                    "echo lo=$(ip -o link | grep -c 'lo:.*UP') >> /out/r",
                    "echo root=$(ls /) >> /out/r",
                    "echo procs=$(cat /proc/[0-9]*/comm) >> /out/r",
                    "echo hostfile=$([ -e /etc/passwd ] && echo yes || echo no) >> /out/r",
                    "echo given=$(cat /ro/given) >> /out/r",
                    "echo rowrite=$(touch /ro/x && echo yes || echo no) >> /out/r",
                    "echo rootwrite=$(touch /x && echo yes || echo no) >> /out/r",
                    "echo rwwrite=$(touch /out/x && echo yes || echo no) >> /out/r",
                    "echo env=$GREETING >> /out/r",
                    "echo cwd=$(pwd) >> /out/r",
                    "echo done=1 >> /out/r",
                    "exec sleep 60");
            h.apply("""
                    name: iso
                    memory: {limit: 64Mi}
                    pids: {max: 100}
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      env: {GREETING: hello}
                      workingDir: /out
                      restart: never
                      isolate:
                        namespaces: [pid, mount, uts, ipc, net]
                        hostname: web-1
                        rootfs: %s
                        readOnlyRootfs: true
                        mounts:
                          - {source: %s, target: /out}
                          - {source: %s, target: /ro, readOnly: true}
                    """.formatted(script.replace("\"", "\\\""), rootfs, out, ro));
            int pid = h.awaitRunning("iso");
            SpawnHarness.await(() -> Files.exists(out.resolve("r")) && read(out.resolve("r")).contains("done=1"),
                    "the workload's report");
            Map<String, String> r = results(out.resolve("r"));
            assertEquals("1", r.get("pid"), "the command is PID 1 of its pid namespace");
            assertEquals("web-1", r.get("hostname"));
            assertEquals("1", r.get("links"), "only lo in the net namespace: " + r);
            assertEquals("1", r.get("lo"), "lo is up");
            assertEquals("bin dev out proc ro", r.get("root").strip(), "/ is the rootfs (and the minimal /dev)");
            assertEquals("no", r.get("hostfile"), "host files are not visible");
            // the shell, the subshell of $(...) and cat: none of the host's processes (java, ...)
            assertTrue(java.util.Set.of("sh", "cat").containsAll(List.of(r.get("procs").split(" "))),
                    "only the workload's processes in /proc: " + r.get("procs"));
            assertEquals("from the host", r.get("given"));
            assertEquals("no", r.get("rowrite"), "a readOnly bind mount is read-only");
            assertEquals("no", r.get("rootwrite"), "readOnlyRootfs");
            assertEquals("yes", r.get("rwwrite"), "a bind mount without readOnly is writable");
            assertTrue(Files.exists(out.resolve("x")), "the write landed on the host directory");
            assertEquals("hello", r.get("env"));
            assertEquals("/out", r.get("cwd"));
            // Outside: the host pid is in the group in every hierarchy the group has.
            List<Path> dirs = h.dirs("iso");
            assertTrue(dirs.size() >= 3, "memory, pids and cpuacct at least: " + dirs);
            for (Path d : dirs) {
                assertTrue(h.procs(d).contains(pid), pid + " in " + d + "/cgroup.procs");
            }
            assertTrue(h.workloads.isWorkload(pid));
            assertFalse(h.workloads.isWorkload((int) ProcessHandle.current().pid()));
            // The host's mount table did not change: nothing propagated back.
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(rootfs.toString()));
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void aUserNamespaceMapsRootInsideToTheRunUser() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = Files.createDirectories(h.temp.resolve("out"));
            out.toFile().setWritable(true, false);
            h.apply("""
                    name: userns
                    run:
                      command: ["/bin/sh", "-c", "echo id=$(id -u):$(id -g) > %1$s/r; echo map=$(cat /proc/self/uid_map) >> %1$s/r; exec sleep 60"]
                      user: nobody
                      restart: never
                      isolate:
                        namespaces: [user, mount, pid]
                    """.formatted(out));
            int pid = h.awaitRunning("userns");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("map="), "the workload's report");
            Map<String, String> r = results(out.resolve("r"));
            assertEquals("0:0", r.get("id"), "root inside");
            assertEquals("0 65534 1", r.get("map").strip().replaceAll("\\s+", " "), "root inside is nobody outside");
            String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
            assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534")),
                    "the host sees uid 65534: " + status.lines().filter(l -> l.startsWith("Uid")).toList());
            assertTrue(Files.readString(out.resolve("r")).length() > 0);
        }
    }

    @Test
    void anExplicitUidMapAndAUserInsideIt() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = Files.createDirectories(h.temp.resolve("out"));
            out.toFile().setWritable(true, false);
            h.apply("""
                    name: mapped
                    run:
                      command: ["/bin/sh", "-c", "echo id=$(id -u):$(id -g) > %1$s/r; echo map=$(cat /proc/self/uid_map) >> %1$s/r; exec sleep 60"]
                      user: "1000"
                      group: "1000"
                      restart: never
                      isolate:
                        namespaces: [user, pid, mount]
                        uidMap: "0 100000 65536"
                    """.formatted(out));
            int pid = h.awaitRunning("mapped");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("map="), "the workload's report");
            Map<String, String> r = results(out.resolve("r"));
            assertEquals("1000:1000", r.get("id"), "run.user and run.group name ids inside the map");
            assertEquals("0 100000 65536", r.get("map").strip().replaceAll("\\s+", " "));
            String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
            assertTrue(status.contains("Uid:\t101000\t101000\t101000\t101000"), status);
            assertTrue(status.contains("Gid:\t101000\t101000\t101000\t101000"), status);
        }
    }

    @Test
    void userGroupAndSupplementaryGroupsWithoutIsolation() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: creds
                    run:
                      command: ["/bin/sleep", "60"]
                      user: nobody
                      group: nogroup
                      restart: never
                    """);
            int pid = h.awaitRunning("creds");
            String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
            assertTrue(status.contains("Uid:\t65534\t65534\t65534\t65534"), status);
            assertTrue(status.contains("Gid:\t65534\t65534\t65534\t65534"), status);
            // nobody is in no group in Debian's /etc/group: none of root's groups may leak in
            assertTrue(status.lines().anyMatch(l -> l.matches("Groups:\\s*")), status);
            assertTrue(status.lines().anyMatch(l -> l.matches("SigIgn:\\s*0+")), "no ignored signal inherited: " + status);
        }
    }

    @Test
    void aDescriptorTheDaemonHoldsWithoutCloseOnExecDoesNotReachTheWorkload() throws Exception {
        // The stage is started by posix_spawn (PosixSpawnProcess), not through jspawnhelper, which
        // closed such descriptors: the stage now closes them itself before anything else.
        int leaky = io.jgovernor.sys.Libc.open("/dev/null", io.jgovernor.sys.Libc.O_RDONLY);
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: fds
                    run:
                      command: ["/bin/sleep", "60"]
                      restart: never
                    """);
            int pid = h.awaitRunning("fds");
            assertTrue(Files.exists(Path.of("/proc/self/fd", Integer.toString(leaky))), "the test holds fd " + leaky);
            try (var fds = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
                assertEquals(List.of("0", "1", "2"), fds.map(f -> f.getFileName().toString()).sorted().toList(),
                        "the workload has only stdin, stdout and stderr");
            }
        } finally {
            io.jgovernor.sys.Libc.close(leaky);
        }
    }

    @Test
    void failedStartsLeaveNoDescriptorOpenInTheDaemon() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("name: failing\nmemory: {limit: 64Mi}\n");
            RunSpec spec = io.jgovernor.testing.TestPolicies.parse(Path.of("failing.yaml"),
                    "name: failing\nrun: {command: [/bin/true], workingDir: /no/such/dir}\n").values().iterator().next()
                    .run().orElseThrow();
            ExecStage stage = ExecStage.locate();
            Credentials root = new Credentials(0, 0, List.of(), List.of(), List.of());
            long before = 0;
            for (int i = -1; i < 20; i++) { // the first compiles the filter and loads what a start needs
                if (i == 0) {
                    before = openDescriptors();
                }
                try {
                    Workload.launch(stage, new GroupName("failing"), spec, h.dirs("failing"), root);
                    fail("a start in a missing workingDir fails");
                } catch (StartFailure e) {
                    assertTrue(e.getMessage().contains("chdir /no/such/dir"), e.getMessage());
                }
            }
            long after = openDescriptors();
            // each leaked start would keep its stage's stdout and stderr pipes: 40
            assertTrue(after - before <= 3, "descriptors before " + before + ", after 20 failed starts " + after);
        }
    }

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void fiftyChildrenForkedAtOnceAreAllInTheGroup() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: forker
                    pids: {max: 200}
                    run:
                      command: ["/bin/sh", "-c", "for i in $(seq 50); do sleep 60 & done; wait"]
                      restart: never
                    """);
            int pid = h.awaitRunning("forker");
            SpawnHarness.await(() -> children(pid).size() == 50, "50 children");
            for (Path d : h.dirs("forker")) {
                List<Integer> procs = h.procs(d);
                for (long child : children(pid)) {
                    assertTrue(procs.contains((int) child), child + " in " + d);
                }
                assertEquals(52, procs.size(), "stage, shell and 50 children in " + d);
            }
        }
    }

    private static List<Long> children(int pid) {
        List<Long> out = new ArrayList<>();
        ProcessHandle.of(pid).ifPresent(p -> p.children().forEach(c -> out.add(c.pid())));
        return out;
    }

    @Test
    void aMemoryLimitKillsTheWorkloadLikeAnyGroupMember() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: hog
                    memory: {limit: 32Mi}
                    run:
                      command: ["/usr/bin/tail", "/dev/zero"]
                      restart: never
                    """);
            SpawnHarness.await(() -> h.status("hog") != null && h.status("hog").state().equals("failed"),
                    "the hog killed");
            assertEquals(128 + 9, h.status("hog").lastExit(), "SIGKILL by the OOM killer");
            String oom = Files.readString(h.dirs("hog").stream().filter(d -> d.toString().contains("/memory/"))
                    .findFirst().orElseThrow().resolve("memory.oom_control"));
            assertTrue(oom.contains("oom_kill 1"), oom);
        }
    }

    @Test
    void restartPolicies() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: never
                    run: {command: ["/bin/sh", "-c", "exit 3"], restart: never}
                    ---
                    name: clean
                    run: {command: ["/bin/true"], restart: on-failure}
                    ---
                    name: crash
                    run: {command: ["/bin/sh", "-c", "exit 3"], restart: on-failure}
                    ---
                    name: always
                    run: {command: ["/bin/true"], restart: always}
                    """);
            SpawnHarness.await(() -> h.status("never").state().equals("failed"), "never: failed");
            assertEquals(0, h.status("never").restarts());
            assertEquals(3, h.status("never").lastExit());
            SpawnHarness.await(() -> h.status("clean").state().equals("exited"), "on-failure, exit 0: not restarted");
            assertEquals(0, h.status("clean").restarts());
            SpawnHarness.await(() -> h.status("crash").restarts() >= 2, "on-failure, exit 3: restarted");
            SpawnHarness.await(() -> h.status("always").restarts() >= 2, "always, exit 0: restarted");
            // A crash loop backs off (0.1 s, 0.2 s, 0.4 s, ...): far from one restart per start.
            long before = h.status("crash").restarts();
            Thread.sleep(1500);
            long during = h.status("crash").restarts() - before;
            assertTrue(during <= 5, during + " restarts in 1.5 s: the backoff does not hold");
            assertTrue(h.workloads.restarts() >= 4);
            assertTrue(h.workloads.starts() >= 6);
        }
    }

    @Test
    void stopSendsTermThenKillAfterTheStopTimeout() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: stubborn
                    run:
                      command: ["/bin/sh", "-c", "trap '' TERM; sleep 60 & sleep 60 & wait; wait"]
                      stopTimeout: 1s
                    ---
                    name: polite
                    run:
                      command: ["/bin/sleep", "60"]
                      stopTimeout: 30s
                    """);
            int stubborn = h.awaitRunning("stubborn");
            int polite = h.awaitRunning("polite");
            SpawnHarness.await(() -> children(stubborn).size() == 2, "two children");
            List<Path> dirs = h.dirs("stubborn");
            long t0 = System.nanoTime();
            h.apply("name: other\n"); // both policies deleted: both stopped before their groups go
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 1000, "SIGTERM is ignored: SIGKILL only after the 1 s stop timeout (" + ms + " ms)");
            assertTrue(ms < 20_000, "polite stopped on SIGTERM, not after its 30 s timeout (" + ms + " ms)");
            SpawnHarness.await(() -> ProcessHandle.of(stubborn).isEmpty() && ProcessHandle.of(polite).isEmpty(),
                    "both workloads gone");
            for (Path d : dirs) {
                assertFalse(Files.exists(d), d + " removed after the workload stopped");
            }
            assertEquals(Map.of(), h.workloads.status());
        }
    }

    @Test
    void aStartFailureIsCountedAndOtherWorkloadsStillStart() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            // Validation cannot know a workingDir (it may be made later, or exist only inside a rootfs).
            h.apply("""
                    name: broken
                    run:
                      command: ["/bin/sh"]
                      workingDir: /no/such/dir
                      restart: never
                    ---
                    name: retried
                    run:
                      command: ["/bin/sh"]
                      workingDir: /no/such/dir
                    ---
                    name: fine
                    run: {command: ["/bin/sleep", "60"]}
                    """);
            SpawnHarness.await(() -> h.status("broken").state().equals("failed"), "broken: failed");
            assertEquals("chdir /no/such/dir: No such file or directory", h.status("broken").lastError());
            h.awaitRunning("fine");
            // on-failure retries a failed start, with the same backoff as a crash
            SpawnHarness.await(() -> h.workloads.startFailures() >= 3, "retried starts");
            String state = h.status("retried").state();
            assertTrue(state.equals("backoff") || state.equals("starting"), state);
        }
    }

    @Test
    void aChangedRunRestartsTheWorkloadAChangedLimitDoesNot() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply("""
                    name: app
                    memory: {limit: 64Mi}
                    run: {command: ["/bin/sleep", "60"]}
                    """);
            int first = h.awaitRunning("app");
            h.apply("""
                    name: app
                    memory: {limit: 96Mi}
                    run: {command: ["/bin/sleep", "60"]}
                    """);
            assertEquals(first, h.awaitRunning("app"), "resources apply live");
            h.apply("""
                    name: app
                    memory: {limit: 96Mi}
                    run: {command: ["/bin/sleep", "61"]}
                    """);
            SpawnHarness.await(() -> h.status("app").pid() != first && h.status("app").pid() > 0, "a new pid");
            assertFalse(ProcessHandle.of(first).map(ProcessHandle::isAlive).orElse(false));
        }
    }
}

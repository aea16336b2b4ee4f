package io.jgovernor.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jgovernor freeze} and {@code thaw} against the packaged daemon on this host's v1 freezer:
 * a workload that counts stops counting, {@code status} says frozen, a restarted daemon keeps it
 * frozen, {@code thaw} lets it count again; a policy's {@code freezer:} key wins; {@code exec}
 * into a frozen group is refused; and, as runc's freezer fix was tested, freeze and thaw again and
 * again while the workload forks, with {@code exec} in between, never leaving the group half frozen.
 */
class FreezeIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(20);

    private Path socket;

    private Result jgovernor(String... args) throws IOException, InterruptedException {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.add(1, "--socket=" + socket);
        return runCli(all);
    }

    private DaemonProcess start() throws IOException {
        DaemonProcess d = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.api.socket=" + socket,
                "jgovernor.reconcile.interval=1s");
        cgroups.register(ProcessHandle.of(d.pid()).orElseThrow());
        return d;
    }

    private long counter(Path file) {
        try {
            String s = Files.readString(file).strip();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private void awaitCounting(Path file) throws IOException {
        long before = counter(file);
        daemon.await(() -> counter(file) > before + 2, SOON, "the workload counting (from " + before + ")");
    }

    private void assertStill(Path file, String why) throws InterruptedException {
        long before = counter(file);
        Thread.sleep(400);
        assertEquals(before, counter(file), why);
    }

    private String freezerState() throws IOException {
        return Files.readString(cgroups.dir("freezer").resolve("work/freezer.state")).strip();
    }

    @Test
    void freezeStopsAWorkloadAcrossARestartAndThawResumesIt() throws Exception {
        socket = tmp.resolve("run/api.sock");
        Path count = tmp.resolve("count");
        // forks on every round (the subshell and /bin/true), as a busy service does
        writePolicy("work.yaml", """
                name: work
                run:
                  command: ["/bin/sh", "-c", "i=0; while :; do i=$((i+1)); (echo $i > %s.new; /bin/true); mv %s.new %s; sleep 0.01; done"]
                  stopTimeout: 1s
                """.formatted(count, count, count));
        writePolicy("held.yaml", "name: held\nfreezer: {frozen: true}\n");
        writePolicy("running.yaml", "name: running\nfreezer: {frozen: false}\n");
        daemon = start();
        awaitCounting(count);

        Result frozen = jgovernor("freeze", "work");
        assertEquals(0, frozen.exit(), frozen.toString());
        assertEquals("froze work", frozen.out().strip(), frozen.toString());
        assertEquals("FROZEN", freezerState());
        assertStill(count, "the frozen workload counts no more");
        Result status = jgovernor("status", "--json");
        assertTrue(status.out().contains("\"frozenAtRunTime\":[\"work\"]"), status.toString());
        assertTrue(status.out().contains("\"frozen\":\"run-time\""), status.toString());
        assertTrue(status.out().contains("\"frozen\":\"policy\""), "held: " + status);
        Result table = jgovernor("status");
        assertTrue(table.out().lines().anyMatch(l -> l.matches("work\\s+frozen\\s.*")), table.toString());

        Result exec = jgovernor("exec", "work", "--", "/bin/true");
        assertEquals(1, exec.exit(), exec.toString());
        assertTrue(exec.err().contains("work is frozen"), exec.toString());
        Result thawHeld = jgovernor("thaw", "held");
        assertEquals(1, thawHeld.exit(), thawHeld.toString());
        assertTrue(thawHeld.err().contains("frozen by its policy"), thawHeld.toString());
        Result freezeRunning = jgovernor("freeze", "running");
        assertEquals(1, freezeRunning.exit(), freezeRunning.toString());
        assertTrue(freezeRunning.err().contains("frozen: false"), freezeRunning.toString());
        Result unknown = jgovernor("freeze", "nosuch");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("no group nosuch"), unknown.toString());
        Result usage = jgovernor("thaw");
        assertEquals(2, usage.exit(), usage.toString());
        for (String command : List.of("freeze", "thaw")) {
            Result help = jgovernor(command, "--help");
            assertEquals(0, help.exit(), help.toString());
            assertTrue(help.out().startsWith("usage: jgovernor " + command), help.toString());
            Result bad = jgovernor(command, "--no-such-option");
            assertEquals(2, bad.exit(), bad.toString());
        }

        // a restarted daemon keeps it frozen (passes every second would undo a freeze they did not know)
        daemon.close();
        daemon = start();
        Thread.sleep(1500);
        assertEquals("FROZEN", freezerState());
        assertStill(count, "frozen across the restart");

        Result thawed = jgovernor("thaw", "work");
        assertEquals(0, thawed.exit(), thawed.toString());
        assertEquals("thawed work", thawed.out().strip(), thawed.toString());
        awaitCounting(count);
        Result again = jgovernor("thaw", "work");
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.out().contains("was not frozen"), again.toString());

        // under load: freeze, thaw, exec, again and again while the workload forks
        for (int round = 0; round < 10; round++) {
            Result f = jgovernor("freeze", "work");
            assertEquals(0, f.exit(), "round " + round + ": " + f);
            if (Files.isDirectory(cgroups.dir("freezer").resolve("work"))) {
                assertEquals("FROZEN", freezerState(), "round " + round + ": never half frozen");
            }
            assertStill(count, "round " + round);
            assertEquals(1, jgovernor("exec", "work", "--", "/bin/true").exit(), "round " + round);
            Result t = jgovernor("thaw", "work");
            assertEquals(0, t.exit(), "round " + round + ": " + t);
            Result e = jgovernor("exec", "work", "--", "/bin/sh", "-c", "exit 3");
            assertEquals(3, e.exit(), "round " + round + ": exec into the thawed workload: " + e);
        }
        awaitCounting(count);

        // stopping a frozen workload thaws it first: it ends at SIGTERM, not after its stop timeout's SIGKILL
        Result last = jgovernor("freeze", "work");
        assertEquals(0, last.exit(), last.toString());
        int pid = recordedPid("work");
        assertTrue(pid > 0);
        Files.delete(policies.resolve("work.yaml"));
        daemon.await(() -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), SOON,
                "the frozen workload stopped with its policy");
    }
}

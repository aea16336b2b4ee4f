package io.jgovernor.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stopping is bounded (issue 13): SIGTERM ends a daemon whose quiet workloads have run for more
 * than a minute (their output readers long blocked in read(2)) well within systemd's 90 s, and
 * takes the workloads with it, one that ignores SIGTERM included.
 */
class StopIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);
    /** Older than a minute, as the issue saw it. */
    private static final Duration AGE = Duration.ofSeconds(65);
    /** run.stopTimeout of every workload in TestPolicies.QUIET_WORKLOADS. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(2);
    /** What the daemon's exit may take beyond the workloads' stopTimeout: SIGKILL, reaping, Quarkus' shutdown. */
    private static final Duration MARGIN = Duration.ofSeconds(5);


    private static boolean alive(int pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void sigtermEndsTheDaemonAndItsQuietWorkloadsOlderThanAMinuteWithinTheirStopTimeout() throws Exception {
        Path f = policies.resolve("quiet.yaml");
        Files.writeString(f, io.jgovernor.testing.TestPolicies.QUIET_WORKLOADS);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.reconcile.interval=1s");
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        Map<String, Integer> pids = new TreeMap<>();
        for (String g : List.of("quiet-a", "quiet-b", "deaf")) {
            daemon.await(() -> recordedPid(g) > 0, SOON, g + "'s record");
            pids.put(g, recordedPid(g));
            cgroups.register(ProcessHandle.of(pids.get(g)).orElseThrow());
        }
        Thread.sleep(AGE.toMillis());
        pids.forEach((g, pid) -> assertTrue(alive(pid), g + " still runs after " + AGE));

        long t0 = System.nanoTime();
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON), "exit status on SIGTERM");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        pids.forEach((g, pid) -> assertFalse(alive(pid), g + " (pid " + pid + ") stopped with the daemon"));
        System.out.println("StopIT: daemon exited " + took.toMillis() + " ms after SIGTERM");
        // Within the workloads' timeout: "deaf" ignores SIGTERM, so only SIGKILL after stopTimeout ends it.
        assertTrue(took.compareTo(STOP_TIMEOUT) >= 0, "SIGKILL came only after stopTimeout: " + took.toMillis() + " ms");
        assertTrue(took.compareTo(STOP_TIMEOUT.plus(MARGIN)) <= 0, "the daemon and its workloads ended within stopTimeout ("
                + STOP_TIMEOUT.toMillis() + " ms) + " + MARGIN.toMillis() + " ms: took " + took.toMillis() + " ms");
    }
}

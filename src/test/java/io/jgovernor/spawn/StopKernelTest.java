package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.reconcile.Report;
import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Stopping is bounded (issue 13): quiet workloads that have run for more than a minute, whose
 * output readers have long blocked in read(2), stop within their {@code stopTimeout} and a small
 * margin, and their directories go only once they are empty.
 */
@KernelTest
class StopKernelTest {
    /**
     * Older than a minute, as the issue saw it: the readers of every workload's output have been
     * blocked in read(2) for that long (with virtual readers the carriers were held by then).
     */
    private static final Duration AGE = Duration.ofSeconds(65);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(2);
    /** What a stop may take beyond stopTimeout: SIGKILL, reaping, the stage's exit. */
    private static final Duration MARGIN = Duration.ofSeconds(3);

    @Test
    void quietWorkloadsOlderThanAMinuteStopOnDeleteWithinTheirTimeoutAndOneIgnoringSigtermIsKilled()
            throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            // A SIGTERM ignored by the shell stays ignored across exec: "deaf" is a quiet sleep that only SIGKILL ends.
            h.apply(io.jgovernor.testing.TestPolicies.QUIET_WORKLOADS);
            Map<String, Integer> pids = new TreeMap<>();
            for (String g : List.of("quiet-a", "quiet-b", "deaf")) {
                pids.put(g, h.awaitRunning(g));
            }
            Map<String, List<Path>> dirs = new TreeMap<>();
            pids.keySet().forEach(g -> dirs.put(g, h.dirs(g)));
            Thread.sleep(AGE.toMillis());
            pids.forEach((g, pid) -> assertTrue(alive(pid), g + " still runs after " + AGE));

            // The policies are deleted: what the daemon does before the pass, timed, on a thread
            // of its own so that a hang fails the test instead of holding it.
            SortedMap<GroupName, Policy> none = new TreeMap<>();
            long t0 = System.nanoTime();
            Thread stopper = Thread.ofPlatform().name("test stopVanished").start(() -> h.workloads.stopVanished(none));
            stopper.join(STOP_TIMEOUT.plus(MARGIN));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            if (stopper.isAlive()) {
                fail("stopVanished still runs " + took.toMillis() + " ms after the policies were deleted; "
                        + "alive: " + pids.entrySet().stream().filter(e -> alive(e.getValue())).toList());
            }
            System.out.println("StopKernelTest: stopVanished took " + took.toMillis() + " ms (stopTimeout "
                    + STOP_TIMEOUT.toMillis() + " ms)");
            pids.forEach((g, pid) -> assertFalse(alive(pid), g + " (pid " + pid + ") gone after " + took.toMillis()
                    + " ms"));
            assertTrue(took.compareTo(STOP_TIMEOUT) >= 0, "deaf ignored SIGTERM: only SIGKILL after stopTimeout ended it, "
                    + "took " + took.toMillis() + " ms");
            // Directories are still there when the workloads are gone; the pass removes them, empty.
            dirs.forEach((g, ds) -> ds.forEach(d -> assertTrue(Files.isDirectory(d), d + " kept until the pass")));
            dirs.forEach((g, ds) -> ds.forEach(d -> assertEquals(List.of(), h.procs(d), "nothing left in " + d)));
            Report report = h.reconciler.reconcileAll(none);
            assertEquals(List.of(), report.errors());
            dirs.forEach((g, ds) -> ds.forEach(d -> assertFalse(Files.exists(d), d + " removed")));
        }
    }

    private static boolean alive(int pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}

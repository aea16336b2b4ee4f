package io.jgovernor.spawn;

import io.jgovernor.classify.ProcessKnobsKernelTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code run:} workload gets its group's {@code process:} knobs from the exec stage, which sets
 * them on itself before it clones the workload: what the workload's main() reads first thing is
 * already them, and so does every thread it makes (inherited).
 */
class WorkloadKnobsKernelTest {
    private static int threadCount(int pid) {
        try {
            return ProcessKnobsKernelTest.threads(pid).size();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    @Test
    void aWorkloadHasTheKnobsFromItsFirstInstructionOnEveryThread() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path binary = ProcessKnobsKernelTest.build(h.temp);
            Path first = h.temp.resolve("first");
            h.apply("""
                    name: knobbed
                    run:
                      command: ["%s", "3", "%s"]
                      restart: never
                    process: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}
                    """.formatted(binary, first));
            int pid = h.awaitRunning("knobbed");
            SpawnHarness.await(() -> Files.exists(first) && threadCount(pid) == 4,
                    "main() wrote what it started with and made its threads");
            // policy 3 SCHED_BATCH; ioprio 3 << 13 (idle); then main() sets its own ioprio and oom_score_adj
            assertEquals("nice 10 policy 3 ioprio 24576 oom 500", Files.readString(first).strip());
            ProcessKnobsKernelTest.threads(pid).forEach((tid, s) -> {
                assertEquals(10, s.nice(), "thread " + tid);
                assertEquals(3, s.policy(), "thread " + tid);
            });
            // the stage (the relay) joined the group too, and has them as well
            int stage = (int) ProcessHandle.of(pid).orElseThrow().parent().orElseThrow().pid();
            assertTrue(Files.readString(Path.of("/proc", Integer.toString(stage), "cmdline")).startsWith(
                    ExecStage.locate().binary().toString()), "the workload's parent is its stage");
            assertEquals(new ProcessKnobsKernelTest.Sched(10, 3, "idle"), ProcessKnobsKernelTest.sched(stage, stage));
        }
    }
}

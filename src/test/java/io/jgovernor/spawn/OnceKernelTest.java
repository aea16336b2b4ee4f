package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;
import io.jgovernor.sys.Accounts;
import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A workload runs exactly once, whatever happened to the daemon (issue 13): a daemon restart
 * (a fresh {@link Workloads} over the same cgroups, the old one's workloads left running as a
 * SIGKILL leaves them) finds the workload by its group's cgroup, record or not.
 */
@KernelTest
class OnceKernelTest {
    private static final String SVC = "name: svc\nrun: {command: [\"/bin/sleep\", \"300\"]}\n";

    /** The exec stages in the group's cgroup, told apart by their binary only (not by the code under test). */
    private static List<Integer> stages(SpawnHarness h, String group) {
        List<Integer> out = new ArrayList<>();
        List<Path> dirs = h.dirs(group);
        if (dirs.isEmpty()) {
            return out;
        }
        for (int pid : h.procs(dirs.getFirst())) {
            try {
                if (Files.isSameFile(Path.of("/proc", Integer.toString(pid), "exe"), ExecStage.locate().binary())) {
                    out.add(pid);
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        return out;
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static int parent(int pid) {
        return (int) ProcStat.parent(pid).orElseThrow();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static Path record(SpawnHarness h, String group) {
        return h.records().resolve(group + ".json");
    }

    @Test
    void aRestartWithoutTheRecordAdoptsTheRunningWorkloadAndStartsNoSecondCopy() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply(SVC);
            int pid = h.awaitRunning("svc");
            int stage = parent(pid);
            Files.delete(record(h, "svc"));
            h.restart();
            h.apply(SVC);
            assertEquals(pid, h.awaitRunning("svc"), "adopted, not started again");
            assertEquals(0, h.workloads.starts());
            assertEquals(List.of(stage), stages(h, "svc"), "one stage in the group: the first one");
            assertTrue(Files.readString(record(h, "svc")).contains("\"pid\": " + pid), "the record written again");
            assertTrue(h.workloads.isWorkload(stage), "the adopted stage is the workload's: never reclassified");
            List<Path> dirs = h.dirs("svc");
            h.apply("name: other\n");
            SpawnHarness.await(() -> !alive(pid) && !alive(stage), "the adopted workload and its stage stopped");
            for (Path d : dirs) {
                assertFalse(Files.exists(d), d + " removed");
            }
        }
    }

    @Test
    void aRestartWithTwoStagesInTheGroupKeepsExactlyOneTheOldest() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply(SVC);
            int pid = h.awaitRunning("svc");
            // A second copy, as a daemon killed during a start and its successor would have made
            // it: the stage binary with this spec's argv, in the same group.
            RunSpec spec = h.policies(SVC).get(new GroupName("svc")).run().orElseThrow();
            ExecStage exec = ExecStage.locate();
            Process extra = new ProcessBuilder(exec.argv(spec, h.dirs("svc"), Credentials.resolve(spec, Accounts.host()),
                    WorkloadRecord.hash(spec)))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (var in = extra.getOutputStream()) { // the seccomp program the stage reads first, as Workload.launch gives it
                in.write(exec.program(spec).orElse(new byte[0]));
            }
            SpawnHarness.await(() -> stages(h, "svc").size() == 2, "two stages in svc");
            Files.delete(record(h, "svc"));
            h.restart();
            h.apply(SVC);
            assertEquals(pid, h.awaitRunning("svc"), "the oldest copy kept");
            SpawnHarness.await(() -> !extra.isAlive(), "the second stage ended");
            assertEquals(List.of(parent(pid)), stages(h, "svc"), "exactly one stage");
            assertEquals(2, h.procs(h.dirs("svc").getFirst()).size(), "one stage and one workload in svc");
            assertEquals(0, h.workloads.starts());
        }
    }

    @Test
    void restartNeverRunsOncePerVersionOfTheRunNotOncePerDaemonStart() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = h.temp.resolve("runs");
            String once = """
                    name: once
                    run: {command: ["/bin/sh", "-c", "echo %1$s >> %2$s"], restart: never}
                    ---
                    name: broken
                    run: {command: ["/bin/sh", "-c", "exit 3"], restart: never}
                    ---
                    name: clean
                    run: {command: ["/bin/true"], restart: on-failure}
                    """;
            h.apply(once.formatted("v1", out));
            SpawnHarness.await(() -> h.status("once").state().equals("exited")
                    && h.status("broken").state().equals("failed") && h.status("clean").state().equals("exited"),
                    "all three ended");
            assertEquals(List.of("v1"), Files.readAllLines(out));
            assertTrue(Files.readString(record(h, "once")).contains("\"ended\": true, \"exit\": 0"));

            h.restart();
            h.apply(once.formatted("v1", out));
            assertEquals("exited", h.status("once").state(), "not starting: it ran");
            assertEquals(0, h.status("once").lastExit());
            assertEquals("failed", h.status("broken").state());
            assertEquals(3, h.status("broken").lastExit());
            assertEquals("exited", h.status("clean").state(), "on-failure that succeeded is not started again either");
            Thread.sleep(500);
            assertEquals(0, h.workloads.starts(), "nothing started by the second daemon");
            assertEquals(List.of("v1"), Files.readAllLines(out));

            h.apply(once.formatted("v2", out)); // a new version of once's run, by the same daemon
            SpawnHarness.await(() -> read(out).contains("v2"), "the changed run ran");
            h.restart();
            h.apply(once.formatted("v2", out));
            Thread.sleep(500);
            assertEquals(List.of("v1", "v2"), Files.readAllLines(out), "each version once");

            h.apply(once.formatted("v2", out).replace("name: once", "name: gone"));
            assertFalse(Files.exists(record(h, "once")), "a removed policy removes its record");
        }
    }

    @Test
    void aPolicyDeletedWhileNoDaemonRanHasItsWorkloadStoppedRecordOrNot() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply(SVC + "---\n" + SVC.replace("svc", "nested/deep"));
            int pid = h.awaitRunning("svc");
            int deep = h.awaitRunning("nested/deep");
            int stage = parent(pid);
            List<Path> dirs = h.dirs("svc");
            h.restart();
            Files.delete(record(h, "svc"));
            Files.delete(h.records().resolve("nested+deep.json"));
            h.apply("name: other\n");
            SpawnHarness.await(() -> !alive(pid) && !alive(stage) && !alive(deep), "the workloads stopped");
            for (Path d : dirs) {
                assertFalse(Files.exists(d), d + " removed");
            }
        }
    }

    @Test
    void aRunChangedWhileNoDaemonRanRestartsTheWorkloadFoundByItsTag() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            h.apply(SVC);
            int pid = h.awaitRunning("svc");
            Files.delete(record(h, "svc"));
            h.restart();
            h.apply(SVC.replace("300", "301"));
            SpawnHarness.await(() -> !alive(pid) && h.status("svc").pid() > 0 && h.status("svc").pid() != pid,
                    "the old copy stopped, a new one started");
            SpawnHarness.await(() -> stages(h, "svc").size() == 1, "one stage");
            assertEquals(1, h.workloads.starts());
        }
    }

    @Test
    void aWorkloadWhoseStageWasKilledIsAdoptedByItsRecordElseStopped() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            String yaml = SVC + "---\n" + SVC.replace("svc", "lost");
            h.apply(yaml);
            int kept = h.awaitRunning("svc");
            int lost = h.awaitRunning("lost");
            h.restart();
            for (int pid : List.of(kept, lost)) {
                int stage = parent(pid);
                ProcessHandle.of(stage).orElseThrow().destroyForcibly();
                SpawnHarness.await(() -> parent(pid) != stage, "the workload re-parented");
            }
            Files.delete(record(h, "lost"));
            h.apply(yaml);
            assertEquals(kept, h.awaitRunning("svc"), "its record names it: adopted");
            SpawnHarness.await(() -> !alive(lost), "no stage, no record, no match rules: stopped");
            SpawnHarness.await(() -> h.status("lost").pid() > 0 && h.status("lost").pid() != lost
                    && stages(h, "lost").size() == 1, "a new one started in its place");
            assertEquals(2, h.procs(h.dirs("lost").getFirst()).size(), "one stage and one workload in lost");
        }
    }
}

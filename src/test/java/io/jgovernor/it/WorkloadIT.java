package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged daemon as a supervisor: a policy's workload starts in its group, outlives a
 * daemon SIGKILL, is adopted (not started twice) by the next daemon, stops when its policy is
 * deleted, and stops with the daemon on SIGTERM.
 */
class WorkloadIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);

    private DaemonProcess start(String... extra) throws IOException {
        List<String> props = new java.util.ArrayList<>(List.of("jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + state, "jgovernor.cgroup.root=" + cgroups.root(),
                "jgovernor.reconcile.interval=1s"));
        props.addAll(List.of(extra));
        daemon = DaemonProcess.start(log, props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        return daemon;
    }

    private void write(String name, String content) throws IOException {
        Path f = policies.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private Path dir(String group) {
        return cgroups.layout().groupDir(cgroups.hierarchy("cpuacct"), new GroupName(group));
    }


    private List<Integer> procs(String group) {
        try {
            return cgroups.files().procs(dir(group));
        } catch (Exception e) {
            return List.of();
        }
    }

    private static boolean alive(int pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void aWorkloadOutlivesADaemonKillIsAdoptedAndStopsWithItsPolicy() throws Exception {
        write("svc.yaml", """
                name: svc
                run:
                  command: ["/bin/sh", "-c", "echo hello from the workload; exec sleep 300"]
                """);
        start();
        daemon.await(() -> recordedPid("svc") > 0, SOON, "the workload's record");
        int pid = recordedPid("svc");
        cgroups.register(ProcessHandle.of(pid).orElseThrow());
        assertTrue(procs("svc").contains(pid), pid + " in " + dir("svc"));
        daemon.awaitLog("[svc] hello from the workload", SOON);

        daemon.signal("KILL");
        daemon.awaitExit(SOON);
        assertTrue(alive(pid), "the workload survives a daemon SIGKILL");

        start();
        daemon.awaitLog("workload svc: adopted pid " + pid, SOON);
        assertEquals(pid, recordedPid("svc"));
        // the first daemon's exec stage and the workload: no second start
        assertEquals(2, procs("svc").size(), "processes in svc: " + procs("svc"));

        Files.delete(policies.resolve("svc.yaml"));
        daemon.await(() -> !alive(pid), SOON, "the workload stopped");
        daemon.await(() -> !Files.exists(dir("svc")), SOON, "svc removed");

        write("svc.yaml", """
                name: svc
                run: {command: ["/bin/sleep", "301"]}
                """);
        daemon.await(() -> recordedPid("svc") > 0 && recordedPid("svc") != pid, SOON, "a new workload");
        int second = recordedPid("svc");
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON));
        assertTrue(!alive(second), "workloads stop with the daemon on SIGTERM");
    }

    @Test
    void configuredToOutliveTheDaemonAWorkloadSurvivesItsStopAndIsAdopted() throws Exception {
        write("svc.yaml", "name: svc\nrun: {command: [\"/bin/sleep\", \"302\"]}\n");
        start("jgovernor.run.outlive-daemon=true");
        daemon.await(() -> recordedPid("svc") > 0, SOON, "the workload's record");
        int pid = recordedPid("svc");
        cgroups.register(ProcessHandle.of(pid).orElseThrow());
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON));
        assertTrue(alive(pid), "left running on SIGTERM");
        start();
        daemon.awaitLog("workload svc: adopted pid " + pid, SOON);
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON));
        assertTrue(!alive(pid), "stopped with a daemon not configured to leave it");
    }
}

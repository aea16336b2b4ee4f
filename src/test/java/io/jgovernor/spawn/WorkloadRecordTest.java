package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;
import io.jgovernor.sys.Accounts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Records, spec hashes, credentials, the stage's argv and the restart backoff: no kernel needed. */
class WorkloadRecordTest {
    @TempDir
    Path dir;

    private static RunSpec spec(Map<String, String> env, List<String> command) {
        return new RunSpec(command, Optional.of("nobody"), Optional.empty(), Optional.of(Path.of("/srv")), env,
                RunSpec.Restart.ON_FAILURE, Duration.ofSeconds(10), Optional.empty());
    }

    @Test
    void theHashDependsOnContentNotOnMapOrder() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("A", "1");
        ab.put("B", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("B", "2");
        ba.put("A", "1");
        assertEquals(WorkloadRecord.hash(spec(ab, List.of("/bin/x"))), WorkloadRecord.hash(spec(ba, List.of("/bin/x"))));
        assertNotEquals(WorkloadRecord.hash(spec(ab, List.of("/bin/x"))), WorkloadRecord.hash(spec(ab, List.of("/bin/y"))));
        // argv boundaries count: ["a b"] is not ["a", "b"]
        assertNotEquals(WorkloadRecord.hash(spec(ab, List.of("/bin/x", "a b"))),
                WorkloadRecord.hash(spec(ab, List.of("/bin/x", "a", "b"))));
    }

    @Test
    void aRecordRoundTripsAndADeadPidIsNotAlive() throws IOException {
        GroupName g = new GroupName("batch/low");
        WorkloadRecord r = new WorkloadRecord(g, 4_000_000, 12345, "abc");
        r.write(dir);
        assertTrue(Files.exists(dir.resolve("batch+low.json")));
        assertEquals(Optional.of(r), WorkloadRecord.read(dir, g));
        assertFalse(r.alive(), "no such pid");
        int self = (int) ProcessHandle.current().pid();
        long start = ProcStat.startTime(self).orElseThrow();
        assertTrue(new WorkloadRecord(g, self, start, "x").alive());
        assertFalse(new WorkloadRecord(g, self, start + 1, "x").alive(), "same pid, another process");
        WorkloadRecord.delete(dir, g);
        assertEquals(Optional.empty(), WorkloadRecord.read(dir, g));
    }

    @Test
    void aRecordSaysStartingRunningOrEndedWithItsExit() throws IOException {
        GroupName g = new GroupName("once");
        WorkloadRecord starting = WorkloadRecord.starting(g, "abc");
        starting.write(dir);
        assertTrue(Files.readString(dir.resolve("once.json")).contains("\"state\": \"starting\", \"pid\": 0"));
        assertEquals(Optional.of(starting), WorkloadRecord.read(dir, g));
        assertFalse(starting.alive(), "pid 0 is no process");
        WorkloadRecord ended = new WorkloadRecord(g, 4_000_000, 12345, "abc").ended(-1);
        ended.write(dir);
        assertTrue(Files.readString(dir.resolve("once.json")).contains("\"ended\": true, \"exit\": -1"));
        assertEquals(Optional.of(ended), WorkloadRecord.read(dir, g));
        assertEquals(java.util.OptionalInt.of(-1), WorkloadRecord.read(dir, g).orElseThrow().exit());
        Files.writeString(dir.resolve("once.json"), "{\"group\": \"once\", \"pid\": 1}");
        assertEquals(Optional.empty(), WorkloadRecord.read(dir, g), "a record without its spec is no record");
    }

    @Test
    void credentialsAndTheStageArgv() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "app:x:1000:1000::/:/bin/sh\n");
        Files.writeString(etc.resolve("group"), "app:x:1000:\ndocker:x:999:app\n");
        Accounts accounts = new Accounts(etc);
        RunSpec plain = new RunSpec(List.of("/bin/x", "--flag"), Optional.of("app"), Optional.empty(),
                Optional.of(Path.of("/srv")), Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.empty());
        Credentials c = Credentials.resolve(plain, accounts);
        assertEquals(new Credentials(1000, 1000, List.of(999L), List.of(), List.of()), c);
        assertEquals(List.of("/x/jgovernor-exec", "--tag", "h1", "--cgroup", "/cg/cpu/g", "--uid", "1000", "--gid", "1000",
                        "--groups", "999", "--cwd", "/srv", "--", "/bin/x", "--flag"),
                new ExecStage(Path.of("/x/jgovernor-exec")).argv(plain, List.of(Path.of("/cg/cpu/g")), c, "h1"));

        RunSpec.Isolation iso = new RunSpec.Isolation(EnumSet.of(RunSpec.Namespace.USER, RunSpec.Namespace.PID,
                RunSpec.Namespace.MOUNT), Optional.empty(), Optional.of(Path.of("/r")), true,
                List.of(new RunSpec.BindMount(Path.of("/a"), Path.of("/b"), true)), List.of());
        RunSpec userNs = new RunSpec(List.of("/bin/x"), Optional.of("app"), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.of(iso));
        Credentials u = Credentials.resolve(userNs, accounts);
        assertEquals(new Credentials(0, 0, List.of(), List.of("0 1000 1"), List.of("0 1000 1")), u,
                "root inside is the run user outside");
        assertEquals(List.of("/x/jgovernor-exec", "--tag", "h2", "--ns", "pid", "--ns", "mount", "--ns", "user", "--rootfs", "/r",
                        "--ro-rootfs", "--bind", "/a", "/b", "ro", "--uid-map", "0 1000 1", "--gid-map", "0 1000 1",
                        "--uid", "0", "--gid", "0", "--groups", "", "--", "/bin/x"),
                new ExecStage(Path.of("/x/jgovernor-exec")).argv(userNs, List.of(), u, "h2"));

        RunSpec unknown = new RunSpec(List.of("/bin/x"), Optional.of("ghost"), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.empty());
        assertEquals("run.user: no user \"ghost\" in /etc/passwd",
                assertThrows(StartFailure.class, () -> Credentials.resolve(unknown, accounts)).getMessage());
    }

    @Test
    void theBackoffDoublesUpToItsCap() {
        assertEquals(Duration.ofMillis(100), Supervisor.backoff(0));
        assertEquals(Duration.ofMillis(200), Supervisor.backoff(1));
        assertEquals(Duration.ofMillis(800), Supervisor.backoff(3));
        assertEquals(Duration.ofSeconds(30), Supervisor.backoff(9));
        assertEquals(Duration.ofSeconds(30), Supervisor.backoff(1000));
    }
}

package io.jgovernor.spawn;

import io.jgovernor.model.Capability;
import io.jgovernor.model.Confinement;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Rlimit;
import io.jgovernor.model.SeccompProfile;
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
    /**
     * Default capabilities and no_new_privs, no filter, every limit the kernel's except core: argv
     * without the 14 other --rlimit-default words (see theStageGetsEveryLimitAndTheFilter).
     */
    private static final Confinement PLAIN = new Confinement(Optional.empty(), true, Confinement.Seccomp.NONE,
            Map.of(Rlimit.CORE, new Rlimit.Value(0, 0)));

    @TempDir
    Path dir;

    private static RunSpec spec(Map<String, String> env, List<String> command) {
        return new RunSpec(command, Optional.of("nobody"), Optional.empty(), Optional.of(Path.of("/srv")), env,
                RunSpec.Restart.ON_FAILURE, Duration.ofSeconds(10), Optional.empty(), Confinement.NONE);
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
                Optional.of(Path.of("/srv")), Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.empty(),
                PLAIN);
        Credentials c = Credentials.resolve(plain, accounts);
        assertEquals(new Credentials(1000, 1000, List.of(999L), List.of(), List.of()), c);
        assertEquals(List.of("/x/jgovernor-exec", "--tag", "h1", "--cgroup", "/cg/cpu/g", "--uid", "1000", "--gid", "1000",
                        "--groups", "999", "--cwd", "/srv", "--rlimit", "core", "0", "0", "--caps", "", "--ambient-caps",
                        "--no-new-privs", "--", "/bin/x", "--flag"),
                withoutDefaultLimits(new ExecStage(Path.of("/x/jgovernor-exec")).argv(plain, List.of(Path.of("/cg/cpu/g")), c, "h1")));

        RunSpec.Isolation iso = new RunSpec.Isolation(EnumSet.of(RunSpec.Namespace.USER, RunSpec.Namespace.PID,
                RunSpec.Namespace.MOUNT), Optional.empty(), Optional.of(Path.of("/r")), true,
                List.of(new RunSpec.BindMount(Path.of("/a"), Path.of("/b"), true)), List.of());
        RunSpec userNs = new RunSpec(List.of("/bin/x"), Optional.of("app"), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.of(iso), PLAIN);
        Credentials u = Credentials.resolve(userNs, accounts);
        assertEquals(new Credentials(0, 0, List.of(), List.of("0 1000 1"), List.of("0 1000 1")), u,
                "root inside is the run user outside");
        assertEquals(List.of("/x/jgovernor-exec", "--tag", "h2", "--ns", "pid", "--ns", "mount", "--ns", "user", "--rootfs", "/r",
                        "--ro-rootfs", "--bind", "/a", "/b", "ro", "--uid-map", "0 1000 1", "--gid-map", "0 1000 1",
                        "--uid", "0", "--gid", "0", "--groups", "", "--rlimit", "core", "0", "0", "--caps", "0,1,3,4,5,6,7,8,10,13,18,27,29,31",
                        "--no-new-privs", "--", "/bin/x"),
                withoutDefaultLimits(new ExecStage(Path.of("/x/jgovernor-exec")).argv(userNs, List.of(), u, "h2")));

        RunSpec unknown = new RunSpec(List.of("/bin/x"), Optional.of("ghost"), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.empty(), PLAIN);
        assertEquals("run.user: no user \"ghost\" in /etc/passwd",
                assertThrows(StartFailure.class, () -> Credentials.resolve(unknown, accounts)).getMessage());
    }

    private static List<String> withoutDefaultLimits(List<String> argv) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            if (argv.get(i).equals("--rlimit-default")) {
                i += 3;
            } else {
                out.add(argv.get(i));
            }
        }
        return out;
    }

    private static RunSpec confined(Confinement conf) {
        return new RunSpec(List.of("/bin/x"), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(),
                RunSpec.Restart.NEVER, Duration.ofSeconds(1), Optional.empty(), conf);
    }

    @Test
    void theStageGetsEveryLimitItsCapabilitiesAndTheFilter() {
        SeccompProfile profile = new SeccompProfile(new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 1), List.of("x86"),
                List.of(new SeccompProfile.Rule(List.of("read", "write"), SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW), List.of()),
                        new SeccompProfile.Rule(List.of("clone"), SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW),
                                List.of(new SeccompProfile.Arg(0, 0x7E020000L, 0, SeccompProfile.Op.MASKED_EQ))),
                        new SeccompProfile.Rule(List.of("personality"), SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW),
                                List.of(new SeccompProfile.Arg(0, 0xFFFF_FFFF_FFFF_FFFFL, 0, SeccompProfile.Op.EQ))),
                        new SeccompProfile.Rule(List.of("mount"), new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 1), List.of()),
                        new SeccompProfile.Rule(List.of("clone3"), new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 38), List.of())));
        Confinement conf = new Confinement(Optional.of(java.util.Set.of(Capability.CAP_NET_BIND_SERVICE, Capability.CAP_CHOWN)),
                false, new Confinement.Seccomp("/p.json", Optional.of(profile)), Map.of(Rlimit.NOFILE, new Rlimit.Value(64, 128)));
        Credentials nobody = new Credentials(65534, 65534, List.of(), List.of(), List.of());
        List<String> argv = new ExecStage(Path.of("/x")).argv(confined(conf), List.of(), nobody, "t");
        String words = String.join(" ", argv);
        // every limit but nproc and sigpending (the kernel computes those at boot); the policy's as --rlimit
        assertTrue(words.contains("--rlimit-default cpu infinity infinity --rlimit-default fsize infinity infinity"
                + " --rlimit-default data infinity infinity --rlimit-default stack 8388608 infinity"
                + " --rlimit-default core 0 infinity --rlimit-default rss infinity infinity --rlimit nofile 64 128"
                + " --rlimit-default memlock 8388608 8388608 --rlimit-default as infinity infinity"
                + " --rlimit-default locks infinity infinity --rlimit-default msgqueue 819200 819200"
                + " --rlimit-default nice 0 0 --rlimit-default rtprio 0 0 --rlimit-default rttime infinity infinity"
                + " --caps 0,10 --ambient-caps --seccomp -- /bin/x"), words);
        assertFalse(words.contains("--no-new-privs"), words);
        assertFalse(words.contains("nproc") || words.contains("sigpending"), words);
        // what the stage reads on stdin: the rule with the default action is left out (libseccomp refuses it)
        assertEquals("""
                default errno 1
                arch x86
                rule allow read
                rule allow write
                rule allow clone 0 masked_eq 2114060288 0
                rule allow personality 0 eq 18446744073709551615 0
                rule errno 38 clone3
                """, ExecStage.filter(confined(conf)).orElseThrow());
        // root keeps runc's 14 by default, in the bounding, permitted and effective sets only
        Credentials root = new Credentials(0, 0, List.of(), List.of(), List.of());
        Confinement byDefault = new Confinement(Optional.empty(), true, Confinement.Seccomp.NONE, Map.of());
        String rootWords = String.join(" ", new ExecStage(Path.of("/x")).argv(confined(byDefault), List.of(), root, "t"));
        assertTrue(rootWords.endsWith("--rlimit-default nofile 1024 524288 --rlimit-default memlock 8388608 8388608"
                + " --rlimit-default as infinity infinity --rlimit-default locks infinity infinity"
                + " --rlimit-default msgqueue 819200 819200 --rlimit-default nice 0 0 --rlimit-default rtprio 0 0"
                + " --rlimit-default rttime infinity infinity --caps 0,1,3,4,5,6,7,8,10,13,18,27,29,31 --no-new-privs"
                + " -- /bin/x"), rootWords);
        assertEquals(Optional.empty(), ExecStage.filter(confined(byDefault)));
        String userWords = String.join(" ", new ExecStage(Path.of("/x")).argv(confined(byDefault), List.of(), nobody, "t"));
        assertTrue(userWords.endsWith("--caps  --ambient-caps --no-new-privs -- /bin/x"), "nobody keeps none: " + userWords);
    }

    @Test
    void aChangedConfinementChangesTheHash() {
        Confinement base = new Confinement(Optional.empty(), true, Confinement.Seccomp.NONE, Map.of());
        SeccompProfile allowAll = new SeccompProfile(SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW), List.of(), List.of());
        SeccompProfile denyMkdir = new SeccompProfile(SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW), List.of(),
                List.of(new SeccompProfile.Rule(List.of("mkdir"), new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 13), List.of())));
        List<Confinement> variants = List.of(base,
                new Confinement(Optional.of(java.util.Set.of()), true, Confinement.Seccomp.NONE, Map.of()),
                new Confinement(Optional.of(java.util.Set.of(Capability.CAP_KILL)), true, Confinement.Seccomp.NONE, Map.of()),
                new Confinement(Optional.empty(), false, Confinement.Seccomp.NONE, Map.of()),
                new Confinement(Optional.empty(), true, Confinement.Seccomp.NONE, Map.of(Rlimit.NOFILE, new Rlimit.Value(10, 10))),
                new Confinement(Optional.empty(), true, new Confinement.Seccomp("/p.json", Optional.of(allowAll)), Map.of()),
                // the same path, other content: an edited profile restarts the workload
                new Confinement(Optional.empty(), true, new Confinement.Seccomp("/p.json", Optional.of(denyMkdir)), Map.of()));
        java.util.Set<String> hashes = new java.util.HashSet<>();
        variants.forEach(v -> hashes.add(WorkloadRecord.hash(confined(v))));
        assertEquals(variants.size(), hashes.size(), "each confinement hashes apart");
        assertEquals(WorkloadRecord.hash(confined(base)), WorkloadRecord.hash(confined(
                new Confinement(Optional.empty(), true, Confinement.Seccomp.NONE, Map.of()))));
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

package io.jgovernor.policy;

import io.jgovernor.model.Capability;
import io.jgovernor.model.Confinement;
import io.jgovernor.model.Rlimit;
import io.jgovernor.model.RunSpec;
import io.jgovernor.model.SeccompProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** run.capabilities, noNewPrivileges, seccomp and limits: values, defaults, and every located error. */
class ConfinementParserTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/web.yaml");

    @TempDir
    Path dir;

    private static ParseResult parse(String run) {
        return new PolicyParser(FakeHost.HOST).parse(FILE, "name: web\nrun:\n  command: [/bin/true]\n" + run);
    }

    private static List<String> errors(String run) {
        ParseResult r = parse(run);
        return assertInstanceOf(ParseResult.Rejected.class, r, r::toString).errors().stream()
                .map(PolicyError::toString).toList();
    }

    private static Confinement ok(String run) {
        ParseResult r = parse(run);
        RunSpec spec = assertInstanceOf(ParseResult.Ok.class, r, r::toString).policies().getFirst().policy().run().orElseThrow();
        return spec.confinement();
    }

    private Path profile(String name, String json) throws IOException {
        Path p = Files.writeString(dir.resolve(name), json);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        return p;
    }

    @Test
    void absentKeysMeanConfined() {
        Confinement c = ok("");
        assertEquals(Optional.empty(), c.capabilities());
        assertEquals(Capability.RUNC_DEFAULT, c.kept(true));
        assertEquals(Set.of(), c.kept(false));
        assertTrue(c.noNewPrivileges());
        assertEquals("default", c.seccomp().source());
        assertEquals(Optional.of(SeccompJson.builtIn()), c.seccomp().profile());
        assertEquals(Map.of(), c.limits());
        assertEquals(new Rlimit.Value(1024, 524288), c.rlimits().get(Rlimit.NOFILE));
        assertFalse(c.rlimits().containsKey(Rlimit.NPROC), "nproc: the kernel's boot-time value, kept");
    }

    @Test
    void givenValues() throws IOException {
        Path p = profile("p.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
                + " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 28, \"comment\": \"x\","
                + " \"args\": [{\"index\": 1, \"value\": 18446744073709551615, \"op\": \"SCMP_CMP_MASKED_EQ\", \"valueTwo\": 3}]}]}");
        Confinement c = ok("  capabilities: [CAP_NET_BIND_SERVICE, CAP_KILL]\n  noNewPrivileges: false\n  seccomp: " + p
                + "\n  limits:\n    nofile: 1024:524288\n    core: 0\n    stack: 8388608:infinity\n");
        assertEquals(Optional.of(Set.of(Capability.CAP_NET_BIND_SERVICE, Capability.CAP_KILL)), c.capabilities());
        assertEquals(Set.of(Capability.CAP_NET_BIND_SERVICE, Capability.CAP_KILL), c.kept(true), "the list, for root too");
        assertFalse(c.noNewPrivileges());
        assertEquals(Map.of(Rlimit.NOFILE, new Rlimit.Value(1024, 524288), Rlimit.CORE, new Rlimit.Value(0, 0),
                Rlimit.STACK, new Rlimit.Value(8388608, Rlimit.Value.INFINITY)), c.limits());
        assertEquals(new SeccompProfile(SeccompProfile.Action.of(SeccompProfile.Kind.ALLOW), List.of("x86_64", "x86"),
                List.of(new SeccompProfile.Rule(List.of("mkdir"), new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 28),
                        List.of(new SeccompProfile.Arg(1, -1L, 3, SeccompProfile.Op.MASKED_EQ))))), c.seccomp().profile().orElseThrow());
        assertEquals(Confinement.Seccomp.NONE, ok("  seccomp: unconfined\n").seccomp());
        assertEquals(Optional.of(Set.of()), ok("  capabilities: []\n").capabilities(), "an empty list: none, for root too");
    }

    @Test
    void capabilityErrors() {
        assertEquals(List.of(FILE + ":4:18: run.capabilities[0]: \"CAP_NET_BIND_SERVCE\" is not a capability (capabilities(7)"
                        + " names them, like CAP_NET_BIND_SERVICE) (did you mean \"CAP_NET_BIND_SERVICE\"?)"),
                errors("  capabilities: [CAP_NET_BIND_SERVCE]\n"));
        assertEquals(List.of(FILE + ":4:18: run.capabilities[0]: \"net_bind_service\" is not a capability (capabilities(7)"
                        + " names them, like CAP_NET_BIND_SERVICE) (did you mean \"CAP_NET_BIND_SERVICE\"?)"),
                errors("  capabilities: [net_bind_service]\n"));
        assertEquals(List.of(FILE + ":4:28: run.capabilities[1]: CAP_KILL is listed twice"),
                errors("  capabilities: [CAP_KILL, CAP_KILL]\n"));
        assertEquals(List.of(FILE + ":4:17: run.capabilities: expected a list, got \"CAP_KILL\""),
                errors("  capabilities: CAP_KILL\n"));
        assertEquals(List.of(FILE + ":4:20: run.noNewPrivileges: expected true or false, got \"yes please\""),
                errors("  noNewPrivileges: yes please\n"));
    }

    @Test
    void limitErrors() {
        assertEquals(List.of(FILE + ":5:13: run.limits.nofile: the soft limit 4096 is above the hard limit 1024;"
                + " setrlimit(2) refuses that"), errors("  limits:\n    nofile: 4096:1024\n"));
        assertEquals(List.of(FILE + ":5:5: run.limits: \"nofiles\" is not a resource limit (one of cpu, fsize, data, stack,"
                + " core, rss, nproc, nofile, memlock, as, locks, sigpending, msgqueue, nice, rtprio, rttime)"
                + " (did you mean \"nofile\"?)"), errors("  limits:\n    nofiles: 10\n"));
        assertEquals(List.of(FILE + ":5:11: run.limits.core: \"lots\" is not a limit; write one value or soft:hard, each a"
                + " number or infinity, like 1024:524288"), errors("  limits:\n    core: lots\n"));
        assertEquals(List.of(FILE + ":5:11: run.limits.core: \"-1\" is not a limit; write one value or soft:hard, each a"
                + " number or infinity, like 1024:524288"), errors("  limits:\n    core: -1\n"));
        assertEquals(List.of(FILE + ":5:13: run.limits.nofile: cannot be infinity; the kernel caps open files at"
                + " fs.nr_open (1048576 by default)"), errors("  limits:\n    nofile: infinity\n"));
        assertEquals(List.of(FILE + ":5:11: run.limits.core: \"1:2:3\" is not a limit; write one value or soft:hard, each a"
                + " number or infinity, like 1024:524288"), errors("  limits:\n    core: \"1:2:3\"\n"));
    }

    @Test
    void seccompErrorsAreLocatedInThePolicyAndInTheProfile() throws IOException {
        assertEquals(List.of(FILE + ":4:12: run.seccomp: \"defualt\" is neither default, unconfined nor an absolute path of"
                + " a profile file (the OCI seccomp JSON format) (did you mean \"default\"?)"), errors("  seccomp: defualt\n"));
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + dir.resolve("none.json") + ": does not exist"),
                errors("  seccomp: " + dir.resolve("none.json") + "\n"));
        Path bad = profile("bad.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [{\"names\": [\"mkdir\"],"
                + " \"action\": \"SCMP_ACT_ERNO\"}]}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + bad + ":2:46: \"SCMP_ACT_ERNO\" is not a seccomp action (one of"
                + " SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG)"
                + " (did you mean \"SCMP_ACT_ERRNO\"?)"), errors("  seccomp: " + bad + "\n"));
        Path op = profile("op.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_MASKEDEQ\"}]}]}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + op + ":1:139: \"SCMP_CMP_MASKEDEQ\" is not a seccomp comparison"
                + " (one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)"
                + " (did you mean \"SCMP_CMP_MASKED_EQ\"?)"), errors("  seccomp: " + op + "\n"));
        Path index = profile("index.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + index + ":1:118: 6 is not an argument index 0 to 5"),
                errors("  seccomp: " + index + "\n"));
        Path key = profile("key.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscall\": []}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + key + ":1:37: unknown key \"syscall\" (expected one of"
                + " defaultAction, defaultErrnoRet, architectures, syscalls) (did you mean \"syscalls\"?)"),
                errors("  seccomp: " + key + "\n"));
        Path docker = profile("docker.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"x\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}]}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + docker + ":1:95: syscalls[]: \"includes\" is not supported:"
                + " Docker's conditions on the daemon's capabilities and kernel; write the rules this host needs"),
                errors("  seccomp: " + docker + "\n"));
        Path name = profile("name.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mk dir\"],"
                + " \"action\": \"SCMP_ACT_ERRNO\"}]}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + name + ":1:61: \"mk dir\" is not a system call name"
                + " (lower-case letters, digits and _, at most 64)"), errors("  seccomp: " + name + "\n"));
        Path errno = profile("errno.json", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 4096}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + errno + ":1:56: 4096 is not an errno 1 to 4095"),
                errors("  seccomp: " + errno + "\n"));
        Path missing = profile("missing.json", "{\"syscalls\": []}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + missing + ":1:1: missing required key \"defaultAction\""
                + " (what the filter does with a system call no rule names, e.g. \"SCMP_ACT_ERRNO\")"),
                errors("  seccomp: " + missing + "\n"));
        // whoever can write the profile can loosen a root workload's filter: trusted as a policy file is
        Path writable = profile("writable.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
        Files.setPosixFilePermissions(writable, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + writable + ": file is writable by group or others (mode 0666);"
                + " run: chmod go-w " + writable), errors("  seccomp: " + writable + "\n"));
    }

    static List<String> hostile() {
        return List.of("deep", "unterminated", "duplicate-key", "notify");
    }

    @Test
    void hostileProfilesAreLocatedRejectionsInBoundedTime() throws IOException {
        Map<String, String> expected = Map.of(
                "deep", ":1:80: nesting deeper than 32 levels; no profile needs more than 4",
                // the string runs on to the next quote: what follows it is where the text stops being a profile
                "unterminated", ":2:36: expected ']', found 'a'",
                "duplicate-key", ":2:2: the key \"defaultAction\" is given twice",
                "notify", ":3:34: SCMP_ACT_NOTIFY needs a listener, which jgovernor does not run");
        for (String name : hostile()) {
            Path p;
            try (InputStream in = getClass().getResourceAsStream("/hostile/seccomp/" + name + ".json")) {
                p = profile(name + ".json", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
            List<String> e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> errors("  seccomp: " + p + "\n"));
            assertEquals(List.of(FILE + ":4:12: run.seccomp: " + p + expected.get(name)), e, name);
        }
        // made here, not kept in the corpus: more than the 1 MiB cap, and more names than a filter may hold
        Path giant = profile("giant.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"comment\": \"" + "x".repeat(1 << 20) + "\"}");
        assertEquals(List.of(FILE + ":4:12: run.seccomp: " + giant + ": is more than 1048576 bytes; no profile needs that"),
                errors("  seccomp: " + giant + "\n"));
        StringBuilder many = new StringBuilder("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [");
        for (int i = 0; i < 5; i++) {
            many.append(i == 0 ? "" : ",").append("{\"action\": \"SCMP_ACT_ERRNO\", \"names\": [");
            for (int j = 0; j < 1000; j++) {
                many.append(j == 0 ? "" : ",").append("\"s").append(j).append('"');
            }
            many.append("]}");
        }
        Path lots = profile("many.json", many.append("]}").toString());
        List<String> e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> errors("  seccomp: " + lots + "\n"));
        assertEquals(1, e.size());
        assertTrue(e.getFirst().endsWith(": more than 4096 system call names in all; a filter needs a few hundred"), e::toString);
    }

    @Test
    void theBuiltInProfileAllowsWhatProgramsNeedAndNamesWhatItDenies() {
        SeccompProfile p = SeccompJson.builtIn();
        assertEquals(new SeccompProfile.Action(SeccompProfile.Kind.ERRNO, 1), p.defaultAction(), "an allow-list: EPERM");
        Set<String> allowed = new HashSet<>();
        Set<String> denied = new HashSet<>();
        for (SeccompProfile.Rule r : p.rules()) {
            if (r.action().kind() == SeccompProfile.Kind.ALLOW && r.args().isEmpty()) {
                allowed.addAll(r.names());
            } else if (r.action().equals(p.defaultAction())) {
                denied.addAll(r.names());
            }
        }
        assertTrue(allowed.containsAll(List.of("execve", "read", "write", "exit_group", "futex", "mmap", "rseq",
                "faccessat2", "fchmodat2", "close_range", "openat2", "statx", "membarrier", "memfd_create")), allowed::toString);
        for (String d : List.of("mount", "umount2", "pivot_root", "kexec_load", "init_module", "finit_module",
                "delete_module", "bpf", "perf_event_open", "ptrace", "keyctl", "add_key", "request_key", "unshare", "setns",
                "open_by_handle_at", "name_to_handle_at", "reboot", "swapon", "swapoff", "settimeofday", "clock_settime",
                "adjtimex", "iopl", "ioperm", "acct", "quotactl", "userfaultfd", "io_uring_setup", "io_uring_enter",
                "lookup_dcookie", "sysfs", "_sysctl", "uselib", "ustat", "vm86", "kcmp", "process_vm_readv",
                "process_vm_writev", "move_pages", "mbind", "set_mempolicy", "fsopen", "move_mount", "open_tree")) {
            assertTrue(denied.contains(d), d + " is listed as denied");
            assertFalse(allowed.contains(d), d + " is not also allowed");
        }
        Set<String> both = new HashSet<>(allowed);
        both.retainAll(denied);
        assertEquals(Set.of(), both);
        assertFalse(allowed.contains("clone") || allowed.contains("personality"), "only with their argument rules");
    }
}

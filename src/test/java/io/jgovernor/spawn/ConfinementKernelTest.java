package io.jgovernor.spawn;

import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Workloads confined by default (issue 13, point 3), checked from inside as runc's own tests check
 * (/proc/self/status) and by what the workload can and cannot do: real programs, real system calls.
 */
@KernelTest
class ConfinementKernelTest {
    /** runc's 14 (CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP). */
    private static final String RUNC_DEFAULT = "00000000a80425fb";
    private static final String NONE = "0000000000000000";
    private static final String NET_BIND_SERVICE = "0000000000000400";
    private static final int CAP_SYS_RESOURCE = 24;
    private static final String PYTHON = "/usr/bin/python3";
    /** unshare(CLONE_NEWUSER) needs no capability: only a filter can refuse it. */
    private static final String UNSHARE_USER_NS = PYTHON + " -c 'import ctypes, os; libc = ctypes.CDLL(None, use_errno=True);"
            + " r = libc.unshare(0x10000000); print(\"userns=\" + (\"ok\" if r == 0 else os.strerror(ctypes.get_errno())))'";

    private static Map<String, String> results(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(l -> l.contains("="))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1),
                        (a, b) -> a + "\n" + b));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    /** Fields of /proc/PID/status, as the host sees the workload. */
    private static Map<String, String> status(int pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status")).stream()
                .filter(l -> l.contains(":"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')), l -> l.substring(l.indexOf(':') + 1).strip(),
                        (a, b) -> a));
    }

    private static Path out(SpawnHarness h) throws IOException {
        Path out = Files.createDirectories(h.temp.resolve("out"));
        out.toFile().setWritable(true, false);
        return out;
    }

    private static Map<String, String> report(Path out) throws IOException {
        SpawnHarness.await(() -> read(out.resolve("r")).contains("done=1"), "the workload's report");
        return results(out.resolve("r"));
    }

    private static void python() {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            fail(PYTHON + " is missing: install python3 (bin/setup does)");
        }
    }

    /**
     * The hard RLIMIT_NOFILE a workload gets by default: 524288, or this process's own hard limit
     * when it is lower and this process has no CAP_SYS_RESOURCE to raise it (the stage is its child).
     */
    private static long defaultNofileHard() throws IOException {
        Map<String, String> self = status((int) ProcessHandle.current().pid());
        boolean canRaise = (Long.parseUnsignedLong(self.get("CapEff"), 16) & (1L << CAP_SYS_RESOURCE)) != 0;
        long own = Files.readAllLines(Path.of("/proc/self/limits")).stream().filter(l -> l.startsWith("Max open files"))
                .map(l -> l.substring(26).strip().split("\\s+")[1]).mapToLong(Long::parseLong).findFirst().orElseThrow();
        return canRaise ? 524288 : Math.min(524288, own);
    }

    @Test
    void aRootWorkloadKeepsRuncsCapabilitiesNoNewPrivilegesTheFilterAndTheDefaultLimits() throws Exception {
        python();
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            String script = String.join("; ",
                    "exec > " + out.resolve("r") + " 2>&1",
                    "echo soft=$(ulimit -n)",
                    "echo hard=$(ulimit -Hn)",
                    "echo core=$(ulimit -c)",
                    "echo mount=$(busybox mount -t tmpfs none " + out + " 2>&1 || echo refused)",
                    "echo unshare=$(busybox unshare -m true 2>&1 || echo refused)",
                    UNSHARE_USER_NS,
                    "echo done=1",
                    "exec sleep 60");
            h.apply("""
                    name: rootdefault
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: never
                    """.formatted(script.replace("\\", "\\\\").replace("\"", "\\\"")));
            int pid = h.awaitRunning("rootdefault");
            Map<String, String> r = report(out);
            Map<String, String> s = status(pid);
            assertEquals(RUNC_DEFAULT, s.get("CapBnd"), "runc's 14, no CAP_SYS_ADMIN, no CAP_SYS_MODULE");
            assertEquals(RUNC_DEFAULT, s.get("CapEff"));
            assertEquals(RUNC_DEFAULT, s.get("CapPrm"));
            assertEquals(NONE, s.get("CapInh"), "no inheritable capabilities (CVE-2022-24769)");
            assertEquals(NONE, s.get("CapAmb"));
            assertEquals("1", s.get("NoNewPrivs"));
            assertEquals("2", s.get("Seccomp"), "a filter");
            assertEquals("1024", r.get("soft"), "not the JVM's raised soft limit");
            assertEquals(Long.toString(defaultNofileHard()), r.get("hard"));
            assertEquals("0", r.get("core"));
            assertTrue(r.get("mount").contains("refused") && !Files.readString(Path.of("/proc/self/mountinfo"))
                    .contains(" " + out + " "), "mount is denied: " + r.get("mount"));
            assertTrue(r.get("unshare").contains("Operation not permitted"), "unshare is denied: " + r.get("unshare"));
            assertEquals("Operation not permitted", r.get("userns"), "a new user namespace: EPERM from the filter");
        }
    }

    @Test
    void unconfinedLetsThroughWhatTheFilterRefused() throws Exception {
        python();
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            String script = String.join("; ", "exec > " + out.resolve("r") + " 2>&1", UNSHARE_USER_NS, "echo done=1",
                    "exec sleep 60");
            h.apply("""
                    name: unconfined
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: never
                      seccomp: unconfined
                      noNewPrivileges: false
                    """.formatted(script.replace("\\", "\\\\").replace("\"", "\\\"")));
            int pid = h.awaitRunning("unconfined");
            Map<String, String> r = report(out);
            Map<String, String> s = status(pid);
            assertEquals("0", s.get("Seccomp"));
            assertEquals("0", s.get("NoNewPrivs"));
            assertEquals(RUNC_DEFAULT, s.get("CapBnd"), "capabilities are their own key");
            assertEquals("ok", r.get("userns"), "the same call works without the filter");
        }
    }

    @Test
    void nobodyKeepsNothingByDefaultAndItsListAsAmbientCapabilities() throws Exception {
        python();
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            String bind = PYTHON + " -c 'import socket; s = socket.socket();"
                    + " s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1);\n"
                    + "try:\n s.bind((\"127.0.0.1\", 1023)); print(\"bind=ok\")\n"
                    + "except OSError as e:\n print(\"bind=\" + e.strerror)'";
            String script = "exec > OUT 2>&1; " + bind + "; echo done=1; exec sleep 60";
            h.apply("""
                    name: plain
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      user: nobody
                      restart: never
                    ---
                    name: bind
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      user: nobody
                      restart: never
                      capabilities: [CAP_NET_BIND_SERVICE]
                    """.formatted(
                    script.replace("OUT", out.resolve("p").toString()).replace("\\", "\\\\").replace("\"", "\\\"")
                            .replace("\n", "\\n"),
                    script.replace("OUT", out.resolve("r").toString()).replace("\\", "\\\\").replace("\"", "\\\"")
                            .replace("\n", "\\n")));
            int plain = h.awaitRunning("plain");
            int bound = h.awaitRunning("bind");
            SpawnHarness.await(() -> read(out.resolve("p")).contains("done=1"), "the plain workload's report");
            Map<String, String> p = results(out.resolve("p"));
            Map<String, String> r = report(out);
            Map<String, String> s = status(plain);
            assertEquals(NONE, s.get("CapEff"));
            assertEquals(NONE, s.get("CapPrm"));
            assertEquals(NONE, s.get("CapBnd"), "nothing to regain either");
            assertEquals(NONE, s.get("CapAmb"));
            assertEquals("1", s.get("NoNewPrivs"));
            assertEquals("2", s.get("Seccomp"));
            assertEquals("Permission denied", p.get("bind"), "port 1023 needs CAP_NET_BIND_SERVICE");
            Map<String, String> b = status(bound);
            assertEquals(NET_BIND_SERVICE, b.get("CapAmb"), "the list is the ambient set for a non-root user");
            assertEquals(NET_BIND_SERVICE, b.get("CapEff"), "and survives execve (sh, then sleep)");
            assertEquals(NET_BIND_SERVICE, b.get("CapBnd"));
            assertEquals("65534", b.get("Uid").split("\\s+")[1], "still nobody");
            assertEquals("ok", r.get("bind"), "python3 as nobody binds port 1023: " + r);
        }
    }

    @Test
    void aSetuidRootBinaryDoesNotMakeNobodyRoot() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            // coreutils id prints the effective uid; a copy owned by root with the setuid bit
            Path suid = Files.createDirectories(h.temp.resolve("suid"));
            Path id = Files.copy(Path.of("/usr/bin/id"), suid.resolve("id"));
            // java.nio cannot set the setuid bit
            assertEquals(0, new ProcessBuilder("chmod", "4755", id.toString()).inheritIO().start().waitFor());
            assertEquals(04755, (Integer) Files.getAttribute(id, "unix:mode") & 07777, "setuid bit set");
            String script = "echo euid=$(" + id + " -u) > OUT; echo done=1 >> OUT; exec sleep 60";
            h.apply("""
                    name: nnp
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      user: nobody
                      restart: never
                    ---
                    name: nonnp
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      user: nobody
                      restart: never
                      noNewPrivileges: false
                    """.formatted(script.replace("OUT", out.resolve("r").toString()),
                    script.replace("OUT", out.resolve("n").toString())));
            h.awaitRunning("nnp");
            h.awaitRunning("nonnp");
            Map<String, String> r = report(out);
            SpawnHarness.await(() -> read(out.resolve("n")).contains("done=1"), "the other report");
            assertEquals("65534", r.get("euid"), "no_new_privs: execve ignores the setuid bit");
            // the control: the same binary gives root without no_new_privs, so the bit was honoured there
            assertEquals("0", results(out.resolve("n")).get("euid"), "without no_new_privs the setuid bit works");
        }
    }

    @Test
    void aProfileFileDeniesMkdirWithItsErrnoAndLimitsAreThePolicys() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            Path profile = h.temp.resolve("deny-mkdir.json");
            Files.writeString(profile, """
                    {"defaultAction": "SCMP_ACT_ALLOW",
                     "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}
                    """);
            String script = String.join("; ",
                    "exec > " + out.resolve("r") + " 2>&1",
                    "echo mkdir=$(/bin/mkdir " + out.resolve("d") + " 2>&1 && echo made)",
                    "echo touch=$(touch " + out.resolve("f") + " && echo made)",
                    "echo nofile=$(ulimit -n):$(ulimit -Hn)",
                    "echo core=$(ulimit -c):$(ulimit -Hc)",
                    "echo done=1",
                    "exec sleep 60");
            h.apply("""
                    name: profiled
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: never
                      seccomp: %s
                      limits:
                        nofile: 256:2048
                        core: 0
                    """.formatted(script, profile));
            int pid = h.awaitRunning("profiled");
            Map<String, String> r = report(out);
            assertTrue(r.get("mkdir").contains("No space left on device"), "errnoRet 28 is ENOSPC: " + r.get("mkdir"));
            assertTrue(Files.notExists(out.resolve("d")));
            assertEquals("made", r.get("touch"), "what the profile allows still works");
            assertEquals("256:2048", r.get("nofile"));
            assertEquals("0:0", r.get("core"));
            assertEquals("2", status(pid).get("Seccomp"));
        }
    }

    @Test
    void aJvmRunsUnderTheDefaultProfile() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = out(h);
            Path source = h.temp.resolve("Hello.java");
            Files.writeString(source, """
                    public class Hello {
                        public static void main(String[] a) throws Exception {
                            Thread t = Thread.ofPlatform().start(() -> System.out.println("thread=ok"));
                            t.join();
                            int v = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor().submit(() -> 6 * 7).get();
                            java.nio.file.Files.writeString(java.nio.file.Path.of(a[0]), "thread=ok\\nvirtual=" + v + "\\ndone=1\\n");
                        }
                    }
                    """);
            String java = ProcessHandle.current().info().command().orElseThrow();
            h.apply("""
                    name: jvm
                    run:
                      command: ["%s", "-Xmx64m", "%s", "%s"]
                      user: nobody
                      restart: never
                    """.formatted(java, source, out.resolve("r")));
            Map<String, String> r = report(out);
            assertEquals("ok", r.get("thread"));
            assertEquals("42", r.get("virtual"), "a JVM with platform and virtual threads, as nobody, filtered");
        }
    }

    /** A root shell {@code script} in {@code rootfs} with five namespaces and {@code out} on /out; its pid. */
    private static int startIsolatedRoot(SpawnHarness h, String name, String script, Path rootfs, Path out) {
        h.apply("""
                name: %s
                run:
                  command: ["/bin/sh", "-c", "%s"]
                  restart: never
                  isolate:
                    namespaces: [pid, mount, uts, ipc, net]
                    rootfs: %s
                    mounts:
                      - {source: %s, target: /out}
                """.formatted(name, script, rootfs, out));
        return h.awaitRunning(name);
    }

    /**
     * Issue 13: an isolated root workload "cannot read a host disk through mknod". It holds
     * CAP_MKNOD (one of runc's 14) and its /dev is a tmpfs without nodev, so the node is made;
     * the device allow list of its group (v1 devices cgroup) refuses to open it.
     */
    @Test
    void anIsolatedRootWorkloadCannotReadAHostDiskThroughANodeItMakes() throws Exception {
        // A block device the host (this test, root) can open: the disk / is on when it can (a
        // sandbox may refuse even root that one), else the first that opens. Its open in the
        // workload is what must be refused, so the test can fail.
        long dev = (Long) Files.getAttribute(Path.of("/"), "unix:dev");
        String rootDisk = (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL)) + ":" + ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
        List<String> devices = new java.util.ArrayList<>();
        devices.add(rootDisk);
        try (Stream<Path> all = Files.list(Path.of("/sys/dev/block"))) {
            all.map(d -> d.getFileName().toString()).sorted().forEach(devices::add);
        }
        String majorMinor = null;
        for (String d : devices) {
            String devname = Files.readAllLines(Path.of("/sys/dev/block", d, "uevent")).stream()
                    .filter(l -> l.startsWith("DEVNAME=")).findFirst().map(l -> l.substring(8)).orElse("");
            try (var in = Files.newInputStream(Path.of("/dev", devname))) {
                majorMinor = d;
                break;
            } catch (IOException | IllegalArgumentException e) {
                // refused to the host too (or no node): not a device that can prove anything
            }
        }
        assertTrue(majorMinor != null, "no block device this host can open: " + devices);
        String major = majorMinor.substring(0, majorMinor.indexOf(':'));
        String minor = majorMinor.substring(majorMinor.indexOf(':') + 1);
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path out = out(h);
            String script = String.join("; ",
                    "exec > /out/r 2>&1",
                    "echo mknod=$(busybox mknod /dev/disk b " + major + " " + minor + " && echo made || echo refused)",
                    "echo read=$(head -c 512 /dev/disk 2>/dev/null | wc -c)",
                    "echo error=$(head -c 1 /dev/disk 2>&1 >/dev/null)",
                    "echo done=1",
                    "exec sleep 60");
            startIsolatedRoot(h, "disk", script, rootfs, out);
            Map<String, String> r = report(out);
            assertEquals("made", r.get("mknod"), "CAP_MKNOD is kept (runc's 14): the node is made: " + r);
            assertEquals("0", r.get("read"), "not one byte of block device " + majorMinor + ": " + r);
            assertTrue(r.get("error").contains("Operation not permitted"), "the device cgroup refuses to open block device "
                    + majorMinor + ", which the host opens: " + r);
        }
    }

    @Test
    void anIsolatedRootWorkloadInABusyboxRootfsIsConfinedToo() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path out = out(h);
            String script = String.join("; ",
                    "exec > /out/r 2>&1",
                    "echo ls=$(ls / | wc -l)",
                    "echo mount=$(mount -t tmpfs none /out 2>&1 || echo refused)",
                    "echo done=1",
                    "exec sleep 60");
            int pid = startIsolatedRoot(h, "iso", script, rootfs, out);
            Map<String, String> r = report(out);
            Map<String, String> s = status(pid);
            assertEquals(RUNC_DEFAULT, s.get("CapBnd"));
            assertEquals("1", s.get("NoNewPrivs"));
            assertEquals("2", s.get("Seccomp"));
            assertTrue(r.get("mount").contains("refused"), "mount denied in its own mount namespace: " + r.get("mount"));
            assertTrue(Integer.parseInt(r.get("ls")) >= 3, "busybox ls runs: " + r);
        }
    }
}

package io.jgovernor.spawn;

import io.jgovernor.model.Confinement;
import io.jgovernor.model.RunSpec;
import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an isolated workload's mount namespace holds (rootfs.c): a minimal /dev, masked and
 * read-only /proc and /sys paths, bind targets that stay inside the rootfs, and the cgroup
 * namespace. Every check runs inside a real workload. The read-only checks hold with every
 * capability still present: they prove the mount flag, not a missing CAP_SYS_ADMIN.
 */
@KernelTest
class MountNamespaceKernelTest {
    /** What a workload script reports about its mount namespace, as key=value lines in /out/r. */
    private static final String PROBE = String.join("; ",
            "echo dev=$(ls -A /dev) > /out/r",
            "echo nullwrite=$(echo x > /dev/null && echo ok) >> /out/r",
            "echo nullread=$(cat /dev/null | wc -c) >> /out/r",
            "echo zero=$(head -c 8 /dev/zero | wc -c) >> /out/r",
            "echo urandom=$(head -c 16 /dev/urandom | wc -c) >> /out/r",
            "echo full=$( (echo x > /dev/full) 2>&1) >> /out/r",
            "echo pts=$(ls -A /dev/pts) >> /out/r",
            "echo shm=$(touch /dev/shm/x && echo ok) >> /out/r",
            "echo devexec=$(grep ' /dev ' /proc/self/mountinfo) >> /out/r",
            "echo ptsmount=$(grep ' /dev/pts ' /proc/self/mountinfo) >> /out/r",
            "echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c) >> /out/r",
            "echo timerlist=$(cat /proc/timer_list | wc -c) >> /out/r",
            "echo keys=$(cat /proc/keys | wc -c) >> /out/r",
            "echo acpi=$(ls -A /proc/acpi | wc -l) >> /out/r",
            "echo acpiwrite=$( (touch /proc/acpi/x) 2>&1) >> /out/r",
            "echo ostype=$(cat /proc/sys/kernel/ostype) >> /out/r",
            "echo sysctl=$( (echo x > /proc/sys/kernel/ostype) 2>&1) >> /out/r",
            "echo sysrq=$( (echo h > /proc/sysrq-trigger) 2>&1) >> /out/r",
            "echo romounts=$(grep -E ' /proc/(bus|fs|irq|sys|sysrq-trigger) ro,' /proc/self/mountinfo | wc -l) >> /out/r",
            "echo sys=$(ls /sys | wc -l) >> /out/r",
            "echo sysmount=$(grep ' /sys ' /proc/self/mountinfo) >> /out/r",
            "echo firmware=$(ls -A /sys/firmware | wc -l) >> /out/r",
            "echo done=1 >> /out/r",
            "exec sleep 60");

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

    private static Map<String, String> probe(String namespaces) throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Files.createDirectories(rootfs.resolve("sys"));
            Path out = Files.createDirectories(h.temp.resolve("out"));
            h.apply("""
                    name: iso
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [%s]
                        rootfs: %s
                        mounts: [{source: %s, target: /out}]
                    """.formatted(PROBE.replace("\"", "\\\""), namespaces, rootfs, out));
            h.awaitRunning("iso");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done=1"), "the workload's report");
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(rootfs.toString()),
                    "nothing propagated to the host");
            return results(out.resolve("r"));
        }
    }

    private static void assertMinimalDevAndMaskedProc(Map<String, String> r) throws IOException {
        assertEquals("fd full null ptmx pts random shm stderr stdin stdout tty urandom zero", r.get("dev"), r.toString());
        assertEquals("ok", r.get("nullwrite"));
        assertEquals("0", r.get("nullread"));
        assertEquals("8", r.get("zero"));
        assertEquals("16", r.get("urandom"));
        assertTrue(r.get("full").contains("No space left on device"), r.get("full"));
        assertEquals("ptmx", r.get("pts"), "a devpts instance of its own: none of the host's terminals");
        assertTrue(r.get("ptsmount").contains(" - devpts "), r.get("ptsmount"));
        assertEquals("ok", r.get("shm"));
        assertTrue(r.get("devexec").contains("noexec") && r.get("devexec").contains("nosuid"), r.get("devexec"));
        assertEquals("0", r.get("kcore"), "/proc/kcore reads nothing (masked, or absent on this kernel)");
        // /proc/timer_list lists the host's timers: masked, it reads empty
        assertTrue(Files.readString(Path.of("/proc/timer_list")).length() > 0, "the host has a /proc/timer_list");
        assertEquals("0", r.get("timerlist"));
        assertEquals("0", r.get("keys"));
        assertEquals("0", r.get("acpi"), "/proc/acpi: an empty tmpfs over it");
        assertTrue(r.get("acpiwrite").contains("Read-only file system"), r.get("acpiwrite"));
        assertEquals("Linux", r.get("ostype"), "/proc/sys reads");
        // O_TRUNC asks the mount for write access before any permission check: EROFS proves the flag
        assertTrue(r.get("sysctl").contains("Read-only file system"), r.get("sysctl"));
        // a kernel without CONFIG_MAGIC_SYSRQ (this VM's) has no /proc/sysrq-trigger to write
        assertTrue(r.get("sysrq").contains(Files.exists(Path.of("/proc/sysrq-trigger")) ? "Read-only file system"
                : "nonexistent"), r.get("sysrq"));
        long readOnlyPaths = Stream.of("bus", "fs", "irq", "sys", "sysrq-trigger")
                .filter(p -> Files.exists(Path.of("/proc", p))).count();
        assertEquals(Long.toString(readOnlyPaths), r.get("romounts"), "a read-only bind of each that this kernel has");
        // the rootfs has /sys and the workload a net namespace: a read-only sysfs, firmware masked
        assertTrue(Integer.parseInt(r.get("sys")) > 3, "sysfs is mounted: " + r.get("sys"));
        assertTrue(r.get("sysmount").contains(" ro,") && r.get("sysmount").contains(" - sysfs "), r.get("sysmount"));
        assertEquals("0", r.get("firmware"), "/sys/firmware: an empty tmpfs over it");
    }

    @Test
    void anIsolatedRootWorkloadGetsAMinimalDevAndAMaskedReadOnlyProc() throws Exception {
        Map<String, String> r = probe("pid, mount, uts, ipc, net");
        assertMinimalDevAndMaskedProc(r);
        assertTrue(r.get("ptsmount").contains("gid=5"), "tty is gid 5 on the host: " + r.get("ptsmount"));
    }

    @Test
    void theSameInAUserNamespace() throws Exception {
        Map<String, String> r = probe("pid, mount, uts, ipc, net, user");
        assertMinimalDevAndMaskedProc(r);
        // root maps to root alone ("0 0 1"): gid 5 does not exist inside, devpts goes without it
        assertFalse(r.get("ptsmount").contains("gid=5"), r.get("ptsmount"));
    }

    @Test
    void aMountNamespaceWithoutRootfsKeepsTheHostsDevAndMasksTheHostsProc() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = Files.createDirectories(h.temp.resolve("out"));
            // no pid namespace: this /proc is the host's own, masked in the private mount namespace only
            String script = String.join("; ",
                    "echo timerlist=$(cat /proc/timer_list | wc -c) > %1$s/r",
                    "echo sysctl=$( (echo x > /proc/sys/kernel/ostype) 2>&1) >> %1$s/r",
                    "echo devsda=$(ls /dev | wc -l) >> %1$s/r",
                    "echo done=1 >> %1$s/r",
                    "exec sleep 60").formatted(out);
            h.apply("""
                    name: noroot
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [mount]
                    """.formatted(script));
            h.awaitRunning("noroot");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done=1"), "the workload's report");
            Map<String, String> r = results(out.resolve("r"));
            assertEquals("0", r.get("timerlist"));
            assertTrue(r.get("sysctl").contains("Read-only file system"), r.get("sysctl"));
            assertTrue(Long.parseLong(r.get("devsda")) > 13, "more than the minimal set: the host's /dev " + r);
            // and the host's own /proc is untouched
            assertTrue(Files.readString(Path.of("/proc/timer_list")).length() > 0);
        }
    }

    @Test
    void aTargetThroughASymlinkToAMissingPlaceFailsAndCreatesNothingOnTheHost() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path hostDir = Files.createDirectories(h.temp.resolve("host-side"));
            Path source = Files.createDirectories(h.temp.resolve("source"));
            // a string join of rootfs + "/data/x" would follow this link on the host
            Files.createSymbolicLink(rootfs.resolve("data"), hostDir);
            h.apply("""
                    name: escape
                    run:
                      command: ["/bin/sleep", "60"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [pid, mount]
                        rootfs: %s
                        mounts: [{source: %s, target: /data/x}]
                    """.formatted(rootfs, source));
            SpawnHarness.await(() -> h.status("escape") != null && h.status("escape").state().equals("failed"),
                    "the start refused");
            assertEquals("bind mount target /data/x: \"data\" is a symbolic link to something missing inside the root;"
                    + " targets resolve inside the root, never on the host", h.status("escape").lastError());
            try (Stream<Path> s = Files.list(hostDir)) {
                assertEquals(List.of(), s.toList(), "nothing made on the host");
            }
        }
    }

    /**
     * A ".." target never reaches the stage through a policy (the parser refuses it, see
     * PolicyParserTest); given to the exec stage directly, it is refused there too, and nothing is
     * made beside the rootfs.
     */
    @Test
    void aDotDotTargetGivenToTheStageDirectlyIsRefusedAndCreatesNothingOutside() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path source = Files.createDirectories(h.temp.resolve("source"));
            Files.createDirectories(rootfs.resolve("data"));
            // resolved as a string on the host, this would be h.temp/escaped, beside the rootfs
            RunSpec spec = new RunSpec(List.of("/bin/true"), Optional.empty(), Optional.empty(), Optional.empty(),
                    Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                    Optional.of(new RunSpec.Isolation(EnumSet.of(RunSpec.Namespace.PID, RunSpec.Namespace.MOUNT),
                            Optional.empty(), Optional.of(rootfs), false,
                            List.of(new RunSpec.BindMount(source, Path.of("/data/../../escaped/x"), false)), List.of())),
                    Confinement.NONE);
            ExecStage stage = ExecStage.locate();
            List<String> argv = stage.argv(spec, List.of(), new Credentials(0, 0, List.of(), List.of(), List.of()), "0");
            Process p = PosixSpawnProcess.start(argv, Map.of(), false);
            String control;
            try (var err = p.getErrorStream(); var o = p.getInputStream()) {
                control = new String(err.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            assertEquals(127, p.waitFor(), control);
            assertTrue(control.contains("error: bind mount target /data/../../escaped/x: \"..\" is refused"), control);
            assertFalse(Files.exists(h.temp.resolve("escaped")), "nothing made beside the rootfs");
            assertFalse(Files.exists(rootfs.resolve("escaped")), "nor inside it");
        }
    }

    @Test
    void aTargetThroughASymlinkResolvesInsideTheRootfs() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path hostDir = Files.createDirectories(h.temp.resolve("host-side"));
            Path source = Files.createDirectories(h.temp.resolve("source"));
            Files.writeString(source.resolve("given"), "bound\n");
            Path out = Files.createDirectories(h.temp.resolve("out"));
            Files.createSymbolicLink(rootfs.resolve("data"), hostDir);
            // the link's target exists inside the rootfs too: that one is meant, as for the workload
            Path inside = Files.createDirectories(rootfs.resolve(hostDir.toString().substring(1)));
            h.apply("""
                    name: inside
                    run:
                      command: ["/bin/sh", "-c", "echo given=$(cat /data/x/given) > /out/r; exec sleep 60"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [pid, mount]
                        rootfs: %s
                        mounts:
                          - {source: %s, target: /out}
                          - {source: %s, target: /data/x}
                    """.formatted(rootfs, out, source));
            h.awaitRunning("inside");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("given="), "the workload's report");
            assertEquals("bound", results(out.resolve("r")).get("given"));
            assertTrue(Files.isDirectory(inside.resolve("x")), "the mount point was made inside the rootfs");
            try (Stream<Path> s = Files.list(hostDir)) {
                assertEquals(List.of(), s.toList(), "nothing made on the host");
            }
        }
    }

    @Test
    void aCgroupNamespaceStartsAtTheGroup() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path out = Files.createDirectories(h.temp.resolve("out"));
            h.apply("""
                    name: cgns
                    memory: {limit: 64Mi}
                    run:
                      command: ["/bin/sh", "-c", "cat /proc/self/cgroup > %1$s/r; echo done >> %1$s/r; exec sleep 60"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [pid, mount, cgroup]
                    """.formatted(out));
            int pid = h.awaitRunning("cgns");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done"), "the workload's report");
            List<String> inside = Files.readAllLines(out.resolve("r")).stream().filter(l -> !l.equals("done")).toList();
            assertFalse(inside.isEmpty());
            for (String line : inside) {
                assertTrue(line.endsWith(":/"), "the namespace's root is the group: " + inside);
            }
            // the host still sees the group's full path (v1: in the memory line at least; v2: the one line)
            String host = Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"));
            assertTrue(host.lines().anyMatch(l -> l.contains("jgovernor-test-")), host);
        }
    }
}

package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's commands against one packaged daemon (a daemon start costs seconds, so one test
 * checks them all): status with a failing workload and the daemon's pid, why for a classified
 * process and for one jgovernor did not place, plan (a changed value and a new group: exit 2;
 * an unchanged copy: exit 0; the kernel untouched), reload, tree, top, validate with the live
 * directory, and the option forms every command shares.
 */
class CommandsIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);

    private Path socket;

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private Result jgovernor(String... args) throws IOException, InterruptedException {
        Path outFile = Files.createTempFile(tmp, "out", ".txt");
        Path errFile = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(DaemonProcess.command(List.of("jgovernor.policy-dir=" + policies), List.of(args)))
                .redirectOutput(outFile.toFile()).redirectError(errFile.toFile()).start();
        int exit = p.waitFor();
        return new Result(exit, Files.readString(outFile), Files.readString(errFile));
    }

    private void write(Path dir, String name, String yaml) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, yaml);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Every file of a directory with its content and mtime: what "changes nothing" is checked against. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String content;
                try {
                    content = Files.readString(f);
                } catch (IOException e) {
                    content = "(unreadable)"; // write-only files such as cgroup.event_control
                }
                out.put(f.getFileName().toString(), content + " @" + Files.getLastModifiedTime(f).toMillis());
            }
        }
        return out;
    }

    @Test
    void theOperatorsCommandsAgainstOneDaemon() throws Exception {
        socket = tmp.resolve("run/api.sock");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        String name = "jg" + UUID.randomUUID().toString().substring(0, 8);
        Files.copy(Path.of("/bin/sleep"), bin.resolve(name));
        Files.setPosixFilePermissions(bin.resolve(name), PosixFilePermissions.fromString("rwxr-xr-x"));
        String web = "name: web\nmatch:\n  - comm: nobodyrunsthis\n  - comm: " + name + "\ncpu: {shares: 512}\n";
        write(policies, "web.yaml", web);
        write(policies, "bad.yaml", "name: bad\nrun:\n  command: [\"/bin/false\"]\n  restart: on-failure\n");
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.api.socket=" + socket,
                "jgovernor.pid-file=" + tmp.resolve("run/jgovernor.pid"));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        assertEquals(daemon.pid() + "\n", Files.readString(tmp.resolve("run/jgovernor.pid")));

        var cpu = cgroups.hierarchy("cpu");
        Path webDir = cgroups.layout().groupDir(cpu, new GroupName("web"));
        String webPath = cpu.cgroupPath(webDir);
        Process sleeper = cgroups.start(bin.resolve(name).toString(), "300");
        daemon.await(() -> {
            try {
                return TestCgroups.cgroupOf(sleeper.pid(), "cpu").orElse("?").equals(webPath);
            } catch (IOException e) {
                return false;
            }
        }, SOON, "the process to join web");

        // status: the daemon's pid, OOM kills, and the failing workload with its exit status
        daemon.await(() -> {
            try {
                Result r = jgovernor("status", "--socket", socket.toString());
                return r.exit() == 0 && r.out().lines().anyMatch(l -> l.startsWith("bad ") && l.contains("exit 1"));
            } catch (IOException | InterruptedException e) {
                return false;
            }
        }, SOON, "status to show bad's workload failing with exit 1");
        Result status = jgovernor("status", "--socket=" + socket);
        assertEquals(0, status.exit(), status.toString());
        assertTrue(status.out().contains("(pid " + daemon.pid() + ")"), status.toString());
        assertTrue(status.out().contains(" OOM ") && status.out().contains("WORKLOAD"), status.toString());
        assertTrue(status.out().lines().anyMatch(l -> l.startsWith("bad ") && l.contains("restarting (")
                || l.contains("failed (exit 1)")), status.toString());

        // why: the group, the file and the match entry; a process jgovernor did not place
        Result why = jgovernor("why", "--socket", socket.toString(), Long.toString(sleeper.pid()));
        assertEquals(0, why.exit(), why.toString());
        assertTrue(why.out().contains("is in group web"), why.toString());
        assertTrue(why.out().contains("by match entry 2 (comm: " + name + ") of " + policies.resolve("web.yaml")),
                why.toString());
        Result notMoved = jgovernor("why", "--socket=" + socket, Long.toString(ProcessHandle.current().pid()));
        assertEquals(0, notMoved.exit(), notMoved.toString());
        assertTrue(notMoved.out().contains("not placed by jgovernor"), notMoved.toString());
        assertEquals(1, jgovernor("why", "--socket", socket.toString(), "999999999").exit());

        // plan: an unchanged copy is nothing to do; a changed value and a new group are changes;
        // neither touches the kernel
        Path edit = Files.createDirectories(tmp.resolve("edit"));
        write(edit, "web.yaml", web);
        Map<String, String> before = snapshot(webDir);
        Result same = jgovernor("plan", "--socket", socket.toString(), edit.resolve("web.yaml").toString());
        assertEquals(0, same.exit(), same.toString());
        assertTrue(same.out().contains("nothing to do"), same.toString());
        write(edit, "web.yaml", web.replace("512", "256"));
        write(edit, "fresh.yaml", "name: fresh\ncpu: {shares: 128}\n");
        Result changes = jgovernor("plan", "--socket=" + socket, edit.toString());
        assertEquals(2, changes.exit(), changes.toString());
        assertTrue(changes.out().contains("web:\n  cpu.shares: 512 -> 256"), changes.toString());
        Path freshDir = cgroups.layout().groupDir(cpu, new GroupName("fresh"));
        assertTrue(changes.out().contains("fresh:\n  mkdir "), changes.toString());
        assertTrue(changes.out().contains("mkdir " + freshDir), changes.toString());
        assertTrue(changes.out().contains("cpu.shares: 1024 -> 128"), changes.toString());
        assertEquals(before, snapshot(webDir), "plan wrote to web's cgroup");
        assertFalse(Files.exists(freshDir), "plan made fresh's cgroup");
        assertEquals("512", Files.readString(webDir.resolve("cpu.shares")).strip());
        write(edit, "broken.yaml", "name: web\ncpu: {shares: lots}\n");
        Result invalid = jgovernor("plan", "--socket", socket.toString(), edit.resolve("broken.yaml").toString());
        assertEquals(1, invalid.exit(), invalid.toString());
        assertTrue(invalid.err().contains(edit.resolve("broken.yaml") + ":2:"), invalid.toString());

        // reload waits for its pass; tree shows the process; top shows the group
        Result reload = jgovernor("reload", "--socket", socket.toString());
        assertEquals(0, reload.exit(), reload.toString());
        assertTrue(reload.out().startsWith("reloaded: full pass over 2 groups"), reload.toString());
        daemon.awaitLog("jgovernor reload: reload done: full pass", SOON);
        Result tree = jgovernor("tree", "--socket=" + socket);
        assertEquals(0, tree.exit(), tree.toString());
        assertTrue(tree.out().contains("web\n") && tree.out().contains(sleeper.pid() + " " + name), tree.toString());
        Result top = jgovernor("top", "--once", "--delay", "0.2", "--socket", socket.toString());
        assertEquals(0, top.exit(), top.toString());
        assertTrue(top.out().startsWith("GROUP") && top.out().lines().anyMatch(l -> l.startsWith("web ")), top.toString());

        // validate with the live directory: a deploy tool's temp copy judged as web.yaml is valid;
        // the same text under another name defines web twice
        Path temp = tmp.resolve("tmpXYZ");
        Files.writeString(temp, web.replace("512", "300"));
        Result as = jgovernor("validate", "--as", "web.yaml", temp.toString());
        assertEquals(0, as.exit(), as.toString());
        Result dup = jgovernor("validate", "--as=other.yaml", temp.toString());
        assertEquals(1, dup.exit(), dup.toString());
        assertTrue(dup.err().contains("group \"web\" is already defined in " + policies.resolve("web.yaml")), dup.toString());
        Result alone = jgovernor("validate", "--alone", "--json", temp.toString());
        assertEquals(0, alone.exit(), alone.toString());
        assertEquals("{\"valid\":true,\"errors\":[]}", alone.out().strip());
        Result json = jgovernor("validate", "--json", "--as", "other.yaml", temp.toString());
        assertEquals(1, json.exit(), json.toString());
        assertTrue(json.out().contains("\"line\":1,\"column\":7,\"message\":\"group \\\"web\\\" is already defined"),
                json.toString());

        // every command: --help exits 0; an unknown option exits 2
        for (String command : List.of("validate", "plan", "status", "tree", "top", "why", "reload", "exec", "volume")) {
            Result help = jgovernor(command, "--help");
            assertEquals(0, help.exit(), help.toString());
            assertTrue(help.out().startsWith("usage: jgovernor " + command), help.toString());
            Result bad = jgovernor(command, "--no-such-option");
            assertEquals(2, bad.exit(), bad.toString());
            assertTrue(bad.err().contains("unknown option \"--no-such-option\""), bad.toString());
        }
        Result version = jgovernor("--version");
        assertEquals(0, version.exit(), version.toString());
        assertTrue(version.out().matches("jgovernor \\d+\\.\\d+\\.\\d+.*\\n"), version.toString());

        daemon.signal("TERM");
        daemon.awaitExit(Duration.ofSeconds(30));
        assertFalse(Files.exists(tmp.resolve("run/jgovernor.pid")), "the pid file outlived the daemon");
    }
}

package io.jgovernor.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jgovernor exec} and {@code jgovernor volume} against the packaged daemon: a command run
 * inside a running isolated workload sees its hostname, its processes (its pid 1) and its files,
 * has no capability the workload lacks, is under its seccomp filter and no_new_privs, and its
 * exit status and signals pass through; the volume a workload names is listed, refused removal
 * while the workload runs, and removed once its policy is gone.
 */
class EngineIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(20);

    private ProcessBuilder cli(String... args) {
        return new ProcessBuilder(DaemonProcess.command(List.of("jgovernor.policy-dir=" + policies), List.of(args)));
    }

    private Result jgovernor(String... args) throws IOException, InterruptedException {
        return runCli(List.of(args));
    }

    private Path busyboxRootfs() throws IOException {
        Path root = tmp.resolve("rootfs");
        Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"));
        for (String applet : List.of("sh", "cat", "echo", "hostname", "sleep", "grep", "ls", "ps", "true")) {
            Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("marker"), "in the workload's root\n");
        return root;
    }

    private static long capabilities(String status, String set) {
        Matcher m = Pattern.compile("(?m)^" + set + ":\\s*([0-9a-f]+)$").matcher(status);
        assertTrue(m.find(), set + " in " + status);
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    @Test
    void execIntoARunningWorkloadAndItsVolume() throws Exception {
        Path socket = tmp.resolve("run/api.sock");
        Path rootfs = busyboxRootfs();
        writePolicy("iso.yaml", """
                name: iso
                run:
                  command: ["/bin/sh", "-c", "echo from-the-workload > /data/made; exec sleep 300"]
                  stopTimeout: 1s
                  isolate:
                    namespaces: [pid, mount, uts, ipc, net, cgroup]
                    hostname: isobox
                    rootfs: %s
                    volumes: [{name: data, target: /data}]
                """.formatted(rootfs));
        writePolicy("plain.yaml", "name: plain\ncpu: {shares: 512}\n");
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.api.socket=" + socket,
                "jgovernor.reconcile.interval=1s");
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        daemon.await(() -> recordedPid("iso") > 0, SOON, "the workload's record");
        int workload = recordedPid("iso");
        String workloadStatus = Files.readString(Path.of("/proc", Integer.toString(workload), "status"));
        daemon.await(() -> Files.exists(state.resolve("volumes/data/made")), SOON, "the workload's file in its volume");

        Result r = jgovernor("exec", "--socket", socket.toString(), "iso", "--", "/bin/sh", "-c",
                "hostname; cat /proc/1/comm; ps -o pid,comm | grep -c sleep; cat /marker /data/made;"
                        + " grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; exit 7");
        assertEquals(7, r.exit(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertEquals("isobox", lines.get(0), "the workload's hostname: " + r);
        assertEquals("sleep", lines.get(1), "the workload is pid 1 of the pid namespace joined: " + r);
        assertEquals("1", lines.get(2), "its processes: " + r);
        assertEquals("in the workload's root", lines.get(3));
        assertEquals("from-the-workload", lines.get(4), "its volume");
        String status = String.join("\n", lines.subList(5, lines.size()));
        long effective = capabilities(status, "CapEff");
        long bounding = capabilities(status, "CapBnd");
        assertEquals(0, effective & ~capabilities(workloadStatus, "CapEff"), "no capability the workload lacks: " + r);
        assertEquals(0, bounding & ~capabilities(workloadStatus, "CapBnd"), r.toString());
        assertTrue(effective != 0, "root's default capabilities, as the workload has them: " + r);
        assertTrue(status.contains("Seccomp:\t2"), status);
        assertTrue(status.contains("NoNewPrivs:\t1"), status);

        // a command given without "--", and the stdin passed through
        Process cat = cli("exec", "--socket=" + socket, "iso", "/bin/cat").start();
        cat.getOutputStream().write("through stdin\n".getBytes());
        cat.getOutputStream().close();
        assertEquals("through stdin\n", new String(cat.getInputStream().readAllBytes()));
        assertEquals(0, cat.waitFor());

        // a terminal passes through: script(1) gives the CLI a pseudo-terminal as stdin and stdout
        String line = String.join(" ", cli("exec", "--socket", socket.toString(), "iso", "--", "/bin/sh", "-c",
                "test -t 0 && test -t 1 && echo on-a-terminal; exit 5").command().stream()
                .map(w -> "'" + w.replace("'", "'\\''") + "'").toList());
        Process script = new ProcessBuilder("script", "-qec", line, "/dev/null").redirectErrorStream(true).start();
        script.getOutputStream().close();
        String onTerminal = new String(script.getInputStream().readAllBytes());
        assertEquals(5, script.waitFor(), onTerminal);
        assertTrue(onTerminal.contains("on-a-terminal"), onTerminal);

        // SIGTERM to the command's process (the CLI became the exec stage) reaches the command
        Process sleeping = cli("exec", "--socket", socket.toString(), "iso", "--", "/bin/sleep", "60").start();
        daemon.await(() -> sleeping.descendants().findAny().isPresent(), SOON, "the command started");
        Thread.sleep(300);
        sleeping.destroy();
        assertTrue(sleeping.waitFor(10, TimeUnit.SECONDS), "the command ended on SIGTERM");
        assertEquals(128 + 15, sleeping.exitValue());

        Result missing = jgovernor("exec", "--socket", socket.toString(), "iso");
        assertEquals(2, missing.exit(), missing.toString());
        assertTrue(missing.err().contains("missing CMD"), missing.toString());
        Result unknown = jgovernor("exec", "--socket", socket.toString(), "nosuch", "--", "/bin/true");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("no group nosuch"), unknown.toString());
        Result noWorkload = jgovernor("exec", "--socket", socket.toString(), "plain", "--", "/bin/true");
        assertEquals(1, noWorkload.exit(), noWorkload.toString());
        assertTrue(noWorkload.err().contains("group plain has no workload"), noWorkload.toString());
        Result notFound = jgovernor("exec", "--socket", socket.toString(), "iso", "--", "nosuchcommand");
        assertEquals(127, notFound.exit(), notFound.toString());
        assertTrue(notFound.err().contains("nosuchcommand"), notFound.toString());

        Result ls = jgovernor("volume", "ls", "--socket", socket.toString());
        assertEquals(0, ls.exit(), ls.toString());
        assertTrue(ls.out().lines().anyMatch(l -> l.matches("data\\s+18\\s+iso")), ls.toString());
        Result inUse = jgovernor("volume", "rm", "--socket", socket.toString(), "data");
        assertEquals(1, inUse.exit(), inUse.toString());
        assertTrue(inUse.err().contains("in use by the workload of group iso"), inUse.toString());

        Files.delete(policies.resolve("iso.yaml"));
        daemon.await(() -> !ProcessHandle.of(workload).map(ProcessHandle::isAlive).orElse(false), SOON,
                "the workload stopped with its policy");
        daemon.await(() -> {
            try {
                return jgovernor("volume", "ls", "--json", "--socket", socket.toString()).out()
                        .contains("{\"name\":\"data\",\"bytes\":18,\"groups\":[]}");
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, SOON, "the volume kept, used by no group");
        Result rm = jgovernor("volume", "rm", "--socket", socket.toString(), "data");
        assertEquals(0, rm.exit(), rm.toString());
        assertFalse(Files.exists(state.resolve("volumes/data")));
        Result again = jgovernor("volume", "rm", "--socket", socket.toString(), "data");
        assertEquals(1, again.exit(), again.toString());
        assertTrue(again.err().contains("no volume data"), again.toString());
    }
}

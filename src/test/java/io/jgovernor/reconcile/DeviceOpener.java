package io.jgovernor.reconcile;

import io.jgovernor.testing.TestCgroups;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shell that tries to read one byte of each path it is sent and says how it went: a real
 * process whose opens a device cgroup (v1) or device program (v2) allows or denies.
 */
final class DeviceOpener implements AutoCloseable {
    final Process process;
    private final OutputStream in;
    private final BufferedReader out;

    DeviceOpener(TestCgroups cgroups) throws IOException {
        // the byte read goes to a /dev/null opened before the shell joins a group: the checks are
        // made at open, so a group that denies /dev/null itself can be tested too. "ready" says it
        // is open: on a loaded machine a test could otherwise move the shell into a group that
        // denies /dev/null before the shell got to open it.
        process = new ProcessBuilder("sh", "-c", "exec 3>/dev/null; echo ready; while read what; do"
                + " if err=$(head -c1 \"$what\" 2>&1 >&3); then echo \"ok $what\";"
                + " else echo \"denied $what: $err\"; fi; done").redirectErrorStream(true).start();
        cgroups.register(process.toHandle());
        in = process.getOutputStream();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (!"ready".equals(first)) {
            process.destroyForcibly();
            throw new IOException("the opener did not start: " + first);
        }
    }

    /** "ok PATH" or "denied PATH: the error" (read on this platform thread). */
    String open(String path) throws IOException {
        in.write((path + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        String line = out.readLine();
        assertTrue(line != null, "the opener ended");
        return line;
    }

    /**
     * A block device node of this host that a process outside our groups can open: the control
     * that makes a later EPERM the group's doing. (Here /dev/vda is refused to every process by the
     * machine's own sandbox; zram0 or an unbound loop device opens.)
     */
    static String blockDevice(TestCgroups cgroups) throws IOException {
        try (DeviceOpener outside = new DeviceOpener(cgroups); Stream<Path> disks = Files.list(Path.of("/sys/block"))) {
            for (Path disk : disks.sorted().toList()) {
                String node = "/dev/" + disk.getFileName();
                if (Files.exists(Path.of(node)) && outside.open(node).equals("ok " + node)) {
                    return node;
                }
            }
        }
        throw new AssertionError("no block device on this host that root can open outside a group");
    }

    static void assertDenied(String line, String path) {
        assertTrue(line.startsWith("denied " + path + ":") && line.contains("Operation not permitted"),
                "expected EPERM opening " + path + ", got: " + line);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}

package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile corpus (src/test/resources/hostile/) and special files against the packaged
 * daemon: present at its start and dropped in while it runs. The daemon starts, stays up and
 * ready, applies a later edit of a good file in the kernel, and {@code validate} names every
 * hostile file with file:line:col and no stack trace.
 */
class HostileFilesIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);
    static final List<String> CORPUS = List.of("alias-bomb", "binary", "bom", "deep-block-map", "deep-block-seq",
            "deep-flow-map", "deep-flow-seq", "deep-mixed", "empty", "escape-env", "huge-number-hex", "huge-number",
            "huge-string", "invalid-utf8", "many-documents", "nul-command", "nul-raw", "tag-binary", "tag-custom",
            "tag-int", "tag-str", "uidmap-overflow", "user-unknown");

    private final HttpClient http = HttpClient.newHttpClient();
    private int port;

    @Test
    void hostileFilesAtStartAndWhileRunningNeitherStopNorStallTheDaemon() throws Exception {
        for (String name : CORPUS) {
            drop(name, "start-" + name + ".yaml");
        }
        specialFiles();
        Path good = write("good.yaml", "name: good\npids: {max: 10}\n");
        port = freePort();
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "quarkus.http.port=" + port,
                "jgovernor.reconcile.interval=1s");
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        daemon.awaitLog("Listening on", SOON);
        assertEquals("10", pidsMax("good"));
        assertEquals(200, ready(), "ready after the first pass, hostile files beside the good one");
        daemon.awaitLog(policies.resolve("start-deep-flow-seq.yaml") + ":2:77: nesting deeper than 64 levels", SOON);

        // dropped in while it runs
        for (String name : CORPUS) {
            drop(name, "late-" + name + ".yaml");
        }
        daemon.awaitLog(policies.resolve("late-deep-flow-seq.yaml") + ":2:77: nesting deeper than 64 levels", SOON);
        daemon.awaitLog(policies.resolve("late-alias-bomb.yaml") + ":9:25: more than 50 aliases", SOON);
        daemon.awaitLog(policies.resolve("late-tag-int.yaml") + ":2:13: explicit YAML tag \"!!int\"", SOON);

        // a later edit of another file still reaches the kernel
        Files.writeString(good, "name: good\npids: {max: 20}\n");
        daemon.await(() -> pidsMax("good").equals("20"), SOON, "good/pids.max = 20 (is " + pidsMax("good") + ")");
        assertEquals(200, ready());
        assertFalse(daemon.log().contains("StackOverflowError") || daemon.log().contains("at io.jgovernor"),
                "a stack trace in the log");

        // validate: every hostile file named with its place, exit 1, no stack trace
        Process p = new ProcessBuilder(DaemonProcess.command(List.of(), List.of("validate", policies.toString())))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(1, p.waitFor(), out);
        for (String name : CORPUS) {
            for (String prefix : List.of("start-", "late-")) {
                Path f = policies.resolve(prefix + name + ".yaml");
                assertTrue(Pattern.compile(Pattern.quote(f.toString()) + ":\\d+:\\d+: ").matcher(out).find(),
                        f + " not named in:\n" + out);
            }
        }
        assertFalse(out.contains("good.yaml"), out);
        assertFalse(out.contains("Exception") || out.contains("at io.jgovernor"), out);
        assertTrue(out.length() < 40_000, out.length() + " characters of output");
    }

    /** A FIFO, a link to /dev/null and a directory, all named like policy files: not read, no hang. */
    private void specialFiles() throws Exception {
        assertEquals(0, new ProcessBuilder("mkfifo", policies.resolve("fifo.yaml").toString()).start().waitFor());
        Files.createSymbolicLink(policies.resolve("null.yaml"), Path.of("/dev/null"));
        Files.createDirectory(policies.resolve("x.yaml"));
    }

    private void drop(String resource, String name) throws IOException {
        try (InputStream in = HostileFilesIT.class.getResourceAsStream("/hostile/" + resource + ".yaml")) {
            Path tmpFile = policies.resolve("." + name + ".tmp");
            Files.write(tmpFile, in.readAllBytes());
            Files.setPosixFilePermissions(tmpFile, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmpFile, policies.resolve(name));
        }
    }

    private Path write(String name, String content) throws IOException {
        Path f = policies.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    private String pidsMax(String group) {
        try {
            return Files.readString(cgroups.layout().groupDir(cgroups.hierarchy("pids"), new GroupName(group))
                    .resolve("pids.max")).strip();
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private int ready() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

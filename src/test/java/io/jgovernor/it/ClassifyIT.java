package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.Json;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** match: rules in the packaged daemon: adoption at startup and at exec, status and metrics, leaving. */
class ClassifyIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);

    private Path socket;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        socket = tmp.resolve("run/api.sock");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
    }

    private void write(String yaml) throws IOException {
        Path f = policies.resolve("web.yaml");
        Files.writeString(f, yaml);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private boolean in(long pid, String controller, String expected) {
        try {
            return TestCgroups.cgroupOf(pid, controller).orElse("?").equals(expected);
        } catch (IOException e) {
            return false;
        }
    }

    private String groupPath(String controller) {
        var h = cgroups.hierarchy(controller);
        return h.cgroupPath(cgroups.layout().groupDir(h, new GroupName("web")));
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    @Test
    void processesJoinAtStartupAndAtExecShowInStatusAndMetricsAndLeaveWithTheRule() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        String name = "jg" + UUID.randomUUID().toString().substring(0, 8);
        Files.copy(Path.of("/bin/sleep"), bin.resolve(name));
        Files.setPosixFilePermissions(bin.resolve(name), PosixFilePermissions.fromString("rwxr-xr-x"));
        Process before = cgroups.start(bin.resolve(name).toString(), "300");
        String home = TestCgroups.cgroupOf(before.pid(), "pids").orElseThrow();

        write("name: web\nmatch:\n  - comm: " + name + "\ncpu: {shares: 512}\npids: {max: 100}\n");
        List<String> props = new ArrayList<>(List.of("jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + tmp.resolve("state"), "jgovernor.cgroup.root=" + cgroups.root(),
                "quarkus.http.port=" + port, "jgovernor.api.socket=" + socket));
        daemon = DaemonProcess.start(tmp.resolve("daemon.log"), props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        daemon.awaitLog("Listening on", Duration.ofSeconds(30));
        assertTrue(daemon.log().contains("process connector"), daemon.log());

        daemon.await(() -> in(before.pid(), "cpu", groupPath("cpu")) && in(before.pid(), "pids", groupPath("pids")),
                SOON, "the process running before the daemon to join web");
        Process after = cgroups.start(bin.resolve(name).toString(), "300");
        daemon.await(() -> in(after.pid(), "cpu", groupPath("cpu")) && in(after.pid(), "pids", groupPath("pids")),
                SOON, "the process started afterwards to join web");

        String json = run(DaemonProcess.command(List.of("jgovernor.api.socket=" + socket), List.of("status", "--json")));
        Map<?, ?> doc = (Map<?, ?>) Json.parse(json.strip());
        Map<?, ?> web = (Map<?, ?>) ((List<?>) doc.get("groups")).getFirst();
        assertEquals(2L, ((Number) web.get("classified")).longValue(), json);
        assertEquals("connector", ((Map<?, ?>) doc.get("classify")).get("mode"), json);
        assertEquals("SCHED_FIFO 1", ((Map<?, ?>) doc.get("classify")).get("scheduling"), json);
        String table = run(DaemonProcess.command(List.of("jgovernor.api.socket=" + socket), List.of("status")));
        assertTrue(table.contains("match rules (connector, thread SCHED_FIFO 1): 2 processes classified, 0 event losses; web: 2 now"),
                table);

        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(metrics.body().contains("jgovernor_classified_processes_total 2.0"), metrics.body());
        assertTrue(metrics.body().contains("jgovernor_classify_lost_events_total 0.0"), metrics.body());
        assertTrue(metrics.body().contains("jgovernor_classify_mode{mode=\"connector\"} 1.0"), metrics.body());

        write("name: web\ncpu: {shares: 512}\npids: {max: 100}\n");
        daemon.await(() -> in(before.pid(), "pids", home) && in(after.pid(), "pids", home), SOON,
                "both processes to return where they were found once the rule is gone");
    }

    /** nice (field 19) and policy (41) of /proc/PID/task/TID/stat, and what ionice -p TID says. */
    private static String knobs(long pid, String tid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return "nice " + f[16] + " policy " + f[38] + " " + run(List.of("ionice", "-p", tid)).strip();
        } catch (IOException | InterruptedException | AssertionError e) {
            return "gone";
        }
    }

    private static Map<String, String> threadKnobs(long pid) throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                out.put(t.getFileName().toString(), knobs(pid, t.getFileName().toString()));
            }
        }
        return out;
    }

    private static String oomScoreAdj(long pid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/oom_score_adj")).strip();
    }

    @Test
    void aMultiThreadedPythonGetsTheProcessKnobsOnEveryThreadAndItsOwnBackWhenTheRuleGoes() throws Exception {
        String token = "jgknobs-" + UUID.randomUUID().toString().substring(0, 8);
        // four threads that wait; each line on stdin starts one more; nice 2 to begin with
        String script = "import sys, threading\n"
                + "e = threading.Event()\n"
                + "for i in range(4): threading.Thread(target=e.wait, daemon=True).start()\n"
                + "print('ready', flush=True)\n"
                + "for line in sys.stdin:\n"
                + "    threading.Thread(target=e.wait, daemon=True).start()\n"
                + "    print('made', flush=True)\n";
        Process py = new ProcessBuilder("nice", "-n", "2", "/usr/bin/python3", "-c", script, token)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        cgroups.register(py.toHandle());
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", out.readLine());
        Map<String, String> before = threadKnobs(py.pid());
        assertEquals(5, before.size(), before.toString());
        before.values().forEach(v -> assertEquals("nice 2 policy 0 none: prio 0", v, before.toString()));
        String oomBefore = oomScoreAdj(py.pid());

        write("name: web\nmatch:\n  - cmdline: '" + token + "'\npids: {max: 100}\n"
                + "process: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}\n");
        daemon = DaemonProcess.start(tmp.resolve("daemon.log"), "jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + tmp.resolve("state"), "jgovernor.cgroup.root=" + cgroups.root(),
                "quarkus.http.port=" + port, "jgovernor.api.socket=" + socket);
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        daemon.awaitLog("Listening on", Duration.ofSeconds(30));
        daemon.await(() -> in(py.pid(), "pids", groupPath("pids")), SOON, "python to join web");
        daemon.await(() -> {
            try {
                return threadKnobs(py.pid()).values().stream().allMatch("nice 10 policy 3 idle"::equals);
            } catch (IOException e) {
                return false;
            }
        }, SOON, "every thread to have the knobs");
        assertEquals("500", oomScoreAdj(py.pid()));

        py.getOutputStream().write("t\n".getBytes(StandardCharsets.US_ASCII));
        py.getOutputStream().flush();
        assertEquals("made", out.readLine());
        Map<String, String> six = threadKnobs(py.pid());
        assertEquals(6, six.size(), six.toString());
        six.forEach((tid, v) -> assertEquals("nice 10 policy 3 idle", v, "thread " + tid + " of " + six));

        write("name: web\npids: {max: 100}\nprocess: {nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}\n");
        daemon.await(() -> {
            try {
                return threadKnobs(py.pid()).values().stream().allMatch("nice 2 policy 0 none: prio 0"::equals)
                        && oomScoreAdj(py.pid()).equals(oomBefore);
            } catch (IOException e) {
                return false;
            }
        }, SOON, "every thread, the one made later too, to have its earlier values back once the rule is gone");
    }
}

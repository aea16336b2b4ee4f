package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.Json;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestHost;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged daemon's HTTP port and control socket as operators and Prometheus use them:
 * health, a scrape of 50 groups checked by promtool, a real Prometheus server scraping it,
 * {@code jgovernor status}, and the control API absent from the TCP port.
 */
class MetricsIT {
    @TempDir
    Path tmp;
    private Path policies;
    private Path socket;
    private int port;
    private TestCgroups cgroups;
    private DaemonProcess daemon;
    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void setUp() throws IOException {
        cgroups = TestCgroups.create();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        policies = tmp.resolve("policies.d");
        socket = tmp.resolve("run/api.sock");
        port = freePort();
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (Process p : started) {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (daemon != null) {
                daemon.close();
            }
        } finally {
            cgroups.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void start(String... extra) throws IOException {
        List<String> props = new ArrayList<>(List.of("jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + tmp.resolve("state"), "jgovernor.cgroup.root=" + cgroups.root(),
                "quarkus.http.port=" + port, "jgovernor.api.socket=" + socket, "jgovernor.reconcile.interval=1s"));
        props.addAll(List.of(extra));
        daemon = DaemonProcess.start(tmp.resolve("daemon.log"), props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        // Quarkus opens the HTTP port once startup (the first pass included) is done
        daemon.awaitLog("Listening on", Duration.ofSeconds(30));
    }

    private void writePolicy(String name, String yaml) throws IOException {
        Files.createDirectories(policies);
        Files.setPosixFilePermissions(policies, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path f = policies.resolve(name);
        Files.writeString(f, yaml);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private HttpResponse<String> get(String path, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (accept != null) {
            r.header("Accept", accept);
        }
        try {
            return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new AssertionError("cannot connect to the daemon's port " + port + "; log:\n"
                    + (daemon == null ? "" : daemon.log()), e);
        }
    }

    private static String run(Path stdin, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private String fiftyGroups() {
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            yaml.append(i == 0 ? "" : "---\n").append("name: g").append(i).append("\n");
            yaml.append(switch (i % 4) {
                case 0 -> "cpu:\n  quota: 50%\nmemory:\n  limit: 64Mi\n";
                case 1 -> "memory:\n  limit: 128Mi\npids:\n  max: 100\n";
                // a host without an I/O scheduler that reads weights refuses io.weight
                case 2 -> TestHost.weightsIo() ? "io:\n  weight: 300\n" : "pids:\n  max: 300\n";
                default -> "cpu:\n  shares: 512\n";
            });
        }
        yaml.append("---\nname: spin\ncpu:\n  quota: 30%\n");
        return yaml.toString();
    }

    @Test
    void fiftyGroupsScrapeCleanlyInBothFormatsAndPrometheusComputesACpuRate() throws Exception {
        writePolicy("fifty.yaml", fiftyGroups());
        start();
        Process spin = new ProcessBuilder("sh", "-c", "read go; while :; do :; done").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        cgroups.register(spin.toHandle());
        for (var h : cgroups.hierarchies()) {
            Path dir = cgroups.layout().groupDir(h, new GroupName("spin"));
            if (Files.isDirectory(dir)) {
                cgroups.files().moveProcess(dir, (int) spin.pid());
            }
        }
        try (OutputStream in = spin.getOutputStream()) {
            in.write('\n');
        }

        HttpResponse<String> text = get("/metrics", null);
        assertEquals(200, text.statusCode());
        assertTrue(text.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        String body = text.body();
        for (int i = 0; i < 50; i++) {
            assertTrue(body.contains("jgovernor_group_cpu_usage_seconds_total{group=\"g" + i + "\"}"), "g" + i);
        }
        assertTrue(body.contains("jgovernor_group_memory_limit_bytes{group=\"g1\"} 1.34217728E8"), body);
        assertTrue(body.contains("jgovernor_policies{state=\"valid\"} 1.0"), body);
        assertTrue(body.contains("jgovernor_reconcile_duration_seconds_count "), body);
        assertTrue(body.contains("jvm_memory_used_bytes{area=\"heap\"}"), body);
        assertTrue(body.contains("process_resident_memory_bytes "), body);
        Path scrape = tmp.resolve("scrape.txt");
        Files.writeString(scrape, body);
        String lint = run(scrape, promtool(), "check", "metrics");
        assertEquals("", lint.strip(), "promtool check metrics");

        HttpResponse<String> om = get("/metrics", "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5");
        assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
        assertTrue(om.body().endsWith("# EOF\n"));

        // A real Prometheus on loopback scrapes the daemon; PromQL gives the spinning group's CPU rate.
        int promPort = freePort();
        Path config = tmp.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: jgovernor
                    static_configs:
                      - targets: ["127.0.0.1:%d"]
                """.formatted(port));
        Process prometheus = new ProcessBuilder(prometheusBinary(), "--config.file=" + config,
                "--storage.tsdb.path=" + tmp.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + promPort)
                .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();
        started.add(prometheus);
        String query = URLEncoder.encode("rate(jgovernor_group_cpu_usage_seconds_total{group=\"spin\"}[10s])",
                StandardCharsets.UTF_8);
        URI uri = URI.create("http://127.0.0.1:" + promPort + "/api/v1/query?query=" + query);
        daemon.await(() -> {
            try {
                String answer = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
                Object result = ((Map<?, ?>) ((Map<?, ?>) Json.parse(answer)).get("data")).get("result");
                if (result instanceof List<?> l && !l.isEmpty()) {
                    Object value = ((List<?>) ((Map<?, ?>) l.getFirst()).get("value")).get(1);
                    return Double.parseDouble(value.toString()) > 0;
                }
                return false;
            } catch (IOException | RuntimeException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }, Duration.ofSeconds(60), "a positive CPU rate for group spin from Prometheus");
    }

    @Test
    void readyOnlyOnceThePolicyDirectoryCanBeReadAndAPassRan() throws Exception {
        // the policy directory does not exist yet: alive, not ready
        start();
        HttpResponse<String> live = get("/q/health/live", null);
        assertEquals(200, live.statusCode());
        assertTrue(live.body().contains("\"status\":\"UP\""), live.body());
        HttpResponse<String> ready = get("/q/health/ready", null);
        assertEquals(503, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"status\":\"DOWN\""), ready.body());
        assertTrue(ready.body().contains("policies.d"), ready.body());

        writePolicy("web.yaml", "name: web\ncpu:\n  shares: 512\n");
        daemon.await(() -> {
            try {
                return get("/q/health/ready", null).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }, Duration.ofSeconds(30), "ready after the policy directory appeared");
    }

    @Test
    void statusTableAndJsonFromTheRunningDaemonAndNoApiOnTheTcpPort() throws Exception {
        writePolicy("web.yaml", "name: web\nmemory:\n  limit: 256Mi\ncpu:\n  quota: 50%\n");
        writePolicy("bad.yaml", "name: bad\nmemroy: {}\n");
        start();
        String table = run(null, DaemonProcess.command(List.of("jgovernor.api.socket=" + socket), List.of("status"))
                .toArray(String[]::new));
        assertTrue(table.matches("(?s)jgovernor ready \\(pid \\d+\\): 2 policy files \\(1 invalid\\).*"), table);
        // GROUP STATE PROCS CPU MEMORY OOM WORKLOAD LAST-ERROR
        assertTrue(table.lines().anyMatch(l -> l.matches("web\\s+applied\\s+0\\s+0\\.00\\s+\\S+ / 256Mi\\s+0\\s+-\\s+-")), table);
        assertTrue(table.contains("rejected: ") && table.contains("bad.yaml:2:1"), table);

        String json = run(null, DaemonProcess.command(List.of("jgovernor.api.socket=" + socket), List.of("status", "--json"))
                .toArray(String[]::new));
        Map<?, ?> doc = (Map<?, ?>) Json.parse(json.strip());
        assertEquals(true, doc.get("ready"));
        Map<?, ?> web = (Map<?, ?>) ((List<?>) doc.get("groups")).getFirst();
        assertEquals("web", web.get("name"));
        assertEquals(268435456L, ((Number) web.get("memoryLimitBytes")).longValue());

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
        assertEquals(404, get("/v1/status", null).statusCode(), "the control API must not answer on the TCP port");
    }

    @Test
    void statusSaysClearlyWhenTheDaemonIsNotRunning() throws Exception {
        Process p = new ProcessBuilder(DaemonProcess.command(List.of("jgovernor.api.socket=" + tmp.resolve("none.sock")),
                List.of("status"))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor());
        assertTrue(out.contains("the daemon is not running"), out);
    }

    @Test
    void withoutASocketDirectoryTheDaemonRunsWithoutTheApi() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "");
        writePolicy("web.yaml", "name: web\ncpu:\n  shares: 512\n");
        List<String> props = new ArrayList<>(List.of("jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + tmp.resolve("state"), "jgovernor.cgroup.root=" + cgroups.root(),
                "quarkus.http.port=" + port, "jgovernor.api.socket=" + file.resolve("api.sock")));
        daemon = DaemonProcess.start(tmp.resolve("daemon.log"), props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        daemon.awaitLog("Listening on", Duration.ofSeconds(30));
        assertTrue(daemon.log().contains("control API disabled"), daemon.log());
        assertEquals(200, get("/q/health/ready", null).statusCode());
    }

    private static String promtool() {
        return tool("promtool");
    }

    private static String prometheusBinary() {
        return tool("prometheus");
    }

    private static String tool(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        fail(name + " is not installed: bin/setup installs Debian's prometheus package");
        return name;
    }
}

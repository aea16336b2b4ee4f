package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.NotifySocket;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's path, with the packaged daemon as a real process: policy files dropped, edited,
 * broken and deleted in a watched directory while the kernel's files are checked.
 */
class DaemonIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(10);

    private DaemonProcess start(String... extra) throws IOException {
        return start(java.util.Map.of(), extra);
    }

    private DaemonProcess start(java.util.Map<String, String> env, String... extra) throws IOException {
        List<String> props = new java.util.ArrayList<>(List.of(
                "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root()));
        props.addAll(List.of(extra));
        daemon = DaemonProcess.start(log, env, props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        return daemon;
    }

    private Path write(String name, String content) throws IOException {
        Path f = policies.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    private Path dir(String controller, String group) {
        return cgroups.layout().groupDir(cgroups.hierarchy(controller), new GroupName(group));
    }

    private String read(String controller, String group, String file) {
        try {
            return Files.readString(dir(controller, group).resolve(file)).strip();
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private void awaitValue(String controller, String group, String file, String value) throws IOException {
        daemon.await(() -> read(controller, group, file).equals(value), SOON,
                group + "/" + file + " = " + value + " (is " + read(controller, group, file) + ")");
    }

    @Test
    void policiesAreAppliedEditedRejectedAndRemovedWhileTheDaemonRuns() throws Exception {
        write("web.yaml", "name: web\ncpu: {shares: 512, quota: 50%}\nmemory: {limit: 256Mi}\npids: {max: 128}\n");
        start("jgovernor.reconcile.interval=1s");
        assertEquals("512", read("cpu", "web", "cpu.shares"));
        assertEquals("50000", read("cpu", "web", "cpu.cfs_quota_us"));
        assertEquals("268435456", read("memory", "web", "memory.limit_in_bytes"));

        // a new file
        write("db.yaml", "name: db\npids: {max: 64}\n");
        awaitValue("pids", "db", "pids.max", "64");

        // edited in place, as `cat > file` does
        write("web.yaml", "name: web\ncpu: {shares: 512, quota: 50%}\nmemory: {limit: 128Mi}\npids: {max: 128}\n");
        awaitValue("memory", "web", "memory.limit_in_bytes", "134217728");

        // replaced by rename, as editors and config management do
        Path tmpFile = write(".web.yaml.tmp", "name: web\ncpu: {shares: 1024}\nmemory: {limit: 64Mi}\n");
        Files.move(tmpFile, policies.resolve("web.yaml"), StandardCopyOption.ATOMIC_MOVE);
        awaitValue("memory", "web", "memory.limit_in_bytes", "67108864");
        awaitValue("cpu", "web", "cpu.cfs_quota_us", "-1"); // quota left out: back to the default
        daemon.await(() -> !Files.exists(dir("pids", "web")), SOON, "web to leave the pids hierarchy");

        // a typo changes nothing, and says where it is
        write("web.yaml", "name: web\ncpu: {shares: 1024}\nmemroy: {limit: 32Mi}\n");
        daemon.awaitLog(policies.resolve("web.yaml") + ":3:1: unknown key \"memroy\" (did you mean \"memory\"?)", SOON);
        assertEquals("67108864", read("memory", "web", "memory.limit_in_bytes"));

        // a value changed by hand is put back by the periodic pass
        Files.writeString(dir("cpu", "web").resolve("cpu.shares"), "4096");
        awaitValue("cpu", "web", "cpu.shares", "1024");
        daemon.awaitLog("drift repaired: web: cpu.shares 4096 -> 1024", SOON);

        // deleting a file removes its group; its processes go to the parent
        Process sleeper = cgroups.start("sleep", "60");
        cgroups.files().moveProcess(dir("pids", "db"), (int) sleeper.pid());
        Files.delete(policies.resolve("db.yaml"));
        daemon.await(() -> !Files.exists(dir("pids", "db")), SOON, "db to be removed");
        String where = TestCgroups.cgroupOf(sleeper.pid(), "pids").orElseThrow();
        assertTrue(where.endsWith("/" + cgroups.root()), "sleeper is in " + where);
        assertTrue(sleeper.isAlive());

        // SIGTERM stops the daemon and leaves the cgroups in place
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON));
        assertTrue(daemon.log().contains("cgroups left in place"));
        assertEquals("67108864", read("memory", "web", "memory.limit_in_bytes"));
    }

    @Test
    void systemdHearsReadyAfterTheFirstPassReloadingAroundSighupAndWatchdogPings() throws Throwable {
        write("web.yaml", "name: web\npids: {max: 10}\n");
        try (NotifySocket notify = new NotifySocket(tmp.resolve("notify.sock"))) {
            start(java.util.Map.of("NOTIFY_SOCKET", notify.path().toString(), "WATCHDOG_USEC", "400000"));
            String ready = notify.await("READY=1", SOON).orElseThrow(() -> new AssertionError("no READY=1"));
            // READY comes after the first pass: the group is already there
            assertEquals("10", read("pids", "web", "pids.max"));
            assertTrue(ready.contains("STATUS=1 groups from " + policies), ready);
            assertTrue(notify.await("WATCHDOG=1", SOON).isPresent(), "no watchdog ping");
            assertTrue(notify.await("WATCHDOG=1", SOON).isPresent(), "only one watchdog ping");

            write("web.yaml", "name: web\npids: {max: 10}\n---\nname: db\n");
            daemon.signal("HUP");
            String reloading = notify.await("RELOADING=1", SOON).orElseThrow(() -> new AssertionError("no RELOADING=1"));
            assertTrue(reloading.contains("MONOTONIC_USEC="), reloading);
            String readyAgain = notify.await("READY=1", SOON).orElseThrow(() -> new AssertionError("no READY=1 after the reload"));
            assertTrue(readyAgain.contains("STATUS=2 groups"), readyAgain);

            daemon.signal("TERM");
            assertEquals(0, daemon.awaitExit(SOON));
            assertTrue(notify.await("STOPPING=1", SOON).isPresent(), "no STOPPING=1");
        }
    }

    /**
     * A reconcile pass stuck past its bound (the test hook blocks one pass for 4 s; the bound is
     * 500 ms): live health is DOWN naming the loop, no WATCHDOG=1 comes meanwhile, and once the
     * pass ends live is UP, the pings come again and the edit is applied.
     */
    @Test
    void aStuckReconcilePassTurnsLiveDownAndStopsTheWatchdogUntilItEnds() throws Throwable {
        write("web.yaml", "name: web\npids: {max: 10}\n");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI live = java.net.URI.create("http://127.0.0.1:" + port + "/q/health/live");
        java.util.function.Supplier<java.net.http.HttpResponse<String>> get = () -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(live).timeout(Duration.ofSeconds(5)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        try (NotifySocket notify = new NotifySocket(tmp.resolve("notify.sock"))) {
            start(java.util.Map.of("NOTIFY_SOCKET", notify.path().toString(), "WATCHDOG_USEC", "400000"),
                    "quarkus.http.port=" + port, "test.jgovernor.stall-reconcile-ms=4000",
                    "test.jgovernor.reconcile-bound-ms=500");
            assertTrue(notify.await("READY=1", SOON).isPresent(), "no READY=1");
            assertTrue(notify.await("WATCHDOG=1", SOON).isPresent(), "no watchdog ping before the stall");
            // READY=1 comes from startup, the HTTP port opens after it: wait for the port
            daemon.await(() -> {
                try {
                    return get.get().statusCode() == 200;
                } catch (java.io.UncheckedIOException notYetListening) {
                    return false;
                }
            }, SOON, "live UP before the stall");

            write("web.yaml", "name: web\npids: {max: 20}\n");
            daemon.await(() -> get.get().statusCode() == 503, SOON, "live DOWN while the pass is stuck");
            int before = notify.received().size(); // what came before the loop counted as stuck (received() keeps it)
            String body = get.get().body();
            assertTrue(body.contains("\"status\":\"DOWN\"") && body.contains("\"reconcile\":\"stuck: "), body);
            Thread.sleep(1500); // more than three watchdog intervals (200 ms)
            List<String> all = notify.received();
            List<String> meanwhile = all.subList(before, all.size());
            assertEquals(503, get.get().statusCode(), "still stuck after the window");
            assertTrue(meanwhile.stream().noneMatch(m -> m.contains("WATCHDOG=1")), meanwhile.toString());
            assertEquals("10", read("pids", "web", "pids.max"));

            daemon.await(() -> get.get().statusCode() == 200, SOON, "live UP once the pass ends");
            assertTrue(notify.await("WATCHDOG=1", SOON).isPresent(), "the watchdog pings again");
            awaitValue("pids", "web", "pids.max", "20"); // applied by the pass that was stuck
            assertTrue(daemon.log().contains("not feeding the systemd watchdog"), daemon.log());
            daemon.signal("TERM");
            assertEquals(0, daemon.awaitExit(SOON));
        }
    }

    @Test
    void aBurstOfWritesToOneFileIsAppliedOnce() throws Exception {
        write("web.yaml", "name: web\npids: {max: 1}\n");
        start("jgovernor.reconcile.quiet=300ms");
        String before = daemon.log();
        for (int i = 2; i <= 21; i++) {
            write("web.yaml", "name: web\npids: {max: " + i + "}\n");
        }
        awaitValue("pids", "web", "pids.max", "21");
        Thread.sleep(600); // anything still queued would run now
        String burst = daemon.log().substring(before.length());
        long passes = burst.lines().filter(l -> l.contains("partial pass")).count();
        assertEquals(1, passes, burst);
    }

    @Test
    void afterACrashAFileBrokenMeanwhileKeepsItsLastGoodVersion() throws Exception {
        Path web = write("web.yaml", "name: web\nmemory: {limit: 64Mi}\npids: {max: 10}\n");
        start();
        daemon.signal("KILL");
        daemon.awaitExit(SOON);
        write("web.yaml", "name: web\nmemory: {limit: lots}\npids: {max: 10}\n");
        start();
        daemon.awaitLog(web + ":2:17: memory.limit: \"lots\" is not a size", SOON);
        assertEquals("67108864", read("memory", "web", "memory.limit_in_bytes"));
        assertEquals("10", read("pids", "web", "pids.max"));
        // fixed, it applies
        write("web.yaml", "name: web\nmemory: {limit: 32Mi}\npids: {max: 10}\n");
        awaitValue("memory", "web", "memory.limit_in_bytes", "33554432");
    }

    @Test
    void aFileWritableByOthersIsRefusedAndTheOldVersionStays() throws Exception {
        Path web = write("web.yaml", "name: web\npids: {max: 10}\n");
        start();
        Files.writeString(web, "name: web\npids: {max: 99}\n");
        Files.setPosixFilePermissions(web, PosixFilePermissions.fromString("rw-rw-rw-"));
        daemon.awaitLog("policy rejected: " + web, SOON);
        assertEquals("10", read("pids", "web", "pids.max"));
        // chmod is an IN_ATTRIB event: fixing the mode applies the file
        Files.setPosixFilePermissions(web, PosixFilePermissions.fromString("rw-r--r--"));
        awaitValue("pids", "web", "pids.max", "99");
    }

    @Test
    void validateExitsZeroOnValidPoliciesAndOneWithLocatedErrors() throws Exception {
        write("web.yaml", "name: web\ncpu: {quota: 50%}\n");
        assertEquals(0, validate(policies.toString()).exit());
        Path bad = write("bad.yaml", "name: api\ncpu:\n  quota: 150\n");
        Path dup = write("zz-dup.yaml", "name: web\n"); // read after web.yaml: the later file is the one rejected
        Result r = validate(policies.toString());
        assertEquals(1, r.exit());
        assertTrue(r.output().contains(bad + ":3:10: cpu.quota: \"150\" is not a percentage; write it like \"150%\""), r.output());
        assertTrue(r.output().contains(dup + ":1:7: group \"web\" is already defined in " + policies.resolve("web.yaml")),
                r.output());
        assertEquals(0, validate(policies.resolve("web.yaml").toString()).exit());
        assertEquals(1, validate(tmp.resolve("missing.yaml").toString()).exit());
        assertFalse(Files.exists(cgroups.layout().rootDir(cgroups.hierarchy("cpu")).resolve("web")));
    }

    record Result(int exit, String output) {
    }

    private static Result validate(String... args) throws Exception {
        Process p = new ProcessBuilder(DaemonProcess.command(List.of(), java.util.stream.Stream.concat(
                java.util.stream.Stream.of("validate"), java.util.Arrays.stream(args)).toList()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        return new Result(p.waitFor(), out);
    }
}

package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged daemon, a real OOM, a receiver that is down while the daemon is SIGKILLed. */
class OomWebhookIT {
    private static final Duration SOON = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    private TestCgroups cgroups;
    private DaemonProcess daemon;

    @BeforeEach
    void setUp() throws IOException {
        cgroups = TestCgroups.create();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (daemon != null) {
                daemon.close();
            }
        } finally {
            cgroups.close();
        }
    }

    private DaemonProcess start(Path policies, Path state, Path log, String url, Path secret) throws IOException {
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.webhook.urls=" + url,
                "jgovernor.webhook.secret-file=" + secret,
                "jgovernor.webhook.backoff-initial=50ms", "jgovernor.webhook.backoff-max=500ms");
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        return daemon;
    }

    private Set<String> spooledIds(Path spool) throws IOException {
        Set<String> ids = new HashSet<>();
        try (Stream<Path> files = Files.list(spool)) {
            // only committed events: ".tmp-..." is a write in progress, which a SIGKILL may cut
            // before its rename, and an event never renamed into place was never promised
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".event") && !n.startsWith("."))
                    .forEach(n -> ids.add(n.substring(17, 17 + 36)));
        }
        return ids;
    }

    private void oom(Path dir) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "read go; head -c 268435456 /dev/zero | tail")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        cgroups.register(p.toHandle());
        cgroups.files().moveProcess(dir, (int) p.pid());
        OutputStream in = p.getOutputStream();
        in.write('\n');
        in.flush();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped");
    }

    private static long kernelKills(Path dir) throws IOException {
        return Long.parseLong(Files.readString(dir.resolve("memory.oom_control")).lines()
                .filter(l -> l.startsWith("oom_kill ")).findFirst().orElseThrow().split(" ")[1]);
    }

    @Test
    void killsWhileTheDaemonIsDownAreSentAtItsNextStartOnce() throws Exception {
        Path policies = Files.createDirectories(tmp.resolve("policies.d"));
        Files.setPosixFilePermissions(policies, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path policy = policies.resolve("hog.yaml");
        Files.writeString(policy, "name: hog\nmemory: {limit: 32Mi, swapLimit: 32Mi}\n");
        Files.setPosixFilePermissions(policy, PosixFilePermissions.fromString("rw-r--r--"));
        Path secret = tmp.resolve("secret");
        Files.writeString(secret, "it-key\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path state = tmp.resolve("state");
        Path log = tmp.resolve("daemon.log");
        try (TestReceiver receiver = TestReceiver.start()) {
            String url = receiver.url("/oom").toString();
            start(policies, state, log, url, secret);
            Path dir = cgroups.layout().groupDir(cgroups.hierarchy("memory"), new GroupName("hog"));
            daemon.await(() -> Files.exists(state.resolve("oom-kills")), SOON, "the kill count to be kept");
            daemon.signal("KILL"); // a crash: nothing watches the group now
            daemon.awaitExit(SOON);
            for (int i = 0; i < 3; i++) {
                oom(dir);
            }
            long kernel = kernelKills(dir);
            assertTrue(kernel >= 3, "the kernel counted " + kernel);
            assertEquals(0, receiver.all().size());

            start(policies, state, log, url, secret);
            TestReceiver.Request r = receiver.take(SOON);
            assertTrue(r.text().contains("\"oomKills\":" + kernel + ","), r.text());
            assertTrue(r.text().contains("\"whileDown\":true"), r.text());
            daemon.awaitLog("OOM kills while the daemon was down in group hog: " + kernel, SOON);
            daemon.signal("TERM");
            daemon.awaitExit(SOON);

            start(policies, state, log, url, secret);
            Thread.sleep(1500); // a second catch-up would have arrived by now
            assertEquals(1, receiver.all().size(), "sent once, not at every start");
            System.out.println("kills while down: " + kernel + "; events: " + receiver.all().size() + " carrying "
                    + kernel + " kills");
        }
    }

    @Test
    void eventsUndeliveredWhenTheDaemonIsKilledArriveAfterTheRestartWithTheirOriginalIds() throws Exception {
        Path policies = Files.createDirectories(tmp.resolve("policies.d"));
        Files.setPosixFilePermissions(policies, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path policy = policies.resolve("hog.yaml");
        Files.writeString(policy, "name: hog\nmemory: {limit: 32Mi, swapLimit: 32Mi}\n");
        Files.setPosixFilePermissions(policy, PosixFilePermissions.fromString("rw-r--r--"));
        Path secret = tmp.resolve("secret");
        Files.writeString(secret, "it-key\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path state = tmp.resolve("state");
        Path log = tmp.resolve("daemon.log");
        int port = TestReceiver.freePort(); // nothing listens there yet: the receiver is down
        String url = "http://127.0.0.1:" + port + "/oom";

        start(policies, state, log, url, secret);
        Path dir = cgroups.layout().groupDir(cgroups.hierarchy("memory"), new GroupName("hog"));
        for (int i = 0; i < 2; i++) {
            Process p = new ProcessBuilder("sh", "-c", "read go; head -c 268435456 /dev/zero | tail")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            cgroups.register(p.toHandle());
            cgroups.files().moveProcess(dir, (int) p.pid());
            OutputStream in = p.getOutputStream();
            in.write('\n');
            in.flush();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped");
        }
        // two kills; the kernel's notifications may coalesce into one eventfd read (one event, 2 killed)
        daemon.awaitLog("OOM in group hog", SOON);
        daemon.awaitLog("webhook " + url + " failed", SOON);
        Path spool = state.resolve("spool");

        daemon.signal("KILL");
        daemon.awaitExit(SOON);
        // read once the daemon is dead: exactly the events it had committed when it died
        Set<String> before = spooledIds(spool);
        assertFalse(before.isEmpty(), "spooled: " + before);
        try (TestReceiver receiver = TestReceiver.start(port, n -> 200)) {
            start(policies, state, log, url, secret);
            daemon.await(() -> receiver.all().size() >= before.size(), SOON, before.size() + " deliveries");
            daemon.await(() -> {
                try {
                    return spooledIds(spool).isEmpty();
                } catch (IOException e) {
                    return false;
                }
            }, SOON, "the spool to empty");
            Set<String> received = new HashSet<>();
            Set<String> whileDown = new HashSet<>();
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec("it-key".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            for (TestReceiver.Request r : receiver.all()) {
                String id = r.text().split("\"id\":\"")[1].substring(0, 36);
                received.add(id);
                if (r.text().contains("\"whileDown\":true")) {
                    whileDown.add(id);
                }
                assertEquals("sha256=" + HexFormat.of().formatHex(mac.doFinal(r.body())), r.header("X-Jgovernor-Signature"));
                assertTrue(r.text().contains("\"group\":\"hog\""), r.text());
            }
            assertTrue(received.containsAll(before), "the events the killed daemon had spooled, with their ids: "
                    + before + ", received " + received);
            // Events are sent while they are made durable: the kill may come before the last ones
            // (and their kill counts) were written. Their kills come again, as kills while down.
            Set<String> extra = new HashSet<>(received);
            extra.removeAll(before);
            assertTrue(whileDown.containsAll(extra), "every event beyond the spooled ones reports kills while down: "
                    + extra + ", while down " + whileDown);
            assertTrue(daemon.log().contains("undelivered events from before, sending again"));
            assertFalse(Files.exists(spool.resolve("corrupt")));
        }
    }
}

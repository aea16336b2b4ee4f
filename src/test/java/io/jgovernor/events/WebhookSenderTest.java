package io.jgovernor.events;

import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delivery against a real HTTP server on loopback (no kernel needed). */
class WebhookSenderTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200));

    @TempDir
    Path tmp;

    private void awaitEmpty(Spool spool) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (spool.size() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(0, spool.size(), "the spool should be empty once every receiver acknowledged");
    }

    @Test
    void aReceiverAnswering500IsRetriedWithTheSameIdUntilItAnswers200() throws Exception {
        DeliveryStats stats = new DeliveryStats();
        Spool spool = new Spool(tmp, 10, stats);
        spool.load();
        Signer signer = new Signer("k3y".getBytes(StandardCharsets.UTF_8));
        try (TestReceiver r = TestReceiver.start(0, n -> n < 2 ? 500 : 200);
             WebhookSender sender = new WebhookSender(spool, Optional.of(signer), FAST, Duration.ofSeconds(5), stats)) {
            OomEvent e = SpoolTest.event("web");
            sender.submit(spool.add(e, List.of(r.url("/hook"))));
            TestReceiver.Request first = r.take(WAIT);
            TestReceiver.Request second = r.take(WAIT);
            TestReceiver.Request third = r.take(WAIT);
            assertEquals(List.of(500, 500, 200), List.of(first.answered(), second.answered(), third.answered()));
            for (TestReceiver.Request q : List.of(first, second, third)) {
                assertEquals("POST", q.method());
                assertEquals("/hook", q.path());
                assertEquals("application/cloudevents+json", q.header("Content-Type"));
                assertEquals(e.toCloudEvent(), q.text(), "the same document, the same id, on every attempt");
                assertEquals(signer.sign(q.body()), q.header("X-Jgovernor-Signature"));
            }
            awaitEmpty(spool);
            assertEquals(1, stats.success());
            assertEquals(2, stats.failure());
            assertEquals(null, r.poll(Duration.ofMillis(300)), "nothing more after the 200");
        }
    }

    @Test
    void aReceiverThatIsDownGetsTheEventOnceItIsUp() throws Exception {
        DeliveryStats stats = new DeliveryStats();
        Spool spool = new Spool(tmp, 10, stats);
        spool.load();
        int port = TestReceiver.freePort();
        URI url = URI.create("http://127.0.0.1:" + port + "/oom");
        try (WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(5), stats)) {
            OomEvent e = SpoolTest.event("web");
            sender.submit(spool.add(e, List.of(url)));
            long end = System.nanoTime() + WAIT.toNanos();
            while (stats.failure() < 3 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertTrue(stats.failure() >= 3, "connection refused should count as failures: " + stats.failure());
            assertEquals(1, spool.size());
            try (TestReceiver r = TestReceiver.start(port, n -> 200)) {
                assertEquals(e.id().toString(), r.take(WAIT).text().split("\"id\":\"")[1].substring(0, 36));
                awaitEmpty(spool);
            }
        }
    }

    @Test
    void eachReceiverIsAcknowledgedOnItsOwn() throws Exception {
        DeliveryStats stats = new DeliveryStats();
        Spool spool = new Spool(tmp, 10, stats);
        spool.load();
        try (TestReceiver ok = TestReceiver.start();
             TestReceiver flaky = TestReceiver.start(0, n -> n == 0 ? 503 : 204);
             WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(5), stats)) {
            sender.submit(spool.add(SpoolTest.event("web"), List.of(ok.url("/"), flaky.url("/"))));
            ok.take(WAIT);
            flaky.take(WAIT);
            flaky.take(WAIT);
            awaitEmpty(spool);
            assertEquals(1, ok.all().size(), "the receiver that acknowledged is not sent the event again");
        }
    }

    @Test
    void anHttpsReceiverThatIsDownIsRetriedThroughTheTlsClient() throws Exception {
        DeliveryStats stats = new DeliveryStats();
        Spool spool = new Spool(tmp, 10, stats);
        spool.load();
        URI url = URI.create("https://127.0.0.1:" + TestReceiver.freePort() + "/oom");
        try (WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(5), stats)) {
            sender.expect(List.of(url));
            sender.submit(spool.add(SpoolTest.event("web"), List.of(url)));
            long end = System.nanoTime() + WAIT.toNanos();
            while (stats.failure() < 2 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertTrue(stats.failure() >= 2, "refused https connections count as failures: " + stats.failure());
            assertEquals(1, spool.size(), "and the event stays owed");
        }
    }

    @Test
    void aHungReceiverDoesNotDelayTheNextOne() throws Exception {
        DeliveryStats stats = new DeliveryStats();
        Spool spool = new Spool(tmp, 10, stats);
        spool.load();
        // accepts connections (the backlog) and never answers
        try (java.net.ServerSocket hung = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             TestReceiver ok = TestReceiver.start();
             WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(30), stats)) {
            URI stuck = URI.create("http://127.0.0.1:" + hung.getLocalPort() + "/");
            for (int i = 0; i < 20; i++) {
                sender.submit(spool.add(SpoolTest.event("hung" + i), List.of(stuck)));
            }
            long t0 = System.nanoTime();
            sender.submit(spool.add(SpoolTest.event("web"), List.of(ok.url("/"))));
            ok.take(Duration.ofSeconds(5));
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos());
            assertTrue(sender.inFlight() >= 20, "the 20 hung requests still wait, each on its own virtual thread: "
                    + sender.inFlight());
        }
    }
}

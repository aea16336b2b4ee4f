package io.jgovernor.events;

import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plain-http POST against a real HTTP server and against receivers that misbehave on purpose. */
class HttpPostTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final byte[] BODY = "{\"id\":\"1\"}".getBytes(StandardCharsets.UTF_8);
    private static final List<Map.Entry<String, String>> HEADERS = List.of(Map.entry("Content-Type", "application/json"),
            Map.entry("X-Test", "yes"));

    @Test
    void aRealServerGetsTheBodyHeadersPathAndQuery() throws Exception {
        try (TestReceiver r = TestReceiver.start(0, n -> 204)) {
            URI uri = URI.create(r.url("/hooks/oom") + "?team=web&x=%20y");
            assertEquals(204, HttpPost.post(uri, HEADERS, BODY, TIMEOUT));
            TestReceiver.Request q = r.take(TIMEOUT);
            assertEquals("POST", q.method());
            assertEquals("/hooks/oom", q.path());
            assertEquals("application/json", q.header("Content-Type"));
            assertEquals("yes", q.header("X-Test"));
            assertEquals(new String(BODY, StandardCharsets.UTF_8), q.text());
        }
    }

    @Test
    void theRequestLineHostAndLengthAreExactAndUserInfoIsBasicAuthentication() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))) {
            URI uri = URI.create("http://ops:s%3Acret@127.0.0.1:" + r.port() + "/a/b?q=1");
            assertEquals(200, HttpPost.post(uri, HEADERS, BODY, TIMEOUT));
            String head = r.request();
            assertTrue(head.startsWith("POST /a/b?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + r.port() + "\r\n"), head);
            assertTrue(head.contains("\r\nContent-Length: " + BODY.length + "\r\n"), head);
            assertTrue(head.contains("\r\nConnection: close\r\n"), head);
            String basic = Base64.getEncoder().encodeToString("ops:s:cret".getBytes(StandardCharsets.UTF_8));
            assertTrue(head.contains("\r\nAuthorization: Basic " + basic + "\r\n"), head);
            assertTrue(head.endsWith("\r\n\r\n" + new String(BODY, StandardCharsets.UTF_8)), head);
        }
    }

    @Test
    void interimAnswersAreSkippedAndTheFinalStatusCounts() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out,
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 503 Busy\r\n\r\n"))) {
            assertEquals(503, HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
        }
    }

    @Test
    void anHttp10ServerAndAStatusLineWithoutAReasonAreUnderstood() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out, "HTTP/1.0 202\n\n"))) {
            assertEquals(202, HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
        }
    }

    @Test
    void somethingThatIsNotHttpIsAnErrorThatQuotesIt() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out, "SSH-2.0-OpenSSH_9.2\r\n"))) {
            IOException e = assertThrows(IOException.class, () -> HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
            assertTrue(e.getMessage().contains("did not answer HTTP/1.x") && e.getMessage().contains("SSH-2.0"), e.getMessage());
        }
    }

    @Test
    void anEndlessStatusLineIsCutAtItsBound() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out, "HTTP/1.1 200 " + "A".repeat(100_000)))) {
            IOException e = assertThrows(IOException.class, () -> HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
            assertTrue(e.getMessage().contains("longer than " + HttpPost.MAX_LINE), e.getMessage());
        }
    }

    @Test
    void endlessInterimAnswersAreAnError() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> answer(out, "HTTP/1.1 100 Continue\r\n\r\n".repeat(50)))) {
            IOException e = assertThrows(IOException.class, () -> HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
            assertTrue(e.getMessage().contains("interim"), e.getMessage());
        }
    }

    @Test
    void aReceiverThatClosesWithoutAnAnswerIsAnError() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> { })) {
            IOException e = assertThrows(IOException.class, () -> HttpPost.post(r.uri(), HEADERS, BODY, TIMEOUT));
            assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
        }
    }

    @Test
    void aReceiverThatDribblesCannotHoldTheExchangePastTheTimeout() throws Exception {
        try (RawReceiver r = new RawReceiver((in, out) -> {
            // one byte every 100 ms: each read would succeed within a per-read timeout
            for (byte b : "HTTP/1.1 200 OK with a very long reason phrase\r\n".getBytes(StandardCharsets.US_ASCII)) {
                out.write(b);
                out.flush();
                sleep(100);
            }
        })) {
            long t0 = System.nanoTime();
            assertThrows(SocketTimeoutException.class, () -> HttpPost.post(r.uri(), HEADERS, BODY, Duration.ofMillis(1000)));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 900 && ms < 3000, "one deadline for the whole exchange, took " + ms + " ms");
        }
    }

    @Test
    void aRefusedConnectionIsAnIoError() throws Exception {
        int port = TestReceiver.freePort();
        assertThrows(IOException.class,
                () -> HttpPost.post(URI.create("http://127.0.0.1:" + port + "/"), HEADERS, BODY, TIMEOUT));
    }

    @Test
    void onlyHttpUrlsAreTaken() {
        assertThrows(IllegalArgumentException.class,
                () -> HttpPost.post(URI.create("https://127.0.0.1/"), HEADERS, BODY, TIMEOUT));
    }

    private static void answer(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One connection on loopback: reads the request's head and body, then answers as told. */
    private static final class RawReceiver implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final CompletableFuture<String> request = new CompletableFuture<>();
        private final Thread thread;

        RawReceiver(Answer answer) throws IOException {
            thread = Thread.ofPlatform().daemon(true).start(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    request.complete(readRequest(in));
                    answer.answer(in, s.getOutputStream());
                } catch (IOException e) {
                    // the client went away (a timeout test): what the test checks is its side
                    request.completeExceptionally(e);
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + port() + "/");
        }

        String request() throws Exception {
            return request.get(5, TimeUnit.SECONDS);
        }

        private static String readRequest(InputStream in) throws IOException {
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            int length = -1;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                seen.write(b);
                String text = seen.toString(StandardCharsets.ISO_8859_1);
                int end = text.indexOf("\r\n\r\n");
                if (end >= 0) {
                    if (length < 0) {
                        length = 0;
                        for (String line : text.substring(0, end).split("\r\n")) {
                            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                                length = Integer.parseInt(line.substring(15).strip());
                            }
                        }
                    }
                    if (seen.size() >= end + 4 + length) {
                        break;
                    }
                }
            }
            return seen.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5000);
        }
    }

    @FunctionalInterface
    private interface Answer {
        void answer(InputStream in, OutputStream out) throws IOException;
    }
}

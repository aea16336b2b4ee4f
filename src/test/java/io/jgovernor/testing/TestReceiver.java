package io.jgovernor.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A webhook receiver on 127.0.0.1: records every request (with the time it arrived) and answers
 * with the status {@code status.applyAsInt(n)} for the n-th request (0-based).
 */
public final class TestReceiver implements AutoCloseable {
    /** One request as received. */
    public record Request(String method, String path, Map<String, List<String>> headers, byte[] body, long arrivedNanos,
                          int answered) {
        public String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().getFirst();
                }
            }
            return null;
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final HttpServer server;
    private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final List<Request> all = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger count = new AtomicInteger();

    private TestReceiver(int port, IntUnaryOperator status) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        server.createContext("/", exchange -> {
            long now = System.nanoTime();
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            int code = status.applyAsInt(count.getAndIncrement());
            Request r = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    Map.copyOf(exchange.getRequestHeaders()), body, now, code);
            all.add(r);
            requests.add(r);
            exchange.sendResponseHeaders(code, -1);
            exchange.close();
        });
        server.setExecutor(Executors.newFixedThreadPool(4, Thread.ofPlatform().daemon(true).factory()));
        server.start();
    }

    /** Answers 200 to everything, on a free port. */
    public static TestReceiver start() throws IOException {
        return new TestReceiver(0, n -> 200);
    }

    public static TestReceiver start(int port, IntUnaryOperator status) throws IOException {
        return new TestReceiver(port, status);
    }

    /** A port nothing listens on (free when asked; loopback only). */
    public static int freePort() throws IOException {
        try (var s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /** The next request not yet taken, waiting up to {@code timeout}; fails the test if none comes. */
    public Request take(Duration timeout) throws InterruptedException {
        Request r = requests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (r == null) {
            fail("no webhook request arrived within " + timeout + " (received so far: " + all.size() + ")");
        }
        return r;
    }

    /** The next request, or null after {@code timeout}. */
    public Request poll(Duration timeout) throws InterruptedException {
        return requests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Every request so far. */
    public List<Request> all() {
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}

package io.jgovernor.app;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scrape's body sent while it is written (ResponseStream), on a real Vert.x server on
 * loopback: a body of many chunks arrives whole and in order, and a client that goes away makes
 * the writer fail instead of buffering the rest.
 */
class ResponseStreamTest {
    private Vertx vertx;
    private HttpServer server;
    private volatile byte[] body;
    private final CompletableFuture<Throwable> writerOutcome = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> vertx.executeBlocking(() -> {
            req.response().putHeader("Content-Type", "application/octet-stream");
            try (ResponseStream out = new ResponseStream(req.response())) {
                byte[] b = body;
                // odd write sizes, so chunk borders fall inside writes
                for (int off = 0; off < b.length; ) {
                    int n = Math.min(7919, b.length - off);
                    out.write(b, off, n);
                    off += n;
                    if (off < b.length) {
                        out.write(b[off++]);
                    }
                }
                writerOutcome.complete(null);
            } catch (IOException e) {
                writerOutcome.complete(e);
            }
            return null;
        }, false)).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aBodyOfManyChunksArrivesWholeAndInOrder() throws Exception {
        byte[] b = new byte[3 * 1024 * 1024 + 12345];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + (i >> 16));
        }
        body = b;
        try (Socket s = new Socket("127.0.0.1", server.actualPort())) {
            s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] raw = s.getInputStream().readAllBytes();
            String head = new String(raw, 0, Math.min(raw.length, 300), StandardCharsets.ISO_8859_1).toLowerCase();
            assertTrue(head.startsWith("http/1.1 200"), head);
            assertTrue(head.contains("transfer-encoding: chunked"), head);
            assertArrayEquals(b, dechunk(raw));
        }
        assertEquals(null, writerOutcome.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aClientThatGoesAwayFailsTheWriterInsteadOfBufferingTheRest() throws Exception {
        body = new byte[256 * 1024 * 1024];
        try (Socket s = new Socket("127.0.0.1", server.actualPort())) {
            s.setReceiveBufferSize(4096);
            s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(in.readNBytes(1000).length == 1000);
        } // closed after reading a little of 256 MiB
        Throwable t = writerOutcome.get(20, TimeUnit.SECONDS);
        assertTrue(t instanceof IOException, String.valueOf(t));
    }

    /** The body of an HTTP/1.1 response in chunked transfer encoding. */
    private static byte[] dechunk(byte[] raw) {
        int i = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0) + 4;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        while (true) {
            int eol = indexOf(raw, "\r\n".getBytes(StandardCharsets.US_ASCII), i);
            int size = Integer.parseInt(new String(raw, i, eol - i, StandardCharsets.US_ASCII).strip(), 16);
            i = eol + 2;
            if (size == 0) {
                return out.toByteArray();
            }
            out.write(raw, i, size);
            i += size + 2;
        }
    }

    private static int indexOf(byte[] a, byte[] what, int from) {
        outer:
        for (int i = from; i <= a.length - what.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (a[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}

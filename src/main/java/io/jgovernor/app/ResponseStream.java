package io.jgovernor.app;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A response body sent while it is written, in chunks of {@value #CHUNK} bytes (chunked transfer
 * encoding), for the scrape of many groups. Written whole into a growing array first, the 3 MiB of
 * a 1000-group scrape and its copies outlived the young generation at every scrape and were
 * promoted, so the old generation, and the resident memory with it, grew by megabytes per scrape
 * until a full collection (issue 18). Here each chunk is copied into a buffer of its own and this
 * one is reused. Each write is waited for, so a slow scraper holds one chunk, not the whole body;
 * one that takes longer than {@link #STALL} over a chunk fails the write with an IOException.
 * For a blocking handler's worker thread only.
 */
final class ResponseStream extends OutputStream {
    static final int CHUNK = 64 * 1024;
    static final Duration STALL = Duration.ofSeconds(30);

    private final HttpServerResponse response;
    private final byte[] chunk = new byte[CHUNK];
    private int used;
    private boolean closed;

    /** Sets the response chunked; headers must be set before the first chunk goes. */
    ResponseStream(HttpServerResponse response) {
        this.response = response.setChunked(true);
    }

    @Override
    public void write(int b) throws IOException {
        if (used == CHUNK) {
            send();
        }
        chunk[used++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (used == CHUNK) {
                send();
            }
            int n = Math.min(len, CHUNK - used);
            System.arraycopy(b, off, chunk, used, n);
            used += n;
            off += n;
            len -= n;
        }
    }

    /** Sends what is buffered and ends the response. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        Buffer last = Buffer.buffer(used).appendBytes(chunk, 0, used);
        used = 0;
        await(response.end(last));
    }

    private void send() throws IOException {
        Buffer b = Buffer.buffer(used).appendBytes(chunk, 0, used);
        used = 0;
        await(response.write(b));
    }

    private static void await(io.vertx.core.Future<Void> written) throws IOException {
        try {
            written.toCompletionStage().toCompletableFuture().get(STALL.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending the response", e);
        } catch (ExecutionException e) {
            throw new IOException("the response could not be sent: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("the client took more than " + STALL.toSeconds() + " s to take " + CHUNK + " bytes");
        }
    }
}

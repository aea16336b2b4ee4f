package io.jgovernor.events;

import io.jgovernor.sys.LoopHealth;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delivers spooled events by HTTP POST, at least once: per (event, receiver) the first attempt
 * goes out at once, and a receiver that answers non-2xx or not at all (refused, timed out) is
 * tried again after an exponential backoff with full jitter, until it answers 2xx or the event
 * leaves the spool (dropped because the spool was full). Requests are asynchronous, so a slow
 * receiver never delays the OOM watcher: {@code http://} receivers get a {@link HttpPost} on a
 * virtual thread each (a socket read parks it, not its carrier), {@code https://} receivers the
 * JDK's HttpClient. That client is built only when an https receiver is known ({@link #expect}),
 * on a thread of its own, so neither its 7 MiB nor its 0.6-1.6 s of set-up fall on an event.
 */
public final class WebhookSender implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WebhookSender.class.getName());
    public static final String CONTENT_TYPE = "application/cloudevents+json";

    private final Spool spool;
    private final Optional<Signer> signer;
    private final Backoff backoff;
    private final Duration timeout;
    private final DeliveryStats stats;
    /** The JDK client for https receivers; null until one is expected or needed. */
    private volatile HttpClient tlsClient;
    private final ScheduledExecutorService retries;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closed;

    public WebhookSender(Spool spool, Optional<Signer> signer, Backoff backoff, Duration timeout, DeliveryStats stats) {
        this.spool = spool;
        this.signer = signer;
        this.backoff = backoff;
        this.timeout = timeout;
        this.stats = stats;
        this.retries = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("jgovernor-webhook-retry").daemon(true).factory());
    }

    private volatile LoopHealth.Loop health = new LoopHealth().register("webhook", Duration.ofSeconds(10));

    /** Where delivery reports each attempt it prepares (busy while it does) and the attempts that failed inside. */
    public void health(LoopHealth.Loop loop) {
        this.health = loop;
    }

    /**
     * Says which receivers events may go to: when one is {@code https://}, the TLS client is built
     * now, on a thread of its own, rather than at the first event. Cheap to call on every pass.
     */
    public void expect(Collection<URI> receivers) {
        if (tlsClient == null && receivers.stream().anyMatch(WebhookSender::tls)) {
            Thread.ofPlatform().name("jgovernor-webhook-tls").daemon(true).start(this::tlsClient);
        }
    }

    private static boolean tls(URI receiver) {
        return "https".equalsIgnoreCase(receiver.getScheme());
    }

    private HttpClient tlsClient() {
        HttpClient c = tlsClient;
        if (c == null) {
            synchronized (this) {
                c = tlsClient;
                if (c == null) {
                    c = HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(timeout)
                            .followRedirects(HttpClient.Redirect.NEVER)
                            .build();
                    tlsClient = c;
                }
            }
        }
        return c;
    }

    /** Starts delivering {@code e} to every receiver that still needs it. Never blocks on the network. */
    public void submit(Spool.Entry e) {
        for (URI receiver : e.pending()) {
            attempt(e, receiver, 0);
        }
    }

    private void attempt(Spool.Entry e, URI receiver, int attempt) {
        if (closed || !spool.holds(e)) {
            return;
        }
        byte[] body = e.bodyBytes();
        List<Map.Entry<String, String>> headers = new ArrayList<>(3);
        headers.add(Map.entry("Content-Type", CONTENT_TYPE));
        headers.add(Map.entry("User-Agent", "jgovernor"));
        signer.ifPresent(s -> headers.add(Map.entry(Signer.HEADER, s.sign(body))));
        inFlight.incrementAndGet();
        try {
            if (tls(receiver)) {
                HttpRequest.Builder request = HttpRequest.newBuilder(receiver).timeout(timeout)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
                headers.forEach(h -> request.header(h.getKey(), h.getValue()));
                tlsClient().sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
                        .whenComplete((response, error) -> answered(e, receiver, attempt,
                                response == null ? 0 : response.statusCode(), error));
            } else {
                Thread.ofVirtual().name("jgovernor-webhook").start(() -> {
                    int status = 0;
                    Throwable error = null;
                    try {
                        status = HttpPost.post(receiver, headers, body, timeout);
                    } catch (IOException | RuntimeException ex) {
                        error = ex;
                    }
                    answered(e, receiver, attempt, status, error);
                });
            }
        } catch (RuntimeException ex) {
            inFlight.decrementAndGet();
            done(e, receiver, attempt, 0, ex);
        }
    }

    private void answered(Spool.Entry e, URI receiver, int attempt, int status, Throwable error) {
        try {
            done(e, receiver, attempt, status, error);
        } catch (Throwable t) {
            // nothing above would report this: the event would wait for the next start
            health.failed("handling the answer for event " + e.event().id(), t);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void done(Spool.Entry e, URI receiver, int attempt, int status, Throwable error) {
        if (error == null && status / 100 == 2) {
            stats.success.increment();
            try {
                spool.ack(e, receiver);
            } catch (IOException ex) {
                // the receiver has it; if the spool forgets that, it gets it again after a restart
                LOG.log(System.Logger.Level.ERROR, "event " + e.event().id() + " delivered to " + receiver
                        + " but the acknowledgement cannot be recorded in the spool: " + ex.getMessage());
            }
            if (attempt > 0) {
                LOG.log(System.Logger.Level.INFO, "event " + e.event().id() + " delivered to " + receiver
                        + " after " + (attempt + 1) + " attempts");
            }
            return;
        }
        stats.failure.increment();
        if (closed) {
            return; // stays in the spool; the next start tries again
        }
        long wait = backoff.delayMillis(attempt, ThreadLocalRandom.current());
        String why = error != null ? describe(error) : "HTTP " + status;
        // the first failure is worth a warning; a receiver down for hours should not flood the log
        System.Logger.Level level = attempt == 0 || Integer.bitCount(attempt) == 1
                ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG;
        LOG.log(level, "webhook " + receiver + " failed for event " + e.event().id() + " (group " + e.event().group()
                + ", attempt " + (attempt + 1) + "): " + why + "; next attempt in " + wait + " ms");
        try {
            retries.schedule(() -> retry(e, receiver, attempt + 1), wait, TimeUnit.MILLISECONDS);
        } catch (RuntimeException rejected) {
            // shutting down: the event stays in the spool
        }
    }

    /** One retry inside a boundary: a failure is counted and the next attempt still comes. */
    private void retry(Spool.Entry e, URI receiver, int attempt) {
        LoopHealth.Loop h = health;
        h.busy();
        try {
            attempt(e, receiver, attempt);
        } catch (Throwable t) {
            h.failed("attempt " + (attempt + 1) + " of event " + e.event().id(), t);
            try {
                retries.schedule(() -> retry(e, receiver, attempt + 1),
                        backoff.delayMillis(attempt, ThreadLocalRandom.current()), TimeUnit.MILLISECONDS);
            } catch (RuntimeException rejected) {
                // shutting down: the event stays in the spool
            }
        } finally {
            h.idle();
        }
    }

    private static String describe(Throwable error) {
        Throwable t = error;
        while ((t instanceof java.util.concurrent.CompletionException || t.getMessage() == null) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** Requests on the wire now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Stops retrying at once and gives requests on the wire up to {@code grace} to finish. */
    public void close(Duration grace) {
        closed = true;
        retries.shutdownNow();
        long end = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        HttpClient c = tlsClient;
        if (c != null) {
            c.shutdownNow();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}

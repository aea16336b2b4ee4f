package io.jgovernor.sys;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Whether each of the daemon's loops is alive and making progress: what /q/health/live and the
 * systemd watchdog report, and the loop metrics.
 *
 * <p>A loop says when it starts working on one item ({@link Loop#busy}) and when it is done and
 * goes back to waiting ({@link Loop#idle}). Waiting is not a fault: a loop blocked in poll()
 * for a day with nothing to do is healthy. A loop is <em>stuck</em> when it has been inside one
 * item for longer than its bound, and <em>dead</em> when its body ended abnormally and has not
 * been started again yet. {@link Loop#supervise} restarts a dead body on the same thread after
 * a backoff, so a loop is never left dead.
 */
public final class LoopHealth {
    private static final System.Logger LOG = System.getLogger(LoopHealth.class.getName());
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Sleeps for a backoff; a test passes one that returns at once. */
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private final Map<String, Loop> loops = new ConcurrentHashMap<>();

    public LoopHealth() {
        this(System::nanoTime, d -> Thread.sleep(d));
    }

    public LoopHealth(LongSupplier nanoClock, Sleeper sleeper) {
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
    }

    /**
     * The loop of this name, made on first use; a loop registered again (a workload restarted
     * under the same group) keeps its counters.
     *
     * @param bound how long one item may take before the loop counts as stuck
     */
    public Loop register(String name, Duration bound) {
        return loops.computeIfAbsent(name, n -> new Loop(n, bound.toNanos()));
    }

    /** Forgets a loop that ended on purpose (a workload removed with its policy, or one that exited for good). */
    public void unregister(Loop loop) {
        loops.remove(loop.name, loop);
    }

    /** Every loop that is dead or stuck now, by name, with why; empty: all are live. */
    public Map<String, String> problems() {
        Map<String, String> out = new TreeMap<>();
        long now = nanoClock.getAsLong();
        for (Loop l : loops.values()) {
            String p = l.problem(now);
            if (p != null) {
                out.put(l.name, p);
            }
        }
        return out;
    }

    public boolean allLive() {
        return problems().isEmpty();
    }

    /** A snapshot of each loop for the metrics, sorted by name. */
    public List<Status> statuses() {
        long now = nanoClock.getAsLong();
        List<Status> out = new ArrayList<>();
        for (Loop l : new TreeMap<>(loops).values()) {
            out.add(new Status(l.name, l.problem(now) == null, l.restarts.get(), l.errors.get()));
        }
        return out;
    }

    public record Status(String loop, boolean up, long restarts, long errors) {
    }

    /** One loop's state; every method may be called from any thread. */
    public final class Loop {
        private final String name;
        private final long boundNanos;
        private final AtomicLong restarts = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        /** When the current item started; {@code Long.MIN_VALUE} while idle. */
        private volatile long busySince = Long.MIN_VALUE;
        private volatile String death;

        private Loop(String name, long boundNanos) {
            this.name = name;
            this.boundNanos = boundNanos;
        }

        public String name() {
            return name;
        }

        /** Starts one item (a pass, a batch of events): the bound runs from now. */
        public void busy() {
            busySince = nanoClock.getAsLong();
        }

        /** Done with the item; waiting for the next is healthy for as long as it takes. */
        public void idle() {
            busySince = Long.MIN_VALUE;
        }

        /** One item failed and the loop goes on: logged with the loop's name and counted. */
        public void failed(String what, Throwable t) {
            long n = errors.incrementAndGet();
            LOG.log(System.Logger.Level.ERROR, name + ": " + what + " failed (" + n + " so far); the loop goes on", t);
        }

        /** The body ended abnormally: DOWN until {@link #restarted()}. */
        public void died(Throwable t) {
            death = t == null ? "the loop ended" : t.toString();
            busySince = Long.MIN_VALUE;
            LOG.log(System.Logger.Level.ERROR, name + ": the loop died; restarting it", t);
        }

        public void restarted() {
            restarts.incrementAndGet();
            death = null;
        }

        private String problem(long now) {
            String d = death;
            if (d != null) {
                return "dead: " + d;
            }
            long since = busySince;
            if (since != Long.MIN_VALUE && now - since > boundNanos) {
                return "stuck: one item for " + Duration.ofNanos(now - since).toSeconds() + " s (bound "
                        + Duration.ofNanos(boundNanos).toSeconds() + " s)";
            }
            return null;
        }

        /**
         * The body run again and again on the calling thread until {@code stopped}: when it throws
         * (any Throwable) or returns while not stopped, the loop is dead, and after a backoff
         * (1 s, doubling to 30 s, back to 1 s once a run lasted a minute) it starts again.
         */
        public void supervise(Runnable body, BooleanSupplier stopped) {
            Duration backoff = FIRST_BACKOFF;
            while (!stopped.getAsBoolean()) {
                long started = nanoClock.getAsLong();
                Throwable cause = null;
                try {
                    body.run();
                } catch (Throwable t) {
                    cause = t;
                }
                if (stopped.getAsBoolean()) {
                    return;
                }
                died(cause);
                if (nanoClock.getAsLong() - started > Duration.ofMinutes(1).toNanos()) {
                    backoff = FIRST_BACKOFF;
                }
                try {
                    sleeper.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                if (stopped.getAsBoolean()) {
                    return;
                }
                restarted();
            }
        }
    }
}

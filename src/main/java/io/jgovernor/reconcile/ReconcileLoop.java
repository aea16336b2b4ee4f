package io.jgovernor.reconcile;

import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyCatalog;
import io.jgovernor.sys.LoopHealth;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The daemon's one reconcile thread. A policy event makes the next pass come at once (after a
 * short quiet time, so a burst of writes is applied once); without events a full pass runs every
 * {@code interval} and repairs drift. A policy file that went missing is removed only once it stayed
 * away for the catalog's removal delay: the loop wakes at that deadline by itself (no event marks
 * it), and a partial pass then removes the groups. Passes never overlap: they all run on this thread.
 */
public final class ReconcileLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ReconcileLoop.class.getName());

    public interface Listener {
        void passed(CatalogState catalog, Report report);

        void policyDirUnreadable(IOException e);

        /**
         * After the policies were read, before the pass applies them, on this loop's thread: the
         * pass waits for it (workloads of removed groups are stopped here, before their
         * directories go).
         */
        default void beforePass(CatalogState catalog) {
        }

        /**
         * Called at least every heartbeat from this loop's thread while it waits between passes.
         * The daemon's watchdog no longer hangs on it (it follows every loop through LoopHealth);
         * it is the one call on this thread outside a pass's boundary, which is how
         * ReconcileLoopHealthKernelTest makes the thread itself die.
         */
        default void alive() {
        }
    }

    private final PolicyCatalog catalog;
    private final Reconciler reconciler;
    private final Duration interval;
    private final Duration quiet;
    private final Listener listener;
    private volatile Duration heartbeat = Duration.ZERO;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean changed;
    private boolean full;
    /** When the first policy event since the last pass came (System.nanoTime; 0: none), for the debug log. */
    private long firstEvent;
    /** Waiting for the next full pass ({@link #reloadAll}); taken by the pass that starts next. */
    private List<CompletableFuture<Report>> reloads = new ArrayList<>();
    /** The report of the pass that ran last on this thread; null when it read no policies. */
    private Report passReport;
    /** Policy files named by events since the last pass; null: every file must be looked at. */
    private Set<String> changedFiles = new HashSet<>();
    private volatile boolean stopped;
    /** False after a pass that could not read the policy directory: nothing is removed then. */
    private boolean lastRefreshRead = true;
    private Thread thread;
    /** Told when a pass starts and ends, and when the thread dies; a private one until {@link #health} is called. */
    private volatile LoopHealth.Loop health = new LoopHealth().register("reconcile", Duration.ofMinutes(1));

    public ReconcileLoop(PolicyCatalog catalog, Reconciler reconciler, Duration interval, Duration quiet,
                         Listener listener) {
        this.catalog = catalog;
        this.reconciler = reconciler;
        this.interval = interval;
        this.quiet = quiet;
        this.listener = listener;
    }

    /** Runs the first full pass on the caller's thread; returns whether the policies could be read. */
    public boolean firstPass() {
        return runPass(true, null);
    }

    /**
     * Makes the loop call {@link Listener#alive()} every {@code every} (systemd's watchdog): the
     * call comes from the reconcile thread itself, so a pass stuck in the kernel stops it.
     */
    public void heartbeat(Duration every) {
        this.heartbeat = every;
    }

    /** Where this loop reports its passes (busy while one runs), its failures and its death. */
    public void health(LoopHealth.Loop loop) {
        this.health = loop;
    }

    public synchronized void start() {
        // A run that ends abnormally (an Error outside a pass) is started again after a backoff.
        thread = Thread.ofPlatform().name("jgovernor-reconcile").daemon(true)
                .start(() -> health.supervise(this::run, () -> stopped));
    }

    /** Called by the watcher: these policy files changed (null: any may have). */
    public void policiesChanged(Set<String> names) {
        lock.lock();
        try {
            if (names == null || changedFiles == null) {
                changedFiles = null;
            } else {
                changedFiles.addAll(names);
            }
            if (firstEvent == 0) {
                firstEvent = System.nanoTime();
            }
        } finally {
            lock.unlock();
        }
        signal(false);
    }

    /**
     * Called on SIGHUP and by {@code jgovernor reload}: re-read every policy and check every group.
     * The future completes with the report of the first full pass that starts after this call
     * (one that was already running may have read the files before they changed), or
     * exceptionally when that pass could not read the policy directory or failed.
     */
    public CompletableFuture<Report> reloadAll() {
        CompletableFuture<Report> done = new CompletableFuture<>();
        lock.lock();
        try {
            reloads.add(done);
        } finally {
            lock.unlock();
        }
        signal(true);
        return done;
    }

    private void signal(boolean all) {
        lock.lock();
        try {
            changed = true;
            full |= all;
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        long nextFull = System.nanoTime() + interval.toNanos();
        long nextBeat = System.nanoTime();
        while (!stopped) {
            boolean fullPass;
            Set<String> files;
            List<CompletableFuture<Report>> waiting = List.of();
            lock.lock();
            try {
                while (!changed && !stopped) {
                    long now = System.nanoTime();
                    if (!heartbeat.isZero() && now - nextBeat >= 0) {
                        listener.alive();
                        nextBeat = now + heartbeat.toNanos();
                    }
                    long until = heartbeat.isZero() ? nextFull : Math.min(nextFull - now, nextBeat - now) + now;
                    if (now - nextFull >= 0) {
                        break;
                    }
                    long removal = untilNextRemoval();
                    if (removal <= 0) {
                        break; // a missing file's groups are due: a partial pass removes them
                    }
                    until = Math.min(until - now, removal) + now;
                    wake.awaitNanos(until - now);
                }
                if (stopped) {
                    return;
                }
                if (changed) {
                    // Let a burst settle: wait until no event came for the quiet time, but never
                    // longer than ten quiet times in all, so a constant stream still gets applied.
                    // Also after a single write: a burst of writes to one file is applied once
                    // (DaemonIT), which a pass started at the first write would break.
                    long deadline = System.nanoTime() + 10 * quiet.toNanos();
                    while (changed && !stopped) { // a stop does not wait for the quiet time
                        changed = false;
                        long remaining = Math.min(quiet.toNanos(), deadline - System.nanoTime());
                        if (remaining <= 0) {
                            break;
                        }
                        wake.awaitNanos(remaining);
                    }
                }
                if (stopped) {
                    return;
                }
                changed = false;
                fullPass = full || System.nanoTime() - nextFull >= 0;
                full = false;
                if (fullPass && !reloads.isEmpty()) {
                    waiting = reloads;
                    reloads = new ArrayList<>();
                }
                files = fullPass ? null : changedFiles;
                changedFiles = new HashSet<>();
                eventAt = firstEvent;
                firstEvent = 0;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            passReport = null;
            boolean read = runPass(fullPass, files);
            Report report = passReport;
            for (CompletableFuture<Report> w : waiting) {
                if (report != null) {
                    w.complete(report);
                } else {
                    w.completeExceptionally(new IOException(read ? "the pass failed (see the daemon's log)"
                            : "the policy directory cannot be read (see the daemon's log)"));
                }
            }
            if (fullPass) {
                nextFull = System.nanoTime() + interval.toNanos();
            }
        }
    }

    /**
     * Nanoseconds until a missing policy file is due for removal; Long.MAX_VALUE when none is, or
     * when the policy directory could not be read (never remove anything then; an event or the
     * periodic pass tries again).
     */
    private long untilNextRemoval() {
        if (!lastRefreshRead) {
            return Long.MAX_VALUE;
        }
        return catalog.untilNextRemoval().map(d -> Math.max(0, d.toNanos())).orElse(Long.MAX_VALUE);
    }

    /**
     * One pass inside a boundary: any Throwable (a StackOverflowError too) fails this pass only,
     * is logged and counted, and the loop goes on with the next one.
     *
     * @param files the policy files to read again, or null: list the directory and check every file
     */
    private boolean runPass(boolean fullPass, Set<String> files) {
        LoopHealth.Loop h = health;
        h.busy();
        try {
            return pass(fullPass, files);
        } catch (Throwable t) {
            h.failed("reconcile pass", t);
            return true;
        } finally {
            h.idle();
        }
    }

    /** When the first event of the pass running now came (System.nanoTime; 0: no event). */
    private long eventAt;

    private boolean pass(boolean fullPass, Set<String> files) {
        long t0 = System.nanoTime();
        long waited = eventAt == 0 ? 0 : t0 - eventAt;
        eventAt = 0;
        CatalogState state;
        try {
            state = files == null ? catalog.refresh() : catalog.refresh(files);
            lastRefreshRead = true;
        } catch (IOException e) {
            lastRefreshRead = false;
            // Never tear anything down because the directory is missing or unsafe right now.
            LOG.log(System.Logger.Level.ERROR, "policy directory cannot be read, nothing changed: " + e.getMessage());
            listener.policyDirUnreadable(e);
            return false;
        }
        long tRead = System.nanoTime();
        listener.beforePass(state);
        CatalogState.Change change = state.change();
        Report report = fullPass ? reconciler.reconcileAll(state.desired())
                : change != null ? reconciler.reconcileChanges(state.desired(), change.base(), change.groups())
                : reconciler.reconcileChanges(state.desired());
        long t1 = System.nanoTime();
        passReport = report;
        listener.passed(state, report);
        long t2 = System.nanoTime();
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("pass timing: %s, from the first event to the start %.2f ms,"
                        + " refresh %.2f ms, reconcile %.2f ms, listeners %.2f ms",
                fullPass ? "full" : files == null ? "every file" : files.size() + " files", waited / 1e6,
                (tRead - t0) / 1e6, report.took().toNanos() / 1e6, (t2 - t1) / 1e6));
        return true;
    }

    @Override
    public void close() {
        stopped = true;
        signal(false);
        lock.lock();
        try {
            reloads.forEach(w -> w.completeExceptionally(new IOException("the daemon is stopping")));
            reloads.clear();
        } finally {
            lock.unlock();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        catalog.flushCopies();
    }
}

package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;
import io.jgovernor.sys.LoopHealth;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps one group's workload running as its {@code restart} says, on a thread of its own. A
 * crash loop does not spin: each restart after a short run waits twice as long as the last
 * (0.1 s up to 30 s); a run that lasted a minute resets the wait.
 */
final class Supervisor {
    enum State { STARTING, RUNNING, BACKOFF, EXITED, FAILED, STOPPING, STOPPED }

    static final Duration BACKOFF_INITIAL = Duration.ofMillis(100);
    static final Duration BACKOFF_MAX = Duration.ofSeconds(30);
    static final Duration STABLE = Duration.ofMinutes(1);
    private static final System.Logger LOG = System.getLogger(Supervisor.class.getName());

    /** Starts the workload once: the launch and its context, supplied by {@link Workloads}. */
    interface Launcher {
        Workload launch(GroupName group, RunSpec spec) throws StartFailure;
    }

    /** Sends a signal to every process the workload owns in the group (see {@link Workloads}). */
    interface Killer {
        /** {@code wholeGroup}: every process in the group's cgroup too (see {@link #killWholeGroup}). */
        void signal(GroupName group, Workload w, boolean kill, boolean wholeGroup);
    }

    interface Listener {
        void started(GroupName group, Workload w);

        void startFailed(GroupName group, String why);

        void restarting(GroupName group);

        /** The workload exited; {@code last}: it is not started again (its restart policy says so). */
        void ended(GroupName group, Workload w, int exit, boolean last);
    }

    /** For a supervisor that only stops a workload found running: its ends change no record. */
    static final Listener QUIET = new Listener() {
        @Override
        public void started(GroupName group, Workload w) {
        }

        @Override
        public void startFailed(GroupName group, String why) {
        }

        @Override
        public void restarting(GroupName group) {
        }

        @Override
        public void ended(GroupName group, Workload w, int exit, boolean last) {
        }
    };

    final GroupName group;
    final RunSpec spec;
    private final Launcher launcher;
    private final Killer killer;
    private final Listener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private volatile State state = State.STARTING;
    private volatile Workload current;
    private volatile boolean stopping;
    private volatile long restarts;
    private volatile String lastError;
    private volatile Integer lastExit;
    /** The restart policy said "done" (exited, or failed and not retried): nothing runs or will. */
    private volatile boolean finished;
    private Thread thread;
    /** Where this workload's loop reports itself; set before {@link #start}. */
    volatile LoopHealth health = new LoopHealth();
    /** Whether the group is frozen now: no workload is launched into it until thawed. */
    volatile java.util.function.Predicate<GroupName> frozen = g -> false;
    /** A launch (the exec stage preparing namespaces and root) longer than this is a stuck supervisor. */
    static final Duration LAUNCH_BOUND = Duration.ofSeconds(60);
    /** Stop signals every process in the group, not only the workload's tree (no match rules adopt others there). */
    volatile boolean killWholeGroup;
    /** The running workload's group had an OOM kill: its end is a failure whatever its status. */
    private volatile boolean oomFailed;

    Supervisor(GroupName group, RunSpec spec, Launcher launcher, Killer killer, Listener listener) {
        this.group = group;
        this.spec = spec;
        this.launcher = launcher;
        this.killer = killer;
        this.listener = listener;
    }

    /**
     * Supervises nothing: this spec's workload already ran to its end (a previous daemon saw it,
     * see {@link WorkloadRecord#exit}) and its restart policy does not start it again.
     */
    void finished(int exit, String why) {
        lastExit = exit;
        lastError = why;
        state = exit == 0 ? State.EXITED : State.FAILED;
        finished = true;
    }

    /** True once the restart policy said "done", also for {@link #finished(int, String)}. */
    boolean isFinished() {
        return finished;
    }

    /** Starts supervising; {@code adopted} is a workload a previous daemon started with this spec. */
    void start(Optional<Workload> adopted) {
        current = adopted.orElse(null);
        LoopHealth registry = health;
        LoopHealth.Loop loop = registry.register("workload " + group.value(), LAUNCH_BOUND);
        thread = Thread.ofPlatform().daemon(true).name("workload " + group.value()).start(() -> {
            // run() returning is the restart policy saying "done"; only a Throwable is a death, and
            // the supervision starts again (it finds the running workload in current).
            boolean[] ended = {false};
            try {
                loop.supervise(() -> {
                    run(loop);
                    ended[0] = true;
                }, () -> stopping || ended[0]);
            } finally {
                registry.unregister(loop);
            }
        });
    }

    private void run(LoopHealth.Loop loop) {
        int quickFailures = 0;
        while (!stopping) {
            Workload w = current;
            if (w == null) {
                // a stage started in a frozen group freezes as it joins it, and its launch would
                // hang past LAUNCH_BOUND (a stuck loop to the liveness check): wait for the thaw
                if (frozen.test(group)) {
                    loop.idle();
                    if (!pause(Duration.ofSeconds(1))) {
                        break;
                    }
                    continue;
                }
                state = State.STARTING;
                loop.busy();
                try {
                    w = launcher.launch(group, spec);
                } catch (StartFailure e) {
                    loop.idle();
                    lastError = e.getMessage();
                    listener.startFailed(group, e.getMessage());
                    if (spec.restart() == RunSpec.Restart.NEVER) {
                        state = State.FAILED;
                        finished = true;
                        return;
                    }
                    if (!pause(backoff(quickFailures++))) {
                        break;
                    }
                    continue;
                }
                if (stopping) { // stop() came while the stage started: it may not have seen it
                    current = w;
                    break;
                }
                current = w;
                listener.started(group, w);
            }
            loop.idle();
            state = State.RUNNING;
            long t0 = System.nanoTime();
            int exit;
            try {
                exit = w.awaitExit();
            } catch (InterruptedException e) {
                break;
            }
            if (stopping) {
                break;
            }
            current = null;
            lastExit = exit;
            boolean failed = exit != 0 || oomFailed;
            oomFailed = false;
            boolean last = spec.restart() == RunSpec.Restart.NEVER
                    || (spec.restart() == RunSpec.Restart.ON_FAILURE && !failed);
            listener.ended(group, w, exit, last);
            LOG.log(System.Logger.Level.WARNING, "workload " + group.value() + " (pid " + w.pid() + ") exited "
                    + (exit == Workload.UNKNOWN_EXIT ? "(status unknown: adopted)" : "with status " + exit));
            if (last) {
                state = failed ? State.FAILED : State.EXITED;
                finished = true;
                return;
            }
            if (System.nanoTime() - t0 >= STABLE.toNanos()) {
                quickFailures = 0;
            }
            if (!pause(backoff(quickFailures++))) {
                break;
            }
            restarts++;
            listener.restarting(group);
        }
    }

    static Duration backoff(int failures) {
        long ms = BACKOFF_INITIAL.toMillis() << Math.min(failures, 20);
        return Duration.ofMillis(Math.min(ms, BACKOFF_MAX.toMillis()));
    }

    /** Sleeps in {@link State#BACKOFF}; false when stop() came meanwhile. */
    private boolean pause(Duration d) {
        state = State.BACKOFF;
        lock.lock();
        try {
            long left = d.toNanos();
            while (!stopping && left > 0) {
                left = wake.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            return false;
        } finally {
            lock.unlock();
        }
        return !stopping;
    }

    /**
     * Stops the workload: SIGTERM, then SIGKILL after {@code stopTimeout}. Returns once it is gone
     * (or after a further 5 s when even SIGKILL did not end it: a process in D state).
     *
     * @return false when the workload still runs (it stays {@link State#STOPPING}, its pids known)
     */
    boolean stop() {
        stopping = true;
        state = State.STOPPING;
        lock.lock();
        try {
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        Thread t = thread;
        try {
            if (t != null) {
                // A launch in progress finishes (milliseconds), then the loop sees stopping.
                while (t.isAlive() && current == null) {
                    t.join(10);
                }
            }
            Workload w = current;
            if (w != null && w.alive()) {
                killer.signal(group, w, false, killWholeGroup);
                if (!w.awaitExit(spec.stopTimeout())) {
                    LOG.log(System.Logger.Level.WARNING, "workload " + group.value() + " (pid " + w.pid()
                            + ") still runs " + spec.stopTimeout().toMillis() + " ms after SIGTERM: SIGKILL");
                    killer.signal(group, w, true, killWholeGroup);
                    w.awaitExit(Duration.ofSeconds(5));
                } else {
                    killer.signal(group, w, true, killWholeGroup); // what it left behind had its SIGTERM too
                }
                w.killStage();
            }
            if (t != null) {
                t.interrupt();
                t.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Workload w = current;
        if (w != null && w.alive()) {
            return false;
        }
        current = null;
        state = State.STOPPED;
        return true;
    }

    /**
     * The kernel's OOM killer killed a process in the group. A workload that lost a process to it
     * is not "running" as it should (a worker gone, a master waiting on it), so, as systemd's
     * default OOMPolicy=stop does, it is stopped (SIGTERM, SIGKILL after stopTimeout) and its end
     * counts as a failure: the restart policy decides what comes next. A workload the OOM killer
     * took whole has exited already and fails by its status alone.
     */
    void oomKilled() {
        Workload w = current;
        if (stopping || w == null || state != State.RUNNING) {
            return;
        }
        oomFailed = true;
        lastError = "an OOM kill in the group (memory limit reached); the workload is stopped and counted as failed";
        if (w.alive()) {
            LOG.log(System.Logger.Level.WARNING, "workload " + group.value() + " (pid " + w.pid() + "): an OOM kill in"
                    + " its group; stopping it (restart: " + spec.restart().name().toLowerCase(java.util.Locale.ROOT) + ")");
            killer.signal(group, w, false, killWholeGroup);
            // not on the OOM source's thread: it must go on reading events
            Thread.ofVirtual().name("oom-stop " + group.value()).start(() -> {
                try {
                    if (!w.awaitExit(spec.stopTimeout())) {
                        killer.signal(group, w, true, killWholeGroup);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    /**
     * Stops supervising and leaves the workload running, as a SIGKILL of the daemon would: the
     * loop ends without a launch and without a signal sent (kernel tests simulate a daemon
     * restart with this and a fresh {@link Workloads}).
     */
    void abandon() {
        stopping = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The workload running now, if any. */
    Workload current() {
        return current;
    }

    WorkloadStatus snapshot() {
        Workload w = current;
        return new WorkloadStatus(state.name().toLowerCase(java.util.Locale.ROOT), w == null ? 0 : w.pid(),
                restarts, lastError, lastExit);
    }

    /** The current workload's pid and its exec stage's, when one runs. */
    java.util.List<Long> pids() {
        Workload w = current;
        return w == null ? java.util.List.of() : w.pids();
    }
}

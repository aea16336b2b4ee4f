package io.jgovernor.classify;

import io.jgovernor.sys.Errno;
import io.jgovernor.sys.Libc;

/**
 * The classifier thread's scheduling class: SCHED_FIFO at a low priority while it waits for and
 * handles process events, SCHED_OTHER for the long work (a scan of /proc after a rule change).
 *
 * <p>Why: a thread woken by an event under the normal scheduler often waits for the task that is
 * running on its CPU, which on a busy host is the very process that has just called exec; that
 * wait was most of the classifier's p99 (a millisecond and more, measured in
 * {@code docs/benchmarks.md}). A SCHED_FIFO thread runs as soon as it is woken. The work per event
 * is a few reads of /proc and a write per hierarchy, and the kernel's real-time throttling
 * ({@code kernel.sched_rt_runtime_us}) bounds it even under an exec storm.
 *
 * <p>The kernel may refuse: without CAP_SYS_NICE, or on a v1 host with real-time group scheduling
 * where the daemon's cpu cgroup has no {@code cpu.rt_runtime_us}. Then the thread keeps the
 * normal scheduler, and that is said once in the log.
 *
 * <p>Not thread-safe: used by the thread it changes.
 */
final class Realtime {
    private static final System.Logger LOG = System.getLogger(Realtime.class.getName());
    static final String KEY = "jgovernor.classify.realtime-priority";

    private final int priority;
    /** Written by the thread it changes; read by status requests. */
    private volatile boolean refused;
    private boolean on;
    /** SCHED_FIFO was granted once: the class the thread waits for events in. */
    private volatile boolean granted;

    /** @param priority 1-99 for SCHED_FIFO; 0 to stay with the normal scheduler */
    Realtime(int priority) {
        if (priority < 0 || priority > 99) {
            throw new IllegalArgumentException(KEY + " must be 0 (normal scheduling) or a SCHED_FIFO priority 1-99, not "
                    + priority);
        }
        this.priority = priority;
    }

    /** Switches the calling thread to SCHED_FIFO, unless configured off or refused before. */
    void enter() {
        if (priority == 0 || refused || on) {
            return;
        }
        // RESET_ON_FORK: nothing this thread might start inherits the real-time class.
        int r = Libc.schedSetschedulerRaw(Libc.SCHED_FIFO | Libc.SCHED_RESET_ON_FORK, priority);
        if (r < 0) {
            refused = true;
            LOG.log(System.Logger.Level.WARNING, "classifier: the kernel refused SCHED_FIFO priority " + priority + " ("
                    + Errno.name(-r) + "); the classifier thread keeps the normal scheduler, so a matching process"
                    + " may wait a scheduler tick longer for its group. Needs CAP_SYS_NICE and, on a kernel with"
                    + " real-time group scheduling, cpu.rt_runtime_us > 0 in the daemon's cpu cgroup; " + KEY
                    + "=0 silences this");
            return;
        }
        on = true;
        if (!granted) {
            granted = true;
            LOG.log(System.Logger.Level.INFO, "classifier: its thread runs SCHED_FIFO priority " + priority
                    + " while it handles process events (" + KEY + ")");
        }
    }

    /** Back to the normal scheduler, for work that may take long. */
    void leave() {
        if (!on) {
            return;
        }
        int r = Libc.schedSetschedulerRaw(Libc.SCHED_OTHER | Libc.SCHED_RESET_ON_FORK, 0);
        if (r < 0) {
            LOG.log(System.Logger.Level.WARNING, "classifier: cannot return to the normal scheduler (" + Errno.name(-r)
                    + "); staying at SCHED_FIFO");
            return;
        }
        on = false;
    }

    /** Whether the thread is at SCHED_FIFO now (as this object set it). */
    boolean on() {
        return on;
    }

    /**
     * For status, the class the thread waits for events in (a scan in between runs at normal
     * priority): "SCHED_FIFO 1" once granted, "SCHED_OTHER" when configured off or not yet asked,
     * and says so when the kernel refused.
     */
    String describe() {
        if (refused) {
            return "SCHED_OTHER (the kernel refused SCHED_FIFO " + priority + ")";
        }
        return granted ? "SCHED_FIFO " + priority : "SCHED_OTHER";
    }
}

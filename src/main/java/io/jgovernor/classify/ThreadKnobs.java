package io.jgovernor.classify;

import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.sys.Errno;
import io.jgovernor.sys.Libc;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sets a group's {@code process:} knobs on every thread of a process jgovernor moved there, and
 * puts back what each thread had when the process leaves.
 *
 * <p>Why every thread: the kernel keeps nice, the I/O priority and the scheduling policy per
 * thread ({@code setpriority(PRIO_PROCESS, pid)} changes the one thread whose id is {@code pid},
 * whatever its name says), which is how tools that set them on the main thread only leave a
 * JVM's or a browser's workers untouched. {@code oom_score_adj} is per process.
 *
 * <p>Races, each handled without calling it an error:
 * <ul>
 *   <li>a thread that exits between the listing of /proc/PID/task and the call: ESRCH (or a stat
 *       file that is gone) means there is nothing left to set;</li>
 *   <li>a thread created meanwhile: it inherits from the thread that made it, which may not have
 *       been set yet, so the listing is repeated until it shows no new thread (and the process
 *       connector's fork events, {@link #threadStarted}, set any made later);</li>
 *   <li>a pid or tid reused by another process or thread: each is known with its start time
 *       (/proc/PID/stat), and a process whose start time differs from the one recorded is not the
 *       one that was moved: nothing is set on it, nothing "put back" into it. A thread whose id
 *       came back with another start time gets the process's earlier values, not the dead
 *       thread's.</li>
 * </ul>
 * The start time check and the call are two steps, as with any pid-based call; the window is a
 * few microseconds, and a pid is reused only after the whole pid space went round.
 *
 * <p>Not thread-safe: the classifier's thread uses it; the counter is read elsewhere.
 */
final class ThreadKnobs {
    private static final System.Logger LOG = System.getLogger(ThreadKnobs.class.getName());
    /** Threads remembered one by one per process; more (a process of thousands) get its main thread's earlier values. */
    static final int MAX_THREADS = 4096;
    /** Listings of /proc/PID/task in one pass: a process that makes threads faster than this is left to the fork events. */
    private static final int MAX_ROUNDS = 4;
    private static final int SCHED_DEADLINE = 6;

    /** What one thread had before jgovernor set anything. */
    record Before(long startTime, int nice, int ioprio, int policy, int rtPriority) {
    }

    /** One process's knobs: what is set, and what was there before. */
    static final class State {
        final long startTime;
        ProcessKnobs applied;
        /** The main thread's values before: what threads first seen later get back. */
        Before main;
        int oomScoreAdjBefore = Integer.MIN_VALUE;
        final Map<Integer, Before> threads = new HashMap<>();

        State(long startTime) {
            this.startTime = startTime;
        }
    }

    private final ProcFiles proc;
    private final AtomicLong refused = new AtomicLong();

    ThreadKnobs(ProcFiles proc) {
        this.proc = proc;
    }

    /**
     * Brings process {@code pid} to {@code desired} (empty: to what it had before): each knob the
     * policy names is set on every thread, each it named before and names no more is put back.
     * {@code state} is null for a process not yet touched. Returns the state to keep, or null
     * when nothing is set on the process any more (or it is gone, or another process has its pid).
     * {@code sweep}: when the knobs are already set, still look for threads that never got them
     * (fork events the kernel dropped, or none at all where /proc is scanned instead).
     */
    State settle(int pid, State state, Optional<ProcessKnobs> desired, boolean sweep) {
        ProcessKnobs want = desired.filter(k -> !k.isEmpty()).orElse(null);
        if (state == null && want == null) {
            return null;
        }
        long start = proc.startTime(pid);
        if (start < 0) {
            return null; // gone
        }
        if (state != null && state.startTime != start) {
            return null; // the pid is another process's now: nothing of the old one is left to put back
        }
        boolean same = state != null && want != null && want.equals(state.applied);
        if (same && !sweep) {
            return state;
        }
        boolean first = state == null;
        State s = first ? new State(start) : state;
        ProcessKnobs had = s.applied;
        if (!same) {
            oom(pid, s, had, want);
        }
        Set<Integer> done = new HashSet<>();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean fresh = false;
            for (int tid : proc.tids(pid)) {
                if (!done.add(tid)) {
                    continue;
                }
                fresh = true;
                thread(pid, tid, s, first, had, want, same);
            }
            if (!fresh || want == null) {
                break; // putting back needs no second look: a new thread was never set
            }
        }
        s.applied = want;
        if (want == null) {
            return null;
        }
        // threads whose exit events were lost (the kernel dropped messages) are not kept for ever
        s.threads.keySet().retainAll(done);
        return s;
    }

    /** A thread of a process whose knobs are set was created (a fork event with the same tgid). */
    void threadStarted(int pid, int tid, State s) {
        if (s == null || s.applied == null || proc.startTime(pid) != s.startTime) {
            return;
        }
        s.threads.remove(tid); // a new thread: what is remembered under its id was a dead thread's
        thread(pid, tid, s, false, s.applied, s.applied, true);
    }

    /** A thread exited: forget what it had. */
    static void threadExited(State s, int tid) {
        if (s != null) {
            s.threads.remove(tid);
        }
    }

    /** Calls the kernel refused (EPERM, EINVAL: not a thread that was simply gone). */
    long refusedTotal() {
        return refused.get();
    }

    private void oom(int pid, State s, ProcessKnobs had, ProcessKnobs want) {
        boolean wanted = want != null && want.oomScoreAdj().isPresent();
        boolean set = had != null && had.oomScoreAdj().isPresent();
        if (wanted && !set) {
            s.oomScoreAdjBefore = proc.oomScoreAdj(pid);
        }
        int value;
        if (wanted) {
            value = want.oomScoreAdj().getAsInt();
        } else if (set && s.oomScoreAdjBefore != Integer.MIN_VALUE) {
            value = s.oomScoreAdjBefore;
        } else {
            return;
        }
        check(proc.writeOomScoreAdj(pid, value), pid, "oom_score_adj " + value);
    }

    /**
     * One thread: remembers what it has (when the process is first set; a thread made later is
     * remembered with the main thread's earlier values), then sets or puts back each knob.
     * {@code newOnly}: only a thread not set before (the knobs are unchanged).
     */
    private void thread(int pid, int tid, State s, boolean first, ProcessKnobs had, ProcessKnobs want, boolean newOnly) {
        if (newOnly && s.threads.containsKey(tid)) {
            // set before (a sweep of a full pass): not even read, a /proc read is some 50 us a
            // thread here; an id reused by a new thread was dropped from the record at its fork event
            return;
        }
        ProcFiles.ThreadStat now = proc.threadStat(pid, tid);
        if (now == null) {
            return; // exited since the listing
        }
        Before before = s.threads.get(tid);
        if (before != null && before.startTime() != now.startTime()) {
            s.threads.remove(tid); // the id of a thread that ended, now another's
            before = null;
        }
        boolean known = before != null;
        if (!known) {
            if (first) {
                int ioprio = Libc.ioprioGetRaw(tid);
                if (ioprio < 0) {
                    return; // gone
                }
                before = new Before(now.startTime(), now.nice(), ioprio, now.policy(), now.rtPriority());
                if (tid == pid) {
                    s.main = before;
                }
            } else if (s.main != null) {
                // made after the knobs were set: what it has is inherited from them; it gets the process's earlier values back
                before = new Before(now.startTime(), s.main.nice(), s.main.ioprio(), s.main.policy(), s.main.rtPriority());
            }
            if (before != null && s.threads.size() < MAX_THREADS) {
                s.threads.put(tid, before);
            }
        }
        if (newOnly && known) {
            return;
        }
        // the policy first: sched_setscheduler keeps the nice value, and a SCHED_IDLE thread keeps one too
        if (want != null && want.schedPolicy().isPresent()) {
            if (now.policy() != SCHED_DEADLINE) { // a deadline thread's parameters could never be put back
                check(Libc.schedSetschedulerRaw(tid, want.schedPolicy().get().number, 0), tid,
                        "sched_setscheduler " + want.schedPolicy().get().key);
            }
        } else if (had != null && had.schedPolicy().isPresent() && before != null && now.policy() != SCHED_DEADLINE
                && before.policy() != SCHED_DEADLINE) {
            check(Libc.schedSetschedulerRaw(tid, before.policy(), before.rtPriority()), tid,
                    "sched_setscheduler back to policy " + before.policy());
        }
        if (want != null && want.nice().isPresent()) {
            check(Libc.setNiceRaw(tid, want.nice().getAsInt()), tid, "setpriority " + want.nice().getAsInt());
        } else if (had != null && had.nice().isPresent() && before != null) {
            check(Libc.setNiceRaw(tid, before.nice()), tid, "setpriority back to " + before.nice());
        }
        if (want != null && want.ioprio().isPresent()) {
            check(Libc.ioprioSetRaw(tid, want.ioprio().getAsInt()), tid, "ioprio_set " + want.ioClass().get().key);
        } else if (had != null && had.ioprio().isPresent() && before != null) {
            check(Libc.ioprioSetRaw(tid, before.ioprio()), tid, "ioprio_set back to " + before.ioprio());
        }
    }

    /** ESRCH and ENOENT (the thread or process is gone) are no error; the rest are counted and logged. */
    private void check(int result, int id, String what) {
        if (result >= 0 || result == -Errno.ESRCH || result == -Errno.ENOENT) {
            return;
        }
        long n = refused.incrementAndGet();
        LOG.log(n == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                "process knobs: " + what + " refused for thread " + id + ": " + Errno.name(-result)
                        + " (" + n + " refusals so far)");
    }
}

package io.jgovernor.model;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code process:}: what every thread of a process in the group runs with, set on each thread
 * (the kernel keeps nice, the I/O priority and the scheduling policy per thread) and on the
 * process for {@code oomScoreAdj} (the kernel keeps it per process). Absent fields are left as
 * the process has them.
 *
 * @param ioPriority 0 (highest) to 7, only with a class that takes a level (realtime, best-effort)
 */
public record ProcessKnobs(OptionalInt nice, Optional<IoClass> ioClass, OptionalInt ioPriority,
                           OptionalInt oomScoreAdj, Optional<SchedPolicy> schedPolicy) {
    public static final int NICE_MIN = -20;
    public static final int NICE_MAX = 19;
    public static final int IO_PRIORITY_MAX = 7;
    /** What ionice gives a class that takes a level when none is named: the middle one. */
    public static final int IO_PRIORITY_DEFAULT = 4;
    public static final int OOM_SCORE_ADJ_MIN = -1000;
    public static final int OOM_SCORE_ADJ_MAX = 1000;

    public ProcessKnobs {
        if (ioPriority.isPresent() && (ioClass.isEmpty() || !ioClass.get().takesLevel)) {
            throw new IllegalArgumentException("ioPriority needs ioClass realtime or best-effort");
        }
    }

    /** I/O scheduling classes, numbered as linux/ioprio.h numbers them (IOPRIO_CLASS_*). */
    public enum IoClass {
        /** No class of its own: the I/O scheduler derives best-effort and a level from nice. */
        NONE("none", 0, false),
        /** Served first, before any other class; needs CAP_SYS_NICE or CAP_SYS_ADMIN. */
        REALTIME("realtime", 1, true),
        BEST_EFFORT("best-effort", 2, true),
        /** Only when no other class has I/O waiting. */
        IDLE("idle", 3, false);

        public final String key;
        public final int number;
        public final boolean takesLevel;

        IoClass(String key, int number, boolean takesLevel) {
            this.key = key;
            this.number = number;
            this.takesLevel = takesLevel;
        }
    }

    /** The scheduling policies for ordinary (not real-time) threads, numbered as linux/sched.h does. */
    public enum SchedPolicy {
        OTHER("other", 0),
        /** CPU-bound batch work: no wake-up preference. */
        BATCH("batch", 3),
        /** Below nice 19: runs only when nothing else wants the CPU. */
        IDLE("idle", 5);

        public final String key;
        public final int number;

        SchedPolicy(String key, int number) {
            this.key = key;
            this.number = number;
        }
    }

    /**
     * The I/O priority as ioprio_set(2) takes it: class << 13 | level; empty without a class.
     * A class that takes a level and has none named gets {@link #IO_PRIORITY_DEFAULT}.
     */
    public OptionalInt ioprio() {
        if (ioClass.isEmpty()) {
            return OptionalInt.empty();
        }
        IoClass c = ioClass.get();
        int level = c.takesLevel ? ioPriority.orElse(IO_PRIORITY_DEFAULT) : 0;
        return OptionalInt.of(c.number << 13 | level);
    }

    public boolean isEmpty() {
        return nice.isEmpty() && ioClass.isEmpty() && oomScoreAdj.isEmpty() && schedPolicy.isEmpty();
    }

    /** As the policy writes it, for logs and the workload's hash. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("{");
        nice.ifPresent(v -> b.append("nice: ").append(v).append(", "));
        ioClass.ifPresent(v -> b.append("ioClass: ").append(v.key).append(", "));
        ioPriority.ifPresent(v -> b.append("ioPriority: ").append(v).append(", "));
        oomScoreAdj.ifPresent(v -> b.append("oomScoreAdj: ").append(v).append(", "));
        schedPolicy.ifPresent(v -> b.append("schedPolicy: ").append(v.key).append(", "));
        if (b.length() > 1) {
            b.setLength(b.length() - 2);
        }
        return b.append('}').toString();
    }
}

package io.jgovernor.model;

import java.util.OptionalLong;

/**
 * The resource limits of setrlimit(2), by the names prlimit(1) and systemd's LimitX= use, each
 * with the value a workload gets when the policy does not set it: the kernel's own for a new
 * init (INIT_RLIMITS, include/asm-generic/resource.h), never the daemon's (the JVM raises its
 * RLIMIT_NOFILE soft limit to the hard one; a workload that inherited that would carry it into
 * every select(2) and every child). RLIMIT_NOFILE is systemd's 1024:524288 instead of the
 * kernel's 1024:4096: the soft limit keeps select(2) safe, the hard one lets a program that needs
 * more raise it itself. nproc and sigpending have no fixed default: the kernel computes them from
 * the memory at boot (fork_init, set_max_threads), so a workload keeps what the daemon has.
 */
public enum Rlimit {
    CPU("cpu", Value.UNLIMITED),
    FSIZE("fsize", Value.UNLIMITED),
    DATA("data", Value.UNLIMITED),
    /** _STK_LIM, 8 MiB soft */
    STACK("stack", new Value(8L << 20, Value.INFINITY)),
    CORE("core", new Value(0, Value.INFINITY)),
    RSS("rss", Value.UNLIMITED),
    NPROC("nproc", null),
    NOFILE("nofile", new Value(1024, 524288)),
    /** MLOCK_LIMIT since Linux 5.16 (8 MiB; 64 KiB before, which systemd also raises to 8 MiB) */
    MEMLOCK("memlock", new Value(8L << 20, 8L << 20)),
    AS("as", Value.UNLIMITED),
    LOCKS("locks", Value.UNLIMITED),
    SIGPENDING("sigpending", null),
    /** MQ_BYTES_MAX */
    MSGQUEUE("msgqueue", new Value(819200, 819200)),
    NICE("nice", new Value(0, 0)),
    RTPRIO("rtprio", new Value(0, 0)),
    RTTIME("rttime", Value.UNLIMITED);

    /** The key in {@code run.limits}, and the name the exec stage takes. */
    public final String key;
    private final Value initial;

    Rlimit(String key, Value initial) {
        this.key = key;
        this.initial = initial;
    }

    /** What a workload gets when the policy does not set this limit; empty: the daemon's value, kept. */
    public java.util.Optional<Value> initial() {
        return java.util.Optional.ofNullable(initial);
    }

    /**
     * A soft and a hard limit as setrlimit(2) takes them: unsigned 64-bit numbers, where
     * {@link #INFINITY} is the kernel's RLIM_INFINITY (~0UL), written "infinity".
     */
    public record Value(long soft, long hard) {
        /** RLIM_INFINITY: all 64 bits set, which as a signed long reads -1. */
        public static final long INFINITY = 0xFFFF_FFFF_FFFF_FFFFL;
        static final Value UNLIMITED = new Value(INFINITY, INFINITY);

        /** The stage's and the policy's text of one limit: a decimal number or "infinity". */
        public static String text(long v) {
            return v == INFINITY ? "infinity" : Long.toUnsignedString(v);
        }

        /** The number, or empty for infinity. */
        public static OptionalLong finite(long v) {
            return v == INFINITY ? OptionalLong.empty() : OptionalLong.of(v);
        }

        @Override
        public String toString() {
            return text(soft) + ":" + text(hard);
        }
    }
}

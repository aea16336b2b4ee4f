package io.jgovernor.model;

import java.time.Duration;
import java.util.Locale;

/** Pressure stall information (PSI), in the kernel's words: what stalls, how, and a trigger on it. */
public final class Pressure {
    private Pressure() {
    }

    /** The three resources PSI tracks. */
    public enum Resource {
        CPU, MEMORY, IO;

        /** "cpu", "memory", "io": the policy's word and the prefix of the file name. */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** {@code cpu.pressure}, ... in a cgroup2 directory; /proc/pressure has {@link #word()}. */
        public String file() {
            return word() + ".pressure";
        }
    }

    /** {@code some}: at least one task stalled; {@code full}: every non-idle task at once. */
    public enum Stall {
        SOME, FULL;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The kernel's bounds of a trigger's window (kernel/sched/psi.c WINDOW_MIN_US, WINDOW_MAX_US). */
    public static final Duration MIN_WINDOW = Duration.ofMillis(500);
    public static final Duration MAX_WINDOW = Duration.ofSeconds(10);

    /**
     * One {@code events.pressure} entry: fire when the group's {@code stall} time on
     * {@code resource} within a moving {@code window} reaches {@code thresholdPercent} of it.
     */
    public record Trigger(Resource resource, Stall stall, double thresholdPercent, Duration window) {
        /** The stall time per window, in microseconds, as the kernel takes it (at least 1). */
        public long stallMicros() {
            return Math.max(1, Math.round(thresholdPercent / 100.0 * windowMicros()));
        }

        public long windowMicros() {
            return window.toNanos() / 1000;
        }

        /** What is written to the pressure file: {@code "some 150000 1000000"}. */
        public String kernelText() {
            return stall.word() + " " + stallMicros() + " " + windowMicros();
        }
    }
}

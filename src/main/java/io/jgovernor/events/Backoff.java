package io.jgovernor.events;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the wait before retry {@code n} (0 = the first retry) is uniform in [0, min(max, initial * 2^n)],
 * so receivers coming back up are not hit by every sender at the same instant.
 */
public record Backoff(Duration initial, Duration max) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(250), Duration.ofMinutes(5));

    public Backoff {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max, got " + initial + " and " + max);
        }
    }

    /** The upper bound of the wait before retry {@code retry}: initial doubled per retry, capped at max. */
    public long ceilingMillis(int retry) {
        long initialMs = Math.max(1, initial.toMillis());
        long maxMs = max.toMillis();
        int shift = Math.min(Math.max(retry, 0), 62);
        long ceiling = initialMs > (maxMs >> shift) ? maxMs : initialMs << shift;
        return Math.min(ceiling, maxMs);
    }

    /** A wait drawn uniformly from [0, ceiling(retry)]. */
    public long delayMillis(int retry, RandomGenerator random) {
        return random.nextLong(ceilingMillis(retry) + 1);
    }
}

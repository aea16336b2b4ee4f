package io.jgovernor.events;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {
    @Test
    void theCeilingDoublesFromTheInitialWaitUpToTheCap() {
        Backoff b = Backoff.DEFAULT;
        assertEquals(250, b.ceilingMillis(0));
        assertEquals(500, b.ceilingMillis(1));
        assertEquals(1000, b.ceilingMillis(2));
        assertEquals(256000, b.ceilingMillis(10));
        assertEquals(300000, b.ceilingMillis(11));
        assertEquals(300000, b.ceilingMillis(1000)); // no overflow however long a receiver stays down
        assertEquals(300000, b.ceilingMillis(Integer.MAX_VALUE));
    }

    @Test
    void delaysAreJitteredWithinZeroAndTheCeiling() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
        SplittableRandom random = new SplittableRandom(7);
        for (int retry = 0; retry < 40; retry++) {
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int k = 0; k < 2000; k++) {
                long d = b.delayMillis(retry, random);
                assertTrue(d >= 0 && d <= b.ceilingMillis(retry), "retry " + retry + ": " + d);
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            // full jitter: the whole range is used, not a narrow band around the ceiling
            assertTrue(min < b.ceilingMillis(retry) / 4 && max > b.ceilingMillis(retry) * 3 / 4,
                    "retry " + retry + " spread " + min + ".." + max);
        }
    }

    @Test
    void nonsenseBoundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    }
}

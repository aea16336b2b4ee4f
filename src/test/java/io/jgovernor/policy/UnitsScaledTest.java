package io.jgovernor.policy;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Units.Scaled (sizes and durations in long arithmetic) against BigDecimal, which the parser used
 * before: the same whole value, the same "truncated" and "too large" answers.
 */
class UnitsScaledTest {
    private static final long[] MULTIPLIERS = {1, 1L << 10, 1L << 20, 1L << 30, 1L << 40,
            1_000L, 1_000_000L, 1_000_000_000L, 60_000_000_000L, 3_600_000_000_000L};
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private static void agrees(String number, long multiplier) {
        BigDecimal product = new BigDecimal(number).multiply(BigDecimal.valueOf(multiplier));
        BigInteger whole = product.setScale(0, RoundingMode.DOWN).toBigIntegerExact();
        Units.Scaled s = Units.Scaled.of(number, multiplier);
        String what = number + " * " + multiplier;
        assertEquals(product.stripTrailingZeros().scale() <= 0, s.exact(), what + ": exact");
        assertEquals(whole.compareTo(LONG_MAX) > 0, s.overflow(), what + ": overflow");
        if (!s.overflow()) {
            assertEquals(whole.longValueExact(), s.whole(), what);
        }
    }

    @Test
    void edgesAgreeWithBigDecimal() {
        String[] numbers = {"0", "1", "0.5", "1.5", "0.0009765625", "0.001", "0.0000000001", "1.000000000000000000000000001",
                "9223372036854775807", "9223372036854775808", "0009223372036854775807", "99999999999999999999999",
                "8388607.9999999999", "8388608", "2562047.788015215", "2562047.7880152155", "153722.86", "0.1234567891234"};
        for (String n : numbers) {
            for (long m : MULTIPLIERS) {
                agrees(n, m);
            }
        }
    }

    @Test
    void randomNumbersAgreeWithBigDecimal() {
        Random r = new Random(18);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder();
            int intDigits = 1 + r.nextInt(21);
            for (int d = 0; d < intDigits; d++) {
                b.append((char) ('0' + r.nextInt(10)));
            }
            if (r.nextBoolean()) {
                b.append('.');
                int fracDigits = 1 + r.nextInt(25);
                for (int d = 0; d < fracDigits; d++) {
                    b.append((char) ('0' + (r.nextInt(4) == 0 ? 0 : r.nextInt(10))));
                }
            }
            agrees(b.toString(), MULTIPLIERS[r.nextInt(MULTIPLIERS.length)]);
        }
    }

    @Test
    void sizesAndDurationsKeepTheirAnswers() {
        assertEquals(io.jgovernor.model.Limit.of(1536), Units.size("1.5K", false));
        assertEquals(java.time.Duration.ofNanos(1_500), Units.duration("1.5us"));
        assertEquals(java.time.Duration.ofNanos(1), Units.duration("0.0019us"));
        assertTrue(message(() -> Units.size("0.3K", false)).contains("not a whole number of bytes"));
        assertTrue(message(() -> Units.size("8388608Ti", false)).contains("larger than any size"));
        assertTrue(message(() -> Units.duration("2562048h")).contains("longer than any duration"));
        assertFalse(Units.Scaled.of("2562047.788015215", 3_600_000_000_000L).overflow());
    }

    private static String message(Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }
}

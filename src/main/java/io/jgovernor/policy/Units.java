package io.jgovernor.policy;

import io.jgovernor.model.Limit;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The units a policy is written in: sizes, durations and percentages. Each parser throws
 * {@link IllegalArgumentException} with a sentence that says how to write the value instead.
 */
final class Units {
    private static final String NUMBER = "(\\d+(?:\\.\\d+)?)";
    private static final Pattern SIZE = Pattern.compile(NUMBER + "\\s*(Ki|Mi|Gi|Ti|K|M|G|T)?");
    private static final Pattern DURATION = Pattern.compile(NUMBER + "\\s*(us|ms|s|m|h)");
    private static final Pattern BARE = Pattern.compile(NUMBER);
    private static final Pattern PERCENT = Pattern.compile(NUMBER + "\\s*%");

    private Units() {
    }

    /** Bytes, or a number with a 1024-based suffix; "max" when {@code maxAllowed}. */
    static Limit size(String text, boolean maxAllowed) {
        String t = text.strip();
        if (maxAllowed && t.equals("max")) {
            return Limit.MAX;
        }
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is not a size; write bytes, or a number with K, M, G, T"
                    + " (1024-based) or Ki, Mi, Gi, Ti, like \"256Mi\"" + (maxAllowed ? ", or \"max\"" : ""));
        }
        Scaled bytes = Scaled.of(m.group(1), multiplier(m.group(2)));
        if (!bytes.exact()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is not a whole number of bytes");
        }
        if (bytes.overflow()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is larger than any size the kernel accepts");
        }
        return Limit.of(bytes.whole());
    }

    /**
     * A decimal number ({@code digits[.digits]}) times a multiplier, truncated toward zero, in long
     * arithmetic: exact, and without BigDecimal, whose class initialisation alone costs about 20 ms
     * of a daemon's start (issue 18). {@code exact}: nothing was truncated; {@code overflow}: the
     * product is past Long.MAX_VALUE ({@code whole} is then meaningless).
     */
    record Scaled(long whole, boolean exact, boolean overflow) {
        static Scaled of(String number, long multiplier) {
            int dot = number.indexOf('.');
            String integer = dot < 0 ? number : number.substring(0, dot);
            // The fraction times the multiplier, digit by digit from the last: floor((d * m + q) / 10)
            // at each step is the floor of the exact value, since d * m is whole; a remainder at any
            // step leaves a fraction no later step can cancel. d * m + q < 10 * m never overflows
            // for the multipliers here (at most an hour in nanoseconds).
            long fraction = 0;
            boolean exact = true;
            for (int i = number.length() - 1; i > dot && dot >= 0; i--) {
                long n = (number.charAt(i) - '0') * multiplier + fraction;
                exact &= n % 10 == 0;
                fraction = n / 10;
            }
            try {
                return new Scaled(Math.addExact(Math.multiplyExact(Long.parseLong(integer), multiplier), fraction), exact, false);
            } catch (NumberFormatException | ArithmeticException e) { // more digits than a long holds, or the product
                return new Scaled(0, exact, true);
            }
        }
    }

    private static long multiplier(String suffix) {
        if (suffix == null) {
            return 1;
        }
        return switch (suffix.charAt(0)) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            case 'T' -> 1L << 40;
            default -> throw new IllegalStateException(suffix);
        };
    }

    static Duration duration(String text) {
        String t = text.strip();
        if (BARE.matcher(t).matches()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " has no unit; write it like \"" + t
                    + "s\" (units: us, ms, s, m, h)");
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is not a duration; write a number with us, ms, s, m"
                    + " or h, like \"100ms\"");
        }
        long unitNanos = switch (m.group(2)) {
            case "us" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> throw new IllegalStateException(m.group(2));
        };
        Scaled nanos = Scaled.of(m.group(1), unitNanos);
        if (nanos.overflow()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is longer than any duration jgovernor can wait");
        }
        return Duration.ofNanos(nanos.whole());
    }

    static double percent(String text) {
        String t = text.strip();
        if (BARE.matcher(t).matches()) {
            throw new IllegalArgumentException(Nodes.quote(t) + " is not a percentage; write it like \"" + t + "%\"");
        }
        Matcher m = PERCENT.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(Nodes.quote(text) + " is not a percentage; write it like \"50%\"");
        }
        return Double.parseDouble(m.group(1));
    }

    /** The shortest exact way to write a duration in policy units, for messages. */
    static String format(Duration d) {
        long nanos = d.toNanos();
        long[] units = {3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L};
        String[] names = {"h", "m", "s", "ms", "us"};
        for (int i = 0; i < units.length; i++) {
            if (nanos % units[i] == 0) {
                return nanos / units[i] + names[i];
            }
        }
        return BigDecimal.valueOf(nanos, 3).stripTrailingZeros().toPlainString() + "us";
    }

    /** A number without a trailing ".0", for messages. */
    static String format(double value) {
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}

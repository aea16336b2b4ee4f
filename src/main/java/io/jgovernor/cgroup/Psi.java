package io.jgovernor.cgroup;

import io.jgovernor.model.Pressure;

import java.util.OptionalLong;

/**
 * The totals of one pressure stall information file ({@code cpu.pressure}, {@code memory.pressure},
 * {@code io.pressure} of a cgroup2 directory, or {@code /proc/pressure/*}):
 *
 * <pre>
 * some avg10=0.00 avg60=0.00 avg300=0.00 total=2868709
 * full avg10=0.00 avg60=0.00 avg300=0.00 total=943834
 * </pre>
 *
 * {@code total} is the time, in microseconds since the cgroup was made (or boot), during which at
 * least one task ({@code some}) or every non-idle task ({@code full}) was stalled on the resource.
 * The averages are left out: Prometheus makes its own rates from the totals. Kernels before 5.13
 * have no {@code full} line in cpu files, so it is optional.
 */
public record Psi(long someMicros, OptionalLong fullMicros) {
    /** The total of {@code stall} in microseconds; empty for a {@code full} line the kernel lacks. */
    public OptionalLong micros(Pressure.Stall stall) {
        return stall == Pressure.Stall.SOME ? OptionalLong.of(someMicros) : fullMicros;
    }

    /**
     * @throws IllegalArgumentException when there is no {@code some} line with a {@code total=}, or a
     *                                  total is not a non-negative decimal
     */
    public static Psi parse(String text) {
        long some = -1;
        long full = -1;
        int n = text.length();
        int line = 0;
        while (line < n) {
            int eol = CgroupText.lineEnd(text, line);
            if (text.startsWith("some ", line)) {
                some = total(text, line, eol);
            } else if (text.startsWith("full ", line)) {
                full = total(text, line, eol);
            }
            line = eol + 1;
        }
        if (some < 0) {
            throw new IllegalArgumentException("no \"some ... total=N\" line");
        }
        return new Psi(some, full < 0 ? OptionalLong.empty() : OptionalLong.of(full));
    }

    private static long total(String text, int start, int end) {
        int at = text.indexOf("total=", start);
        if (at < 0 || at >= end) {
            throw new IllegalArgumentException("no total= in \"" + text.substring(start, end) + "\"");
        }
        int from = at + "total=".length();
        int to = from;
        while (to < end && !Character.isWhitespace(text.charAt(to))) {
            to++;
        }
        return CgroupText.single(text.substring(from, to));
    }
}

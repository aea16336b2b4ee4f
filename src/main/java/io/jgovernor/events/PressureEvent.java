package io.jgovernor.events;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;

/**
 * One firing of an {@code events.pressure} trigger (daemon.md, second wave): the kernel saw the
 * group's {@code stall} time on {@code resource} reach {@code thresholdPercent} of a moving
 * {@code windowSeconds} window.
 *
 * @param cgroup            the group's cgroup2 directory as the kernel names it (/proc/PID/cgroup)
 * @param stallSecondsTotal the stall total of that line ({@code total=}) read as the event was made
 */
public record PressureEvent(UUID id, Instant time, String host, String group, String cgroup, String resource,
                            String stall, double thresholdPercent, double windowSeconds, double stallSecondsTotal)
        implements Event {
    public static final String TYPE = "io.jgovernor.pressure";

    public PressureEvent {
        time = time.truncatedTo(ChronoUnit.MILLIS);
    }

    public String source() {
        return "jgovernor://" + host + "/" + group;
    }

    @Override
    public String toCloudEvent() {
        StringBuilder j = JsonText.cloudEvent(TYPE, host, group, cgroup, id, time);
        j.append(",\"resource\":");
        JsonText.quote(j, resource);
        j.append(",\"stall\":");
        JsonText.quote(j, stall);
        j.append(",\"thresholdPercent\":").append(number(thresholdPercent));
        j.append(",\"windowSeconds\":").append(number(windowSeconds));
        j.append(",\"stallSecondsTotal\":").append(number(stallSecondsTotal));
        return j.append("}}").toString();
    }

    /** Plain JSON decimals: 10, 2.5, 0.000297 (never 1.0E-4, which some receivers' parsers refuse). */
    private static String number(double v) {
        if (!Double.isFinite(v)) {
            return "0";
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /**
     * Reads back a document {@link #toCloudEvent()} wrote.
     *
     * @throws IllegalArgumentException when it is not one
     */
    @SuppressWarnings("unchecked")
    public static PressureEvent fromCloudEvent(String json) {
        Map<String, Object>[] parts = JsonText.cloudEventParts(json, TYPE);
        Map<String, Object> root = parts[0];
        try {
            Map<String, Object> data = parts[1];
            return new PressureEvent(UUID.fromString(JsonText.need(root, "id", String.class)),
                    Instant.parse(JsonText.need(root, "time", String.class)), JsonText.need(data, "host", String.class),
                    JsonText.need(data, "group", String.class), JsonText.need(data, "cgroup", String.class),
                    JsonText.need(data, "resource", String.class), JsonText.need(data, "stall", String.class),
                    JsonText.need(data, "thresholdPercent", Number.class).doubleValue(),
                    JsonText.need(data, "windowSeconds", Number.class).doubleValue(),
                    JsonText.need(data, "stallSecondsTotal", Number.class).doubleValue());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad event: " + e.getMessage(), e);
        }
    }
}

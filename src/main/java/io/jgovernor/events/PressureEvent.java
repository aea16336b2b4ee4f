package io.jgovernor.events;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
    private static final DateTimeFormatter RFC3339_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    public PressureEvent {
        time = time.truncatedTo(ChronoUnit.MILLIS);
    }

    public String source() {
        return "jgovernor://" + host + "/" + group;
    }

    @Override
    public String toCloudEvent() {
        StringBuilder j = new StringBuilder(384);
        j.append("{\"specversion\":\"1.0\",\"type\":\"").append(TYPE).append("\",\"source\":");
        JsonText.quote(j, source());
        j.append(",\"id\":");
        JsonText.quote(j, id.toString());
        j.append(",\"time\":\"").append(RFC3339_MILLIS.format(time)).append('"');
        j.append(",\"datacontenttype\":\"application/json\",\"data\":{\"group\":");
        JsonText.quote(j, group);
        j.append(",\"host\":");
        JsonText.quote(j, host);
        j.append(",\"cgroup\":");
        JsonText.quote(j, cgroup);
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
        Object parsed = JsonText.parse(json);
        if (!(parsed instanceof Map<?, ?> root) || !"1.0".equals(root.get("specversion"))
                || !TYPE.equals(root.get("type"))) {
            throw new IllegalArgumentException("not a CloudEvents 1.0 " + TYPE + " document");
        }
        try {
            Map<String, Object> data = (Map<String, Object>) need(root, "data", Map.class);
            return new PressureEvent(UUID.fromString(need(root, "id", String.class)),
                    Instant.parse(need(root, "time", String.class)), need(data, "host", String.class),
                    need(data, "group", String.class), need(data, "cgroup", String.class),
                    need(data, "resource", String.class), need(data, "stall", String.class),
                    need(data, "thresholdPercent", Number.class).doubleValue(),
                    need(data, "windowSeconds", Number.class).doubleValue(),
                    need(data, "stallSecondsTotal", Number.class).doubleValue());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad event: " + e.getMessage(), e);
        }
    }

    private static <T> T need(Map<?, ?> m, String key, Class<T> type) {
        Object v = m.get(key);
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException("\"" + key + "\" is missing or not a " + type.getSimpleName());
        }
        return type.cast(v);
    }
}

package io.jgovernor.events;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One OOM notification of one group, as read from the kernel the moment it came. The {@code id}
 * is fixed when the event is made and stays the same on every delivery attempt and across daemon
 * restarts, so receivers can de-duplicate.
 *
 * @param cgroup            the group's memory cgroup as the kernel names it (the path shown in
 *                          /proc/PID/cgroup), e.g. {@code /system.slice/jgovernor.service/jgovernor/web}
 * @param oomKills          processes the kernel killed in the group since the previous event of the
 *                          group (0 when it notified without killing, e.g. with oom_kill_disable)
 * @param processes         the group's processes at that moment (a killed one may still be listed)
 * @param whileDown         the kills happened while no daemon watched: found at start from the
 *                          kernel's counter against the count the last run kept (daemon.md, second
 *                          wave); {@code oomKills} is all of them, the other fields are read at start
 */
public record OomEvent(UUID id, Instant time, String host, String group, String cgroup, long oomKills,
                       long memoryLimitBytes, long memoryUsageBytes, List<Process> processes, boolean whileDown) implements Event {
    public static final String TYPE = "io.jgovernor.oom";

    /** A process of the group: its pid and its command name ({@code /proc/PID/comm}). */
    public record Process(int pid, String comm) {
    }

    public OomEvent {
        time = time.truncatedTo(ChronoUnit.MILLIS); // what the document carries, so it reads back equal
        processes = List.copyOf(processes);
    }

    /** An event of a notification, seen as it came. */
    public OomEvent(UUID id, Instant time, String host, String group, String cgroup, long oomKills,
                    long memoryLimitBytes, long memoryUsageBytes, List<Process> processes) {
        this(id, time, host, group, cgroup, oomKills, memoryLimitBytes, memoryUsageBytes, processes, false);
    }

    /** {@code jgovernor://HOST/GROUP}. */
    public String source() {
        return "jgovernor://" + host + "/" + group;
    }

    /**
     * The CloudEvents 1.0 structured JSON document (daemon.md, "Events and webhooks"). The
     * processes are an extension inside {@code data}: CloudEvents extension attributes may not be
     * arrays, {@code data} may hold anything.
     */
    public String toCloudEvent() {
        StringBuilder j = JsonText.cloudEvent(TYPE, host, group, cgroup, id, time);
        j.append(",\"oomKills\":").append(oomKills);
        j.append(",\"memoryLimitBytes\":").append(memoryLimitBytes);
        j.append(",\"memoryUsageBytes\":").append(memoryUsageBytes);
        if (whileDown) {
            j.append(",\"whileDown\":true"); // only then: the documents of live events stay as they were
        }
        j.append(",\"processes\":[");
        for (int k = 0; k < processes.size(); k++) {
            Process p = processes.get(k);
            j.append(k == 0 ? "" : ",").append("{\"pid\":").append(p.pid()).append(",\"comm\":");
            JsonText.quote(j, p.comm());
            j.append('}');
        }
        return j.append("]}}").toString();
    }

    /**
     * Reads back a document {@link #toCloudEvent()} wrote.
     *
     * @throws IllegalArgumentException when it is not one
     */
    @SuppressWarnings("unchecked")
    public static OomEvent fromCloudEvent(String json) {
        Map<String, Object>[] parts = JsonText.cloudEventParts(json, TYPE);
        Map<String, Object> root = parts[0];
        Map<String, Object> data = parts[1];
        List<Process> processes = new ArrayList<>();
        Object list = data.get("processes");
        if (list instanceof List<?> l) {
            for (Object o : l) {
                Map<String, Object> p = (Map<String, Object>) o;
                processes.add(new Process(JsonText.need(p, "pid", Long.class).intValue(), JsonText.need(p, "comm", String.class)));
            }
        }
        try {
            return new OomEvent(UUID.fromString(JsonText.need(root, "id", String.class)),
                    Instant.parse(JsonText.need(root, "time", String.class)),
                    JsonText.need(data, "host", String.class), JsonText.need(data, "group", String.class),
                    JsonText.need(data, "cgroup", String.class), JsonText.need(data, "oomKills", Long.class),
                    JsonText.need(data, "memoryLimitBytes", Long.class), JsonText.need(data, "memoryUsageBytes", Long.class),
                    processes, Boolean.TRUE.equals(data.get("whileDown")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad event: " + e.getMessage(), e);
        }
    }
}

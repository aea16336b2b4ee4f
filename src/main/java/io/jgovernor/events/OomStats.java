package io.jgovernor.events;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * OOM counters per group, for {@code jgovernor_group_oom_events_total} and
 * {@code jgovernor_group_oom_kills_total}. Counters of a group whose policy went away are kept
 * (counters must not go down while the daemon runs).
 */
public final class OomStats {
    /** One group's totals. */
    public record Totals(long events, long kills) {
    }

    private static final class Counters {
        final LongAdder events = new LongAdder();
        final LongAdder kills = new LongAdder();
    }

    private final Map<String, Counters> byGroup = new ConcurrentHashMap<>();

    void record(String group, long kills) {
        Counters c = byGroup.computeIfAbsent(group, g -> new Counters());
        c.events.increment();
        c.kills.add(Math.max(0, kills));
    }

    /** A snapshot, by group name. */
    public Map<String, Totals> snapshot() {
        Map<String, Totals> out = new TreeMap<>();
        byGroup.forEach((g, c) -> out.put(g, new Totals(c.events.sum(), c.kills.sum())));
        return out;
    }

    public Totals of(String group) {
        Counters c = byGroup.get(group);
        return c == null ? new Totals(0, 0) : new Totals(c.events.sum(), c.kills.sum());
    }
}

package io.jgovernor.cgroup;

import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What the kernel says about one group at one moment. A field is empty when the group has no
 * directory in that hierarchy (its policy does not use the controller), when the file could not be
 * read, or, for the limits, when there is none. Each field is filled by the controller whose file
 * it comes from ({@link Controller#readStats}); sources are named for v1 here, the v2 controllers
 * say theirs (cpu.stat usage_usec and throttled_usec, in ns here, cpu.max, memory.current,
 * memory.max, memory.events oom_kill, io.stat and the group's one cgroup.procs).
 *
 * @param cpuUsageNanos     cpuacct.usage: CPU time of the group and its descendants
 * @param cpuQuotaCores     cpu.cfs_quota_us / cpu.cfs_period_us; empty without a quota
 * @param memoryLimitBytes  memory.limit_in_bytes; empty when it is the kernel's "no limit"
 * @param memoryUnlimited   the memory directory is there and its limit is the kernel's "no limit"
 * @param io                blkio.throttle.io_service_bytes, per device
 * @param processes         lines of cgroup.procs in the cpuacct directory (every group has one)
 * @param series            what controllers report with no field of their own here (see {@link Series})
 */
public record GroupSample(GroupName group, OptionalLong cpuUsageNanos, OptionalLong throttledPeriods,
                          OptionalLong throttledNanos, OptionalDouble cpuQuotaCores,
                          OptionalLong memoryUsageBytes, OptionalLong memoryLimitBytes, boolean memoryUnlimited,
                          OptionalLong oomKills, List<DeviceIo> io, OptionalLong pidsCurrent,
                          OptionalLong processes, List<Series> series) {
    public GroupSample {
        series = List.copyOf(series);
    }

    /**
     * One value a controller reports as a series of its own, named as the spec names it (e.g.
     * {@code jgovernor_group_frozen}): a new controller's stats need no field here and no line in
     * the collector, which reports every series under its metric, with the group's label and
     * {@code labels}.
     *
     * @param metric  the metric's name, without the {@code _total} a counter gets when exposed
     * @param unit    the unit's name as Prometheus spells it ("bytes", "seconds"), or null
     * @param counter a counter (only grows) rather than a gauge
     * @param labels  labels besides "group", e.g. {"pagesize": "2MB"}; empty for none
     */
    public record Series(String metric, String help, String unit, boolean counter, java.util.Map<String, String> labels,
                         double value) {
        public Series {
            labels = java.util.Map.copyOf(labels);
        }
    }

    /** The keys of v2 memory.events reported as jgovernor_group_memory_events_total{event}, in the kernel's order. */
    public static final List<String> MEMORY_EVENTS = List.of("low", "high", "max", "oom", "oom_kill", "oom_group_kill");

    /**
     * Working set = usage - inactive file pages, cAdvisor's figure (what kubelet evicts on): page
     * cache the kernel would drop first is not counted. Clamped at 0, as cAdvisor does (the two
     * files are not read at the same instant). {@code inactiveKey}: v1 memory.stat
     * total_inactive_file (hierarchical, as usage_in_bytes is), v2 inactive_file.
     */
    public static void workingSet(StatReader in, Path dir, Builder sample, String inactiveKey) {
        if (sample.memoryUsageBytes.isEmpty()) {
            return;
        }
        String stat = in.text(dir, "memory.stat");
        if (stat == null) {
            return;
        }
        OptionalLong inactive = in.keyed(dir, "memory.stat", stat, inactiveKey);
        if (inactive.isPresent()) {
            sample.series(new Series("jgovernor_group_memory_working_set_bytes",
                    "Memory usage minus inactive file pages, as cAdvisor defines it (memory.usage_in_bytes - "
                            + "total_inactive_file; v2 memory.current - inactive_file)", "bytes", false, java.util.Map.of(),
                    Math.max(0, sample.memoryUsageBytes.getAsLong() - inactive.getAsLong())));
        }
    }

    /** v2 memory.events: each key this kernel has (oom_group_kill came in 5.4). */
    public static void memoryEvents(StatReader in, Path dir, Builder sample, String text) {
        for (String key : MEMORY_EVENTS) {
            OptionalLong v = in.keyed(dir, "memory.events", text, key);
            if (v.isPresent()) {
                sample.series(new Series("jgovernor_group_memory_events",
                        "cgroup v2 memory.events counters of the group and its children, by event (low, high, max, "
                                + "oom, oom_kill, oom_group_kill)", null, true, java.util.Map.of("event", key),
                        v.getAsLong()));
            }
        }
    }

    /**
     * One sample being read: each controller sets the fields of its files, on the one thread that
     * reads the group. A new controller's stat is a {@link Series} it adds; the fields are the
     * first wave's.
     */
    public static final class Builder {
        private final GroupName group;
        public OptionalLong cpuUsageNanos = OptionalLong.empty();
        public OptionalLong throttledPeriods = OptionalLong.empty();
        public OptionalLong throttledNanos = OptionalLong.empty();
        public OptionalDouble cpuQuotaCores = OptionalDouble.empty();
        public OptionalLong memoryUsageBytes = OptionalLong.empty();
        public OptionalLong memoryLimitBytes = OptionalLong.empty();
        public boolean memoryUnlimited;
        public OptionalLong oomKills = OptionalLong.empty();
        public List<DeviceIo> io = List.of();
        public OptionalLong pidsCurrent = OptionalLong.empty();
        public OptionalLong processes = OptionalLong.empty();
        private final java.util.ArrayList<Series> series = new java.util.ArrayList<>(0);

        public Builder(GroupName group) {
            this.group = group;
        }

        /** Adds a series of the controller's own (see {@link Series}). */
        public void series(Series s) {
            series.add(s);
        }

        public GroupSample build() {
            return new GroupSample(group, cpuUsageNanos, throttledPeriods, throttledNanos, cpuQuotaCores,
                    memoryUsageBytes, memoryLimitBytes, memoryUnlimited, oomKills, io, pidsCurrent, processes, series);
        }
    }
}

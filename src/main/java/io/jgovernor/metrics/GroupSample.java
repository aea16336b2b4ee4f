package io.jgovernor.metrics;

import io.jgovernor.model.GroupName;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What the kernel says about one group at one moment. A field is empty when the group has no
 * directory in that hierarchy (its policy does not use the controller), when the file could not be
 * read, or, for the limits, when there is none. Sources are named for v1; on v2 they are cpu.stat
 * usage_usec and throttled_usec (in ns here), cpu.max, memory.current, memory.max, memory.events
 * oom_kill, io.stat and the group's one cgroup.procs.
 *
 * @param cpuUsageNanos     cpuacct.usage: CPU time of the group and its descendants
 * @param cpuQuotaCores     cpu.cfs_quota_us / cpu.cfs_period_us; empty without a quota
 * @param memoryLimitBytes  memory.limit_in_bytes; empty when it is the kernel's "no limit"
 * @param memoryUnlimited   the memory directory is there and its limit is the kernel's "no limit"
 * @param io                blkio.throttle.io_service_bytes, per device
 * @param processes         lines of cgroup.procs in the cpuacct directory (every group has one)
 * @param memoryWorkingSetBytes usage minus inactive file pages, as cAdvisor defines it (v1:
 *                          memory.usage_in_bytes − memory.stat total_inactive_file; v2:
 *                          memory.current − memory.stat inactive_file), never below 0
 * @param memoryEvents      v2 memory.events by key (low, high, max, oom, oom_kill, oom_group_kill);
 *                          empty on v1, which has no such file
 */
public record GroupSample(GroupName group, OptionalLong cpuUsageNanos, OptionalLong throttledPeriods,
                          OptionalLong throttledNanos, OptionalDouble cpuQuotaCores,
                          OptionalLong memoryUsageBytes, OptionalLong memoryLimitBytes, boolean memoryUnlimited,
                          OptionalLong oomKills, List<DeviceIo> io, OptionalLong pidsCurrent,
                          OptionalLong processes, OptionalLong memoryWorkingSetBytes,
                          Map<String, Long> memoryEvents) {
    public GroupSample {
        memoryEvents = Map.copyOf(memoryEvents);
    }

    /** The keys of v2 memory.events reported, in the kernel's order. */
    public static final List<String> MEMORY_EVENTS = List.of("low", "high", "max", "oom", "oom_kill", "oom_group_kill");
}

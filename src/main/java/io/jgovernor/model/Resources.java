package io.jgovernor.model;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a policy asks of the kernel. Every field is optional: absent means "not managed", which
 * the controllers turn into the kernel default of a fresh cgroup.
 */
public record Resources(Optional<Cpu> cpu, Optional<Cpuset> cpuset, Optional<Memory> memory,
                        Optional<Io> io, Optional<Pids> pids) {
    public static final Resources NONE =
            new Resources(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    /** shares (v1) and weight (v2) are alternatives; quota is a percentage of one CPU. */
    public record Cpu(OptionalLong shares, OptionalLong weight, OptionalDouble quotaPercent,
                      Optional<Duration> period) {
        public static final Duration DEFAULT_PERIOD = Duration.ofMillis(100);

        public Duration periodOrDefault() {
            return period.orElse(DEFAULT_PERIOD);
        }
    }

    /** Either explicit cpus/mems, or a NUMA node resolved against the host at plan time. */
    public record Cpuset(Optional<CpuList> cpus, Optional<CpuList> mems, OptionalInt numaNode) {
    }

    public record Memory(Optional<Limit> limit, Optional<Limit> swapLimit, Optional<Boolean> oomKillDisable) {
    }

    public record Io(OptionalInt weight, List<DeviceLimits> devices) {
        public Io {
            devices = List.copyOf(devices);
        }
    }

    /**
     * Throttles for one block device. {@code device} is what the policy said (a path or
     * "MAJ:MIN"); {@code number} is what it resolved to on this host.
     */
    public record DeviceLimits(String device, DeviceNumber number, Optional<Limit> readBps,
                               Optional<Limit> writeBps, Optional<Limit> readIops, Optional<Limit> writeIops) {
    }

    public record Pids(Optional<Limit> max) {
    }
}

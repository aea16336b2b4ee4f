package io.jgovernor.testing;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** Short ways to write Resources in tests. */
public final class TestResources {
    private TestResources() {
    }

    public static Resources cpu(Resources.Cpu cpu) {
        return new Resources(Optional.of(cpu), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    public static Resources.Cpu shares(long shares) {
        return new Resources.Cpu(OptionalLong.of(shares), OptionalLong.empty(), OptionalDouble.empty(), Optional.empty());
    }

    public static Resources.Cpu weight(long weight) {
        return new Resources.Cpu(OptionalLong.empty(), OptionalLong.of(weight), OptionalDouble.empty(), Optional.empty());
    }

    public static Resources.Cpu cpuFull(long shares, double quotaPercent, Duration period) {
        return new Resources.Cpu(OptionalLong.of(shares), OptionalLong.empty(), OptionalDouble.of(quotaPercent),
                Optional.ofNullable(period));
    }

    public static Resources cpuset(String cpus, String mems) {
        return new Resources(Optional.empty(), Optional.of(new Resources.Cpuset(
                Optional.ofNullable(cpus).map(CpuList::parse), Optional.ofNullable(mems).map(CpuList::parse),
                OptionalInt.empty())), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public static Resources memory(Limit limit, Limit swapLimit, Boolean oomKillDisable) {
        return new Resources(Optional.empty(), Optional.empty(), Optional.of(new Resources.Memory(
                Optional.ofNullable(limit), Optional.ofNullable(swapLimit), Optional.ofNullable(oomKillDisable))),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    public static Resources io(Integer weight, Resources.DeviceLimits... devices) {
        return new Resources(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.of(new Resources.Io(weight == null ? OptionalInt.empty() : OptionalInt.of(weight),
                        List.of(devices))), Optional.empty(), Optional.empty());
    }

    /** Limits for one device; null leaves a key out. */
    public static Resources.DeviceLimits device(String majMin, Limit readBps, Limit writeBps, Limit readIops,
                                                Limit writeIops) {
        return new Resources.DeviceLimits(majMin, DeviceNumber.parse(majMin), Optional.ofNullable(readBps),
                Optional.ofNullable(writeBps), Optional.ofNullable(readIops), Optional.ofNullable(writeIops));
    }

    public static Resources pids(Limit max) {
        return new Resources(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.of(new Resources.Pids(Optional.ofNullable(max))), Optional.empty());
    }

    /** A device allow list of rules like "c 1:3 rwm". */
    public static Resources devices(String... rules) {
        return Resources.NONE.withDevices(Optional.of(new Resources.Devices(
                java.util.Arrays.stream(rules).map(io.jgovernor.model.DeviceRule::parse).toList())));
    }

    /** Every section at once. */
    public static Resources all(Resources... parts) {
        Resources out = Resources.NONE;
        for (Resources r : parts) {
            out = new Resources(r.cpu().or(out::cpu), r.cpuset().or(out::cpuset), r.memory().or(out::memory),
                    r.io().or(out::io), r.pids().or(out::pids), r.devices().or(out::devices));
        }
        return out;
    }

    // ---- freezer, hugetlb, network, perf_event ----

    private static Resources subsystems(Resources.Freezer freezer, Resources.Hugetlb hugetlb, Resources.Network network,
                                        Boolean perfEvent) {
        return new Resources(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), new java.util.TreeMap<>(), Optional.ofNullable(freezer), Optional.ofNullable(hugetlb),
                Optional.ofNullable(network), Optional.ofNullable(perfEvent));
    }

    public static Resources frozen(boolean frozen) {
        return subsystems(new Resources.Freezer(frozen), null, null, null);
    }

    /** Pairs of page size and limit in bytes. */
    public static Resources hugetlb(long... sizeLimitPairs) {
        List<Resources.HugePageLimit> limits = new java.util.ArrayList<>();
        for (int i = 0; i < sizeLimitPairs.length; i += 2) {
            limits.add(new Resources.HugePageLimit(sizeLimitPairs[i], Limit.of(sizeLimitPairs[i + 1])));
        }
        return subsystems(null, new Resources.Hugetlb(limits), null, null);
    }

    /** A class id (null: none) and interface priorities. */
    public static Resources network(Long classId, java.util.Map<String, Long> priorities) {
        return subsystems(null, null, new Resources.Network(classId == null ? OptionalLong.empty()
                : OptionalLong.of(classId), new java.util.TreeMap<>(priorities)), null);
    }

    public static Resources perfEvent(boolean on) {
        return subsystems(null, null, null, on);
    }
}

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
                        Optional<Io> io, Optional<Pids> pids, Optional<Devices> devices,
                        java.util.SortedMap<String, String> files,
                        Optional<Freezer> freezer, Optional<Hugetlb> hugetlb, Optional<Network> network,
                        Optional<Boolean> perfEvent) {
    public static final Resources NONE = new Resources(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty());

    public Resources {
        files = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(files));
    }

    /** Without the freezer, hugetlb, network and perf_event subsystems. */
    public Resources(Optional<Cpu> cpu, Optional<Cpuset> cpuset, Optional<Memory> memory, Optional<Io> io,
                     Optional<Pids> pids, Optional<Devices> devices, java.util.SortedMap<String, String> files) {
        this(cpu, cpuset, memory, io, pids, devices, files, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** Without raw files. */
    public Resources(Optional<Cpu> cpu, Optional<Cpuset> cpuset, Optional<Memory> memory, Optional<Io> io,
                     Optional<Pids> pids, Optional<Devices> devices) {
        this(cpu, cpuset, memory, io, pids, devices, new java.util.TreeMap<>());
    }

    /** The same resources with {@code devices} in place of these. */
    public Resources withDevices(Optional<Devices> d) {
        return new Resources(cpu, cpuset, memory, io, pids, d, files, freezer, hugetlb, network, perfEvent);
    }

    /** The same resources with {@code freezer} in place of this one (a run-time freeze). */
    public Resources withFreezer(Optional<Freezer> f) {
        return new Resources(cpu, cpuset, memory, io, pids, devices, files, f, hugetlb, network, perfEvent);
    }

    /**
     * The raw files ({@code files:}) whose name starts with {@code controller} and a dot: they are
     * written in that controller's directory, after its own files.
     */
    public java.util.SortedMap<String, String> filesOf(String controller) {
        return files.isEmpty() ? files : files.subMap(controller + ".", controller + "/");
    }

    /** shares (v1) and weight (v2) are alternatives; quota is a percentage of one CPU. */
    public record Cpu(OptionalLong shares, OptionalLong weight, OptionalDouble quotaPercent,
                      Optional<Duration> period, Optional<Boolean> idle) {
        public static final Duration DEFAULT_PERIOD = Duration.ofMillis(100);

        /** Without {@code idle} (v2 cpu.idle). */
        public Cpu(OptionalLong shares, OptionalLong weight, OptionalDouble quotaPercent, Optional<Duration> period) {
            this(shares, weight, quotaPercent, period, Optional.empty());
        }

        public Duration periodOrDefault() {
            return period.orElse(DEFAULT_PERIOD);
        }
    }

    /** Either explicit cpus/mems, or a NUMA node resolved against the host at plan time. */
    public record Cpuset(Optional<CpuList> cpus, Optional<CpuList> mems, OptionalInt numaNode) {
    }

    /**
     * {@code high}, {@code low} and {@code min} are v2's throttle and protection thresholds; on v1
     * only {@code low} has a counterpart (the soft limit). {@code oomGroup}: one OOM kill in the
     * group takes every process in it (v2 memory.oom.group; on v1 the daemon does it).
     */
    public record Memory(Optional<Limit> limit, Optional<Limit> swapLimit, Optional<Boolean> oomKillDisable,
                         Optional<Limit> high, Optional<Limit> low, Optional<Limit> min, Optional<Boolean> oomGroup) {
        /** Only the first wave's keys. */
        public Memory(Optional<Limit> limit, Optional<Limit> swapLimit, Optional<Boolean> oomKillDisable) {
            this(limit, swapLimit, oomKillDisable, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        }

        public boolean killsGroupOnOom() {
            return oomGroup.orElse(false);
        }
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

    /**
     * A device allow list: the group's processes may open (r, w) or create (m) only the device
     * nodes a rule names; everything else is denied.
     */
    public record Devices(List<DeviceRule> allow) {
        /** The most rules one list may hold: each is a devices.allow write (v1) or a few BPF instructions (v2). */
        public static final int MAX_RULES = 256;

        /**
         * What an isolated workload gets when its policy has no {@code devices:}: the nodes of its
         * minimal /dev (null zero full random urandom tty, ptmx and the pts ptys), and, as runc's
         * default does, mknod of any node: creating a node (an image unpacked, a package's
         * postinst) then works, and grants nothing, since opening it is still denied by this list.
         */
        public static final Devices ISOLATED = new Devices(java.util.stream.Stream.of(
                "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm",
                "c 136:* rwm", "c *:* m", "b *:* m").map(DeviceRule::parse).toList());

        public Devices {
            allow = List.copyOf(allow);
        }
    }

    // ---- the subsystems a container uses beyond the first wave (freezer, hugetlb, network, perf_event) ----

    /** {@code perfEvent: true}: the group has a perf_event directory (v1), so {@code perf stat -G} counts it. */
    public boolean perfEventDirectory() {
        return perfEvent.orElse(false);
    }

    /** Whether the group's processes are to be stopped (v1 freezer.state FROZEN, v2 cgroup.freeze 1). */
    public record Freezer(boolean frozen) {
    }

    /**
     * Huge page limits by page size; a page size the list leaves out is not limited.
     * {@code limits} is in the order written, one entry per page size.
     */
    public record Hugetlb(List<HugePageLimit> limits) {
        public Hugetlb {
            limits = List.copyOf(limits);
        }

        /** The limit for pages of {@code pageSizeBytes}, if the policy sets one. */
        public Optional<Limit> limitFor(long pageSizeBytes) {
            return limits.stream().filter(l -> l.pageSizeBytes() == pageSizeBytes).map(HugePageLimit::limit).findFirst();
        }
    }

    /** At most {@code limit} bytes of huge pages of one size; a multiple of the page size, or max. */
    public record HugePageLimit(long pageSizeBytes, Limit limit) {
    }

    /**
     * v1 net_cls and net_prio: the class id the group's sockets carry (tc and iptables match it),
     * and a priority per network interface (SO_PRIORITY of the group's sockets there).
     */
    public record Network(java.util.OptionalLong classId, java.util.SortedMap<String, Long> priorities) {
        public Network {
            priorities = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(priorities));
        }
    }
}

package io.jgovernor.metrics;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a group's usage from its cgroup files, when asked (a scrape, a status request). A file
 * that is absent (the group has no directory in that hierarchy, or vanished a moment ago) leaves
 * its field empty; a file that cannot be read or parsed leaves its field empty and is counted in
 * {@link #errors()}. Nothing here throws for one bad file: the rest of the group is still read.
 * Thread-safe: concurrent scrapes each read with their own buffers.
 */
public final class GroupStats {
    private static final System.Logger LOG = System.getLogger(GroupStats.class.getName());
    /**
     * Limits at or above this are the kernel's "no limit" (PAGE_COUNTER_MAX pages, read back as
     * 9223372036854771712 with 4 KiB pages): not a real limit, so no limit series is reported.
     */
    static final long NO_MEMORY_LIMIT = Long.MAX_VALUE - (1L << 20);
    /** Distinct failure messages logged, so a persistent failure is logged once, not every scrape. */
    private static final int MAX_LOGGED = 256;

    private final StatFiles files;
    private final Map<String, Path> roots;
    /** cgroup v2: one directory per group, v2 file names and units. */
    private final boolean v2;
    private final AtomicLong errors = new AtomicLong();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    /**
     * @param roots jgovernor's root directory by controller name ("cpu", "cpuacct", "memory",
     *              "blkio", "pids"); a controller without an entry is not read
     */
    public GroupStats(StatFiles files, Map<String, Path> roots) {
        this(files, roots, false);
    }

    private GroupStats(StatFiles files, Map<String, Path> roots, boolean v2) {
        this.files = files;
        this.roots = Map.copyOf(roots);
        this.v2 = v2;
    }

    /** cgroup v2: every group's files in the one directory beneath {@code root}. */
    public static GroupStats v2(StatFiles files, Path root) {
        return new GroupStats(files, Map.of(V2, root), true);
    }

    private static final String V2 = "cgroup2";

    /** The roots of the daemon's layout, for each controller mounted here. */
    public static GroupStats of(StatFiles files, CgroupLayout layout) {
        if (layout.mode() == io.jgovernor.cgroup.CgroupMode.UNIFIED) {
            return v2(files, layout.rootDir(layout.unified().orElseThrow()));
        }
        Map<String, Path> roots = new HashMap<>();
        for (String c : List.of("cpu", "cpuacct", "memory", "blkio", "pids")) {
            Optional<Hierarchy> h = layout.hierarchy(c);
            h.ifPresent(hierarchy -> roots.put(c, layout.rootDir(hierarchy)));
        }
        return new GroupStats(files, roots);
    }

    /** Files that could not be read or parsed since the daemon started. */
    public long errors() {
        return errors.get();
    }

    public GroupSample read(GroupName group) {
        if (v2) {
            return readV2(group);
        }
        Path cpuacct = dir("cpuacct", group);
        Path cpu = dir("cpu", group);
        Path memory = dir("memory", group);
        Path blkio = dir("blkio", group);
        Path pids = dir("pids", group);

        OptionalLong usage = OptionalLong.empty();
        OptionalLong processes = OptionalLong.empty();
        String text = read(cpuacct, "cpuacct.usage");
        if (text != null) {
            usage = parse(cpuacct, "cpuacct.usage", text, CgroupText::single);
        }
        text = read(cpuacct, "cgroup.procs");
        if (text != null) {
            processes = OptionalLong.of(CgroupText.lines(text));
        }

        OptionalLong throttledPeriods = OptionalLong.empty();
        OptionalLong throttledNanos = OptionalLong.empty();
        OptionalDouble quota = OptionalDouble.empty();
        text = read(cpu, "cpu.stat");
        if (text != null) {
            String stat = text;
            throttledPeriods = parseKeyed(cpu, "cpu.stat", stat, "nr_throttled");
            throttledNanos = parseKeyed(cpu, "cpu.stat", stat, "throttled_time");
            String q = read(cpu, "cpu.cfs_quota_us");
            String p = q == null ? null : read(cpu, "cpu.cfs_period_us");
            if (q != null && p != null) {
                OptionalLong quotaMicros = parse(cpu, "cpu.cfs_quota_us", q, CgroupText::signed);
                OptionalLong periodMicros = parse(cpu, "cpu.cfs_period_us", p, CgroupText::single);
                if (quotaMicros.isPresent() && periodMicros.isPresent() && quotaMicros.getAsLong() > 0
                        && periodMicros.getAsLong() > 0) {
                    quota = OptionalDouble.of((double) quotaMicros.getAsLong() / periodMicros.getAsLong());
                }
            }
        }

        OptionalLong memUsage = OptionalLong.empty();
        OptionalLong memLimit = OptionalLong.empty();
        boolean unlimited = false;
        OptionalLong oomKills = OptionalLong.empty();
        OptionalLong workingSet = OptionalLong.empty();
        text = read(memory, "memory.usage_in_bytes");
        if (text != null) {
            memUsage = parse(memory, "memory.usage_in_bytes", text, CgroupText::single);
            String l = read(memory, "memory.limit_in_bytes");
            if (l != null) {
                OptionalLong limit = parse(memory, "memory.limit_in_bytes", l, CgroupText::single);
                if (limit.isPresent() && limit.getAsLong() >= NO_MEMORY_LIMIT) {
                    unlimited = true;
                } else {
                    memLimit = limit;
                }
            }
            String oom = read(memory, "memory.oom_control");
            if (oom != null) {
                oomKills = parseKeyed(memory, "memory.oom_control", oom, "oom_kill");
            }
            // hierarchical, as usage_in_bytes is: the group's and its children's inactive file pages
            workingSet = workingSet(memory, "memory.stat", memUsage, "total_inactive_file");
        }

        List<DeviceIo> io = List.of();
        text = read(blkio, "blkio.throttle.io_service_bytes");
        if (text != null) {
            try {
                io = CgroupText.ioServiceBytes(text);
            } catch (IllegalArgumentException e) {
                failed(blkio, "blkio.throttle.io_service_bytes", e.getMessage());
            }
        }

        OptionalLong pidsCurrent = OptionalLong.empty();
        text = read(pids, "pids.current");
        if (text != null) {
            pidsCurrent = parse(pids, "pids.current", text, CgroupText::single);
        }
        return new GroupSample(group, usage, throttledPeriods, throttledNanos, quota, memUsage, memLimit, unlimited,
                oomKills, io, pidsCurrent, processes, workingSet, Map.of());
    }

    /**
     * Working set = usage − inactive file pages, cAdvisor's figure (what kubelet evicts on): page
     * cache the kernel would drop first is not counted, active file pages and anonymous memory are.
     * Clamped at 0, as cAdvisor does (the two files are not read at the same instant).
     */
    private OptionalLong workingSet(Path dir, String file, OptionalLong usage, String key) {
        if (usage.isEmpty()) {
            return usage;
        }
        String stat = read(dir, file);
        if (stat == null) {
            return OptionalLong.empty();
        }
        OptionalLong inactive = parseKeyed(dir, file, stat, key);
        if (inactive.isEmpty()) {
            return inactive;
        }
        return OptionalLong.of(Math.max(0, usage.getAsLong() - inactive.getAsLong()));
    }

    /**
     * The same sample from v2 files: cpu.stat (usage_usec, nr_throttled, throttled_usec, in
     * microseconds where v1 has nanoseconds), cpu.max, memory.current, memory.max ("max": no
     * limit), memory.events oom_kill, io.stat, pids.current, cgroup.procs. A controller the group's
     * parent does not enable has no files here: its fields stay empty, as on v1 without a directory.
     */
    private GroupSample readV2(GroupName group) {
        Path dir = dir(V2, group);
        OptionalLong usage = OptionalLong.empty();
        OptionalLong throttledPeriods = OptionalLong.empty();
        OptionalLong throttledNanos = OptionalLong.empty();
        OptionalDouble quota = OptionalDouble.empty();
        String text = read(dir, "cpu.stat");
        if (text != null) {
            usage = micros(parseKeyed(dir, "cpu.stat", text, "usage_usec"));
            throttledPeriods = parseKeyed(dir, "cpu.stat", text, "nr_throttled");
            throttledNanos = micros(parseKeyed(dir, "cpu.stat", text, "throttled_usec"));
        }
        text = read(dir, "cpu.max");
        if (text != null) {
            String[] f = text.strip().split("\\s+");
            if (f.length == 2 && !f[0].equals("max")) {
                OptionalLong q = parse(dir, "cpu.max", f[0], CgroupText::single);
                OptionalLong p = parse(dir, "cpu.max", f[1], CgroupText::single);
                if (q.isPresent() && p.isPresent() && p.getAsLong() > 0) {
                    quota = OptionalDouble.of((double) q.getAsLong() / p.getAsLong());
                }
            } else if (f.length != 2) {
                failed(dir, "cpu.max", "expected \"QUOTA PERIOD\", got \"" + text.strip() + "\"");
            }
        }
        OptionalLong memUsage = OptionalLong.empty();
        OptionalLong memLimit = OptionalLong.empty();
        boolean unlimited = false;
        OptionalLong oomKills = OptionalLong.empty();
        OptionalLong workingSet = OptionalLong.empty();
        Map<String, Long> memoryEvents = Map.of();
        text = read(dir, "memory.current");
        if (text != null) {
            memUsage = parse(dir, "memory.current", text, CgroupText::single);
            String l = read(dir, "memory.max");
            if (l != null && l.strip().equals("max")) {
                unlimited = true;
            } else if (l != null) {
                memLimit = parse(dir, "memory.max", l, CgroupText::single);
            }
            String events = read(dir, "memory.events");
            if (events != null) {
                oomKills = parseKeyed(dir, "memory.events", events, "oom_kill");
                memoryEvents = memoryEvents(dir, events);
            }
            workingSet = workingSet(dir, "memory.stat", memUsage, "inactive_file");
        }
        List<DeviceIo> io = List.of();
        text = read(dir, "io.stat");
        if (text != null) {
            try {
                io = CgroupText.ioStat(text);
            } catch (IllegalArgumentException e) {
                failed(dir, "io.stat", e.getMessage());
            }
        }
        OptionalLong pidsCurrent = OptionalLong.empty();
        text = read(dir, "pids.current");
        if (text != null) {
            pidsCurrent = parse(dir, "pids.current", text, CgroupText::single);
        }
        OptionalLong processes = OptionalLong.empty();
        text = read(dir, "cgroup.procs");
        if (text != null) {
            processes = OptionalLong.of(CgroupText.lines(text));
        }
        return new GroupSample(group, usage, throttledPeriods, throttledNanos, quota, memUsage, memLimit, unlimited,
                oomKills, io, pidsCurrent, processes, workingSet, memoryEvents);
    }

    /** The keys of memory.events this kernel has (oom_group_kill came in 5.4); a bad line skips the rest. */
    private Map<String, Long> memoryEvents(Path dir, String text) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String key : GroupSample.MEMORY_EVENTS) {
            OptionalLong v = parseKeyed(dir, "memory.events", text, key);
            if (v.isPresent()) {
                out.put(key, v.getAsLong());
            }
        }
        return out;
    }

    private static OptionalLong micros(OptionalLong usec) {
        return usec.isPresent() ? OptionalLong.of(usec.getAsLong() * 1000) : usec;
    }

    private Path dir(String controller, GroupName group) {
        Path root = roots.get(controller);
        if (root == null) {
            return null;
        }
        String name = group.value();
        // one resolve for a nested name: a relative "a/b" is two path segments either way
        return root.resolve(name);
    }

    /** The file's text, or null when it is absent or could not be read (counted). */
    private String read(Path dir, String file) {
        if (dir == null) {
            return null;
        }
        try {
            Optional<String> text = files.read(dir, file);
            return text.orElse(null);
        } catch (CgroupException e) {
            failed(dir, file, e.getMessage());
            return null;
        } catch (RuntimeException e) {
            failed(dir, file, String.valueOf(e));
            return null;
        }
    }

    private interface Parser {
        long parse(String text);
    }

    private OptionalLong parse(Path dir, String file, String text, Parser parser) {
        try {
            return OptionalLong.of(parser.parse(text));
        } catch (IllegalArgumentException e) {
            failed(dir, file, e.getMessage());
            return OptionalLong.empty();
        }
    }

    private OptionalLong parseKeyed(Path dir, String file, String text, String key) {
        try {
            return CgroupText.keyed(text, key);
        } catch (IllegalArgumentException e) {
            failed(dir, file, key + ": " + e.getMessage());
            return OptionalLong.empty();
        }
    }

    private void failed(Path dir, String file, String message) {
        errors.incrementAndGet();
        String line = dir.resolve(file) + ": " + message;
        if (logged.size() < MAX_LOGGED && logged.add(line)) {
            LOG.log(System.Logger.Level.WARNING, "metrics: cannot read " + line + " (logged once; counted in jgovernor_scrape_errors_total)");
        }
    }
}

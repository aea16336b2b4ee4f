package io.jgovernor.metrics;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.sys.Errno;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** cgroup files as text in memory; a path marked unreadable answers EACCES as the kernel would. */
final class FakeStatFiles implements StatFiles {
    static final Path ROOT = Path.of("/sys/fs/cgroup");
    final Map<Path, String> files = new HashMap<>();
    final Set<Path> unreadable = new HashSet<>();
    int reads;

    static Map<String, Path> roots() {
        Map<String, Path> roots = new HashMap<>();
        for (String c : new String[]{"cpu", "cpuacct", "memory", "blkio", "pids"}) {
            roots.put(c, ROOT.resolve(c).resolve("jgovernor"));
        }
        return roots;
    }

    /** The v1 controllers that have stats, each at its root of {@link #roots()}. */
    static List<Backend.StatSource> sources() {
        return roots().entrySet().stream()
                .map(e -> new Backend.StatSource(V1Controllers.forName(e.getKey()).orElseThrow(), e.getValue())).toList();
    }

    FakeStatFiles put(String controller, String group, String file, String text) {
        files.put(ROOT.resolve(controller).resolve("jgovernor").resolve(group).resolve(file), text);
        return this;
    }

    FakeStatFiles unreadable(String controller, String group, String file) {
        unreadable.add(ROOT.resolve(controller).resolve("jgovernor").resolve(group).resolve(file));
        return this;
    }

    /** A group with a directory in every hierarchy, as a policy using every controller has. */
    FakeStatFiles fullGroup(String group, long cpuNanos, String cpuStat, long memUsage, long memLimit, String oomControl,
                            String io, long pids, String procs) {
        put("cpuacct", group, "cpuacct.usage", cpuNanos + "\n");
        put("cpuacct", group, "cgroup.procs", procs);
        put("cpu", group, "cpu.stat", cpuStat);
        put("cpu", group, "cpu.cfs_quota_us", "50000\n");
        put("cpu", group, "cpu.cfs_period_us", "100000\n");
        put("memory", group, "memory.usage_in_bytes", memUsage + "\n");
        put("memory", group, "memory.limit_in_bytes", memLimit + "\n");
        put("memory", group, "memory.oom_control", oomControl);
        put("blkio", group, "blkio.throttle.io_service_bytes", io);
        put("pids", group, "pids.current", pids + "\n");
        return this;
    }

    @Override
    public Optional<String> read(Path dir, String file) throws CgroupException {
        reads++;
        Path p = dir.resolve(file);
        if (unreadable.contains(p)) {
            throw new CgroupException(dir, file, "read", null, Errno.EACCES);
        }
        return Optional.ofNullable(files.get(p));
    }
}

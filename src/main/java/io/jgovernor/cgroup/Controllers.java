package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.BlkioController;
import io.jgovernor.cgroup.v1.CpuController;
import io.jgovernor.cgroup.v1.CpuacctController;
import io.jgovernor.cgroup.v1.CpusetController;
import io.jgovernor.cgroup.v1.DevicesController;
import io.jgovernor.cgroup.v1.MemoryController;
import io.jgovernor.cgroup.v1.PidsController;
import io.jgovernor.cgroup.v2.IoController;

import java.util.List;
import java.util.Set;

/**
 * The one table of the controllers jgovernor manages, both versions side by side: a new
 * controller is one line here (its v1 class, its v2 class, or both), see package-info. The
 * backends build their controller set from it, and the layout decides from its names which
 * mounted hierarchies are jgovernor's.
 */
public final class Controllers {
    private Controllers() {
    }

    /**
     * The v1 controllers, in the order their directories are set up: cpuset first, since a v1
     * cpuset group accepts no process until its cpus and mems are set, so it is made ready before
     * anything could be moved in. {@code memory} and {@code blkio} are fitted to the host (page
     * size, weight file).
     */
    public static List<Controller> v1(MemoryController memory, BlkioController blkio) {
        return List.of(new CpusetController(), new CpuController(), new CpuacctController(), memory, blkio,
                new PidsController(), new DevicesController());
    }

    /** The v2 controllers; all live in the one unified hierarchy. */
    public static List<Controller> v2() {
        return List.of(new io.jgovernor.cgroup.v2.CpusetController(), new io.jgovernor.cgroup.v2.CpuController(),
                new IoController(), new io.jgovernor.cgroup.v2.MemoryController(),
                new PidsController(), // the same file and words as v1
                new io.jgovernor.cgroup.v2.DevicesController());
    }

    /** The v1 controllers by their kernel names, as /proc/self/mountinfo lists a hierarchy's. */
    public static final Set<String> V1_NAMES = Set.of("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids",
            "devices");
    /**
     * The v2 controllers by their kernel names (cpuacct is part of v2's cpu, blkio is v2's io).
     * v2's "devices" is no entry of cgroup.controllers but a BPF program any cgroup2 directory takes.
     */
    public static final Set<String> V2_NAMES = Set.of("cpu", "cpuset", "io", "memory", "pids", "devices");
}

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Controller;

import java.util.List;
import java.util.Optional;

/** The cgroup v1 controllers jgovernor manages, in the order their directories are set up. */
public final class V1Controllers {
    private V1Controllers() {
    }

    /**
     * cpuset first: a v1 cpuset group accepts no process until its cpus and mems are set, so it
     * is made ready before anything could be moved in.
     */
    public static List<Controller> all() {
        return all(new MemoryController(), new BlkioController());
    }

    /** With a memory and blkio controller fitted to the host (page size, weight file). */
    public static List<Controller> all(MemoryController memory, BlkioController blkio) {
        return List.of(new CpusetController(), new CpuController(), new CpuacctController(), memory, blkio,
                new PidsController(), new DevicesController(), new FreezerController(), new HugetlbController(),
                new NetClsController(), new NetPrioController(), new PerfEventController());
    }

    public static Optional<Controller> forName(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst();
    }
}

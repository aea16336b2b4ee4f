package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Controller;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The cgroup v2 controllers jgovernor manages; all live in the one unified hierarchy. */
public final class V2Controllers {
    /** Their kernel names, as cgroup.controllers and cgroup.subtree_control list them (all but devices: see {@link DevicesController}). */
    public static final Set<String> NAMES = io.jgovernor.cgroup.CgroupMode.MANAGED_V2;

    private V2Controllers() {
    }

    public static List<Controller> all() {
        return List.of(new CpusetController(), new CpuController(), new IoController(), new MemoryController(),
                new io.jgovernor.cgroup.v1.PidsController(), // the same file and words as v1
                new DevicesController(), new FreezerController(), new HugetlbController());
    }

    public static Optional<Controller> forName(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst();
    }
}

package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Controllers;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The cgroup v2 controllers jgovernor manages (the table is {@link Controllers}); all live in the one unified hierarchy. */
public final class V2Controllers {
    /** Their kernel names, as cgroup.controllers and cgroup.subtree_control list them (all but devices: see {@link DevicesController}). */
    public static final Set<String> NAMES = Controllers.V2_NAMES;

    private V2Controllers() {
    }

    public static List<Controller> all() {
        return Controllers.v2();
    }

    public static Optional<Controller> forName(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst();
    }
}

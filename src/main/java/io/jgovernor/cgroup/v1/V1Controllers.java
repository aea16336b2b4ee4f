package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Controllers;

import java.util.List;
import java.util.Optional;

/** The cgroup v1 controllers jgovernor manages (the table is {@link Controllers}), in the order their directories are set up. */
public final class V1Controllers {
    private V1Controllers() {
    }

    /** With this host's page size and the blkio weight file a kernel without CFQ has; see {@link Controllers#v1}. */
    public static List<Controller> all() {
        return all(new MemoryController(), new BlkioController());
    }

    /** With a memory and blkio controller fitted to the host (page size, weight file). */
    public static List<Controller> all(MemoryController memory, BlkioController blkio) {
        return Controllers.v1(memory, blkio);
    }

    public static Optional<Controller> forName(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst();
    }
}

package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.V1Backend;
import io.jgovernor.cgroup.v2.V2Backend;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The cgroup version this host governs by, as one object built once at startup ({@link #of}):
 * it owns everything that differs between v1 and v2 (which controllers, where each one's
 * directories are, how a new group gets its cpuset, how controllers are enabled for children,
 * where a removed group's processes go, which OOM files to watch). Everything above (planner,
 * reconciler, metrics, events, classification, the daemon's wiring) asks it and does not ask
 * which version it is; a test under {@code src/test} keeps it so (see package-info).
 */
public abstract class Backend {
    private final CgroupLayout layout;
    private final List<Controller> controllers;
    private final String description;

    protected Backend(CgroupLayout layout, List<Controller> controllers, String description) {
        this.layout = layout;
        this.controllers = List.copyOf(controllers);
        this.description = description;
    }

    /** @throws CgroupException when the host's blkio weight file cannot be probed (v1) */
    public static Backend of(CgroupLayout layout, CgroupFiles files) throws CgroupException {
        return layout.mode() == CgroupMode.UNIFIED ? new V2Backend(layout) : V1Backend.of(layout, files);
    }

    public CgroupLayout layout() {
        return layout;
    }

    /** The controllers of this version, in the order their directories are set up. */
    public List<Controller> controllers() {
        return controllers;
    }

    /** One line for the startup log saying which backend governs, and where. */
    public String description() {
        return description;
    }

    /** The controller of this backend with kernel name {@code name}; null when it has none. */
    public Function<String, Controller> controllerFor() {
        return name -> controllers.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    /** A controller whose stats are read, and jgovernor's root directory in its hierarchy. */
    public record StatSource(Controller controller, Path root) {
    }

    /** Every controller mounted here, with the root beneath which each group's stat files are. */
    public abstract List<StatSource> statSources();

    /** The hierarchy that carries {@code controller} here (by this version's name for it); empty when none does. */
    public Optional<Hierarchy> hierarchyOf(String controller) {
        return layout.hierarchy(controller);
    }

    /** The memory controller's OOM files and how the kernel tells of an OOM. */
    public abstract OomFiles oomFiles();

    /**
     * Moves the daemon (process {@code pid}) where this version needs it before the first pass
     * (v2: a leaf of its delegated cgroup, see {@code v2/Delegation}).
     *
     * @return the directory it is in now; empty when it stayed where it was
     */
    public Optional<Path> enterLeaf(CgroupFiles files, long pid) throws CgroupException {
        return Optional.empty();
    }

    /**
     * Other processes in the daemon's own cgroup that keep this version from giving groups their
     * limits (v2: the kernel refuses to enable controllers there, EBUSY), with that cgroup's
     * directory; empty when nothing is in the way.
     */
    public Optional<Map.Entry<Path, List<Integer>>> othersInOwnCgroup(CgroupFiles files) throws CgroupException {
        return Optional.empty();
    }
}

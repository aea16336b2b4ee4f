package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.BlkioController;
import io.jgovernor.cgroup.v1.MemoryController;
import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.cgroup.v2.V2Controllers;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The one place that picks the v1 or the v2 controllers, from the mode the layout detected at
 * startup. Everything above (planner, applier, drift, metrics) works on {@link Controller}s and
 * {@link Hierarchy}s and does not ask which version it is.
 *
 * @param description one line for the startup log saying which backend governs, and where
 */
public record Backend(CgroupMode mode, List<Controller> controllers, String description) {
    public Backend {
        controllers = List.copyOf(controllers);
    }

    /** @throws CgroupException when the host's blkio weight file cannot be probed (v1) */
    public static Backend of(CgroupLayout layout, CgroupFiles files) throws CgroupException {
        if (layout.mode() == CgroupMode.UNIFIED) {
            Hierarchy h = layout.unified().orElseThrow();
            return new Backend(layout.mode(), RawFiles.wrap(V2Controllers.all()), "cgroup v2 (unified hierarchy at " + h.mountPoint()
                    + "; controllers " + String.join(" ", new java.util.TreeSet<>(h.controllers())) + "; root "
                    + layout.rootDir(h) + "; cpu.weight from shares = shares * 100 / 1024, as systemd converts)");
        }
        Optional<Hierarchy> blkio = layout.hierarchy("blkio");
        BlkioController io = blkio.isPresent() ? BlkioController.forHierarchy(files, blkio.get().ownDir())
                : new BlkioController();
        Map<String, String> roots = new TreeMap<>();
        layout.hierarchies().forEach(h -> roots.put(h.name(), layout.rootDir(h).toString()));
        return new Backend(layout.mode(), RawFiles.wrap(V1Controllers.all(new MemoryController(), io)),
                (layout.mode() == CgroupMode.HYBRID ? "cgroup v1 (hybrid: v1 controllers used; the unified tree has none"
                        + (layout.hierarchies().contains(layout.unified().orElse(null))
                        ? ", groups get a directory there for their pressure files)" : ")")
                        : "cgroup v1") + " " + roots);
    }

    /** The controller of this backend with kernel name {@code name}; null when it has none. */
    public Function<String, Controller> controllerFor() {
        return name -> controllers.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }
}

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.cgroup.RawFiles;
import io.jgovernor.cgroup.Write;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * cgroup v1 (also a hybrid host's v1 side): one hierarchy per controller (or per co-mounted set),
 * a group has a directory in each hierarchy its policy uses.
 */
public final class V1Backend extends Backend {
    private final MemoryController memory;

    private V1Backend(CgroupLayout layout, MemoryController memory, List<Controller> controllers, String description) {
        super(layout, controllers, description);
        this.memory = memory;
    }

    /** @throws CgroupException when the host's blkio weight file cannot be probed */
    public static V1Backend of(CgroupLayout layout, CgroupFiles files) throws CgroupException {
        Optional<Hierarchy> blkio = layout.hierarchy("blkio");
        BlkioController io = blkio.isPresent() ? BlkioController.forHierarchy(files, blkio.get().ownDir())
                : new BlkioController();
        Map<String, String> roots = new TreeMap<>();
        layout.hierarchies().forEach(h -> roots.put(h.name(), layout.rootDir(h).toString()));
        MemoryController memory = new MemoryController();
        return new V1Backend(layout, memory, RawFiles.wrap(V1Controllers.all(memory, io)),
                (layout.mode() == CgroupMode.HYBRID ? "cgroup v1 (hybrid: v1 controllers used; the unified tree has none)"
                        : "cgroup v1") + " " + roots);
    }

    @Override
    public boolean cgroupV2() {
        return false;
    }

    @Override
    public boolean copiesParentCpuset(Hierarchy h) {
        return h.has("cpuset");
    }

    @Override
    public boolean everyGroupHasDirectory(Hierarchy h) {
        return false; // cpuacct's controller is used by every group instead
    }

    @Override
    public List<Path> aboveRoot(Hierarchy h) {
        return List.of();
    }

    @Override
    public Write handDown(CgroupFiles files, Path dir, boolean exists, Set<String> below, boolean exact) {
        return null;
    }

    @Override
    public boolean handsDown(Write write) {
        return false;
    }

    @Override
    public Optional<Path> releasedDir(Hierarchy h) {
        return Optional.empty();
    }

    @Override
    public OomFiles oomFiles() {
        return memory;
    }

    /** Each controller in the hierarchy that carries it; one not mounted here has none. */
    @Override
    public List<StatSource> statSources() {
        List<StatSource> out = new ArrayList<>();
        for (Controller c : controllers()) {
            layout().hierarchy(c.name()).ifPresent(h -> out.add(new StatSource(c, layout().rootDir(h))));
        }
        return out;
    }
}

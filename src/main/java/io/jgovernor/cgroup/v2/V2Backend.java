package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.cgroup.RawFiles;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.List;
import java.util.TreeSet;

/**
 * cgroup v2: one unified hierarchy, one directory per group holding the files of every
 * controller its parent enables in cgroup.subtree_control.
 */
public final class V2Backend extends Backend {
    private final Hierarchy unified;
    private final MemoryController memory = new MemoryController();

    public V2Backend(CgroupLayout layout) {
        super(layout, RawFiles.wrap(V2Controllers.all()), describe(layout));
        this.unified = layout.hierarchies().getFirst();
    }

    private static String describe(CgroupLayout layout) {
        Hierarchy h = layout.hierarchies().getFirst();
        return "cgroup v2 (unified hierarchy at " + h.mountPoint() + "; controllers "
                + String.join(" ", new TreeSet<>(h.controllers())) + "; root " + layout.rootDir(h)
                + "; cpu.weight from shares = shares * 100 / 1024, as systemd converts)";
    }

    @Override
    public Optional<Path> enterLeaf(CgroupFiles files, long pid) throws CgroupException {
        return Delegation.enterLeaf(layout(), files, pid);
    }

    @Override
    public Optional<Map.Entry<Path, List<Integer>>> othersInOwnCgroup(CgroupFiles files) throws CgroupException {
        List<Integer> others = Delegation.othersInOwnCgroup(layout(), files);
        return others.isEmpty() ? Optional.empty() : Optional.of(Map.entry(unified.ownDir(), others));
    }

    @Override
    public OomFiles oomFiles() {
        return memory;
    }

    /**
     * Every controller in the one directory: a file of a controller the parent does not enable is
     * simply absent (cpu.stat and cgroup.procs are always there).
     */
    @Override
    public List<StatSource> statSources() {
        List<StatSource> out = new ArrayList<>();
        for (Controller c : controllers()) {
            out.add(new StatSource(c, layout().rootDir(unified)));
        }
        return out;
    }
}

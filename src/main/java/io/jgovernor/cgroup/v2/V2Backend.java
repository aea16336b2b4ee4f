package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
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
    public boolean cgroupV2() {
        return true;
    }

    @Override
    public boolean copiesParentCpuset(Hierarchy h) {
        return false;
    }

    @Override
    public boolean everyGroupHasDirectory(Hierarchy h) {
        return true;
    }

    /**
     * Delegation: every directory from the daemon's delegated cgroup (its own, for a relative
     * root; the hierarchy's root for an absolute one) down to the root's parent must enable what
     * the root's subtree uses, or those files never appear below.
     */
    @Override
    public List<Path> aboveRoot(Hierarchy h) {
        Path root = layout().rootDir(h);
        Path top = layout().root().startsWith("/") ? h.mountPoint() : h.ownDir();
        List<Path> path = new ArrayList<>();
        for (Path p = root.getParent(); p != null && p.startsWith(top); p = p.getParent()) {
            path.addFirst(p);
        }
        return path;
    }

    /** cgroup.subtree_control, enabled before the directory's children are made or written. */
    @Override
    public Write handDown(CgroupFiles files, Path dir, boolean exists, Set<String> below, boolean exact)
            throws CgroupException {
        String seen = exists ? files.read(dir, SubtreeControl.FILE).orElse("") : "";
        return SubtreeControl.reconcile(below, seen, exact);
    }

    @Override
    public boolean handsDown(Write write) {
        return write.file().equals(SubtreeControl.FILE);
    }

    /**
     * {@value #RELEASED}: a leaf directly beneath the daemon's root. v1 moves a removed group's
     * processes to the nearest surviving ancestor, but a v2 directory that enables controllers for
     * its children can hold no processes (the "no internal processes" rule: EBUSY), and every
     * ancestor of a group is such a directory. The leaf has no limits, as v1's root has none. Its
     * name is no valid group name, so no policy can ask for it.
     */
    @Override
    public Optional<Path> releasedDir(Hierarchy h) {
        return Optional.of(layout().rootDir(h).resolve(RELEASED));
    }

    public static final String RELEASED = "_released";

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

package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Hierarchy;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The daemon's side of systemd's delegation rules on v2. systemd hands a Delegate=yes unit its
 * own cgroup with controllers available, and the unit's processes start in that cgroup. The
 * kernel's "no internal processes" rule then forbids enabling controllers for children there
 * while the daemon sits in it; so, as systemd's delegation document prescribes, the daemon moves
 * itself into a leaf of its own cgroup, {@value #LEAF}, before anything is enabled.
 */
public final class Delegation {
    public static final String LEAF = "supervisor";

    private Delegation() {
    }

    /**
     * Moves this process (the whole thread group: v2's cgroup.procs takes a process) into
     * {@code <own cgroup>/supervisor} when that is needed: on v2, with a relative root, and when
     * the own cgroup is not the hierarchy's root (the root cgroup is exempt from the rule).
     *
     * @return the leaf the process is in now; empty when it stayed where it was
     */
    public static Optional<Path> enterLeaf(CgroupLayout layout, CgroupFiles files, long pid) throws CgroupException {
        if (layout.mode() != CgroupMode.UNIFIED || layout.root().startsWith("/")) {
            return Optional.empty();
        }
        Hierarchy h = layout.unified().orElseThrow();
        Path own = h.ownDir();
        if (own.equals(h.mountPoint())) {
            return Optional.empty();
        }
        Path leaf = own.resolve(LEAF);
        files.mkdir(leaf);
        files.moveProcess(leaf, Math.toIntExact(pid));
        return Optional.of(leaf);
    }

    /**
     * Processes still in the daemon's own cgroup after {@link #enterLeaf}: while there are any, the
     * kernel refuses to enable controllers there (EBUSY), so no group gets its limits. Happens
     * when the daemon was not started as a unit of its own (e.g. from a login shell's cgroup).
     */
    public static java.util.List<Integer> othersInOwnCgroup(CgroupLayout layout, CgroupFiles files)
            throws CgroupException {
        if (layout.mode() != CgroupMode.UNIFIED || layout.root().startsWith("/")) {
            return java.util.List.of();
        }
        Hierarchy h = layout.unified().orElseThrow();
        return h.ownDir().equals(h.mountPoint()) ? java.util.List.of() : files.procs(h.ownDir());
    }
}

package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.V1Backend;
import io.jgovernor.cgroup.v2.V2Backend;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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

    /**
     * How this backend freezes a group and waits for the kernel's answer (v1 freezer.state, v2
     * cgroup.freeze), for whatever freezes at run time; the policy's {@code freezer:} goes through
     * the same controller.
     */
    public abstract Freezing freezing();

    /** The controller of this backend with kernel name {@code name}; null when it has none. */
    public Function<String, Controller> controllerFor() {
        return name -> controllers.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * The controllers that govern groups' directories in {@code h}, in a fixed order: a
     * controller-less cgroup2 tree (a hybrid host's unified tree, joined for per-group pressure)
     * holds processes only, and gets the {@link UnifiedDirectory} that makes its directories.
     */
    public List<Controller> controllersOf(Hierarchy h) {
        if (h.isUnified() && !h.hasControllers()) {
            return List.of(new UnifiedDirectory());
        }
        return h.controllers().stream().sorted().map(controllerFor()).filter(java.util.Objects::nonNull).toList();
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

    /**
     * Whether this backend governs through cgroup v2: the one mode question the policy parser
     * asks ({@code policy/HostFacts.cgroupV2}: some keys have meaning in one version only).
     */
    public abstract boolean cgroupV2();

    /**
     * The same answer without a backend (a {@code validate} command, a test's fake tree), from the
     * mount root alone: cgroup2 mounted at the root itself, as {@link CgroupMode#detect} decides
     * UNIFIED. Only a cgroup2 directory has cgroup.controllers, and on a hybrid host it sits in a
     * subdirectory ("unified").
     */
    public static boolean cgroupV2At(Path mountRoot) {
        return java.nio.file.Files.isRegularFile(mountRoot.resolve("cgroup.controllers"));
    }

    /** The memory controller's OOM files and how the kernel tells of an OOM. */
    public abstract OomFiles oomFiles();

    // --- the tree's shape: what the planner and the reconciler ask ---

    /**
     * Whether a new directory of {@code h} must be given its parent's cpus and mems before any
     * process can join (v1 cpuset: a fresh directory's cpuset.cpus and cpuset.mems are empty);
     * v2 directories inherit them by themselves.
     */
    public abstract boolean copiesParentCpuset(Hierarchy h);

    /**
     * Whether every group has a directory in {@code h} whatever its policy uses (v2's one tree:
     * cpu.stat counts its CPU time without any controller enabled, and its members join it);
     * on v1 a group has directories only where it or an ancestor uses a controller.
     */
    public abstract boolean everyGroupHasDirectory(Hierarchy h);

    /**
     * The directories above jgovernor's root in {@code h}, top-down, that must hand down to it
     * what its subtree uses (v2 delegation: from the delegated cgroup to the root's parent); none
     * where controllers need no handing down (v1).
     */
    public abstract List<Path> aboveRoot(Hierarchy h);

    /**
     * The write that makes directory {@code dir} hand down the controllers {@code below} to its
     * children (v2 cgroup.subtree_control), read from {@code dir} when it {@code exists}; with
     * {@code exact} (a directory jgovernor owns) also taking away what is not wanted, otherwise only
     * adding. Null when nothing changes, or where controllers need no handing down (v1).
     */
    public abstract Write handDown(CgroupFiles files, Path dir, boolean exists, Set<String> below, boolean exact)
            throws CgroupException;

    /** Whether {@code write} (of a directory above the groups) handed controllers down, so new control files appear. */
    public abstract boolean handsDown(Write write);

    /**
     * Where the processes of a removed group of {@code h} go, when not to its nearest surviving
     * ancestor (v2: a leaf beneath the root, since every ancestor enables controllers for its
     * children and so may hold no processes); empty on v1.
     */
    public abstract Optional<Path> releasedDir(Hierarchy h);

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

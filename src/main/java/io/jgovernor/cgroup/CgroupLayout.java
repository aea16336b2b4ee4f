package io.jgovernor.cgroup;

import io.jgovernor.model.GroupName;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Where jgovernor's cgroups live on this host, worked out once at startup from /proc/self/mountinfo,
 * /proc/self/cgroup, the configured mount root ({@code jgovernor.cgroup.mount}) and the configured
 * root ({@code jgovernor.cgroup.root}).
 *
 * <p>The root is relative ("jgovernor": beneath this process's own cgroup in each hierarchy, as a
 * systemd service with Delegate=yes gets it) or absolute ("/jgovernor": from the root of what is
 * mounted at the hierarchy's mount point). Group "batch/low" is the directory {@code <root>/batch/low}.
 */
public final class CgroupLayout {
    public static final Path DEFAULT_MOUNT = Path.of("/sys/fs/cgroup");
    public static final String DEFAULT_ROOT = "jgovernor";

    private final CgroupMode mode;
    private final Path mount;
    private final String root;
    private final List<Hierarchy> hierarchies;
    private final Hierarchy unified;
    private final Map<Hierarchy, Path> rootDirs;

    private CgroupLayout(CgroupMode mode, Path mount, String root, List<Hierarchy> hierarchies, Hierarchy unified) {
        this.mode = mode;
        this.mount = mount;
        this.root = root;
        this.hierarchies = List.copyOf(hierarchies);
        this.unified = unified;
        Map<Hierarchy, Path> dirs = new LinkedHashMap<>();
        for (Hierarchy h : hierarchies) {
            dirs.put(h, resolveRoot(h));
        }
        if (unified != null && !dirs.containsKey(unified)) {
            dirs.put(unified, resolveRoot(unified));
        }
        this.rootDirs = Map.copyOf(dirs);
    }

    /** Reads this process's /proc/self/mountinfo and /proc/self/cgroup. */
    public static CgroupLayout detect(Path mount, String root, CgroupFiles files) throws IOException {
        String mountInfo = Files.readString(Path.of("/proc/self/mountinfo"));
        String cgroup = Files.readString(Path.of("/proc/self/cgroup"));
        return of(mountInfo, cgroup, mount, root, dir -> {
            try {
                return files.read(dir, "cgroup.controllers");
            } catch (CgroupException e) {
                return Optional.empty();
            }
        });
    }

    /**
     * Builds the layout from captured texts.
     *
     * @param readControllers reads the cgroup.controllers file of a cgroup2 mount point
     * @throws IllegalArgumentException when {@code root} is not a usable root
     * @throws IllegalStateException    when the mounts do not give jgovernor anything to manage
     */
    public static CgroupLayout of(String mountInfoText, String procSelfCgroupText, Path mount, String root,
                                  Function<Path, Optional<String>> readControllers) {
        String checkedRoot = checkRoot(root);
        Path mountRoot = mount.normalize();
        MountInfo mountInfo = MountInfo.parse(mountInfoText);
        ProcCgroup own = ProcCgroup.parse(procSelfCgroupText);
        CgroupMode mode = CgroupMode.detect(mountInfo, mountRoot, readControllers);

        List<Hierarchy> v1 = new ArrayList<>();
        Hierarchy unified = null;
        for (MountInfo.Mount m : mountInfo.cgroupMounts()) {
            Path at = Path.of(m.mountPoint()).normalize();
            if (!at.startsWith(mountRoot)) {
                continue;
            }
            if (m.isCgroup2()) {
                boolean wanted = mode == CgroupMode.UNIFIED ? at.equals(mountRoot) : !at.equals(mountRoot);
                if (wanted && unified == null) {
                    String ownPath = own.unifiedPath().orElseThrow(() -> new IllegalStateException(
                            "/proc/self/cgroup has no 0:: line for the cgroup2 hierarchy at " + at));
                    Set<String> controllers = new TreeSet<>();
                    if (mode == CgroupMode.UNIFIED) {
                        // the v2 controllers jgovernor manages that this kernel offers
                        for (String c : readControllers.apply(at).orElse("").strip().split("\\s+")) {
                            controllers.add(c);
                        }
                        controllers.retainAll(CgroupMode.MANAGED_V2);
                        // not listed: device programs attach to every cgroup2 directory (4.15+)
                        controllers.add("devices");
                        // not listed either: cgroup.freeze is in every non-root cgroup2 directory (5.2+)
                        controllers.add("freezer");
                    }
                    unified = new Hierarchy(controllers, at, m.root(), ownPath, true);
                }
                continue;
            }
            if (mode == CgroupMode.UNIFIED || at.equals(mountRoot)) {
                continue;
            }
            Set<String> controllers = new TreeSet<>(m.controllers());
            controllers.removeIf(c -> c.startsWith("name="));
            if (controllers.stream().noneMatch(CgroupMode.MANAGED::contains)) {
                continue;
            }
            boolean seen = v1.stream().anyMatch(h -> h.controllers().equals(controllers));
            if (seen) {
                continue; // the same hierarchy mounted twice: the first mount point serves
            }
            String anyController = controllers.iterator().next();
            String ownPath = own.pathOf(anyController).orElseThrow(() -> new IllegalStateException(
                    "/proc/self/cgroup has no line for the " + String.join(",", controllers)
                            + " hierarchy mounted at " + at));
            v1.add(new Hierarchy(controllers, at, m.root(), ownPath));
        }
        if (mode != CgroupMode.UNIFIED && v1.isEmpty()) {
            throw new IllegalStateException("no cgroup hierarchy of " + String.join(", ", new TreeSet<>(CgroupMode.MANAGED))
                    + " is mounted under " + mountRoot + " (jgovernor.cgroup.mount); see /proc/self/mountinfo");
        }
        if (mode == CgroupMode.UNIFIED && unified == null) {
            throw new IllegalStateException("cgroup2 detected at " + mountRoot + " but not found in mountinfo");
        }
        v1.sort((a, b) -> a.name().compareTo(b.name()));
        // On UNIFIED the one cgroup2 hierarchy plays the role the v1 hierarchies play elsewhere.
        return new CgroupLayout(mode, mountRoot, checkedRoot, mode == CgroupMode.UNIFIED ? List.of(unified) : v1,
                unified);
    }

    private static String checkRoot(String root) {
        if (root == null || root.isBlank() || root.strip().equals("/")) {
            throw new IllegalArgumentException("jgovernor.cgroup.root must name a directory, like \"jgovernor\" "
                    + "(beneath the daemon's own cgroup) or \"/jgovernor\" (from the hierarchy's root); got \""
                    + root + "\"");
        }
        String r = root.strip();
        String body = r.startsWith("/") ? r.substring(1) : r;
        for (String segment : body.split("/", -1)) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new IllegalArgumentException("jgovernor.cgroup.root \"" + root + "\" must stay inside the "
                        + "cgroup hierarchy: \"" + segment + "\" is not allowed");
            }
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("jgovernor.cgroup.root \"" + root + "\" has an empty path segment");
            }
            if (segment.indexOf('\0') >= 0 || segment.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("jgovernor.cgroup.root \"" + root + "\" has a control character");
            }
        }
        return r;
    }

    private Path resolveRoot(Hierarchy h) {
        Path dir = root.startsWith("/") ? h.mountPoint().resolve(root.substring(1)) : h.ownDir().resolve(root);
        Path normal = dir.normalize();
        if (!normal.startsWith(h.mountPoint())) {
            throw new IllegalArgumentException("jgovernor.cgroup.root \"" + root + "\" leaves " + h.mountPoint());
        }
        return normal;
    }

    public CgroupMode mode() {
        return mode;
    }

    /**
     * On a HYBRID host: the same layout, with the controller-less unified (cgroup2) tree added to
     * {@link #hierarchies()}, so that every group gets a directory there and its processes are
     * moved into it as into its v1 directories. The kernel keeps pressure stall information (PSI)
     * per cgroup2 directory whatever the controllers, and accounts a process's stalls to its
     * cgroup2 directory (memory stalls from reclaim under a v1 memory limit and waits under a v1
     * CFS quota included, measured on kernel 6.18): this is how a hybrid host gives per-group
     * pressure. Other modes: this layout.
     */
    public CgroupLayout withUnifiedGroups() {
        if (mode != CgroupMode.HYBRID || unified == null || hierarchies.contains(unified)) {
            return this;
        }
        List<Hierarchy> all = new ArrayList<>(hierarchies);
        all.add(unified);
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return new CgroupLayout(mode, mount, root, all, unified);
    }

    /** The configured mount root, e.g. /sys/fs/cgroup. */
    public Path mount() {
        return mount;
    }

    /** The configured root, e.g. "jgovernor" or "/jgovernor". */
    public String root() {
        return root;
    }

    /**
     * The hierarchies jgovernor manages groups in: on V1 and HYBRID the v1 hierarchies of the
     * controllers it manages, one per hierarchy (a co-mounted cpu,cpuacct appears once with both);
     * on UNIFIED the one cgroup2 hierarchy, carrying the v2 controllers the kernel offers.
     */
    public List<Hierarchy> hierarchies() {
        return hierarchies;
    }

    /** The hierarchy carrying {@code controller} (by its v1 or v2 name, as this layout uses them). */
    public Optional<Hierarchy> hierarchy(String controller) {
        for (Hierarchy h : hierarchies) {
            if (h.has(controller)) {
                return Optional.of(h);
            }
        }
        return Optional.empty();
    }

    /** The hierarchy (a managed one, or a hybrid host's controller-less cgroup2 tree) that {@code dir} is in. */
    public Optional<Hierarchy> hierarchyAt(Path dir) {
        for (Hierarchy h : hierarchies) {
            if (dir.startsWith(h.mountPoint())) {
                return Optional.of(h);
            }
        }
        return unified().filter(h -> dir.startsWith(h.mountPoint()));
    }

    /** The cgroup2 hierarchy: the whole tree on UNIFIED, the controller-less one on HYBRID. */
    public Optional<Hierarchy> unified() {
        return Optional.ofNullable(unified);
    }

    /**
     * Where the kernel counts each group's pressure (PSI) and takes triggers: the cgroup2 tree,
     * v2's one hierarchy or a hybrid host's unified tree (whose directories have the pressure files
     * without any controller). Empty on a v1-only host.
     */
    public Optional<Hierarchy> pressureTree() {
        return unified();
    }

    /** jgovernor's root directory in {@code h}. */
    public Path rootDir(Hierarchy h) {
        Path dir = rootDirs.get(h);
        if (dir == null) {
            throw new IllegalArgumentException(h + " is not a hierarchy of this layout");
        }
        return dir;
    }

    /** The directory of group {@code name} in {@code h}; nested names are nested directories. */
    public Path groupDir(Hierarchy h, GroupName name) {
        Path dir = rootDir(h);
        for (String segment : name.segments()) {
            dir = dir.resolve(segment);
        }
        return dir;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("CgroupLayout[").append(mode);
        for (Hierarchy h : hierarchies) {
            out.append(", ").append(h.name()).append('=').append(rootDirs.get(h));
        }
        if (unified != null && !hierarchies.contains(unified)) {
            out.append(", cgroup2=").append(rootDirs.get(unified));
        }
        return out.append(']').toString();
    }
}

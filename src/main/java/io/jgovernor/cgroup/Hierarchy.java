package io.jgovernor.cgroup;

import java.nio.file.Path;
import java.util.Set;

/**
 * One mounted cgroup hierarchy as this process sees it.
 *
 * @param controllers the controllers mounted together (["cpu", "cpuacct"] when co-mounted);
 *                    empty for the cgroup2 hierarchy
 * @param mountPoint  where it is mounted, e.g. /sys/fs/cgroup/cpu,cpuacct
 * @param mountRoot   the hierarchy's directory shown at the mount point ("/" usually; a container
 *                    without a cgroup namespace sees e.g. "/docker/&lt;id&gt;")
 * @param ownPath     this process's cgroup in the hierarchy, from /proc/self/cgroup
 * @param v2          a cgroup2 hierarchy: on HYBRID it carries no controllers; on UNIFIED it
 *                    carries every v2 controller jgovernor manages that the kernel offers
 */
public record Hierarchy(Set<String> controllers, Path mountPoint, String mountRoot, String ownPath, boolean v2) {
    public Hierarchy {
        controllers = Set.copyOf(controllers);
    }

    /** A v1 hierarchy, or (no controllers) the controller-less cgroup2 tree of a hybrid host. */
    public Hierarchy(Set<String> controllers, Path mountPoint, String mountRoot, String ownPath) {
        this(controllers, mountPoint, mountRoot, ownPath, controllers.isEmpty());
    }

    public boolean isUnified() {
        return v2;
    }

    /**
     * Whether jgovernor enables controllers in this hierarchy: every v1 hierarchy and a v2 host's
     * unified tree; not a hybrid host's unified tree, whose directories only hold processes (for
     * their pressure files), so no cgroup.subtree_control is written there.
     */
    public boolean hasControllers() {
        return !controllers.isEmpty();
    }

    public boolean has(String controller) {
        return controllers.contains(controller);
    }

    /**
     * This process's own cgroup directory: the mount point plus the own path taken relative to the
     * mount root.
     *
     * @throws IllegalStateException when the own path is not beneath the mount root, i.e. this
     *                               process's cgroup is not reachable through this mount
     */
    public Path ownDir() {
        String root = mountRoot.endsWith("/") ? mountRoot : mountRoot + "/";
        String own = ownPath.endsWith("/") ? ownPath : ownPath + "/";
        if (!own.startsWith(root)) {
            throw new IllegalStateException("this process's cgroup " + ownPath + " in the " + name()
                    + " hierarchy is not beneath " + mountRoot + ", the directory mounted at " + mountPoint
                    + "; mount the hierarchy's root (or use a cgroup namespace)");
        }
        String relative = own.substring(root.length());
        return relative.isEmpty() ? mountPoint : mountPoint.resolve(relative.substring(0, relative.length() - 1));
    }

    /** "cpu,cpuacct", or "cgroup2". */
    public String name() {
        return isUnified() ? "cgroup2" : String.join(",", controllers.stream().sorted().toList());
    }

    /**
     * The kernel's name for cgroup directory {@code dir} of this hierarchy, as /proc/PID/cgroup shows
     * it: the mount root plus the path below the mount point, e.g. {@code /system.slice/x/jgovernor/web}.
     */
    public String cgroupPath(Path dir) {
        Path normal = dir.normalize();
        if (!normal.startsWith(mountPoint)) {
            throw new IllegalArgumentException(dir + " is not in the " + name() + " hierarchy at " + mountPoint);
        }
        String below = mountPoint.relativize(normal).toString();
        String root = mountRoot.endsWith("/") ? mountRoot : mountRoot + "/";
        return below.isEmpty() ? mountRoot : root + below;
    }
}

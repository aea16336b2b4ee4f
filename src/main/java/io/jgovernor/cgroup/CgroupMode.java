package io.jgovernor.cgroup;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/** How cgroups are mounted on this host; decided once, at startup. */
public enum CgroupMode {
    /** Only v1 hierarchies under the mount root. */
    V1,
    /**
     * v1 hierarchies for the controllers, plus a cgroup2 mount (systemd's "unified" directory)
     * that carries none of them: jgovernor manages the v1 side.
     */
    HYBRID,
    /** cgroup2 mounted at the mount root itself. */
    UNIFIED;

    /** The controllers jgovernor manages ({@link Controllers}); which of them a hierarchy carries decides the mode. */
    public static final Set<String> MANAGED = Controllers.V1_NAMES;
    /** The same, by their cgroup v2 names ({@link Controllers#V2_NAMES}). */
    public static final Set<String> MANAGED_V2 = Controllers.V2_NAMES;

    /**
     * Decides the mode.
     *
     * <p>A cgroup2 mount counts as "without controllers" for HYBRID when its cgroup.controllers
     * lists none of the {@link #MANAGED} ones: on this kind of host it may still list controllers
     * no v1 hierarchy claimed (hugetlb, misc), which jgovernor does not use.
     *
     * @param mountRoot   the configured mount root (jgovernor.cgroup.mount), e.g. /sys/fs/cgroup
     * @param readControllers reads a cgroup2 mount point's cgroup.controllers; empty if unreadable
     */
    public static CgroupMode detect(MountInfo mountInfo, Path mountRoot,
                                    Function<Path, Optional<String>> readControllers) {
        Path root = mountRoot.normalize();
        boolean v1 = false;
        boolean bareUnified = false;
        for (MountInfo.Mount m : mountInfo.cgroupMounts()) {
            Path at = Path.of(m.mountPoint()).normalize();
            if (m.isCgroup2() && at.equals(root)) {
                return UNIFIED;
            }
            if (!at.startsWith(root) || at.equals(root)) {
                continue;
            }
            if (m.isCgroup1()) {
                v1 |= m.controllers().stream().anyMatch(MANAGED::contains);
            } else if (m.isCgroup2()) {
                String listed = readControllers.apply(at).orElse("");
                boolean managesNothing = true;
                for (String c : listed.strip().split("\\s+")) {
                    if (MANAGED.contains(c)) {
                        managesNothing = false;
                    }
                }
                bareUnified |= managesNothing;
            }
        }
        return v1 && bareUnified ? HYBRID : V1;
    }
}

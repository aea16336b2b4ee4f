package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where a process must be attached to be in a group: the group's directory in every hierarchy it
 * has (v1: one per mounted hierarchy its policy uses; v2: the one unified directory), as the last
 * reconcile pass laid them out. Writing a pid to {@code cgroup.procs} in each of them, in this
 * order, attaches the whole process. Workloads and classification both go through this, so they
 * follow the same layout the reconciler made.
 */
public interface GroupDirectories {
    /** The group's directories; empty when the group is not (or no longer) in the desired tree. */
    List<Path> of(GroupName group);

    /**
     * Every group that has a directory beneath the root now, with those directories, whatever
     * the policies say: what a daemon start finds left by its predecessor (groups whose policy
     * went away meanwhile included). Empty when this layout cannot tell.
     */
    default Map<GroupName, List<Path>> present() {
        return Map.of();
    }
}

package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;

/**
 * Processes that keep a group's directories in place when its policy is gone: a workload that
 * did not stop (yet). Moving such a process out would run it outside any limit, so the pass
 * leaves the directories, reports an error for the group and tries again on the next pass.
 */
@FunctionalInterface
public interface Occupants {
    Occupants NONE = (group, pid) -> false;

    boolean holds(GroupName group, int pid);
}

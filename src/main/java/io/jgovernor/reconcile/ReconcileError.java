package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupException;

/** A step that failed, located: the group it served and the kernel's answer (dir, file, value, errno). */
public record ReconcileError(String group, String message) {
    ReconcileError(String group, CgroupException e) {
        this(group, e.getMessage());
    }

    @Override
    public String toString() {
        return "group " + group + ": " + message;
    }
}

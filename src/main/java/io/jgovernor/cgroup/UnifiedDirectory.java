package io.jgovernor.cgroup;

import io.jgovernor.model.Resources;

/**
 * A group's directory in a hybrid host's unified (cgroup2) tree, which carries no controller
 * jgovernor manages: nothing is written in it, it is made for every group and the group's
 * processes join it, so that the kernel counts their pressure stalls (cpu.pressure,
 * memory.pressure, io.pressure) per group, as systemd's directories there track its units. See
 * {@link CgroupLayout#withUnifiedGroups()}.
 */
public final class UnifiedDirectory implements DirectoryOnly {
    /** The hierarchy's name ({@link Hierarchy#name()}): no kernel controller has it. */
    public static final String NAME = "cgroup2";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean usedBy(Resources resources) {
        return true;
    }
}

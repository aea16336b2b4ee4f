package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Write;

import java.nio.file.Path;
import java.util.List;

/**
 * What a pass will do, computed from desired and observed state before anything is written.
 * Logs, dry runs ({@code jgovernor plan}) and drift counts all read this one list. Steps run in
 * list order.
 */
public record Plan(List<Step> steps) {
    public Plan {
        steps = List.copyOf(steps);
    }

    public boolean isEmpty() {
        return steps.isEmpty();
    }

    /** {@code group} is the policy name ("(root)" for the daemon's root) that the step serves. */
    public sealed interface Step {
        String group();

        Path dir();

        /** Whether the group's desired state is what was applied before: a step then repairs drift. */
        boolean drift();
    }

    private static String shown(String value) {
        return value == null || value.isBlank() ? "(empty)" : value;
    }

    public record Mkdir(String group, Path dir, boolean drift) implements Step {
        @Override
        public String toString() {
            return group + ": mkdir " + dir;
        }
    }

    /**
     * {@code by} is the controller whose write it is, which carries it out; null for the files no
     * controller owns (cgroup.subtree_control), written as they are.
     */
    public record WriteFile(String group, Path dir, Write write, boolean drift, Controller by) implements Step {
        WriteFile(String group, Path dir, Write write, boolean drift) {
            this(group, dir, write, drift, null);
        }

        void apply(CgroupFiles files) throws CgroupException {
            if (by == null) {
                files.write(dir, write.file(), write.value());
            } else {
                by.apply(files, dir, write);
            }
        }

        @Override
        public String toString() {
            return group + ": " + write.file() + " " + shown(write.was()) + " -> " + shown(write.wanted());
        }
    }

    /** Moves every process of {@code dir} to {@code target}, then removes {@code dir}. */
    public record Remove(String group, Path dir, Path target, boolean drift) implements Step {
        @Override
        public String toString() {
            return group + ": remove " + dir + " (processes to " + target + ")";
        }
    }
}

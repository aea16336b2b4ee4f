package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Write;

import java.util.Set;
import java.util.TreeSet;

/**
 * cgroup.subtree_control: which controllers a v2 directory hands down to its children. A
 * controller's files appear in a child only when the parent lists it, and a parent can only list
 * what its own cgroup.controllers has; so controllers are enabled top-down along the path from the
 * daemon's delegated cgroup to each group's parent. Only what the subtree below a directory uses is
 * enabled there, so a memory-only group pays for no CPU accounting.
 *
 * <p>The kernel's "no internal processes" rule applies: a directory with processes cannot enable
 * a controller for its children (EBUSY), and a directory with enabled controllers takes no
 * processes. So a group that has children using controllers cannot hold processes itself.
 */
public final class SubtreeControl {
    public static final String FILE = "cgroup.subtree_control";
    /**
     * The v2 "controllers" that are never enabled: "devices" is a BPF program on the directory
     * (the kernel refuses "+devices" with EINVAL), and works beneath without anything enabled;
     * "freezer" is cgroup.freeze, a core file every directory has.
     */
    private static final Set<String> NOT_ENABLED = Set.of("devices", "freezer");

    private SubtreeControl() {
    }

    /**
     * The write that makes a directory whose cgroup.subtree_control reads {@code observed} enable
     * {@code wanted}; with {@code exact} also disabling what is enabled but not wanted (a directory
     * jgovernor owns), otherwise only adding (a directory above jgovernor's root, shared with
     * whoever delegated it). Null when nothing changes. Disabling fails (EBUSY) while a child
     * still enables the controller below; the applier's reverse-order retry runs the child first.
     */
    public static Write reconcile(Set<String> wanted, String observed, boolean exact) {
        Set<String> now = parse(observed);
        if (wanted.stream().anyMatch(NOT_ENABLED::contains)) {
            wanted = new TreeSet<>(wanted);
            wanted.removeAll(NOT_ENABLED);
        }
        StringBuilder value = new StringBuilder();
        for (String c : new TreeSet<>(wanted)) {
            if (!now.contains(c)) {
                value.append(value.isEmpty() ? "" : " ").append('+').append(c);
            }
        }
        if (exact) {
            for (String c : now) {
                if (!wanted.contains(c)) {
                    value.append(value.isEmpty() ? "" : " ").append('-').append(c);
                }
            }
        }
        if (value.isEmpty()) {
            return null;
        }
        Set<String> after = new TreeSet<>(exact ? Set.of() : now);
        after.addAll(wanted);
        return new Write(FILE, value.toString(), show(now), show(after));
    }

    /** The controllers listed, e.g. "cpu memory pids" (unreadable or absent: none). */
    public static Set<String> parse(String text) {
        Set<String> out = new TreeSet<>();
        if (text != null) {
            for (String c : text.strip().split("\\s+")) {
                if (!c.isEmpty()) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static String show(Set<String> set) {
        return set.isEmpty() ? "(none)" : String.join(" ", set);
    }
}

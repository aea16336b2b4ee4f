package io.jgovernor.cgroup;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a memory controller shows a group's OOM state, and how the kernel tells of it: the
 * memory controller of each version implements this (v1: memory.limit_in_bytes,
 * memory.usage_in_bytes, memory.oom_control and an eventfd; v2: memory.max, memory.current,
 * memory.events and inotify), and the events side asks {@link Backend#oomFiles()} for it. An
 * event reads the same facts either way.
 */
public interface OomFiles {
    /** v2's "max" (no limit), reported as the largest value, like v1's page-rounded LONG_MAX. */
    long NO_LIMIT = Long.MAX_VALUE;

    /** How the kernel tells that a group's memory state changed. */
    enum Notice {
        /** an eventfd registered in cgroup.event_control for {@link #noticeFile} (v1 memory) */
        EVENTFD,
        /** inotify IN_MODIFY on {@link #noticeFile}, whose counters then changed (v2 memory.events) */
        INOTIFY
    }

    Notice notice();

    /** The file the notice is about: it holds "name value" counters, oom_kill among them. */
    String noticeFile();

    /**
     * Whether the kernel itself kills a whole group on OOM (v2's memory.oom.group, which the
     * memory controller writes); where it does not, the daemon does it for a policy's
     * {@code oomGroup}.
     */
    boolean kernelKillsGroup();

    /** The limit in bytes ({@link #NO_LIMIT} for v2's "max"); -1 when it cannot be read. */
    long limit(CgroupFiles files, Path dir);

    /** The usage in bytes; -1 when it cannot be read. */
    long usage(CgroupFiles files, Path dir);

    /** How many processes the kernel's OOM killer has killed in the group so far. */
    default Optional<Long> kills(CgroupFiles files, Path dir) {
        return counter(files, dir, noticeFile(), "oom_kill");
    }

    /** Whether the kernel will not kill here (v1 oom_kill_disable); false where there is no such knob. */
    default boolean killDisabled(CgroupFiles files, Path dir) {
        return false;
    }

    /** A file holding one number, or "max" ({@link #NO_LIMIT}); -1 when absent or unreadable. */
    static long number(CgroupFiles files, Path dir, String file) {
        try {
            Optional<String> text = files.read(dir, file);
            if (text.isEmpty()) {
                return -1;
            }
            String s = text.get().strip();
            return s.equals(Normalize.MAX) ? NO_LIMIT : Long.parseLong(s);
        } catch (CgroupException | NumberFormatException e) {
            return -1;
        }
    }

    /** The "name value" line {@code name} of {@code file}; empty when absent, unreadable or malformed. */
    static Optional<Long> counter(CgroupFiles files, Path dir, String file, String name) {
        try {
            Optional<String> text = files.read(dir, file);
            if (text.isEmpty()) {
                return Optional.empty();
            }
            var v = CgroupText.keyed(text.get(), name);
            return v.isPresent() ? Optional.of(v.getAsLong()) : Optional.empty();
        } catch (CgroupException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}

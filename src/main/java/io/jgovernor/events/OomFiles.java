package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a memory cgroup shows its OOM state, which differs between the versions: v1 has
 * {@code memory.limit_in_bytes}, {@code memory.usage_in_bytes} and the counters in
 * {@code memory.oom_control}; v2 has {@code memory.max}, {@code memory.current} and the counters
 * in {@code memory.events}. An event reads the same facts either way.
 */
public final class OomFiles {
    /** v2's "max" (no limit), reported as the largest value, like v1's page-rounded LONG_MAX. */
    public static final long NO_LIMIT = Long.MAX_VALUE;

    private final CgroupFiles files;
    private final boolean unified;

    private OomFiles(CgroupFiles files, boolean unified) {
        this.files = files;
        this.unified = unified;
    }

    public static OomFiles v1(CgroupFiles files) {
        return new OomFiles(files, false);
    }

    public static OomFiles v2(CgroupFiles files) {
        return new OomFiles(files, true);
    }

    /**
     * Whether the kernel itself kills a whole group on OOM (v2's memory.oom.group, which the
     * memory controller writes); on v1 the daemon must do it for a policy's {@code oomGroup}.
     */
    boolean kernelKillsGroup() {
        return unified;
    }

    /** The limit in bytes; -1 when it cannot be read. */
    long limit(Path dir) {
        return number(dir, unified ? "memory.max" : "memory.limit_in_bytes");
    }

    /** The usage in bytes; -1 when it cannot be read. */
    long usage(Path dir) {
        return number(dir, unified ? "memory.current" : "memory.usage_in_bytes");
    }

    /** How many processes the kernel's OOM killer has killed in the group so far. */
    Optional<Long> kills(Path dir) {
        return field(dir, "oom_kill");
    }

    /** Whether the kernel will not kill here (v1 oom_kill_disable); v2 has no such knob. */
    boolean killDisabled(Path dir) {
        return !unified && field(dir, "oom_kill_disable").orElse(0L) == 1;
    }

    private long number(Path dir, String file) {
        try {
            Optional<String> text = files.read(dir, file);
            if (text.isEmpty()) {
                return -1;
            }
            String s = text.get().strip();
            return s.equals("max") ? NO_LIMIT : Long.parseLong(s);
        } catch (CgroupException | NumberFormatException e) {
            return -1;
        }
    }

    /** A field of memory.oom_control or memory.events, both "name value" lines. */
    private Optional<Long> field(Path dir, String name) {
        try {
            Optional<String> text = files.read(dir, unified ? "memory.events" : "memory.oom_control");
            return text.flatMap(t -> field(t, name));
        } catch (CgroupException e) {
            return Optional.empty();
        }
    }

    /** The value of the "name value" line called {@code name} in {@code text}. */
    static Optional<Long> field(String text, String name) {
        int from = 0;
        while (from < text.length()) {
            int end = text.indexOf('\n', from);
            if (end < 0) {
                end = text.length();
            }
            int sp = text.indexOf(' ', from);
            if (sp > from && sp < end && sp - from == name.length() && text.startsWith(name, from)) {
                try {
                    return Optional.of(Long.parseLong(text.substring(sp + 1, end).strip()));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
            from = end + 1;
        }
        return Optional.empty();
    }
}

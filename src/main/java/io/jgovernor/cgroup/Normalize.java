package io.jgovernor.cgroup;

import java.util.Map;
import java.util.OptionalLong;

/**
 * Small parsing helpers shared by the v1 and v2 controllers; every observed value passes through
 * here, so both versions read and show control files the same way.
 */
public final class Normalize {
    /** How a file missing from a directory shows in {@link io.jgovernor.cgroup.Write#was()}. */
    public static final String ABSENT = "absent";

    /** The kernel's word for "no limit" (v2 files, v1 pids.max), read and written. */
    public static final String MAX = "max";

    private Normalize() {
    }

    /** The file's text without the trailing newline, or null when the file is absent. */
    public static String text(Map<String, String> observed, String file) {
        String raw = observed.get(file);
        return raw == null ? null : raw.strip();
    }

    public static OptionalLong parseLong(String text) {
        if (text == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** What to print for an observed value in a Write's {@code was}. */
    public static String was(String text) {
        return text == null ? ABSENT : text;
    }

    /**
     * A weight file's default: "100", or "default 100" with per-device lines after it (v2
     * io.weight, io.bfq.weight, and v1 blkio.bfq.weight on some kernels); per-device lines are
     * not managed.
     */
    public static OptionalLong weight(String text) {
        if (text == null) {
            return OptionalLong.empty();
        }
        String first = text.strip().split("\n", 2)[0].strip();
        if (first.startsWith("default")) {
            first = first.substring("default".length()).strip();
        }
        return parseLong(first);
    }
}

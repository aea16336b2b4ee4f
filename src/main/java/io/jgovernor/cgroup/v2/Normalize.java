package io.jgovernor.cgroup.v2;

import java.util.Map;
import java.util.OptionalLong;

/** Small parsing helpers shared by the v2 controllers; every observed value passes through here. */
final class Normalize {
    /** How a file missing from a directory shows in {@link io.jgovernor.cgroup.Write#was()}. */
    static final String ABSENT = "absent";
    /** v2's word for "no limit", read and written. */
    static final String MAX = "max";

    private Normalize() {
    }

    /** The file's text without the trailing newline, or null when the file is absent. */
    static String text(Map<String, String> observed, String file) {
        String raw = observed.get(file);
        return raw == null ? null : raw.strip();
    }

    static OptionalLong parseLong(String text) {
        if (text == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    static String was(String text) {
        return text == null ? ABSENT : text;
    }
}

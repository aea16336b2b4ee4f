package io.jgovernor.model;

import java.util.Set;

/**
 * One rule of a device allow list, in the words devices.allow takes: {@code TYPE MAJOR:MINOR ACCESS},
 * e.g. "c 1:3 rwm". Type is {@code a} (any), {@code b} (block) or {@code c} (character); a major
 * or minor of {@link #ANY} is the "*" wildcard; access is a set of {@code r} (read), {@code w}
 * (write) and {@code m} (mknod).
 */
public record DeviceRule(char type, int major, int minor, Set<Access> access) {
    /** The "*" wildcard of a major or minor number. */
    public static final int ANY = -1;
    /** The largest major number: the kernel's dev_t keeps 12 bits for it (MAJOR()). */
    public static final int MAX_MAJOR = (1 << 12) - 1;
    /** The largest minor number: 20 bits (MINORBITS). */
    public static final int MAX_MINOR = (1 << 20) - 1;

    /** In the order the kernel prints them in devices.list. */
    public enum Access {
        READ('r'), WRITE('w'), MKNOD('m');

        public final char letter;

        Access(char letter) {
            this.letter = letter;
        }
    }

    public DeviceRule {
        if (type != 'a' && type != 'b' && type != 'c') {
            throw new IllegalArgumentException("device type must be a, b or c");
        }
        if (major < ANY || major > MAX_MAJOR || minor < ANY || minor > MAX_MINOR) {
            throw new IllegalArgumentException("device number out of range");
        }
        if (access.isEmpty()) {
            throw new IllegalArgumentException("a device rule needs at least one of r, w, m");
        }
        access = Set.copyOf(access);
    }

    /**
     * Parses "c 1:3 rwm" as devices.allow takes it.
     *
     * @throws IllegalArgumentException with a sentence saying which part is wrong
     */
    public static DeviceRule parse(String text) {
        String[] parts = text.strip().split("\\s+");
        if (parts.length != 3) {
            throw new IllegalArgumentException("\"" + text + "\" is not TYPE MAJOR:MINOR ACCESS, like \"c 1:3 rwm\"");
        }
        if (parts[0].length() != 1 || "abc".indexOf(parts[0].charAt(0)) < 0) {
            throw new IllegalArgumentException("device type \"" + parts[0] + "\" is not a (any), b (block) or"
                    + " c (character)");
        }
        int colon = parts[1].indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("\"" + parts[1] + "\" is not MAJOR:MINOR, like 1:3 or 136:*");
        }
        int major = number(parts[1].substring(0, colon), "major", MAX_MAJOR);
        int minor = number(parts[1].substring(colon + 1), "minor", MAX_MINOR);
        java.util.EnumSet<Access> access = java.util.EnumSet.noneOf(Access.class);
        for (char c : parts[2].toCharArray()) {
            Access a = switch (c) {
                case 'r' -> Access.READ;
                case 'w' -> Access.WRITE;
                case 'm' -> Access.MKNOD;
                default -> throw new IllegalArgumentException("access \"" + parts[2] + "\" has '" + c
                        + "'; access is made of r (read), w (write) and m (mknod)");
            };
            if (!access.add(a)) {
                throw new IllegalArgumentException("access \"" + parts[2] + "\" names '" + c + "' twice");
            }
        }
        return new DeviceRule(parts[0].charAt(0), major, minor, access);
    }

    private static int number(String text, String what, int max) {
        if (text.equals("*")) {
            return ANY;
        }
        if (text.isEmpty() || text.length() > 7 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(what + " \"" + text + "\" is not a number or \"*\"");
        }
        int n = Integer.parseInt(text);
        if (n > max) {
            throw new IllegalArgumentException(what + " " + n + " is out of range 0.." + max
                    + " (the kernel's dev_t)");
        }
        return n;
    }

    /** Whether both rules name the same devices of a type: a (any) overlaps b and c of the same numbers. */
    public boolean sameDevices(DeviceRule o) {
        return major == o.major && minor == o.minor && (type == o.type || type == 'a' || o.type == 'a');
    }

    /** "rwm", "r", ... in the kernel's order. */
    public String accessText() {
        StringBuilder out = new StringBuilder(3);
        for (Access a : Access.values()) {
            if (access.contains(a)) {
                out.append(a.letter);
            }
        }
        return out.toString();
    }

    /** The rule as devices.allow takes it and devices.list prints it: "c 1:3 rwm", "b 8:* r". */
    @Override
    public String toString() {
        return type + " " + (major == ANY ? "*" : Integer.toString(major)) + ":"
                + (minor == ANY ? "*" : Integer.toString(minor)) + " " + accessText();
    }
}

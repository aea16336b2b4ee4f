package io.jgovernor.model;

/** A block device as the kernel names it in cgroup files: "MAJ:MIN". */
public record DeviceNumber(int major, int minor) implements Comparable<DeviceNumber> {
    public DeviceNumber {
        if (major < 0 || minor < 0) {
            throw new IllegalArgumentException("device numbers cannot be negative");
        }
    }

    public static DeviceNumber parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not MAJ:MIN");
        }
        try {
            return new DeviceNumber(Integer.parseInt(text.substring(0, colon)),
                    Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not MAJ:MIN");
        }
    }

    @Override
    public int compareTo(DeviceNumber o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}

package io.jgovernor.cgroup;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The mount table as /proc/self/mountinfo gives it (see proc(5)):
 * {@code 32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu}.
 * Parsing is pure, so tests feed captured text.
 */
public record MountInfo(List<Mount> mounts) {
    public MountInfo {
        mounts = List.copyOf(mounts);
    }

    /**
     * One mount. {@code root} is the directory of the filesystem mounted at {@code mountPoint}
     * (not "/" for a bind mount or a container's view of a cgroup hierarchy);
     * {@code superOptions} are the per-superblock options, where a cgroup v1 mount lists its
     * controllers.
     */
    public record Mount(int id, int parentId, String device, String root, String mountPoint,
                        String fsType, String source, List<String> superOptions) {
        public Mount {
            superOptions = List.copyOf(superOptions);
        }

        public boolean isCgroup1() {
            return fsType.equals("cgroup");
        }

        public boolean isCgroup2() {
            return fsType.equals("cgroup2");
        }

        /**
         * The v1 controllers (and "name=..." named hierarchies) this mount carries, from its super
         * options, e.g. [cpu, cpuacct]; empty for anything but a cgroup v1 mount.
         */
        public Set<String> controllers() {
            if (!isCgroup1()) {
                return Set.of();
            }
            Set<String> out = new LinkedHashSet<>();
            for (String option : superOptions) {
                if (V1_CONTROLLERS.contains(option) || option.startsWith("name=")) {
                    out.add(option);
                }
            }
            return Collections.unmodifiableSet(out);
        }
    }

    /** Every cgroup v1 controller the kernel has had; the other super options are mount flags. */
    public static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "blkio",
            "pids", "devices", "freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", "debug");

    /** Parses the whole text; a line that is not in mountinfo form is an error naming its number. */
    public static MountInfo parse(String text) {
        List<Mount> mounts = new ArrayList<>();
        int lineNumber = 0;
        for (String line : text.split("\n")) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            mounts.add(parseLine(line, lineNumber));
        }
        return new MountInfo(mounts);
    }

    private static Mount parseLine(String line, int lineNumber) {
        String[] f = line.strip().split(" ");
        // id parent maj:min root mountpoint options [optional fields...] - fstype source superoptions
        int separator = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                separator = i;
                break;
            }
        }
        if (separator < 0 || separator + 1 >= f.length) {
            throw new IllegalArgumentException("mountinfo line " + lineNumber + " is not in proc(5) form: " + line);
        }
        try {
            String fsType = f[separator + 1];
            String source = separator + 2 < f.length ? unescape(f[separator + 2]) : "";
            String superOptions = separator + 3 < f.length ? f[separator + 3] : "";
            return new Mount(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], unescape(f[3]), unescape(f[4]),
                    fsType, source, superOptions.isEmpty() ? List.of() : List.of(superOptions.split(",")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mountinfo line " + lineNumber + " is not in proc(5) form: " + line);
        }
    }

    /** The kernel writes space, tab, newline and backslash in paths as octal escapes ("\040"). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }

    /**
     * The cgroup mounts visible at {@code mountPoint}: when several mounts share a mount point the
     * last one hides the others, so only it counts.
     */
    public List<Mount> cgroupMounts() {
        List<Mount> out = new ArrayList<>();
        for (int i = 0; i < mounts.size(); i++) {
            Mount m = mounts.get(i);
            if (!m.isCgroup1() && !m.isCgroup2()) {
                continue;
            }
            boolean hidden = false;
            for (int j = i + 1; j < mounts.size(); j++) {
                if (mounts.get(j).mountPoint().equals(m.mountPoint())) {
                    hidden = true;
                    break;
                }
            }
            if (!hidden) {
                out.add(m);
            }
        }
        return out;
    }
}

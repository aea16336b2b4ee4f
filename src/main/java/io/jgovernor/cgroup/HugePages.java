package io.jgovernor.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Huge page sizes as the kernel names them: /sys/kernel/mm/hugepages/hugepages-2048kB for the
 * pool, "2MB" in the hugetlb controller's file names (mm/hugetlb_cgroup.c mem_fmt: whole GB, else
 * whole MB, else KB). Shared by v1's and v2's HugetlbController and the policy's host facts.
 */
public final class HugePages {
    private static final Pattern POOL = Pattern.compile("hugepages-(\\d+)kB");

    private HugePages() {
    }

    /** The page sizes this kernel has pools for, in bytes; empty when {@code sysfs} has none. */
    public static SortedSet<Long> sizes(Path sysfs) {
        SortedSet<Long> out = new TreeSet<>();
        try (Stream<Path> dirs = Files.list(sysfs.resolve("kernel/mm/hugepages"))) {
            for (Path d : dirs.toList()) {
                Matcher m = POOL.matcher(d.getFileName().toString());
                if (m.matches()) {
                    out.add(Long.parseLong(m.group(1)) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            return out; // no hugetlb pools (CONFIG_HUGETLBFS off): no sizes
        }
        return out;
    }

    /** The host's sizes, from /sys. */
    public static SortedSet<Long> hostSizes() {
        return sizes(Path.of("/sys"));
    }

    /**
     * Whether this kernel has the reservation limits (hugetlb.*.rsvd.*, added in 5.7): known from
     * the release, since a plan for a new group must know before any directory shows the files.
     */
    public static boolean hostHasReservations() {
        try {
            return hasReservations(Files.readString(Path.of("/proc/sys/kernel/osrelease")));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether kernel release {@code release} ("6.1.0-13-amd64") is 5.7 or later. */
    static boolean hasReservations(String release) {
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+).*").matcher(release.strip());
        if (!m.matches()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        return major > 5 || (major == 5 && Integer.parseInt(m.group(2)) >= 7);
    }

    /**
     * Whether a limit read back as {@code bytes} is the kernel's "no limit" for pages of {@code
     * pageSize}: PAGE_COUNTER_MAX base pages, rounded down to whole huge pages or not (a fresh
     * group reads 9223372036854771712 even on v2, where a written "max" reads "max").
     */
    public static boolean unlimited(long bytes, long pageSize) {
        return bytes > Long.MAX_VALUE - 2 * pageSize;
    }

    /** "2MB", "1GB", "64KB": the size's part of the controller's file names. */
    public static String fileName(long bytes) {
        if (bytes >= 1L << 30) {
            return (bytes >> 30) + "GB";
        }
        if (bytes >= 1L << 20) {
            return (bytes >> 20) + "MB";
        }
        return (bytes >> 10) + "KB";
    }

    /**
     * Adds the two series the hugetlb controllers report for pages of {@code pageSize}: bytes of
     * huge pages charged to the group now, and allocations refused at the limit since the group
     * was made (v1 failcnt, v2 events "max").
     */
    public static void addSeries(GroupSample.Builder sample, long pageSize, java.util.OptionalLong usage,
                          java.util.OptionalLong failures, String usageSource, String failureSource) {
        Map<String, String> labels = Map.of("pagesize", fileName(pageSize));
        usage.ifPresent(v -> sample.series(new GroupSample.Series("jgovernor_group_hugetlb_usage_bytes",
                "Huge pages of this size charged to the group (" + usageSource + ")", "bytes", false, labels, v)));
        failures.ifPresent(v -> sample.series(new GroupSample.Series("jgovernor_group_hugetlb_failcnt",
                "Huge page allocations refused at the group's limit (" + failureSource + ")", null, true, labels, v)));
    }
}

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.HugetlbLimits;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.HugePages;

import java.nio.file.Path;
import java.util.SortedSet;

/**
 * "hugetlb": hugetlb.&lt;size&gt;.limit_in_bytes per huge page size of the host, and the
 * hugetlb.&lt;size&gt;.rsvd.limit_in_bytes beside it where the kernel has them (5.7+).
 *
 * <p>The plain limit is charged when a page is faulted in: a process over it gets SIGBUS on the
 * touch, long after its mmap succeeded. The rsvd limit is charged at mmap time, so the mmap fails
 * instead; both get the policy's value, as runc and crun write both. No limit reads back as
 * PAGE_COUNTER_MAX base pages rounded down to whole huge pages, in bytes (9223372036852678656
 * for 2 MB pages with 4 KiB base pages; the rounding takes up to one huge page off), and is
 * written as -1.
 * The kernel rounds a limit down to whole huge pages; the parser accepts only whole pages, so a
 * value reads back as written.
 */
public final class HugetlbController extends HugetlbLimits {
    /** With this host's page sizes, and its rsvd files if the kernel has them. */
    public HugetlbController() {
        this(HugePages.hostSizes(), HugePages.hostHasReservations());
    }

    public HugetlbController(SortedSet<Long> pageSizes, boolean reservations) {
        super(pageSizes, reservations);
    }

    @Override
    protected String limitFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".limit_in_bytes";
    }

    @Override
    protected String rsvdFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".rsvd.limit_in_bytes";
    }

    @Override
    protected String unlimitedText() {
        return "-1";
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        for (long s : sizes()) {
            String prefix = "hugetlb." + HugePages.fileName(s);
            HugePages.addSeries(sample, s, in.number(dir, prefix + ".usage_in_bytes"), in.number(dir, prefix + ".failcnt"),
                    prefix + ".usage_in_bytes", prefix + ".failcnt");
        }
    }
}

package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.HugetlbLimits;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.HugePages;
import io.jgovernor.cgroup.Normalize;

import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.SortedSet;

/**
 * cgroup v2 "hugetlb": hugetlb.&lt;size&gt;.max per huge page size, and hugetlb.&lt;size&gt;.rsvd.max
 * where the kernel has it (5.7+), both set to the policy's limit: the rsvd limit is charged at
 * mmap time, so a process over it sees mmap fail instead of a SIGBUS on first touch. "max" means
 * no limit, read and written; a group never written reads PAGE_COUNTER_MAX in bytes instead
 * (seen on 6.18), which is "max" all the same. Counters: hugetlb.&lt;size&gt;.current and the "max" line of
 * hugetlb.&lt;size&gt;.events (allocations refused at the limit).
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
        return "hugetlb." + HugePages.fileName(pageSize) + ".max";
    }

    @Override
    protected String rsvdFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".rsvd.max";
    }

    @Override
    protected String unlimitedText() {
        return Normalize.MAX;
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        for (long s : sizes()) {
            String prefix = "hugetlb." + HugePages.fileName(s);
            String events = in.text(dir, prefix + ".events");
            HugePages.addSeries(sample, s, in.number(dir, prefix + ".current"),
                    events == null ? OptionalLong.empty() : in.keyed(dir, prefix + ".events", events, "max"),
                    prefix + ".current", prefix + ".events max");
        }
    }
}

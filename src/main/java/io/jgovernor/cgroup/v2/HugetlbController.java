package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.HugePages;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * cgroup v2 "hugetlb": hugetlb.&lt;size&gt;.max per huge page size, and hugetlb.&lt;size&gt;.rsvd.max
 * where the kernel has it (5.7+), both set to the policy's limit: the rsvd limit is charged at
 * mmap time, so a process over it sees mmap fail instead of a SIGBUS on first touch. "max" means
 * no limit, read and written; a group never written reads PAGE_COUNTER_MAX in bytes instead
 * (seen on 6.18), which is "max" all the same. Counters: hugetlb.&lt;size&gt;.current and the "max" line of
 * hugetlb.&lt;size&gt;.events (allocations refused at the limit).
 */
public final class HugetlbController implements Controller {
    private final SortedSet<Long> sizes;
    private final boolean reservations;

    /** With this host's page sizes, and its rsvd files if the kernel has them. */
    public HugetlbController() {
        this(HugePages.hostSizes(), HugePages.hostHasReservations());
    }

    public HugetlbController(SortedSet<Long> pageSizes, boolean reservations) {
        this.sizes = new TreeSet<>(pageSizes);
        this.reservations = reservations;
    }

    public static String maxFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".max";
    }

    public static String rsvdMaxFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".rsvd.max";
    }

    @Override
    public String name() {
        return "hugetlb";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.hugetlb().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        List<String> out = new ArrayList<>();
        for (long s : sizes) {
            out.add(maxFile(s));
            if (reservations) {
                out.add(rsvdMaxFile(s));
            }
        }
        return out;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        List<Write> out = new ArrayList<>();
        for (long size : sizes) {
            String wanted = resources.hugetlb().flatMap(h -> h.limitFor(size)).orElse(Limit.MAX).toString();
            for (String file : reservations ? List.of(maxFile(size), rsvdMaxFile(size)) : List.of(maxFile(size))) {
                String seen = Normalize.text(observed, file);
                if (seen == null && wanted.equals(Normalize.MAX)) {
                    continue; // not enabled here, or a new group the plan could not see yet: no limit
                }
                if (!wanted.equals(normal(seen, size))) {
                    out.add(new Write(file, wanted, Normalize.was(seen), wanted));
                }
            }
        }
        return out;
    }

    /**
     * What a file's text means: "max" as written, also for the number a fresh group reads (the
     * kernel shows a group that was never written PAGE_COUNTER_MAX in bytes, not "max").
     */
    private static String normal(String seen, long size) {
        OptionalLong bytes = Normalize.parseLong(seen);
        return bytes.isPresent() && HugePages.unlimited(bytes.getAsLong(), size) ? Normalize.MAX : seen;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        Map<String, String> out = new HashMap<>();
        for (String f : observedFiles()) {
            out.put(f, Normalize.MAX + "\n");
        }
        return out;
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        for (long s : sizes) {
            String prefix = "hugetlb." + HugePages.fileName(s);
            String events = in.text(dir, prefix + ".events");
            HugePages.addSeries(sample, s, in.number(dir, prefix + ".current"),
                    events == null ? OptionalLong.empty() : in.keyed(dir, prefix + ".events", events, "max"),
                    prefix + ".current", prefix + ".events max");
        }
    }
}

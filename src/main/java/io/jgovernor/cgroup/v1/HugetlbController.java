package io.jgovernor.cgroup.v1;

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
public final class HugetlbController implements Controller {
    private static final String UNLIMITED = "-1";

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

    public static String limitFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".limit_in_bytes";
    }

    public static String rsvdLimitFile(long pageSize) {
        return "hugetlb." + HugePages.fileName(pageSize) + ".rsvd.limit_in_bytes";
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
            out.add(limitFile(s));
            if (reservations) {
                out.add(rsvdLimitFile(s));
            }
        }
        return out;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        List<Write> out = new ArrayList<>();
        for (long size : sizes) {
            Limit wanted = resources.hugetlb().flatMap(h -> h.limitFor(size)).orElse(Limit.MAX);
            for (String file : reservations ? List.of(limitFile(size), rsvdLimitFile(size)) : List.of(limitFile(size))) {
                String seen = Normalize.text(observed, file);
                if (seen == null && wanted instanceof Limit.Max) {
                    continue; // not read (no directory yet, or the plan could not see it): it has no limit
                }
                OptionalLong bytes = Normalize.parseLong(seen);
                Limit now = bytes.isEmpty() ? null : HugePages.unlimited(bytes.getAsLong(), size) ? Limit.MAX : Limit.of(bytes.getAsLong());
                if (!wanted.equals(now)) {
                    out.add(new Write(file, wanted instanceof Limit.Of(long v) ? Long.toString(v) : UNLIMITED,
                            Normalize.was(seen), wanted.toString()));
                }
            }
        }
        return out;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        Map<String, String> out = new HashMap<>();
        for (String f : observedFiles()) {
            out.put(f, "9223372036854771712\n");
        }
        return out;
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        for (long s : sizes) {
            String prefix = "hugetlb." + HugePages.fileName(s);
            HugePages.addSeries(sample, s, in.number(dir, prefix + ".usage_in_bytes"), in.number(dir, prefix + ".failcnt"),
                    prefix + ".usage_in_bytes", prefix + ".failcnt");
        }
    }
}

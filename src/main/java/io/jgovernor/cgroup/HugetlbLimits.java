package io.jgovernor.cgroup;

import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What v1's and v2's "hugetlb" share: one limit file per huge page size of the host, and its rsvd
 * twin where the kernel has one (5.7+), both given the policy's limit; a size the policy leaves
 * out, or a policy without {@code hugetlb:}, has no limit. The versions differ only in the files'
 * names, how "no limit" is written, and their counters (see v1/ and v2/HugetlbController).
 */
public abstract class HugetlbLimits implements Controller {
    private final SortedSet<Long> sizes;
    private final boolean reservations;

    protected HugetlbLimits(SortedSet<Long> pageSizes, boolean reservations) {
        this.sizes = new TreeSet<>(pageSizes);
        this.reservations = reservations;
    }

    /** The page sizes of the host, in bytes. */
    protected final SortedSet<Long> sizes() {
        return sizes;
    }

    /** The limit file for pages of {@code pageSize}. */
    protected abstract String limitFile(long pageSize);

    /** Its reservation twin. */
    protected abstract String rsvdFile(long pageSize);

    /** How "no limit" is written (v1 "-1", v2 "max"). */
    protected abstract String unlimitedText();

    @Override
    public final String name() {
        return "hugetlb";
    }

    @Override
    public final boolean usedBy(Resources resources) {
        return resources.hugetlb().isPresent();
    }

    @Override
    public final List<String> observedFiles() {
        List<String> out = new ArrayList<>();
        for (long s : sizes) {
            out.addAll(files(s));
        }
        return out;
    }

    private List<String> files(long size) {
        return reservations ? List.of(limitFile(size), rsvdFile(size)) : List.of(limitFile(size));
    }

    @Override
    public final List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        List<Write> out = new ArrayList<>();
        for (long size : sizes) {
            Limit wanted = resources.hugetlb().flatMap(h -> h.limitFor(size)).orElse(Limit.MAX);
            for (String file : files(size)) {
                String seen = Normalize.text(observed, file);
                if (seen == null && wanted instanceof Limit.Max) {
                    continue; // not read (no directory yet, or a new v2 group the plan could not see yet): no limit
                }
                if (!wanted.equals(limit(seen, size))) {
                    out.add(new Write(file, wanted instanceof Limit.Of(long v) ? Long.toString(v) : unlimitedText(),
                            Normalize.was(seen), wanted.toString()));
                }
            }
        }
        return out;
    }

    /**
     * The limit a file's text says; null when not read. "max" (v2, as written) and the number a
     * group never written reads (PAGE_COUNTER_MAX base pages in bytes, on v2 too, rounded down to
     * whole huge pages or not) are both no limit.
     */
    static Limit limit(String seen, long size) {
        if (seen == null) {
            return null;
        }
        if (seen.equals(Normalize.MAX)) {
            return Limit.MAX;
        }
        OptionalLong bytes = Normalize.parseLong(seen);
        return bytes.isEmpty() ? null : HugePages.unlimited(bytes.getAsLong(), size) ? Limit.MAX : Limit.of(bytes.getAsLong());
    }

    /** What a new group's files read: no limit (v1's rounded number also counts as such). */
    @Override
    public final Map<String, String> fresh(GroupContext context) {
        Map<String, String> out = new HashMap<>();
        for (String f : observedFiles()) {
            out.put(f, Normalize.MAX + "\n");
        }
        return out;
    }
}

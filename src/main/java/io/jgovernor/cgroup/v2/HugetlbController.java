package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.HugePages;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
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
 * cgroup v2 "hugetlb": hugetlb.&lt;size&gt;.max per huge page size, and hugetlb.&lt;size&gt;.rsvd.max
 * where the kernel has it (5.7+), both set to the policy's limit: the rsvd limit is charged at
 * mmap time, so a process over it sees mmap fail instead of a SIGBUS on first touch. "max" means
 * no limit, read and written. Counters: hugetlb.&lt;size&gt;.current and the "max" line of
 * hugetlb.&lt;size&gt;.events (allocations refused at the limit).
 */
public final class HugetlbController implements Controller, HugePages.Stats {
    private final SortedSet<Long> sizes;

    /** With this host's page sizes. */
    public HugetlbController() {
        this(HugePages.hostSizes());
    }

    public HugetlbController(SortedSet<Long> pageSizes) {
        this.sizes = new TreeSet<>(pageSizes);
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
            out.add(rsvdMaxFile(s));
        }
        return out;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        List<Write> out = new ArrayList<>();
        for (long size : sizes) {
            String wanted = resources.hugetlb().flatMap(h -> h.limitFor(size)).orElse(Limit.MAX).toString();
            for (String file : List.of(maxFile(size), rsvdMaxFile(size))) {
                String seen = Normalize.text(observed, file);
                if (seen == null && (file.equals(rsvdMaxFile(size)) || resources.hugetlb().isEmpty())) {
                    continue; // a kernel without reservation limits, or hugetlb not enabled here and not asked for
                }
                if (!wanted.equals(seen)) {
                    out.add(new Write(file, wanted, Normalize.was(seen), wanted));
                }
            }
        }
        return out;
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
    public List<String> usageFiles() {
        List<String> out = new ArrayList<>();
        for (long s : sizes) {
            out.add("hugetlb." + HugePages.fileName(s) + ".current");
            out.add("hugetlb." + HugePages.fileName(s) + ".events");
        }
        return out;
    }

    @Override
    public List<HugePages.Usage> usage(Map<String, String> texts) {
        List<HugePages.Usage> out = new ArrayList<>();
        for (long s : sizes) {
            OptionalLong current = Normalize.parseLong(texts.get("hugetlb." + HugePages.fileName(s) + ".current"));
            OptionalLong max = OptionalLong.empty();
            String events = texts.get("hugetlb." + HugePages.fileName(s) + ".events");
            for (String line : events == null ? new String[0] : events.split("\n")) {
                if (line.startsWith("max ")) {
                    max = Normalize.parseLong(line.substring(4));
                }
            }
            if (current.isPresent() || max.isPresent()) {
                out.add(new HugePages.Usage(s, current, max));
            }
        }
        return out;
    }
}

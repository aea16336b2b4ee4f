package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import io.jgovernor.sys.Libc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * cgroup v2 "memory": memory.max and memory.swap.max; memory.high (throttled and reclaimed above
 * it, never killed for it), memory.low and memory.min (protection from reclaim, best effort and
 * hard), and memory.oom.group (an OOM kill takes the whole group). A policy's swapLimit is memory plus swap
 * (v1's memsw); v2 limits swap alone, so memory.swap.max = swapLimit - limit. There is no v2
 * oom_kill_disable: the parser rejects {@code oomKillDisable} on v2, so it is not looked at here.
 */
public final class MemoryController implements Controller, OomFiles {
    public static final String MAX = "memory.max";
    public static final String SWAP_MAX = "memory.swap.max";
    public static final String HIGH = "memory.high";
    public static final String LOW = "memory.low";
    public static final String MIN = "memory.min";
    public static final String OOM_GROUP = "memory.oom.group";
    /** The counters of OOM states and kills; a change to it is an inotify IN_MODIFY. */
    public static final String EVENTS = "memory.events";

    private final long pageSize;

    /** Uses this host's page size. */
    public MemoryController() {
        this(Libc.pageSize());
    }

    public MemoryController(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size must be a power of two: " + pageSize);
        }
        this.pageSize = pageSize;
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.memory().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(MAX, SWAP_MAX, HIGH, LOW, MIN, OOM_GROUP);
    }

    /** The swap-only limit for memory+swap {@code swapLimit} over memory {@code limit}. */
    static Limit swapOnly(Limit limit, Limit swapLimit) {
        return switch (swapLimit) {
            case Limit.Max m -> Limit.MAX;
            // memory unlimited: swap can at most be all of memory+swap
            case Limit.Of s -> limit instanceof Limit.Of l ? Limit.of(Math.max(0, s.value() - l.value())) : s;
        };
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Memory> memory = resources.memory();
        Limit limit = memory.flatMap(Resources.Memory::limit).orElse(Limit.MAX);
        Optional<Limit> askedSwap = memory.flatMap(Resources.Memory::swapLimit);
        List<Write> writes = new ArrayList<>(2);
        add(writes, MAX, limit, observed, memory.isPresent());
        add(writes, SWAP_MAX, swapOnly(limit, askedSwap.orElse(Limit.MAX)), observed, askedSwap.isPresent());
        Optional<Limit> high = memory.flatMap(Resources.Memory::high);
        add(writes, HIGH, high.orElse(Limit.MAX), observed, high.isPresent());
        Optional<Limit> low = memory.flatMap(Resources.Memory::low);
        add(writes, LOW, low.orElse(Limit.of(0)), observed, low.isPresent());
        Optional<Limit> min = memory.flatMap(Resources.Memory::min);
        add(writes, MIN, min.orElse(Limit.of(0)), observed, min.isPresent());
        Optional<Boolean> oomGroup = memory.flatMap(Resources.Memory::oomGroup);
        String seen = Normalize.text(observed, OOM_GROUP);
        if (seen != null || oomGroup.isPresent()) {
            String wanted = oomGroup.orElse(false) ? "1" : "0";
            if (!wanted.equals(seen)) {
                writes.add(new Write(OOM_GROUP, wanted, Normalize.was(seen), wanted));
            }
        }
        return writes;
    }

    /**
     * Compares after normalizing: the kernel keeps page counts, so "1000000" reads back as
     * "999424"; "max" is its own value.
     */
    private void add(List<Write> writes, String file, Limit wanted, Map<String, String> observed, boolean asked) {
        String seen = Normalize.text(observed, file);
        if (seen == null && !asked) {
            return; // no such file here (controller not enabled, or no swap accounting) and nothing asked
        }
        String wantedNormal = normal(wanted);
        String seenNormal = seen == null ? null : seen.equals(Normalize.MAX) ? Normalize.MAX
                : Normalize.parseLong(seen).isPresent() ? normal(Limit.of(Normalize.parseLong(seen).getAsLong())) : null;
        if (!wantedNormal.equals(seenNormal)) {
            writes.add(new Write(file, wanted.toString(), seenNormal == null ? Normalize.was(seen) : seenNormal,
                    wantedNormal));
        }
    }

    private String normal(Limit limit) {
        return switch (limit) {
            case Limit.Max m -> Normalize.MAX;
            case Limit.Of of -> Long.toString(of.value() / pageSize * pageSize);
        };
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(MAX, "max\n", SWAP_MAX, "max\n", HIGH, "max\n", LOW, "0\n", MIN, "0\n", OOM_GROUP, "0\n");
    }

    /** memory.current, memory.max ("max": no limit) and the OOM kills counted in memory.events. */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String current = in.text(dir, "memory.current");
        if (current == null) {
            return;
        }
        sample.memoryUsageBytes = in.parse(dir, "memory.current", current, false);
        String max = in.text(dir, MAX);
        if (max != null && max.strip().equals(Normalize.MAX)) {
            sample.memoryUnlimited = true;
        } else if (max != null) {
            sample.memoryLimitBytes = in.parse(dir, MAX, max, false);
        }
        String events = in.text(dir, EVENTS);
        if (events != null) {
            sample.oomKills = in.keyed(dir, EVENTS, events, "oom_kill");
            GroupSample.memoryEvents(in, dir, sample, events);
        }
        GroupSample.workingSet(in, dir, sample, "inactive_file");
    }

    // --- OOM: memory.events' counters, told of by inotify (a change to it is IN_MODIFY) ---

    @Override
    public Notice notice() {
        return Notice.INOTIFY;
    }

    @Override
    public String noticeFile() {
        return EVENTS;
    }

    /** memory.oom.group, which {@link #reconcile} writes for a policy's oomGroup. */
    @Override
    public boolean kernelKillsGroup() {
        return true;
    }

    @Override
    public long limit(CgroupFiles files, Path dir) {
        return OomFiles.number(files, dir, MAX);
    }

    @Override
    public long usage(CgroupFiles files, Path dir) {
        return OomFiles.number(files, dir, "memory.current");
    }
}

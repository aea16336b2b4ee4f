package io.jgovernor.cgroup.v1;

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
import java.util.OptionalLong;

/**
 * cgroup v1 "memory": memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory+swap, present
 * only with swap accounting), memory.oom_control, and memory.soft_limit_in_bytes for a policy's
 * {@code low}: the nearest v1 has to protection (under global pressure a group above its soft
 * limit is reclaimed first; nothing protects a group below it). {@code oomGroup} has no v1 file:
 * the OOM events side kills the rest of the group (events/OomEvents).
 */
public final class MemoryController implements Controller, OomFiles {
    public static final String LIMIT = "memory.limit_in_bytes";
    public static final String MEMSW_LIMIT = "memory.memsw.limit_in_bytes";
    public static final String OOM_CONTROL = "memory.oom_control";
    public static final String SOFT_LIMIT = "memory.soft_limit_in_bytes";

    private final long pageSize;
    /** "No limit" as the kernel reads it back: the page counter's maximum in bytes, e.g. 9223372036854771712. */
    private final long unlimited;

    /** Uses this host's page size. */
    public MemoryController() {
        this(Libc.pageSize());
    }

    public MemoryController(long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size must be a power of two: " + pageSize);
        }
        this.pageSize = pageSize;
        this.unlimited = Long.MAX_VALUE / pageSize * pageSize;
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
        return List.of(LIMIT, MEMSW_LIMIT, OOM_CONTROL, SOFT_LIMIT);
    }

    /**
     * A limit in the kernel's terms: bytes rounded down to whole pages (the kernel keeps page
     * counts, so "1000000" reads back as "999424"), or -1 for max. Unlimited and any value at or
     * above the page counter's maximum are the same thing.
     */
    long normalize(Limit limit) {
        return switch (limit) {
            case Limit.Max m -> -1;
            case Limit.Of of -> pageRound(of.value());
        };
    }

    private long pageRound(long bytes) {
        long rounded = bytes / pageSize * pageSize;
        return rounded >= unlimited ? -1 : rounded;
    }

    /** The observed text as a normalized limit; empty when absent or unparseable. */
    private OptionalLong observedLimit(String text) {
        OptionalLong n = Normalize.parseLong(text);
        if (n.isEmpty()) {
            return n;
        }
        return OptionalLong.of(n.getAsLong() < 0 ? -1 : pageRound(n.getAsLong()));
    }

    private static String show(long normalized) {
        return normalized < 0 ? "max" : Long.toString(normalized);
    }

    private static String value(Limit limit) {
        // v1 memory files take -1 for "no limit"; "max" is a v2 word
        return limit instanceof Limit.Of of ? Long.toString(of.value()) : "-1";
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Memory> memory = resources.memory();
        Limit limit = memory.flatMap(Resources.Memory::limit).orElse(Limit.MAX);
        Optional<Limit> askedSwap = memory.flatMap(Resources.Memory::swapLimit);
        Limit memsw = askedSwap.orElse(Limit.MAX);
        boolean oomKillDisable = memory.flatMap(Resources.Memory::oomKillDisable).orElse(false);

        List<Write> writes = new ArrayList<>(3);

        String limitSeen = Normalize.text(observed, LIMIT);
        OptionalLong limitNow = observedLimit(limitSeen);
        long limitWanted = normalize(limit);
        Write limitWrite = limitNow.isPresent() && limitNow.getAsLong() == limitWanted ? null
                : new Write(LIMIT, value(limit), limitNow.isPresent() ? show(limitNow.getAsLong())
                : Normalize.was(limitSeen), show(limitWanted));

        Write memswWrite = null;
        String memswSeen = Normalize.text(observed, MEMSW_LIMIT);
        long memswWanted = normalize(memsw);
        if (memswSeen == null) {
            // No swap accounting (swapaccount=0, or no swap at all). A policy that asks for a swap
            // limit still gets its write, so it fails visibly with ENOENT instead of silently
            // not being enforced; a policy that asks nothing has nothing to undo.
            if (askedSwap.isPresent()) {
                memswWrite = new Write(MEMSW_LIMIT, value(memsw), Normalize.ABSENT, show(memswWanted));
            }
        } else {
            OptionalLong memswNow = observedLimit(memswSeen);
            if (memswNow.isEmpty() || memswNow.getAsLong() != memswWanted) {
                memswWrite = new Write(MEMSW_LIMIT, value(memsw), memswNow.isPresent()
                        ? show(memswNow.getAsLong()) : Normalize.was(memswSeen), show(memswWanted));
            }
        }

        // The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every moment
        // and refuses (EINVAL) a write that would break it. When the limit goes up, raising memsw
        // first keeps it above the old limit and room for the new one; when the limit goes down
        // (or stays), lowering the limit first keeps it below both the old and the new memsw.
        boolean limitGoesUp = limitWrite != null && (limitNow.isEmpty() || bigger(limitWanted, limitNow.getAsLong()));
        if (limitGoesUp) {
            addIfSet(writes, memswWrite);
            addIfSet(writes, limitWrite);
        } else {
            addIfSet(writes, limitWrite);
            addIfSet(writes, memswWrite);
        }

        String oomSeen = observed.get(OOM_CONTROL);
        Optional<Boolean> oomNow = oomKillDisable(oomSeen);
        if (oomNow.isEmpty() || oomNow.get() != oomKillDisable) {
            String wanted = oomKillDisable ? "1" : "0";
            writes.add(new Write(OOM_CONTROL, wanted,
                    oomNow.map(b -> b ? "1" : "0").orElse(Normalize.was(oomSeen == null ? null : oomSeen.strip())),
                    wanted));
        }

        Optional<Limit> low = memory.flatMap(Resources.Memory::low);
        Limit soft = low.orElse(Limit.MAX);
        String softSeen = Normalize.text(observed, SOFT_LIMIT);
        OptionalLong softNow = observedLimit(softSeen);
        long softWanted = normalize(soft);
        // nothing to undo where the file was not read and nothing is asked (as memsw above)
        boolean look = softSeen != null || low.isPresent();
        if (look && (softNow.isEmpty() || softNow.getAsLong() != softWanted)) {
            writes.add(new Write(SOFT_LIMIT, value(soft), softNow.isPresent() ? show(softNow.getAsLong())
                    : Normalize.was(softSeen), show(softWanted)));
        }
        return writes;
    }

    /** Compares normalized limits where -1 is infinity. */
    private static boolean bigger(long a, long b) {
        if (a < 0) {
            return b >= 0;
        }
        return b >= 0 && a > b;
    }

    private static void addIfSet(List<Write> writes, Write w) {
        if (w != null) {
            writes.add(w);
        }
    }

    /** The "oom_kill_disable N" line of memory.oom_control ("oom_kill_disable 0\nunder_oom 0\noom_kill 0"). */
    static Optional<Boolean> oomKillDisable(String text) {
        if (text == null) {
            return Optional.empty();
        }
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.startsWith("oom_kill_disable")) {
                String v = l.substring("oom_kill_disable".length()).strip();
                if (v.equals("0") || v.equals("1")) {
                    return Optional.of(v.equals("1"));
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(LIMIT, unlimited + "\n", MEMSW_LIMIT, unlimited + "\n",
                OOM_CONTROL, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", SOFT_LIMIT, unlimited + "\n");
    }

    /**
     * Usage, the limit (none when it reads back as the page counter's maximum, as {@link
     * #normalize} decides) and the OOM kills counted in memory.oom_control.
     */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String usage = in.text(dir, "memory.usage_in_bytes");
        if (usage == null) {
            return;
        }
        sample.memoryUsageBytes = in.parse(dir, "memory.usage_in_bytes", usage, false);
        OptionalLong limit = in.number(dir, LIMIT);
        if (limit.isPresent() && pageRound(limit.getAsLong()) < 0) {
            sample.memoryUnlimited = true;
        } else {
            sample.memoryLimitBytes = limit;
        }
        String oom = in.text(dir, OOM_CONTROL);
        if (oom != null) {
            sample.oomKills = in.keyed(dir, OOM_CONTROL, oom, "oom_kill");
        }
        GroupSample.workingSet(in, dir, sample, "total_inactive_file");
    }

    // --- OOM: memory.oom_control's counters, told of by an eventfd (cgroup.event_control) ---

    @Override
    public Notice notice() {
        return Notice.EVENTFD;
    }

    @Override
    public String noticeFile() {
        return OOM_CONTROL;
    }

    /** v1 has no memory.oom.group: the daemon kills the rest of the group (events/OomEvents). */
    @Override
    public boolean kernelKillsGroup() {
        return false;
    }

    @Override
    public long limit(CgroupFiles files, Path dir) {
        return OomFiles.number(files, dir, LIMIT);
    }

    @Override
    public long usage(CgroupFiles files, Path dir) {
        return OomFiles.number(files, dir, "memory.usage_in_bytes");
    }

    @Override
    public boolean killDisabled(CgroupFiles files, Path dir) {
        return OomFiles.counter(files, dir, OOM_CONTROL, "oom_kill_disable").orElse(0L) == 1;
    }
}

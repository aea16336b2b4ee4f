package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Freezing;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * cgroup v2 "freezer": cgroup.freeze (0 or 1), a core file of every non-root cgroup2 directory
 * since 5.2, enabled nowhere (like devices, it is never written to cgroup.subtree_control).
 *
 * <p>cgroup.freeze is the group's own wish and reads 0 in a child of a frozen group, so the plan
 * compares it alone. Whether the kernel has finished is another file: cgroup.events says
 * "frozen 1" once every task of the directory and of every directory beneath is stopped (an
 * ancestor's freeze counts too). {@link #freeze} waits for it as runc's fs2 freezer does: read,
 * sleep 10 ms, read again, at most 1000 times; a group that did not freeze in that time is thawed
 * again and the freeze fails, so it is never left half frozen. v2 has no FREEZING state that can
 * get stuck (the kernel freezes new children of a freezing group as they appear).
 */
public final class FreezerController implements Controller, Freezing {
    public static final String FREEZE = "cgroup.freeze";
    public static final String EVENTS = "cgroup.events";
    private static final long WAIT_NANOS = 10_000_000;
    private static final int TRIES = 1000;

    @Override
    public String name() {
        return "freezer";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.freezer().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(FREEZE);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        String seen = Normalize.text(observed, FREEZE);
        if (seen == null && resources.freezer().isEmpty()) {
            return List.of(); // the root, or a kernel before 5.2, and nothing asks for it
        }
        String wanted = resources.freezer().map(Resources.Freezer::frozen).orElse(false) ? "1" : "0";
        return wanted.equals(seen) ? List.of() : List.of(new Write(FREEZE, wanted, Normalize.was(seen), wanted));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(FREEZE, "0\n");
    }

    /** 1 and 0 go through {@link #freeze} and {@link #thaw}: each waits for cgroup.events. */
    @Override
    public void apply(CgroupFiles files, Path dir, Write write) throws CgroupException {
        if (write.file().equals(FREEZE) && write.value().equals("1")) {
            freeze(files, dir);
        } else if (write.file().equals(FREEZE) && write.value().equals("0")) {
            thaw(files, dir);
        } else {
            files.write(dir, write.file(), write.value());
        }
    }

    @Override
    public void freeze(CgroupFiles files, Path dir) throws CgroupException {
        files.write(dir, FREEZE, "1");
        if (await(files, dir, true)) {
            return;
        }
        files.write(dir, FREEZE, "0"); // never leave a group half frozen
        throw new CgroupException(dir, FREEZE, "write", "1", 0, "; cgroup.events did not say \"frozen 1\" within "
                + TRIES * WAIT_NANOS / 1_000_000 + " ms, and the group was thawed again");
    }

    @Override
    public void thaw(CgroupFiles files, Path dir) throws CgroupException {
        files.write(dir, FREEZE, "0");
        if (!await(files, dir, false)) {
            throw new CgroupException(dir, FREEZE, "write", "0", 0, "; cgroup.events still says \"frozen 1\" after "
                    + TRIES * WAIT_NANOS / 1_000_000 + " ms, and no ancestor is frozen");
        }
    }

    /** Whether cgroup.events comes to say {@code frozen} (thawed: or an ancestor holds it frozen). */
    private static boolean await(CgroupFiles files, Path dir, boolean frozen) throws CgroupException {
        for (int i = 0; i < TRIES; i++) {
            Optional<Boolean> now = frozenIn(files.read(dir, EVENTS).orElse(null));
            if (now.isEmpty()) {
                throw new CgroupException(dir, EVENTS, "read", null, 0, "has no \"frozen\" line (a kernel before 5.2?)");
            }
            if (now.get() == frozen || (!frozen && frozenIn(files.read(dir.getParent(), EVENTS).orElse(null))
                    .orElse(false))) {
                return true;
            }
            LockSupport.parkNanos(WAIT_NANOS);
        }
        return false;
    }

    @Override
    public List<String> frozenFiles() {
        return List.of(EVENTS);
    }

    @Override
    public Optional<Boolean> frozen(Map<String, String> texts) {
        return frozenIn(texts.get(EVENTS));
    }

    /** The "frozen" line of cgroup.events; empty without the file or the line. */
    static Optional<Boolean> frozenIn(String events) {
        if (events == null) {
            return Optional.empty();
        }
        for (String line : events.split("\n")) {
            if (line.startsWith("frozen ")) {
                return Optional.of(line.substring(7).strip().equals("1"));
            }
        }
        return Optional.empty();
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        readFrozen(in, dir, sample, "cgroup.events frozen 1");
    }
}

package io.jgovernor.cgroup.v1;

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
 * "freezer": freezer.state, THAWED or FROZEN, with FREEZING in between.
 *
 * <p>What the policy sets is the group's own wish, which the kernel shows in freezer.self_freezing
 * (1 when this directory was written FROZEN); freezer.state also reads FROZEN when only an ancestor
 * is frozen (freezer.parent_freezing). So the plan compares self_freezing, and a child of a frozen
 * group that wants to run plans nothing: writing THAWED there would change nothing the kernel does.
 *
 * <p>Freezing is not one write. The kernel answers FROZEN once every task has stopped; until then
 * the state reads FREEZING, and on v1 it can stay FREEZING for good while processes keep forking
 * into the group. So {@link #freeze} does what runc's freezer fix does (libcontainer fs/freezer.go):
 * write FROZEN and read the state back, up to 1000 times, with a short pause every 25 tries and a
 * thaw and a 10 ms pause every 50 (both empirically make a stuck freeze succeed); if it never reads
 * FROZEN the group is thawed again and the freeze fails, so no group is ever left half frozen.
 * A group found FREEZING by a plan with self_freezing 1 is such a half-done freeze: it is planned again.
 */
public final class FreezerController implements Controller, Freezing {
    public static final String STATE = "freezer.state";
    public static final String SELF_FREEZING = "freezer.self_freezing";
    public static final String PARENT_FREEZING = "freezer.parent_freezing";
    public static final String THAWED = "THAWED";
    public static final String FROZEN = "FROZEN";
    public static final String FREEZING = "FREEZING";
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
        return List.of(STATE, SELF_FREEZING);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        String state = Normalize.text(observed, STATE);
        if (state == null) {
            return List.of(); // no directory in this hierarchy yet, and fresh() says THAWED
        }
        boolean wanted = resources.freezer().map(Resources.Freezer::frozen).orElse(false);
        String self = Normalize.text(observed, SELF_FREEZING);
        // a kernel without self_freezing (before 3.12) shows only the state
        boolean selfFrozen = self == null ? !state.equals(THAWED) : self.equals("1");
        if (wanted == selfFrozen && !(wanted && state.equals(FREEZING))) {
            return List.of();
        }
        String value = wanted ? FROZEN : THAWED;
        return List.of(new Write(STATE, value, state, value));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(STATE, THAWED + "\n", SELF_FREEZING, "0\n");
    }

    /** FROZEN and THAWED go through {@link #freeze} and {@link #thaw}: each waits for the kernel's answer. */
    @Override
    public void apply(CgroupFiles files, Path dir, Write write) throws CgroupException {
        if (write.file().equals(STATE) && write.value().equals(FROZEN)) {
            freeze(files, dir);
        } else if (write.file().equals(STATE) && write.value().equals(THAWED)) {
            thaw(files, dir);
        } else {
            files.write(dir, write.file(), write.value());
        }
    }

    @Override
    public void freeze(CgroupFiles files, Path dir) throws CgroupException {
        String state = null;
        for (int i = 0; i < TRIES; i++) {
            if (i % 50 == 49) {
                // new processes keep the group FREEZING: thawing and pausing lets the freeze catch up
                files.write(dir, STATE, THAWED);
                LockSupport.parkNanos(10_000_000);
            }
            files.write(dir, STATE, FROZEN);
            if (i % 25 == 24) {
                LockSupport.parkNanos(10_000);
            }
            state = files.read(dir, STATE).orElse("").strip();
            if (state.equals(FROZEN)) {
                return;
            }
            if (!state.equals(FREEZING)) {
                throw new CgroupException(dir, STATE, "write", FROZEN, 0, "; then the state read \"" + state
                        + "\", neither FREEZING nor FROZEN");
            }
        }
        files.write(dir, STATE, THAWED); // never leave a group half frozen
        throw new CgroupException(dir, STATE, "write", FROZEN, 0, "; the group was still " + state + " after "
                + TRIES + " tries (processes kept joining it), and was thawed again");
    }

    @Override
    public void thaw(CgroupFiles files, Path dir) throws CgroupException {
        files.write(dir, STATE, THAWED);
        String state = files.read(dir, STATE).orElse("").strip();
        // thawing is immediate on v1; a state other than THAWED is an ancestor's freeze
        if (!state.equals(THAWED) && !files.read(dir, PARENT_FREEZING).orElse("0").strip().equals("1")) {
            throw new CgroupException(dir, STATE, "write", THAWED, 0, "; then the state read \"" + state + "\"");
        }
    }

    @Override
    public List<String> frozenFiles() {
        return List.of(STATE);
    }

    /** FROZEN: every task stopped; FREEZING is not frozen yet. */
    @Override
    public Optional<Boolean> frozen(Map<String, String> texts) {
        return Optional.ofNullable(Normalize.text(texts, STATE)).map(s -> s.equals(FROZEN));
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        readFrozen(in, dir, sample, "freezer.state FROZEN");
    }
}

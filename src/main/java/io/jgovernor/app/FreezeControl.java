package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Freezing;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.ReconcileError;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.reconcile.Report;
import io.jgovernor.reconcile.RuntimeFreezes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code jgovernor freeze GROUP} and {@code thaw GROUP} in the daemon: the freeze is recorded in
 * {@link RuntimeFreezes} (the state directory) first, then a pass over the group applies it as
 * {@code freezer: {frozen: true}} would, so every later pass keeps it and a restarted daemon
 * applies it again. A policy with a {@code freezer:} key wins either way.
 *
 * <p>On v1 a group whose policy has no {@code freezer:} has no freezer directory: the pass makes
 * one, and its processes (still in the freezer hierarchy's root) are moved into it here before
 * the freeze, again and again while the group forks new ones, as runc's freezer retries do.
 */
final class FreezeControl {
    /** A request refused: the HTTP status and why. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private static final int MOVE_ROUNDS = 20;

    private final Supplier<CatalogState> catalog;
    private final Reconciler reconciler;
    private final Freezing freezing;
    private final CgroupFiles files;

    FreezeControl(Supplier<CatalogState> catalog, Reconciler reconciler, Freezing freezing, CgroupFiles files) {
        this.catalog = catalog;
        this.reconciler = reconciler;
        this.freezing = freezing;
        this.files = files;
    }

    /** What a freeze did, in one line for the command to print. */
    synchronized String freeze(GroupName g) throws Refused {
        Policy p = policy(g);
        RuntimeFreezes freezes = reconciler.runtimeFreezes();
        if (p.resources().freezer().isPresent()) {
            if (p.resources().freezer().get().frozen()) {
                return g.value() + " is frozen by its policy (freezer: {frozen: true}); nothing to do";
            }
            throw new Refused(409, g.value() + ": its policy says freezer: {frozen: false}, which wins over a "
                    + "run-time freeze; remove the key or set it true");
        }
        boolean added;
        try {
            added = freezes.add(g);
        } catch (IOException e) {
            throw new Refused(500, "cannot record the freeze of " + g.value() + " in the state directory: " + e.getMessage());
        }
        try {
            apply(g);
        } catch (Refused e) {
            // no freeze left half done: forget it and let the group run
            try {
                freezes.remove(g);
            } catch (IOException io) {
                // the next pass would freeze it again: say so
                e = new Refused(500, e.getMessage() + "; and the record of the freeze could not be removed: "
                        + io.getMessage());
            }
            thawDirs(g);
            reconciler.reconcileChanges(catalog.get().desired());
            throw e;
        }
        return added ? "froze " + g.value() : g.value() + " was frozen already (at run time); checked it is";
    }

    /** What a thaw did, in one line. */
    synchronized String thaw(GroupName g) throws Refused {
        Policy p = policy(g);
        if (p.resources().freezer().map(f -> f.frozen()).orElse(false)) {
            throw new Refused(409, g.value() + " is frozen by its policy (freezer: {frozen: true}), which wins; "
                    + "edit the policy to thaw it");
        }
        RuntimeFreezes freezes = reconciler.runtimeFreezes();
        if (!freezes.contains(g)) {
            return g.value() + " was not frozen at run time; nothing to do";
        }
        // thaw first, while the freezer directories are still the group's; then forget the freeze
        List<Path> dirs = freezerDirs(g);
        thawDirs(g);
        try {
            freezes.remove(g);
        } catch (IOException e) {
            throw new Refused(500, "thawed " + g.value() + " but cannot remove its freeze from the state directory ("
                    + e.getMessage() + "): the next pass freezes it again");
        }
        reconciler.reconcileChanges(catalog.get().desired());
        // the pass may have removed an emptied freezer directory; any left must be thawed
        for (Path d : dirs) {
            try {
                if (Files.isDirectory(d) && freezing.frozen(files, d).orElse(false)) {
                    throw new Refused(500, g.value() + ": " + d + " still reads frozen after the thaw");
                }
            } catch (CgroupException e) {
                throw new Refused(500, e.getMessage());
            }
        }
        return "thawed " + g.value();
    }

    /**
     * Before a workload of {@code g} is signalled to stop: its freezer directories thawed (the
     * run-time freeze stays recorded, so a group that stays gets frozen again by a later pass).
     */
    void thawForStop(GroupName g) {
        for (Path d : freezerDirs(g)) {
            try {
                if (freezing.frozen(files, d).orElse(false)) {
                    freezing.thaw(files, d);
                }
            } catch (CgroupException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }

    /** Whether the kernel reports any of the group's freezer directories frozen now. */
    boolean frozen(GroupName g) {
        for (Path d : freezerDirs(g)) {
            try {
                if (freezing.frozen(files, d).orElse(false)) {
                    return true;
                }
            } catch (CgroupException e) {
                // gone meanwhile: not frozen
            }
        }
        return false;
    }

    private Policy policy(GroupName g) throws Refused {
        CatalogState c = catalog.get();
        Policy p = c == null ? null : c.desired().get(g);
        if (p == null) {
            throw new Refused(404, "no group " + g.value() + " (no valid policy defines it)");
        }
        return p;
    }

    /** A pass makes the freezer directory and freezes it; the group's processes are moved in and frozen. */
    private void apply(GroupName g) throws Refused {
        Report report = reconciler.reconcileChanges(catalog.get().desired());
        List<Path> freezer = freezerDirs(g);
        if (freezer.isEmpty()) {
            List<String> why = report.errors().stream().filter(e -> e.group().equals(g.value()))
                    .map(ReconcileError::message).toList();
            throw new Refused(500, "cannot freeze " + g.value() + ": the group has no freezer directory after the pass"
                    + (why.isEmpty() ? "" : ": " + String.join("; ", why)));
        }
        // a step of the pass that failed (the freeze itself gave up while the group forked, a
        // write elsewhere) is not the answer: the loop below freezes and checks the kernel's state
        List<Path> others = new ArrayList<>(reconciler.of(g));
        others.removeAll(freezer);
        try {
            for (Path f : freezer) {
                for (int round = 0; ; round++) {
                    Set<Integer> outside = new HashSet<>();
                    for (Path o : others) {
                        outside.addAll(files.procs(o));
                    }
                    outside.removeAll(files.procs(f));
                    if (outside.isEmpty() && freezing.frozen(files, f).orElse(false)) {
                        break;
                    }
                    if (round == MOVE_ROUNDS) {
                        throw new Refused(500, "cannot freeze " + g.value() + ": processes " + outside
                                + " kept appearing outside " + f + "; thawed again");
                    }
                    if (!outside.isEmpty()) {
                        // moving a process into a frozen group would freeze it, but a thawed one forks freely
                        freezing.thaw(files, f);
                        for (int pid : outside) {
                            files.moveProcess(f, pid);
                        }
                    }
                    freezing.freeze(files, f);
                }
            }
        } catch (CgroupException e) {
            throw new Refused(500, "cannot freeze " + g.value() + ": " + e.getMessage());
        }
    }

    private void thawDirs(GroupName g) throws Refused {
        for (Path d : freezerDirs(g)) {
            try {
                freezing.thaw(files, d);
            } catch (CgroupException e) {
                throw new Refused(500, "cannot thaw " + g.value() + ": " + e.getMessage());
            }
        }
    }

    /** The group's directories that have the freeze files (v1: the freezer hierarchy; v2: the group). */
    List<Path> freezerDirs(GroupName g) {
        List<Path> out = new ArrayList<>();
        for (Path d : reconciler.of(g)) {
            if (Files.exists(d.resolve(freezing.frozenFiles().getFirst()))) {
                out.add(d);
            }
        }
        return out;
    }
}

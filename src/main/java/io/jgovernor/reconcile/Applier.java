package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Carries out a plan. One group's failure never stops another's: a failed mkdir skips only what
 * lives beneath that directory, and a failed write is retried once after everything else, in
 * reverse order, because some kernel checks depend on the order of parent and child writes (a v1
 * cpuset may not shrink below a child's; a child's CFS quota may not exceed its parent's).
 */
final class Applier {
    private static final System.Logger LOG = System.getLogger(Applier.class.getName());
    /** Attempts to empty a directory before rmdir: a process may fork while it is being moved. */
    private static final int DRAIN_ATTEMPTS = 5;
    /** Plans up to this size are logged step by step at INFO; larger ones (a cold start) at DEBUG. */
    private static final int LOGGED_STEPS = 50;

    private final CgroupFiles files;

    Applier(CgroupFiles files) {
        this.files = files;
    }

    record Outcome(int mkdirs, int writes, int removals, int driftCorrections, List<ReconcileError> errors,
                   Set<String> failedGroups) {
    }

    Outcome apply(Plan plan) {
        int mkdirs = 0;
        int writes = 0;
        int removals = 0;
        int drift = 0;
        List<ReconcileError> errors = new ArrayList<>();
        Set<String> failed = new HashSet<>();
        List<Path> brokenDirs = new ArrayList<>();
        List<Plan.WriteFile> retry = new ArrayList<>();
        System.Logger.Level changeLevel = plan.steps().size() <= LOGGED_STEPS
                ? System.Logger.Level.INFO : System.Logger.Level.DEBUG;
        for (Plan.Step step : plan.steps()) {
            if (beneath(step.dir(), brokenDirs)) {
                failed.add(step.group());
                continue;
            }
            try {
                switch (step) {
                    case Plan.Mkdir m -> {
                        files.mkdir(m.dir());
                        mkdirs++;
                    }
                    case Plan.WriteFile w -> {
                        files.write(w.dir(), w.write().file(), w.write().value());
                        writes++;
                    }
                    case Plan.Remove r -> {
                        remove(r);
                        removals++;
                    }
                }
                if (step.drift()) {
                    drift++;
                    LOG.log(System.Logger.Level.WARNING, "drift repaired: " + step);
                } else {
                    LOG.log(changeLevel, step::toString);
                }
            } catch (CgroupException e) {
                if (step instanceof Plan.WriteFile w) {
                    retry.add(w);
                    continue;
                }
                if (step instanceof Plan.Mkdir) {
                    brokenDirs.add(step.dir());
                }
                errors.add(new ReconcileError(step.group(), e));
                failed.add(step.group());
            }
        }
        for (Plan.WriteFile w : retry.reversed()) {
            try {
                files.write(w.dir(), w.write().file(), w.write().value());
                writes++;
                if (w.drift()) {
                    drift++;
                }
                LOG.log(w.drift() ? System.Logger.Level.WARNING : changeLevel,
                        (w.drift() ? "drift repaired: " : "") + w + " (on retry, after the other writes)");
            } catch (CgroupException e) {
                errors.add(new ReconcileError(w.group(), e));
                failed.add(w.group());
            }
        }
        return new Outcome(mkdirs, writes, removals, drift, errors, failed);
    }

    private void remove(Plan.Remove r) throws CgroupException {
        CgroupException last = null;
        for (int attempt = 0; attempt < DRAIN_ATTEMPTS; attempt++) {
            for (int pid : files.procs(r.dir())) {
                files.moveProcess(r.target(), pid);
            }
            try {
                files.rmdir(r.dir());
                return;
            } catch (CgroupException e) {
                last = e; // EBUSY: a process forked or was moved in meanwhile; drain again
            }
        }
        throw last;
    }

    private static boolean beneath(Path dir, List<Path> broken) {
        for (Path b : broken) {
            if (dir.startsWith(b)) {
                return true;
            }
        }
        return false;
    }
}

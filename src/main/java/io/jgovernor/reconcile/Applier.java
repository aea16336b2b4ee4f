package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.model.GroupName;

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
 *
 * <p>A large plan (a cold start, a new batch of groups) is applied one hierarchy per thread. The
 * order that matters (parent before child, mems before cpus, limit before memsw) is always within
 * one hierarchy, and the kernel serializes less across hierarchies than a single thread does:
 * measured here with a C loop over the benchmark's 15000 steps in 6 hierarchies, 2 threads take
 * about 0.7 and 3 threads about 0.6 of the time of one, on 2 CPUs (mkdir and cpuset writes share
 * global kernel locks, the other writes mostly do not; a thread blocked on one lets another run).
 */
final class Applier {
    private static final System.Logger LOG = System.getLogger(Applier.class.getName());
    /** Attempts to empty a directory before rmdir: a process may fork while it is being moved. */
    private static final int DRAIN_ATTEMPTS = 5;
    /** Plans up to this size are logged step by step at INFO; larger ones (a cold start) at DEBUG. */
    private static final int LOGGED_STEPS = 50;

    /** Below this many steps one thread is quicker than starting others. */
    private static final int PARALLEL_STEPS = 256;
    private static final int MAX_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors() + 1);

    private final CgroupFiles files;
    private final Occupants occupants;
    /** The mount points of the hierarchies, each a unit of parallel work. */
    private final List<Path> hierarchyRoots;

    Applier(CgroupFiles files, List<Path> hierarchyRoots, Occupants occupants) {
        this.files = files;
        this.occupants = occupants;
        this.hierarchyRoots = List.copyOf(hierarchyRoots);
    }

    record Outcome(int mkdirs, int writes, int removals, int driftCorrections, List<ReconcileError> errors,
                   Set<String> failedGroups) {
        /** The parts of one plan applied side by side, as one outcome. */
        static Outcome sum(Outcome[] parts) {
            List<ReconcileError> errors = new ArrayList<>();
            Set<String> failed = new HashSet<>();
            int mkdirs = 0, writes = 0, removals = 0, drift = 0;
            for (Outcome o : parts) {
                mkdirs += o.mkdirs;
                writes += o.writes;
                removals += o.removals;
                drift += o.driftCorrections;
                errors.addAll(o.errors);
                failed.addAll(o.failedGroups);
            }
            return new Outcome(mkdirs, writes, removals, drift, errors, failed);
        }
    }

    Outcome apply(Plan plan) {
        List<Plan.Step> steps = plan.steps();
        System.Logger.Level changeLevel = steps.size() <= LOGGED_STEPS
                ? System.Logger.Level.INFO : System.Logger.Level.DEBUG;
        if (steps.size() < PARALLEL_STEPS || hierarchyRoots.size() < 2) {
            return apply(steps, changeLevel);
        }
        // Hierarchies to threads, the busiest first, each to the thread with the fewest steps so far.
        int[] of = new int[steps.size()];
        int[] count = new int[hierarchyRoots.size()];
        for (int i = 0; i < of.length; i++) {
            of[i] = hierarchyOf(steps.get(i).dir());
            count[of[i]]++;
        }
        int threads = Math.min(MAX_THREADS, hierarchyRoots.size());
        int[] load = new int[threads];
        int[] partOf = new int[count.length];
        List<Integer> busiestFirst = new ArrayList<>();
        for (int h = 0; h < count.length; h++) {
            busiestFirst.add(h);
        }
        busiestFirst.sort((a, b) -> Integer.compare(count[b], count[a]));
        for (int h : busiestFirst) {
            int least = 0;
            for (int t = 1; t < threads; t++) {
                if (load[t] < load[least]) {
                    least = t;
                }
            }
            partOf[h] = least;
            load[least] += count[h];
        }
        List<List<Plan.Step>> parts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            parts.add(new ArrayList<>(load[t]));
        }
        for (int i = 0; i < of.length; i++) {
            parts.get(partOf[of[i]]).add(steps.get(i));
        }
        Outcome[] outcomes = new Outcome[parts.size()];
        List<Runnable> tasks = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            int index = i;
            tasks.add(() -> outcomes[index] = apply(parts.get(index), changeLevel));
        }
        HierarchyThreads.runAll("jgovernor-apply", tasks);
        return Outcome.sum(outcomes);
    }


    private int hierarchyOf(Path dir) {
        for (int i = 0; i < hierarchyRoots.size(); i++) {
            if (dir.startsWith(hierarchyRoots.get(i))) {
                return i;
            }
        }
        return 0;
    }

    /** Applies {@code steps} in order on this thread. */
    private Outcome apply(List<Plan.Step> steps, System.Logger.Level changeLevel) {
        int mkdirs = 0;
        int writes = 0;
        int removals = 0;
        int drift = 0;
        List<ReconcileError> errors = new ArrayList<>();
        Set<String> failed = new HashSet<>();
        List<Path> brokenDirs = new ArrayList<>();
        List<Plan.WriteFile> retry = new ArrayList<>();
        for (Plan.Step step : steps) {
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
                        w.apply(files);
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
                w.apply(files);
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
        GroupName group = groupOf(r.group());
        for (int attempt = 0; attempt < DRAIN_ATTEMPTS; attempt++) {
            List<Integer> procs = files.procs(r.dir());
            // Checked before any process is moved: the directory stays whole, the group's error says why.
            for (int pid : procs) {
                if (group != null && occupants.holds(group, pid)) {
                    throw new CgroupException(r.dir(), null, "rmdir", null, 0,
                            "kept: pid " + pid + " of the group's workload still runs in it (retried next pass)");
                }
            }
            for (int pid : procs) {
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

    private static GroupName groupOf(String label) {
        try {
            return new GroupName(label);
        } catch (IllegalArgumentException e) {
            return null; // "(root)" and the like: no workload of its own
        }
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

package io.jgovernor.classify;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.ProcCgroup;
import io.jgovernor.cgroup.ProcsFile;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.reconcile.GroupDirectories;
import io.jgovernor.sys.Errno;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * Decides, for one process at a time, which group it belongs in, and moves it there or back.
 *
 * <p>What it remembers, per process it moved: the group, and for each hierarchy the cgroup the
 * process was in before (to return it there when it stops matching) and the one jgovernor wrote.
 * The hand-moved rule: a process jgovernor moved that is later found in a cgroup outside
 * jgovernor's tree, other than the one jgovernor put it in, was moved by someone else; it is left
 * alone from then on (never put back, never returned when rules change) until it exits, and so is
 * a matching process whose parent is left alone.
 *
 * <p>Not thread-safe: the classifier's one thread calls it; only the counters are read elsewhere.
 */
final class Adopter {
    private static final System.Logger LOG = System.getLogger(Adopter.class.getName());

    /**
     * One hierarchy of a moved process: where it came from and where jgovernor put it (kernel
     * paths). {@code origin} is null for the first move of a process: it is where
     * {@link Tracked#foundIn} says, worked out only when the process has to go back.
     */
    private record Placement(Hierarchy hierarchy, String origin, String placed) {
    }

    private static final class Tracked {
        GroupName group;
        List<Placement> placements = List.of();
        /** /proc/PID/cgroup as it read when jgovernor first moved the process. */
        String foundIn;
        /** Moved by someone else: left alone until it exits. */
        boolean handsOff;
        /** The group's process: knobs as set on it, and what it had before; null when none are set. */
        ThreadKnobs.State knobs;

        String origin(Placement p) {
            if (p.origin() != null) {
                return p.origin();
            }
            ProcCgroup found = parse(foundIn);
            return found == null ? null : pathIn(found, p.hierarchy());
        }
    }

    private final CgroupLayout layout;
    private final CgroupFiles files;
    private final GroupDirectories directories;
    private final IntPredicate isWorkload;
    private final ProcFiles proc;
    private final int self;
    private final Map<Integer, Tracked> tracked = new HashMap<>();
    /** Processes left alone now; while there are none, no parent needs looking up. */
    private int handsOff;
    private MatchRules rules = MatchRules.NONE;
    /** Each group's process: knobs, for groups that have any. */
    private Map<GroupName, ProcessKnobs> knobsByGroup = Map.of();
    private final ThreadKnobs threadKnobs;
    /** Each group's directories with their hierarchy, as of the rules: the catalog's signature includes them. */
    private final Map<GroupName, List<Target>> targets = new HashMap<>();

    private record Target(ProcsFile procs, Hierarchy hierarchy, String path) {
    }

    private final AtomicLong classifiedTotal = new AtomicLong();
    private final AtomicLong errorsTotal = new AtomicLong();
    private final AtomicLong failedProcesses = new AtomicLong();
    private final Map<GroupName, Long> perGroup = new ConcurrentHashMap<>();
    /** Why each process it moved is where it is; read by other threads. */
    private final Moves moves = new Moves();

    Adopter(CgroupLayout layout, CgroupFiles files, GroupDirectories directories, IntPredicate isWorkload,
            ProcFiles proc, int self) {
        this.layout = layout;
        this.files = files;
        this.directories = directories;
        this.isWorkload = isWorkload;
        this.proc = proc;
        this.self = self;
        this.threadKnobs = new ThreadKnobs(proc);
    }

    ProcessView newView(int pid) {
        return new ProcessView(proc, pid);
    }

    void rules(MatchRules rules) {
        this.rules = rules;
        closeTargets();
    }

    /** Closes the kept cgroup.procs descriptors; the next move opens them again. */
    void closeTargets() {
        targets.values().forEach(list -> list.forEach(target -> target.procs().close()));
        targets.clear();
    }

    private List<Target> targets(GroupName group) {
        return targets.computeIfAbsent(group, g -> {
            List<Target> out = new ArrayList<>();
            for (Path dir : directories.of(g)) {
                Hierarchy h = hierarchyOf(dir);
                if (h != null) {
                    out.add(new Target(new ProcsFile(dir), h, h.cgroupPath(dir)));
                }
            }
            return List.copyOf(out);
        });
    }

    MatchRules rules() {
        return rules;
    }

    /** The groups' process: knobs, with the rules; the next scan brings every moved process to them. */
    void knobs(Map<GroupName, ProcessKnobs> byGroup) {
        this.knobsByGroup = Map.copyOf(byGroup);
    }

    /** Whether some group has knobs: then new threads (fork events) matter. */
    boolean anyKnobs() {
        return !knobsByGroup.isEmpty();
    }

    /**
     * Brings the knobs of a process jgovernor moved to those of its group now ({@code sweep}: and
     * sets them on any thread that has not got them yet).
     */
    private void settleKnobs(int pid, Tracked t, boolean sweep) {
        Optional<ProcessKnobs> want = t.group == null ? Optional.empty() : Optional.ofNullable(knobsByGroup.get(t.group));
        if (t.knobs == null && want.isEmpty()) {
            return;
        }
        t.knobs = threadKnobs.settle(pid, t.knobs, want, sweep);
    }

    /** Puts back what a process had before its group's knobs, as it leaves the group. */
    private void revertKnobs(int pid, Tracked t) {
        if (t.knobs != null) {
            t.knobs = threadKnobs.settle(pid, t.knobs, Optional.empty(), false);
        }
    }

    /** A fork event: {@code tid} is a new thread of process {@code tgid} (tid != tgid). */
    void threadStarted(int tgid, int tid) {
        Tracked t = tracked.get(tgid);
        if (t != null && t.knobs != null) {
            threadKnobs.threadStarted(tgid, tid, t.knobs);
        }
    }

    /** A thread other than the main one exited. */
    void threadExited(int tgid, int tid) {
        Tracked t = tracked.get(tgid);
        if (t != null) {
            ThreadKnobs.threadExited(t.knobs, tid);
        }
    }

    /** Calls that set or put back knobs which the kernel refused. */
    long knobsRefusedTotal() {
        return threadKnobs.refusedTotal();
    }

    /**
     * Looks at every process: adopts those that match, returns those jgovernor moved that match no
     * more, and notices the ones moved by hand. Forgets processes that exited unseen.
     */
    void scan() {
        int[] pids;
        try {
            pids = proc.pids();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list /proc: " + e.getMessage());
            return;
        }
        Set<Integer> alive = new HashSet<>(pids.length * 2);
        for (int pid : pids) {
            alive.add(pid);
            evaluateSafely(new ProcessView(proc, pid), true, false);
        }
        for (Integer pid : new ArrayList<>(tracked.keySet())) {
            if (!alive.contains(pid)) {
                forget(pid);
            }
        }
    }

    /**
     * {@link #evaluate} for one process, whose failure (an exception or an Error, such as a
     * StackOverflowError) is logged and counted and ends nothing else: a process's facts are
     * written by whoever started it, and must not be able to stop the classifier for every other.
     */
    void evaluateSafely(ProcessView p, boolean verify, boolean execed) {
        try {
            evaluate(p, verify, execed);
        } catch (Throwable e) {
            long n = failedProcesses.incrementAndGet();
            LOG.log(n == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                    "classifier: process " + p.pid + " not classified (" + n + " so far): " + e, e);
        }
    }

    /**
     * One process, after an event (exec, uid or comm change) or during a scan. {@code verify}:
     * also check that a process already in its group is still where jgovernor put it.
     * {@code execed}: it has just called exec, so it is no kernel thread.
     */
    void evaluate(ProcessView p, boolean verify, boolean execed) {
        int pid = p.pid;
        if (pid == self) {
            return;
        }
        Tracked t = tracked.get(pid);
        if (t != null && t.handsOff) {
            return;
        }
        if (rules.isEmpty() && t == null) {
            return;
        }
        Optional<MatchRules.Choice> choice = rules.choose(p);
        if (choice.isEmpty()) {
            if (t != null) {
                leave(pid, t, "matches no rule now");
            }
            return;
        }
        // Asked only of a process a rule matches: telling a workload's descendant walks the
        // process's ancestors, which every exec on the host would otherwise pay for.
        if (isWorkload.test(pid)) {
            return;
        }
        MatchRules.Choice c = choice.get();
        if (t != null && c.group().equals(t.group) && !verify) {
            return;
        }
        // A process that has just exec'd is no kernel thread; the parent matters only while some
        // process is left alone. Otherwise one read of stat answers both.
        if (!execed || handsOff > 0) {
            ProcFiles.Stat stat = proc.stat(pid);
            if (stat == null) {
                return; // gone
            }
            if (stat.kernelThread() || stat.ppid() == ProcFiles.KTHREADD || pid == ProcFiles.KTHREADD) {
                return; // kernel threads are never moved
            }
            Tracked parent = tracked.get(stat.ppid());
            if (t == null && parent != null && parent.handsOff) {
                Tracked off = new Tracked();
                off.handsOff = true;
                tracked.put(pid, off);
                handsOff++;
                LOG.log(System.Logger.Level.DEBUG, "pid {0} ({1}): left alone, its parent {2} was moved by hand",
                        pid, p.comm(), stat.ppid());
                return;
            }
        }
        List<Target> dirs = targets(c.group());
        if (dirs.isEmpty()) {
            return; // the group has no directories yet (its pass failed): the next scan tries again
        }
        // Read before the first move, to know where to return the process; parsed only for a
        // process moved before (a new one's origin is worked out if it ever has to go back).
        String found = proc.cgroupText(pid);
        if (found == null) {
            return;
        }
        ProcCgroup now = null;
        if (t != null) {
            now = parse(found);
            if (now == null || movedByHand(pid, t, now)) {
                return;
            }
            if (c.group().equals(t.group) && inPlace(dirs, now)) {
                settleKnobs(pid, t, true); // the knobs may have changed, or a thread escaped them
                return;
            }
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            List<MatchRules.Candidate> all = rules.all(p);
            StringBuilder others = new StringBuilder();
            for (MatchRules.Candidate o : all.subList(Math.min(1, all.size()), all.size())) {
                others.append(others.isEmpty() ? "; also matches " : ", ").append(o.group().value())
                        .append(" (").append(o.file()).append(')');
            }
            LOG.log(System.Logger.Level.DEBUG, "pid {0} ({1}) -> group {2} ({3}){4}", pid, p.comm(),
                    c.group().value(), c.file(), others);
        }
        if (attach(pid, t, c.group(), dirs, found, now)) {
            MatchRules.Entry entry = c.candidate().entries().get(c.entry());
            moves.moved(pid, new Moves.Moved(c.group(), c.file(), c.entry() + 1, entry.describe(), java.time.Instant.now()));
        }
    }

    /**
     * {@code now}: the parsed {@code found}, for a process jgovernor moved before; null for a new
     * one. False when the process exited before it could be moved.
     */
    private boolean attach(int pid, Tracked t, GroupName group, List<Target> dirs, String found, ProcCgroup now) {
        List<Placement> placements = new ArrayList<>();
        for (Target target : dirs) {
            Hierarchy h = target.hierarchy();
            String origin = null;
            if (t != null) {
                origin = pathIn(now, h);
                for (Placement old : t.placements) {
                    if (old.hierarchy().equals(h)) {
                        origin = t.origin(old);
                    }
                }
            }
            try {
                if (!target.procs().move(pid)) {
                    forget(pid); // ESRCH: it exited; nothing to move
                    return false;
                }
            } catch (CgroupException e) {
                errorsTotal.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "cannot move pid " + pid + " into group " + group.value() + ": "
                        + e.getMessage());
                continue;
            }
            placements.add(new Placement(h, origin, target.path()));
        }
        if (t == null) {
            t = new Tracked();
            t.foundIn = found;
            tracked.put(pid, t);
        } else if (t.group != null) {
            perGroup.merge(t.group, -1L, Long::sum);
        }
        // hierarchies the group left keep their old placement, so the process can still go back there
        for (Placement old : t.placements) {
            if (placements.stream().noneMatch(p -> p.hierarchy().equals(old.hierarchy()))) {
                placements.add(old);
            }
        }
        t.group = group;
        t.placements = List.copyOf(placements);
        perGroup.merge(group, 1L, Long::sum);
        classifiedTotal.incrementAndGet();
        // after the move: a thread the process makes from here on is born in the group, and gets
        // the knobs from its parent thread or from the fork event
        settleKnobs(pid, t, false);
        return true;
    }

    /** Back where jgovernor found it, or beside jgovernor's root if that cgroup is gone. */
    private void leave(int pid, Tracked t, String why) {
        ProcCgroup now = parse(proc.cgroupText(pid));
        if (now == null) {
            forget(pid);
            return;
        }
        if (movedByHand(pid, t, now)) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "pid {0} leaves group {1}: {2}", pid, t.group.value(), why);
        revertKnobs(pid, t);
        for (Placement p : t.placements) {
            String from = t.origin(p);
            if (from == null) {
                continue; // the hierarchy was not in /proc/PID/cgroup when jgovernor found the process
            }
            Path origin = dirOf(p.hierarchy(), from);
            try {
                if (!moveBack(origin, pid)) {
                    moveBack(layout.rootDir(p.hierarchy()).getParent(), pid);
                }
            } catch (CgroupException e) {
                errorsTotal.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "cannot return pid " + pid + " from group " + t.group.value()
                        + ": " + e.getMessage());
            }
        }
        forget(pid);
    }

    /** False when {@code dir} is gone; ESRCH is success (nothing left to move). */
    private boolean moveBack(Path dir, int pid) throws CgroupException {
        try {
            files.moveProcess(dir, pid);
            return true;
        } catch (CgroupException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Whether someone else moved a process jgovernor placed: in some hierarchy it is neither
     * where jgovernor put it nor anywhere in jgovernor's tree (a removed group's processes go to
     * its parent, which is in the tree). Such a process is marked and left alone.
     */
    private boolean movedByHand(int pid, Tracked t, ProcCgroup now) {
        for (Placement p : t.placements) {
            String current = pathIn(now, p.hierarchy());
            if (current == null || current.equals(p.placed()) || inTree(p.hierarchy(), current)) {
                continue;
            }
            LOG.log(System.Logger.Level.INFO, "pid {0} was moved out of group {1} by someone else (now in {2} in {3}); "
                    + "jgovernor leaves it alone", pid, t.group.value(), current, p.hierarchy().name());
            if (t.group != null) {
                perGroup.merge(t.group, -1L, Long::sum);
            }
            revertKnobs(pid, t); // it left the group, by whatever hand
            t.group = null;
            t.placements = List.of();
            t.handsOff = true;
            handsOff++;
            moves.forget(pid);
            return true;
        }
        return false;
    }

    /** Whether the process is in the group's directory in every hierarchy the group has now. */
    private static boolean inPlace(List<Target> dirs, ProcCgroup now) {
        for (Target d : dirs) {
            if (!d.path().equals(pathIn(now, d.hierarchy()))) {
                return false;
            }
        }
        return true;
    }

    /** The process exited (or is gone): nothing to remember. */
    void forget(int pid) {
        moves.forget(pid);
        Tracked t = tracked.remove(pid);
        if (t != null && t.group != null) {
            perGroup.merge(t.group, -1L, Long::sum);
        }
        if (t != null && t.handsOff) {
            handsOff--;
        }
    }

    private boolean inTree(Hierarchy h, String path) {
        String root = h.cgroupPath(layout.rootDir(h));
        return path.equals(root) || path.startsWith(root + "/");
    }

    private Hierarchy hierarchyOf(Path dir) {
        return layout.hierarchyAt(dir).orElse(null);
    }

    /** Null for null or a text that is not /proc/PID/cgroup. */
    private static ProcCgroup parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return ProcCgroup.parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String pathIn(ProcCgroup cg, Hierarchy h) {
        return cg.pathIn(h).orElse(null);
    }

    /** The directory of kernel path {@code path} in {@code h}: the inverse of {@link Hierarchy#cgroupPath}. */
    private static Path dirOf(Hierarchy h, String path) {
        String root = h.mountRoot().endsWith("/") ? h.mountRoot() : h.mountRoot() + "/";
        String p = path.endsWith("/") ? path : path + "/";
        if (!p.startsWith(root)) {
            return h.mountPoint(); // outside what is mounted here: the nearest we can reach
        }
        String below = p.substring(root.length());
        return below.isEmpty() ? h.mountPoint() : h.mountPoint().resolve(below.substring(0, below.length() - 1));
    }

    Moves moves() {
        return moves;
    }

    long classifiedTotal() {
        return classifiedTotal.get();
    }

    long errorsTotal() {
        return errorsTotal.get();
    }

    long failedProcessesTotal() {
        return failedProcesses.get();
    }

    /** Processes jgovernor put in each group and that are still there. */
    Map<GroupName, Long> perGroup() {
        Map<GroupName, Long> out = new HashMap<>();
        perGroup.forEach((g, n) -> {
            if (n > 0) {
                out.put(g, n);
            }
        });
        return out;
    }
}

package io.jgovernor.spawn;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.model.Confinement;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.RunSpec;
import io.jgovernor.reconcile.GroupDirectories;
import io.jgovernor.sys.Accounts;
import io.jgovernor.sys.LoopHealth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

/**
 * The workloads of every group whose policy has {@code run:}. The daemon calls
 * {@link #stopVanished} after reading the policies and before the reconcile pass, and
 * {@link #sync} after it:
 * <ul>
 *   <li>a group whose policy is gone (or lost its {@code run}) has its workload stopped before the
 *       pass removes its directories; otherwise the pass would move the workload to the parent
 *       cgroup, where it would run without the group's limits until it stops. The pass waits for
 *       that (at most the longest {@code stopTimeout} of the groups removed, stopped in parallel);</li>
 *   <li>a new group's workload starts after the pass made its directories, and a group whose
 *       {@code run} changed has its workload stopped and started again; a change of resources
 *       only is applied live by the pass and leaves the workload alone;</li>
 *   <li>on the first call, a workload a previous daemon started (its record in
 *       {@code state-dir/workloads/} names a live pid with the same start time and the same run
 *       spec) is adopted instead of started twice.</li>
 * </ul>
 */
public final class Workloads implements IntPredicate {
    private static final System.Logger LOG = System.getLogger(Workloads.class.getName());
    /** What a stop may take beyond stopTimeout: SIGKILL, the kernel's teardown, the stage's exit. */
    static final Duration STOP_MARGIN = Duration.ofSeconds(5);
    /** The spec of a workload whose policy is gone: only its stop timeout (the default) is used. */
    private static final RunSpec ORPHAN = new RunSpec(List.of("/"), Optional.empty(), Optional.empty(),
            Optional.empty(), Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT, Optional.empty(),
            Confinement.NONE);

    private final ExecStage exec;
    private final GroupDirectories dirs;
    private final CgroupFiles files;
    private final Accounts accounts;
    private final Path recordDir;
    private final WorkloadStorage storage;
    private final Map<GroupName, Supervisor> supervisors = new ConcurrentHashMap<>();
    /** Supervisors that only stop a workload found running ({@link #stopper}), while they stop. */
    private final Set<Supervisor> leaving = ConcurrentHashMap.newKeySet();
    private boolean first = true;
    private final AtomicLong starts = new AtomicLong();
    private final AtomicLong startFailures = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();

    private volatile LoopHealth health = new LoopHealth();

    /** Where each workload's supervisor registers its loop ("workload GROUP"). */
    /**
     * What runs before a workload is signalled to stop: the daemon thaws the group there (a
     * frozen workload is stopped by thawing it first). Nothing by default.
     */
    public void beforeSignal(java.util.function.Consumer<GroupName> thaw) {
        this.beforeSignal = thaw;
    }

    private volatile java.util.function.Consumer<GroupName> beforeSignal = g -> { };

    /** Whether a group is frozen now (the daemon asks the kernel): its workload is started once thawed. */
    public void frozen(java.util.function.Predicate<GroupName> test) {
        this.frozen = test;
    }

    private volatile java.util.function.Predicate<GroupName> frozen = g -> false;

    public void health(LoopHealth registry) {
        this.health = registry;
    }

    public Workloads(ExecStage exec, GroupDirectories dirs, CgroupFiles files, Accounts accounts, Path recordDir) {
        this.exec = exec;
        this.dirs = dirs;
        this.files = files;
        this.accounts = accounts;
        this.recordDir = recordDir;
        // the records are state-dir/workloads: layers and volumes are its siblings
        this.storage = new WorkloadStorage(recordDir.toAbsolutePath().getParent());
    }

    public WorkloadStorage storage() {
        return storage;
    }

    /** Before a pass: stops the workloads of groups that no longer have a {@code run}. */
    public synchronized void stopVanished(SortedMap<GroupName, Policy> desired) {
        List<Supervisor> gone = new ArrayList<>();
        for (Supervisor s : supervisors.values()) {
            if (runOf(desired, s.group).isEmpty()) {
                gone.add(s);
            }
        }
        gone.addAll(leaving); // those an earlier stop did not end (a process in D state)
        if (first) {
            gone.addAll(leftBehind(desired));
        }
        stopInParallel(gone, true);
        // the upper layer goes with the policy (or its layers), once no workload of the group runs on it
        storage.removeLayersExcept(g -> hasLayers(runOf(desired, g))
                || (supervisors.get(g) != null && hasLayers(Optional.of(supervisors.get(g).spec)))
                || leaving.stream().anyMatch(l -> l.group.equals(g)));
    }

    private static boolean hasLayers(Optional<RunSpec> run) {
        return run.flatMap(RunSpec::isolate).map(i -> !i.layers().isEmpty()).orElse(false);
    }

    /**
     * At a daemon start, the workloads of groups without {@code run} (their policy went away while
     * no daemon ran) that a previous daemon left: every exec stage found in the group's cgroup,
     * whatever its tag, with its workload, and the process the group's record names. The records
     * of such groups go.
     */
    private List<Supervisor> leftBehind(SortedMap<GroupName, Policy> desired) {
        Map<GroupName, List<Path>> present = new TreeMap<>(dirs.present());
        Map<GroupName, WorkloadRecord> recorded = new TreeMap<>();
        for (WorkloadRecord r : records()) {
            recorded.put(r.group(), r);
            present.putIfAbsent(r.group(), List.of());
        }
        List<Supervisor> out = new ArrayList<>();
        for (Map.Entry<GroupName, List<Path>> e : present.entrySet()) {
            GroupName g = e.getKey();
            if (runOf(desired, g).isPresent()) {
                continue;
            }
            Set<Integer> found = new HashSet<>();
            for (Census.Stage st : Census.of(e.getValue(), files, exec).stages()) {
                found.add(st.workload());
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + " (exec stage " + st.pid() + ", pid "
                        + st.workload() + ") has no policy with run any more: stopping it");
                out.add(stopper(g, ORPHAN, false, st.workload() > 0 ? Workload.adopt(st) : Workload.lone(st.pid(), st.startTime())));
            }
            WorkloadRecord r = recorded.get(g);
            if (r != null && r.alive() && !found.contains(r.pid())) {
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + " (pid " + r.pid()
                        + ", named by its record) has no policy with run any more: stopping it");
                out.add(stopper(g, ORPHAN, false, Workload.lone(r.pid(), r.startTime())));
            }
            if (r != null) {
                WorkloadRecord.delete(recordDir, g);
            }
        }
        return out;
    }

    /** After a pass: starts, restarts and adopts workloads to match the policies. */
    public synchronized void sync(SortedMap<GroupName, Policy> desired) {
        for (Map.Entry<GroupName, Policy> e : desired.entrySet()) {
            Optional<RunSpec> run = e.getValue().run();
            if (run.isEmpty()) {
                continue;
            }
            GroupName g = e.getKey();
            RunSpec spec = run.get();
            Supervisor s = supervisors.get(g);
            if (s != null && s.spec.equals(spec)) {
                continue;
            }
            if (s != null) {
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": run changed, restarting it");
                stopInParallel(List.of(s), true);
            }
            boolean wholeGroup = e.getValue().match().isEmpty();
            Supervisor fresh = new Supervisor(g, spec, this::launch, this::signal, listener(g, spec));
            fresh.killWholeGroup = wholeGroup;
            fresh.health = health;
            fresh.frozen = frozen;
            Optional<Workload> adopted = Optional.empty();
            if (first) {
                Left left = leftIn(g, spec, wholeGroup);
                adopted = left.adopted;
                if (left.ended.isPresent()) {
                    fresh.finished(left.ended.getAsInt(), left.why);
                    supervisors.put(g, fresh);
                    continue;
                }
            }
            supervisors.put(g, fresh);
            fresh.start(adopted);
        }
        first = false;
    }

    /** What {@link #leftIn} found: a workload to adopt, or the exit of one that already ran to its end. */
    private record Left(Optional<Workload> adopted, OptionalInt ended, String why) {
    }

    /**
     * At a daemon start, what a previous daemon left in group {@code g}, whose policy has
     * {@code spec}, read from the group's cgroup first ({@link Census}) and from its record only
     * where the cgroup cannot tell:
     * <ul>
     *   <li>a stage started with this spec (its tag) is adopted: the one the record names, else
     *       the oldest; every other stage (a second copy, or one of an older spec) is stopped;</li>
     *   <li>without a stage, a live process the record names is adopted when the record has this
     *       spec (its stage was killed), stopped otherwise;</li>
     *   <li>without either, in a group without {@code match} rules, where every process descends
     *       from the workload, whatever is left (a workload whose stage was killed, and what it
     *       forked) is stopped before the new start;</li>
     *   <li>nothing running and a record of this spec that ended for good (or that has a pid and
     *       {@code restart: never}: it ran and ended while no daemon watched) means this version
     *       already ran: it is not started again. A record still "starting" (the daemon died
     *       during the launch, the stage may never have run) does not count.</li>
     * </ul>
     */
    private Left leftIn(GroupName g, RunSpec spec, boolean wholeGroup) {
        String hash = WorkloadRecord.hash(spec);
        Optional<WorkloadRecord> record = WorkloadRecord.read(recordDir, g);
        Census census = Census.of(dirs.of(g), files, exec);
        List<Census.Stage> same = census.stages().stream()
                .filter(st -> st.tag().equals(hash) && st.workload() > 0).toList();
        Census.Stage keep = same.stream()
                .filter(st -> record.isPresent() && st.workload() == record.get().pid()
                        && st.workloadStart() == record.get().startTime())
                .findFirst().orElse(same.isEmpty() ? null : same.getFirst());
        List<Supervisor> stop = new ArrayList<>();
        for (Census.Stage st : census.stages()) {
            if (st == keep) {
                continue;
            }
            String why = !st.tag().equals(hash) ? "started with another run spec (it changed while no daemon ran)"
                    : st.workload() == 0 ? "it has no workload (any more)"
                    : "a second copy (keeping exec stage " + keep.pid() + ", pid " + keep.workload() + ")";
            LOG.log(System.Logger.Level.WARNING, "workload " + g.value() + ": stopping exec stage " + st.pid()
                    + (st.workload() > 0 ? " and its workload, pid " + st.workload() : "") + ": " + why);
            stop.add(stopper(g, spec, false, st.workload() > 0 ? Workload.adopt(st) : Workload.lone(st.pid(), st.startTime())));
        }
        Optional<Workload> adopted = Optional.empty();
        if (keep != null) {
            adopted = Optional.of(Workload.adopt(keep));
            LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": adopted pid " + keep.workload()
                    + " started by a previous daemon (its exec stage " + keep.pid() + " is in the group)");
        } else if (record.isPresent() && record.get().alive()) {
            WorkloadRecord r = record.get();
            if (r.specHash().equals(hash)) {
                adopted = Workload.adopt(r);
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": adopted pid " + r.pid()
                        + " started by a previous daemon (named by its record; its exec stage is gone)");
            } else {
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": run changed while the daemon"
                        + " was away, restarting pid " + r.pid());
                stop.add(stopper(g, spec, wholeGroup, Workload.lone(r.pid(), r.startTime())));
            }
        } else if (wholeGroup && !census.strays().isEmpty()) {
            int first = census.strays().getFirst();
            OptionalLong start = ProcStat.startTime(first);
            if (start.isPresent()) {
                LOG.log(System.Logger.Level.WARNING, "workload " + g.value() + ": stopping " + census.strays()
                        + ": left in the group by a workload whose exec stage is gone, not named by its record,"
                        + " and no match rules put anything else there");
                stop.add(stopper(g, spec, true, Workload.lone(first, start.getAsLong())));
            }
        }
        stopInParallel(stop, false);
        if (adopted.isPresent()) {
            Workload w = adopted.get();
            writeRecord(new WorkloadRecord(g, w.pid(), w.startTime(), hash));
            return new Left(adopted, OptionalInt.empty(), null);
        }
        if (record.isPresent() && record.get().specHash().equals(hash)) {
            WorkloadRecord r = record.get();
            if (r.exit().isPresent()) {
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": not started, this run spec's"
                        + " workload already ran to its end (status " + r.exit().getAsInt() + ", restart: "
                        + spec.restart().key + ")");
                return new Left(Optional.empty(), r.exit(), null);
            }
            if (r.pid() > 0 && spec.restart() == RunSpec.Restart.NEVER) {
                String why = "ended while no daemon ran (pid " + r.pid() + "): its status is unknown";
                LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": not started (restart: never), it "
                        + why);
                writeRecord(r.ended(Workload.UNKNOWN_EXIT));
                return new Left(Optional.empty(), OptionalInt.of(Workload.UNKNOWN_EXIT), why);
            }
        }
        return new Left(Optional.empty(), OptionalInt.empty(), null);
    }

    /** What a SIGKILL of the daemon leaves (for kernel tests): nothing supervised, every workload running. */
    synchronized void abandon() {
        supervisors.values().forEach(Supervisor::abandon);
        supervisors.clear();
    }

    /** On daemon stop: every workload, in parallel; the records of those that ended for good stay. */
    public synchronized void stopAll() {
        stopInParallel(List.copyOf(supervisors.values()), false);
    }

    /**
     * Stops each on a platform thread of its own (a stopper must run even when every carrier of
     * the virtual-thread pool is blocked) and waits for them at most the longest stop timeout and
     * {@link #STOP_MARGIN}: by then SIGKILL was sent to every process of each group. A workload
     * still running after that (a process in D state) keeps its supervisor, which goes on
     * stopping it, and so its group's directories (see {@link #holds}); the next pass tries again.
     *
     * @param forget delete the record of each group's workload stopped (its policy or run is gone
     *               or changed); else only the records of workloads that were still running
     */
    private void stopInParallel(List<Supervisor> list, boolean forget) {
        List<Thread> threads = new ArrayList<>();
        Duration longest = Duration.ZERO;
        for (Supervisor s : list) {
            longest = longest.compareTo(s.spec.stopTimeout()) >= 0 ? longest : s.spec.stopTimeout();
            boolean mapped = supervisors.get(s.group) == s;
            if (!mapped) {
                leaving.add(s);
            }
            threads.add(Thread.ofPlatform().daemon(true).name("workload-stop " + s.group.value()).start(() -> {
                boolean finished = s.isFinished();
                if (s.stop()) {
                    leaving.remove(s);
                    if (supervisors.remove(s.group, s) && (forget || !finished)) {
                        WorkloadRecord.delete(recordDir, s.group);
                    }
                } else {
                    LOG.log(System.Logger.Level.ERROR, "workload " + s.group.value() + " did not stop after SIGKILL:"
                            + " its group's directories are kept while it runs");
                }
            }));
        }
        long deadline = System.nanoTime() + longest.plus(STOP_MARGIN).toNanos();
        for (Thread t : threads) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * True for a process that keeps a group's directories: the group's policy is gone but its
     * workload has not stopped yet, and the process is the workload's (its tree, or anything in a
     * group without {@code match} rules, where every process descends from the workload).
     */
    public boolean holds(GroupName g, int pid) {
        List<Supervisor> of = new ArrayList<>();
        Supervisor s = supervisors.get(g);
        if (s != null) {
            of.add(s);
        }
        leaving.stream().filter(l -> l.group.equals(g)).forEach(of::add);
        if (of.isEmpty()) {
            return false;
        }
        if (of.stream().anyMatch(l -> l.killWholeGroup)) {
            return true;
        }
        return test(pid);
    }

    /**
     * A supervisor that only stops a workload found running (adopted, never restarted, its end
     * changes no record); not in the map of each group's one supervisor, but in {@link #leaving}
     * while it stops.
     */
    private Supervisor stopper(GroupName g, RunSpec spec, boolean wholeGroup, Workload w) {
        Supervisor s = new Supervisor(g, spec, (group, sp) -> {
            throw new StartFailure("not restarted");
        }, this::signal, Supervisor.QUIET);
        s.killWholeGroup = wholeGroup;
        s.health = new LoopHealth(); // not the daemon's: its loop name is the group's real supervisor's
        s.start(Optional.of(w));
        return s;
    }

    private static Optional<RunSpec> runOf(SortedMap<GroupName, Policy> desired, GroupName g) {
        Policy p = desired.get(g);
        return p == null ? Optional.empty() : p.run();
    }

    /**
     * The record goes first ("starting", this spec's hash): a daemon killed during the launch
     * leaves a stage its successor finds in the group ({@link Census}), and a record that says
     * a launch of this spec began; then the pid once the stage reported it.
     */
    private Workload launch(GroupName g, RunSpec spec) throws StartFailure {
        Credentials c;
        try {
            c = Credentials.resolve(spec, accounts);
        } catch (UncheckedIOException e) {
            throw new StartFailure(e.getMessage());
        }
        String hash = WorkloadRecord.hash(spec);
        storage.prepare(spec);
        writeRecord(WorkloadRecord.starting(g, hash));
        Workload w = Workload.launch(exec, g, spec, dirs.of(g), c, storage);
        starts.incrementAndGet();
        writeRecord(new WorkloadRecord(g, w.pid(), w.startTime(), hash));
        LOG.log(System.Logger.Level.INFO, "workload " + g.value() + " started: pid " + w.pid() + ", " + spec.command());
        return w;
    }

    private void writeRecord(WorkloadRecord r) {
        try {
            r.write(recordDir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "workload " + r.group().value() + ": cannot write its record in "
                    + recordDir + " (" + e.getMessage() + "); a restarted daemon finds it by its group's cgroup only");
        }
    }

    /**
     * The workload, what it forked (its process tree) and, with {@code wholeGroup} (the group
     * adopts nothing by {@code match} rules), every other process in the group's cgroup too: in
     * such a group every process descends from the workload, also those that left its tree by
     * forking twice.
     */
    private void signal(GroupName g, Workload w, boolean kill, boolean wholeGroup) {
        // a frozen process gets no signal until thawed (v1: not even SIGKILL), so a stop would
        // wait out its stopTimeout and then SIGKILL in vain: thaw the group first
        try {
            beforeSignal.accept(g);
        } catch (RuntimeException e) {
            System.getLogger(Workloads.class.getName()).log(System.Logger.Level.WARNING,
                    "workload " + g.value() + ": cannot thaw it before signalling it: " + e.getMessage());
        }
        Set<ProcessHandle> targets = new LinkedHashSet<>();
        ProcessHandle.of(w.pid()).ifPresent(h -> {
            h.descendants().forEach(targets::add);
        });
        List<Path> d = dirs.of(g);
        if (wholeGroup && !d.isEmpty()) {
            try {
                for (int pid : files.procs(d.getFirst())) {
                    ProcessHandle.of(pid).ifPresent(targets::add);
                }
            } catch (CgroupException e) {
                // The group is gone: nothing left in it.
            }
        }
        w.signal(kill);
        List<Long> own = w.pids();
        for (ProcessHandle h : targets) {
            if (kill && own.contains(h.pid())) {
                continue; // the stage exits by itself once its command is gone (Workload.signal)
            }
            if (kill) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        }
    }

    private Supervisor.Listener listener(GroupName g, RunSpec spec) {
        String hash = WorkloadRecord.hash(spec);
        return new Supervisor.Listener() {
            @Override
            public void started(GroupName group, Workload w) {
            }

            @Override
            public void startFailed(GroupName group, String why) {
                startFailures.incrementAndGet();
                LOG.log(System.Logger.Level.ERROR, "workload " + group.value() + " cannot start: " + why);
            }

            @Override
            public void restarting(GroupName group) {
                restarts.incrementAndGet();
            }

            @Override
            public void ended(GroupName group, Workload w, int exit, boolean last) {
                if (last) {
                    // Once per version of the run spec: a restarted daemon does not start it again.
                    writeRecord(new WorkloadRecord(group, w.pid(), w.startTime(), hash)
                            .ended(exit));
                } else {
                    WorkloadRecord.delete(recordDir, group);
                }
            }
        };
    }

    private List<WorkloadRecord> records() {
        if (!Files.isDirectory(recordDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(recordDir)) {
            List<WorkloadRecord> out = new ArrayList<>();
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".json")) {
                    try {
                        GroupName g = new GroupName(name.substring(0, name.length() - 5).replace('+', '/'));
                        WorkloadRecord.read(recordDir, g).ifPresent(out::add);
                    } catch (IllegalArgumentException e) {
                        // not a record of ours
                    }
                }
            }
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * True for a workload's process or one it forked (its exec stage included): the classifier
     * must leave these where their workload's group put them.
     */
    @Override
    public boolean test(int pid) {
        Set<Long> roots = new HashSet<>();
        for (Supervisor s : supervisors.values()) {
            roots.addAll(s.pids());
        }
        for (Supervisor s : leaving) {
            roots.addAll(s.pids());
        }
        if (roots.isEmpty()) {
            return false;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        for (int depth = 0; h.isPresent() && depth < 64; depth++) {
            if (roots.contains(h.get().pid())) {
                return true;
            }
            h = h.get().parent();
        }
        return false;
    }

    public boolean isWorkload(int pid) {
        return test(pid);
    }

    /** The OOM killer killed a process in group {@code g}: its workload, if one runs, has failed. */
    public void oomKilled(GroupName g) {
        Supervisor s = supervisors.get(g);
        if (s != null) {
            s.oomKilled();
        }
    }

    /** What {@code jgovernor exec} runs: the stage's argv up to "--", the environment, the seccomp program. */
    public record Join(List<String> argv, Map<String, String> env, Optional<byte[]> seccomp) {
    }

    /** Why a group cannot be joined: it has no workload, or none runs now. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * How to run a command inside group {@code g}'s running workload (join.c): its pid and start
     * time, its cgroups, its ids and its confinement, from the run spec it was started with.
     */
    public Join join(GroupName g) throws Refused {
        Supervisor s = supervisors.get(g);
        if (s == null) {
            throw new Refused("group " + g.value() + " has no workload (its policy has no run:)");
        }
        Workload w = s.current();
        WorkloadStatus st = s.snapshot();
        if (w == null || !st.state().equals("running") || w.pid() <= 0) {
            throw new Refused("group " + g.value() + " has no running workload (it is " + st.state()
                    + (st.lastError() == null ? "" : ": " + st.lastError()) + ")");
        }
        try {
            Credentials c = Credentials.resolve(s.spec, accounts);
            return new Join(exec.joinArgv(s.spec, dirs.of(g), c, w.pid(), w.startTime()), s.spec.env(),
                    exec.program(s.spec));
        } catch (StartFailure | UncheckedIOException e) {
            throw new Refused("group " + g.value() + ": " + e.getMessage());
        }
    }

    /** The named volumes, with the groups whose workloads name them. */
    public List<WorkloadStorage.VolumeInfo> volumes() {
        Map<GroupName, RunSpec> runs = new TreeMap<>();
        supervisors.forEach((g, s) -> runs.put(g, s.spec));
        return storage.list(runs);
    }

    /**
     * Removes volume {@code name} unless a workload that names it is starting, running, waiting
     * to restart or stopping; under this object's lock, so no {@link #sync} starts one meanwhile.
     *
     * @return false when there is no such volume
     * @throws Refused (its message says which group) when one uses it
     */
    public synchronized boolean removeVolume(String name) throws Refused, IOException {
        for (Supervisor s : supervisors.values()) {
            boolean names = s.spec.isolate().map(i -> i.volumes().stream().anyMatch(v -> v.name().equals(name)))
                    .orElse(false);
            String state = s.snapshot().state();
            if (names && !Set.of("exited", "failed", "stopped").contains(state)) {
                throw new Refused("volume " + name + " is in use by the workload of group " + s.group.value()
                        + " (" + state + "); remove it from that policy, or stop the workload, first");
            }
        }
        return storage.remove(name);
    }

    /** Per group: state, pid, restarts, last error. */
    public SortedMap<GroupName, WorkloadStatus> status() {
        SortedMap<GroupName, WorkloadStatus> out = new TreeMap<>();
        supervisors.forEach((g, s) -> out.put(g, s.snapshot()));
        return out;
    }

    public long starts() {
        return starts.get();
    }

    public long startFailures() {
        return startFailures.get();
    }

    public long restarts() {
        return restarts.get();
    }
}

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
    private final Map<GroupName, Supervisor> supervisors = new ConcurrentHashMap<>();
    private boolean first = true;
    private final AtomicLong starts = new AtomicLong();
    private final AtomicLong startFailures = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();

    private volatile LoopHealth health = new LoopHealth();

    /** Where each workload's supervisor registers its loop ("workload GROUP"). */
    public void health(LoopHealth registry) {
        this.health = registry;
    }

    public Workloads(ExecStage exec, GroupDirectories dirs, CgroupFiles files, Accounts accounts, Path recordDir) {
        this.exec = exec;
        this.dirs = dirs;
        this.files = files;
        this.accounts = accounts;
        this.recordDir = recordDir;
    }

    /** Before a pass: stops the workloads of groups that no longer have a {@code run}. */
    public synchronized void stopVanished(SortedMap<GroupName, Policy> desired) {
        List<Supervisor> gone = new ArrayList<>();
        for (Supervisor s : supervisors.values()) {
            if (runOf(desired, s.group).isEmpty()) {
                gone.add(s);
            }
        }
        if (first) {
            // Records of workloads whose policy went away while no daemon ran.
            for (WorkloadRecord r : records()) {
                if (runOf(desired, r.group()).isEmpty() && r.alive()) {
                    LOG.log(System.Logger.Level.INFO, "workload " + r.group().value() + " (pid " + r.pid()
                            + ") has no policy any more: stopping it");
                    // In the map while it stops, so that its directories stay until it is gone (holds).
                    Workload.adopt(r).ifPresent(w -> gone.add(
                            supervisors.computeIfAbsent(r.group(), g -> supervisor(g, ORPHAN, false, w))));
                }
                if (runOf(desired, r.group()).isEmpty()) {
                    WorkloadRecord.delete(recordDir, r.group());
                }
            }
        }
        stopInParallel(gone);
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
                stopInParallel(List.of(s));
            }
            Optional<Workload> adopted = Optional.empty();
            if (first) {
                Optional<WorkloadRecord> r = WorkloadRecord.read(recordDir, g).filter(WorkloadRecord::alive);
                if (r.isPresent() && r.get().specHash().equals(WorkloadRecord.hash(spec))) {
                    adopted = Workload.adopt(r.get());
                    adopted.ifPresent(w -> LOG.log(System.Logger.Level.INFO, "workload " + g.value()
                            + ": adopted pid " + w.pid() + " started by a previous daemon"));
                } else if (r.isPresent()) {
                    LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": run changed while the daemon"
                            + " was away, restarting pid " + r.get().pid());
                    Workload.adopt(r.get()).ifPresent(w -> stopInParallel(List.of(
                            supervisor(g, spec, e.getValue().match().isEmpty(), w))));
                }
            }
            Supervisor fresh = new Supervisor(g, spec, this::launch, this::signal, listener(g));
            fresh.killWholeGroup = e.getValue().match().isEmpty();
            fresh.health = health;
            supervisors.put(g, fresh);
            fresh.start(adopted);
        }
        first = false;
    }

    /** On daemon stop: every workload, in parallel. */
    public synchronized void stopAll() {
        stopInParallel(List.copyOf(supervisors.values()));
    }

    /**
     * Stops each on a platform thread of its own (a stopper must run even when every carrier of
     * the virtual-thread pool is blocked) and waits for them at most the longest stop timeout and
     * {@link #STOP_MARGIN}: by then SIGKILL was sent to every process of each group. A workload
     * still running after that (a process in D state) keeps its supervisor, which goes on
     * stopping it, and so its group's directories (see {@link #holds}); the next pass tries again.
     */
    private void stopInParallel(List<Supervisor> list) {
        List<Thread> threads = new ArrayList<>();
        Duration longest = Duration.ZERO;
        for (Supervisor s : list) {
            longest = longest.compareTo(s.spec.stopTimeout()) >= 0 ? longest : s.spec.stopTimeout();
            threads.add(Thread.ofPlatform().daemon(true).name("workload-stop " + s.group.value()).start(() -> {
                if (s.stop()) {
                    supervisors.remove(s.group, s);
                    WorkloadRecord.delete(recordDir, s.group);
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
        Supervisor s = supervisors.get(g);
        if (s == null) {
            return false;
        }
        if (s.killWholeGroup) {
            return true;
        }
        return test(pid);
    }

    /** A supervisor that only stops an already running workload (adopted, never restarted). */
    private Supervisor supervisor(GroupName g, RunSpec spec, boolean wholeGroup, Workload w) {
        Supervisor s = new Supervisor(g, spec, (group, sp) -> {
            throw new StartFailure("not restarted");
        }, this::signal, listener(g));
        s.killWholeGroup = wholeGroup;
        s.health = health;
        s.start(Optional.of(w));
        return s;
    }

    private static Optional<RunSpec> runOf(SortedMap<GroupName, Policy> desired, GroupName g) {
        Policy p = desired.get(g);
        return p == null ? Optional.empty() : p.run();
    }

    private Workload launch(GroupName g, RunSpec spec) throws StartFailure {
        Credentials c;
        try {
            c = Credentials.resolve(spec, accounts);
        } catch (UncheckedIOException e) {
            throw new StartFailure(e.getMessage());
        }
        Workload w = Workload.launch(exec, g, spec, dirs.of(g), c);
        starts.incrementAndGet();
        try {
            new WorkloadRecord(g, w.pid(), w.startTime(), WorkloadRecord.hash(spec)).write(recordDir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "workload " + g.value() + ": cannot write its record in "
                    + recordDir + " (" + e.getMessage() + "); a restarted daemon will not find it");
        }
        LOG.log(System.Logger.Level.INFO, "workload " + g.value() + " started: pid " + w.pid() + ", " + spec.command());
        return w;
    }

    /**
     * The workload, what it forked (its process tree) and, when the group adopts nothing by
     * {@code match} rules, every other process in the group's cgroup too: in such a group every
     * process descends from the workload, also those that left its tree by forking twice.
     */
    private void signal(GroupName g, Workload w, boolean kill) {
        Set<ProcessHandle> targets = new LinkedHashSet<>();
        ProcessHandle.of(w.pid()).ifPresent(h -> {
            h.descendants().forEach(targets::add);
        });
        Supervisor s = supervisors.get(g);
        List<Path> d = dirs.of(g);
        if ((s == null || s.killWholeGroup) && !d.isEmpty()) {
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

    private Supervisor.Listener listener(GroupName g) {
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
            public void ended(GroupName group) {
                WorkloadRecord.delete(recordDir, group);
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

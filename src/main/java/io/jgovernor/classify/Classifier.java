package io.jgovernor.classify;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.GroupDirectories;
import io.jgovernor.sys.Errno;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.sys.LoopHealth;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * Puts running processes into the groups whose {@code match:} rules they satisfy, the moment they
 * start (exec), change user or rename themselves, and returns them when the rules go away.
 *
 * <p>One thread does everything: it listens to the kernel's process connector and, after each
 * catalog change and whenever the kernel reports lost messages, scans /proc. Where the connector
 * is not available (not root, a container's namespaces) it scans /proc every
 * {@code scanInterval} instead, and says so once in the log.
 */
public final class Classifier implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Classifier.class.getName());
    /** Room for a burst of some 20 000 events before the kernel drops any. */
    static final int RECEIVE_BUFFER = 8 * 1024 * 1024;

    /** How processes are found: the kernel's events, or periodic scans of /proc. */
    public enum Mode { CONNECTOR, SCAN }

    private final Adopter adopter;
    private final GroupDirectories directories;
    /** What the last catalog's rules and their groups' directories were; read and written by the reconcile thread only. */
    private List<String> lastSignature = List.of();
    private final Duration scanInterval;
    private final boolean tryConnector;
    private final Path passwd;
    private final int receiveBuffer;
    private final Realtime realtime;
    private final Object lock = new Object();
    private CatalogState pending;
    private final List<CompletableFuture<Void>> waiting = new ArrayList<>();
    private final AtomicLong lostEvents = new AtomicLong();
    private volatile Mode mode;
    private volatile boolean stopped;
    private int wakeFd = -1;
    private ProcConnector connector;
    private Thread thread;
    private volatile LoopHealth.Loop health = new LoopHealth().register("classify", Duration.ofSeconds(30));
    /** Set once the thread ran: a restarted run rescans, since events went unread while it was dead. */
    private boolean ranBefore;

    /**
     * @param isWorkload processes the daemon started itself, which are never reclassified
     * @param tryConnector false to scan /proc only (tests of the fallback)
     * @param realtimePriority SCHED_FIFO priority of the thread while it handles events (see
     *                         {@link Realtime}); 0 for the normal scheduler
     * @throws IllegalArgumentException a priority outside 0-99, naming the configuration key
     */
    public Classifier(CgroupLayout layout, CgroupFiles files, GroupDirectories directories, IntPredicate isWorkload,
                      Duration scanInterval, boolean tryConnector, int realtimePriority) {
        this(layout, files, directories, isWorkload, scanInterval, tryConnector, realtimePriority, RECEIVE_BUFFER);
    }

    /** With another socket receive buffer: a tiny one makes the kernel drop events (tests of the recovery). */
    Classifier(CgroupLayout layout, CgroupFiles files, GroupDirectories directories, IntPredicate isWorkload,
               Duration scanInterval, boolean tryConnector, int realtimePriority, int receiveBuffer) {
        this.realtime = new Realtime(realtimePriority);
        this.directories = directories;
        this.adopter = new Adopter(layout, files, directories, isWorkload, new ProcFiles(Path.of("/proc")), Libc.getpid());
        this.scanInterval = scanInterval;
        this.tryConnector = tryConnector;
        this.passwd = Path.of("/etc/passwd");
        this.receiveBuffer = receiveBuffer;
    }

    /** Opens the connector (or settles for scans) and starts the thread; rules come with {@link #rulesChanged}. */
    public synchronized void start() throws ErrnoException {
        wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (tryConnector) {
            try {
                connector = ProcConnector.open(receiveBuffer);
                mode = Mode.CONNECTOR;
                LOG.log(System.Logger.Level.INFO, "classifier: following process starts through the kernel's process connector"
                        + (connector.filtered() ? " (exec, uid, comm and exit events only; fork events too while a group has process: knobs)"
                        : " (every event; kernels before 6.6 have no event filter)"));
            } catch (ErrnoException e) {
                LOG.log(System.Logger.Level.WARNING, "classifier: the kernel's process connector is not available here ("
                        + e.getMessage() + "); scanning /proc every " + scanInterval.toMillis()
                        + " ms instead (jgovernor.classify.scan-interval)");
            }
        }
        if (connector == null) {
            mode = Mode.SCAN;
            if (!tryConnector) {
                LOG.log(System.Logger.Level.INFO, "classifier: scanning /proc every " + scanInterval.toMillis() + " ms");
            }
        }
        thread = Thread.ofPlatform().name("jgovernor-classify").daemon(true)
                .start(() -> health.supervise(this::run, () -> stopped));
    }

    /** Where this loop reports each scan and batch of events, failures of one process, and its death. */
    public void health(LoopHealth.Loop loop) {
        this.health = loop;
    }

    /**
     * The catalog changed (or is first known): compile its rules and scan /proc. The future
     * completes once the scan under these rules is done.
     */
    public CompletableFuture<Void> rulesChanged(CatalogState catalog) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (lock) {
            pending = catalog;
            waiting.add(done);
        }
        wake();
        return done;
    }

    /**
     * Called after every reconcile pass: rescans when a full pass ran (a periodic safety net for
     * anything missed) or when the match rules or their groups' directories changed.
     */
    public void catalogPassed(CatalogState catalog, boolean full) {
        List<String> signature = new ArrayList<>();
        for (CatalogState.FileStatus f : catalog.files()) {
            for (GroupName g : f.groups()) {
                var p = catalog.desired().get(g);
                if (p != null && !p.match().isEmpty()) {
                    signature.add(f.file().getFileName() + " " + g.value() + " " + p.match() + " " + directories.of(g)
                            + " " + p.process().map(Object::toString).orElse(""));
                }
            }
        }
        if (full || !signature.equals(lastSignature)) {
            lastSignature = signature;
            rulesChanged(catalog);
        }
    }

    private void wake() {
        int fd = wakeFd;
        if (fd < 0) {
            return;
        }
        Libc.eventfdSignal(fd);
    }

    private void run() {
        Events sink = new Events();
        sink.rescan = ranBefore;
        ranBefore = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(Libc.POLLFD, 2);
            MemorySegment counter = a.allocate(8);
            long nextScan = System.nanoTime() + scanInterval.toNanos();
            while (!stopped) {
                boolean rescan = sink.rescan;
                sink.rescan = false;
                Pending pending = takePending();
                if (pending != null || rescan) {
                    // A scan reads every process: long work, not at a priority above the host's.
                    realtime.leave();
                    try {
                        if (pending != null) {
                            apply(pending);
                        } else {
                            adopter.scan();
                        }
                    } catch (Throwable e) {
                        health.failed("a scan of /proc", e);
                    }
                }
                if (connector != null) {
                    realtime.enter();
                }
                int n = 1;
                fds.set(ValueLayout.JAVA_INT, 0, wakeFd);
                fds.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
                fds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                if (connector != null) {
                    fds.set(ValueLayout.JAVA_INT, 8, connector.fd());
                    fds.set(ValueLayout.JAVA_SHORT, 12, Libc.POLLIN);
                    fds.set(ValueLayout.JAVA_SHORT, 14, (short) 0);
                    n = 2;
                }
                int timeout = -1;
                if (connector == null) {
                    timeout = (int) Math.max(0, (nextScan - System.nanoTime()) / 1_000_000L);
                }
                health.idle();
                int ready = Libc.poll(fds, n, timeout);
                health.busy();
                if (stopped) {
                    break;
                }
                if (connector == null && System.nanoTime() - nextScan >= 0) {
                    try {
                        adopter.scan();
                    } catch (Throwable e) {
                        health.failed("a scan of /proc", e);
                    }
                    nextScan = System.nanoTime() + scanInterval.toNanos();
                }
                if (ready > 0 && (fds.get(ValueLayout.JAVA_SHORT, 6) & Libc.POLLIN) != 0) {
                    Libc.readRaw(wakeFd, counter, 8);
                }
                if (connector != null && ready > 0 && fds.get(ValueLayout.JAVA_SHORT, 14) != 0) {
                    drain(sink);
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            if (!stopped) {
                LOG.log(System.Logger.Level.ERROR, "classifier stopped: " + e.getMessage(), e);
            }
        } finally {
            health.idle();
            realtime.leave();
            adopter.closeTargets();
        }
    }

    /** Reads every datagram waiting; on ENOBUFS the kernel dropped some: count, log, rescan. */
    private void drain(Events sink) throws ErrnoException {
        while (true) {
            long r = connector.receive(sink);
            if (r == -Errno.EAGAIN) {
                return;
            }
            if (r == -Errno.ENOBUFS) {
                long lost = lostEvents.incrementAndGet();
                LOG.log(lost == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        "classifier: the kernel dropped process events (socket buffer full, {0} times so far); rescanning /proc", lost);
                sink.rescan = true;
                continue;
            }
            if (r < 0) {
                throw new ErrnoException("read", "proc connector", (int) -r);
            }
        }
    }

    /**
     * Fork events are half of all the connector's traffic when many processes start, so they are
     * asked for only while some group has process knobs: a thread made later must get them.
     */
    private void followForks(boolean forks) {
        if (connector == null) {
            return;
        }
        try {
            connector.followForks(forks);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "classifier: cannot " + (forks ? "ask for" : "stop") + " fork events ("
                    + e.getMessage() + "); threads made after a move get process knobs at the next full scan only");
        }
    }

    /** A catalog to apply, and who waits for its scan. */
    private record Pending(CatalogState catalog, List<CompletableFuture<Void>> done) {
    }

    private Pending takePending() {
        synchronized (lock) {
            if (pending == null) {
                return null;
            }
            Pending p = new Pending(pending, new ArrayList<>(waiting));
            pending = null;
            waiting.clear();
            return p;
        }
    }

    private void apply(Pending p) {
        try {
            adopter.rules(MatchRules.compile(p.catalog(), passwd));
            Map<GroupName, ProcessKnobs> knobs = new HashMap<>();
            p.catalog().desired().forEach((g, policy) -> policy.process().ifPresent(k -> knobs.put(g, k)));
            adopter.knobs(knobs);
            followForks(adopter.anyKnobs());
            adopter.scan();
        } finally {
            p.done().forEach(f -> f.complete(null));
        }
    }

    /** The kernel's events, handled on the classifier's thread as they are read. */
    private final class Events implements ProcEvents.Sink {
        boolean rescan;

        @Override
        public void exec(int tgid) {
            adopter.evaluateSafely(view(tgid), false, true);
        }

        @Override
        public void uid(int pid, int tgid, int euid) {
            if (adopter.rules().usesUser()) {
                adopter.evaluateSafely(view(tgid).withEuid(Integer.toUnsignedLong(euid)), false, false);
            }
        }

        @Override
        public void comm(int pid, int tgid) {
            adopter.evaluateSafely(view(tgid), false, false);
        }

        @Override
        public void exit(int pid, int tgid) {
            if (pid == tgid) {
                adopter.forget(tgid);
            } else {
                adopter.threadExited(tgid, pid);
            }
        }

        @Override
        public void fork(int parentTgid, int childPid, int childTgid) {
            if (childPid != childTgid) {
                adopter.threadStarted(childTgid, childPid); // a new thread: the knobs of its process
            }
            // a new process: born in its parent's cgroups with its parent thread's knobs
        }

        @Override
        public void ack(int error) {
            // another listener subscribing; nothing to do
        }

        private ProcessView view(int pid) {
            return adopter.newView(pid);
        }
    }

    /** Whether the thread runs: started and not ended. */
    boolean running() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    /** Null before {@link #start()}. */
    public Mode mode() {
        return mode;
    }

    /** The class the thread waits for events in, for status: "SCHED_FIFO N" or "SCHED_OTHER ...". */
    public String scheduling() {
        return realtime.describe();
    }

    /** Processes moved into a group since the start. */
    /** Why the classifier put each process where it is ({@code jgovernor why}); safe from any thread. */
    public Moves moves() {
        return adopter.moves();
    }

    public long classifiedTotal() {
        return adopter.classifiedTotal();
    }

    /** Times the kernel reported dropped process events (each followed by a rescan). */
    public long lostEventsTotal() {
        return lostEvents.get();
    }

    /** Moves, and process knobs, the kernel refused (other than for a process or thread that had exited). */
    public long errorsTotal() {
        return adopter.errorsTotal() + adopter.knobsRefusedTotal();
    }

    /**
     * Processes whose handling failed with an exception or an Error (each logged, the thread went
     * on): a per-item count for the liveness registry and metrics.
     */
    public long failedProcessesTotal() {
        return adopter.failedProcessesTotal();
    }

    /** Per group, the processes jgovernor moved there that are there now. */
    public Map<GroupName, Long> classified() {
        return adopter.perGroup();
    }

    @Override
    public synchronized void close() {
        stopped = true;
        wake();
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (connector != null) {
            connector.close();
            connector = null;
        }
        if (wakeFd >= 0) {
            Libc.closeRaw(wakeFd);
            wakeFd = -1;
        }
    }
}

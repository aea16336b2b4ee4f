package io.jgovernor.testing;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.sys.Errno;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway cgroup subtree for kernel tests: a directory {@code jgovernor-test-<uuid>} beneath
 * this process's own cgroup in every hierarchy jgovernor manages (found through
 * {@link CgroupLayout}, exactly as the daemon finds its root), removed again by {@link #close()}.
 *
 * <pre>{@code
 * try (TestCgroups cg = TestCgroups.create()) {
 *     Path web = cg.makeGroup("cpu", new GroupName("web"));
 *     Process p = cg.start("sleep", "30");          // killed on close
 *     ...                                           // pass cg.root() as jgovernor.cgroup.root
 * }
 * }</pre>
 *
 * <p>On close (and from a JVM shutdown hook if close never runs) it kills the processes the test
 * registered, moves any other process found in the subtree to the test root's parent (this
 * process's own cgroup), and removes the directories bottom-up. It only ever writes to or removes
 * directories inside its own {@code jgovernor-test-*} directories, plus the parent's cgroup.procs
 * when evacuating a stray process.
 *
 * <p>Kernel tests are on by default ({@code -Djgovernor.kernelTests=true} comes from the pom);
 * {@code -Djgovernor.kernelTests=false} skips them (reported as aborted). Not being root is a
 * failure, not a silent skip: a green run must mean the kernel tests ran.
 */
public final class TestCgroups implements AutoCloseable {
    public static final String PREFIX = "jgovernor-test-";
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private final CgroupFiles files;
    private final String root;
    private final CgroupLayout layout;
    private final List<Hierarchy> hierarchies;
    /**
     * Where a test root is made: the hierarchies, plus on a hybrid host the unified tree, where a
     * daemon (jgovernor.cgroup.hybrid-unified) makes its groups' directories too.
     */
    private final List<Hierarchy> roots;
    private final List<Path> created = new ArrayList<>();
    private final Set<ProcessHandle> registered = ConcurrentHashMap.newKeySet();
    private final Thread shutdownHook;
    private boolean closed;

    private TestCgroups(CgroupFiles files, String root, CgroupLayout layout) {
        this.files = files;
        this.root = root;
        this.layout = layout;
        this.hierarchies = layout.mode() == CgroupMode.UNIFIED
                ? List.of(layout.unified().orElseThrow())
                : layout.hierarchies();
        this.roots = layout.withUnifiedGroups().hierarchies().stream().anyMatch(h -> !hierarchies.contains(h))
                ? layout.withUnifiedGroups().hierarchies() : hierarchies;
        this.shutdownHook = new Thread(this::cleanupQuietly, "TestCgroups cleanup " + root);
    }

    /** Makes the test root in every managed hierarchy; fails the test if that is not possible. */
    public static TestCgroups create() {
        return create(Path.of(System.getProperty("jgovernor.cgroup.mount", CgroupLayout.DEFAULT_MOUNT.toString())));
    }

    /**
     * The same with another mount root: on a hybrid host {@code /sys/fs/cgroup/unified} gives a
     * UNIFIED layout of the controller-less cgroup2 tree, where what needs no controller (BPF
     * device programs, cgroup.procs) works as on a v2 host.
     */
    public static TestCgroups create(Path mount) {
        requireKernelTests();
        CgroupFiles files = new CgroupFiles();
        String root = PREFIX + UUID.randomUUID();
        CgroupLayout layout;
        try {
            layout = CgroupLayout.detect(mount, root, files);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read this process's cgroup layout: " + e.getMessage(), e);
        }
        TestCgroups cg = new TestCgroups(files, root, layout);
        Runtime.getRuntime().addShutdownHook(cg.shutdownHook);
        try {
            for (Hierarchy h : cg.roots) {
                Path dir = layout.rootDir(h);
                cg.checkTestRoot(h, dir);
                if (!files.mkdir(dir)) {
                    throw new IllegalStateException(dir + " already exists; refusing to use a directory this run did not make");
                }
                cg.created.add(dir);
                if (h.has("cpuset")) {
                    inheritCpuset(files, h.ownDir(), dir);
                }
            }
        } catch (CgroupException | RuntimeException e) {
            IllegalStateException failure = new IllegalStateException("cannot make the test cgroups: " + e.getMessage(), e);
            try {
                cg.close();
            } catch (RuntimeException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        return cg;
    }

    /** Skips when -Djgovernor.kernelTests=false; fails when not root. */
    public static void requireKernelTests() {
        Assumptions.assumeFalse("false".equalsIgnoreCase(System.getProperty("jgovernor.kernelTests", "true")),
                "kernel tests are switched off (-Djgovernor.kernelTests=false)");
        long euid = effectiveUid();
        if (euid != 0) {
            Assertions.fail("kernel tests need root to write cgroupfs (effective uid is " + euid
                    + "); run them as root, or pass -Djgovernor.kernelTests=false to skip them");
        }
    }

    private static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** A v1 cpuset directory starts empty and takes no process until cpus and mems are set. */
    private static void inheritCpuset(CgroupFiles files, Path parent, Path dir) throws CgroupException {
        String mems = files.read(parent, "cpuset.mems").orElse("").strip();
        String cpus = files.read(parent, "cpuset.cpus").orElse("").strip();
        files.write(dir, "cpuset.mems", mems);
        files.write(dir, "cpuset.cpus", cpus);
    }

    /** The relative root to pass as {@code jgovernor.cgroup.root}: "jgovernor-test-&lt;uuid&gt;". */
    public String root() {
        return root;
    }

    /** The layout for {@link #root()}, the one the daemon would build. */
    public CgroupLayout layout() {
        return layout;
    }

    public CgroupFiles files() {
        return files;
    }

    /** The hierarchies that hold a test root. */
    public List<Hierarchy> hierarchies() {
        return hierarchies;
    }

    public Hierarchy hierarchy(String controller) {
        return roots.stream().filter(h -> h.has(controller) || (h.isUnified() && controller.isEmpty()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + controller + " hierarchy here: " + layout));
    }

    /** The test root in the hierarchy of {@code controller}. */
    public Path dir(String controller) {
        return layout.rootDir(hierarchy(controller));
    }

    /**
     * Makes group {@code name} (and its missing parents) in the hierarchy of {@code controller};
     * in a cpuset hierarchy each new level inherits its parent's cpus and mems.
     */
    public Path makeGroup(String controller, GroupName name) throws CgroupException {
        Hierarchy h = hierarchy(controller);
        Path dir = layout.rootDir(h);
        for (String segment : name.segments()) {
            Path parent = dir;
            dir = dir.resolve(segment);
            checkInside(h, dir);
            if (files.mkdir(dir) && h.has("cpuset")) {
                inheritCpuset(files, parent, dir);
            }
        }
        return dir;
    }

    /** Starts {@code command} (output discarded) and registers it to be killed on close. */
    public Process start(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        register(p.toHandle());
        return p;
    }

    /** Registers a process the test started, to be killed on close. */
    public void register(ProcessHandle process) {
        registered.add(process);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // shutting down: the hook runs anyway, and cleanup is idempotent
        }
        List<String> problems = cleanup();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("test cgroups not fully removed:\n  " + String.join("\n  ", problems));
        }
    }

    private void cleanupQuietly() {
        List<String> problems = cleanup();
        if (!problems.isEmpty()) {
            System.err.println("TestCgroups: could not remove everything:\n  " + String.join("\n  ", problems));
        }
    }

    private synchronized List<String> cleanup() {
        List<String> problems = new ArrayList<>();
        for (ProcessHandle p : registered) {
            // a handle remembers its process's start time, so a reused pid is never killed
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (ProcessHandle p : registered) {
            try {
                p.onExit().get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                problems.add("process " + p.pid() + " did not exit after SIGKILL");
            }
        }
        for (Path dir : created) {
            Hierarchy h = hierarchyOf(dir);
            try {
                removeTree(h, dir, problems);
            } catch (CgroupException | RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        return problems;
    }

    private Hierarchy hierarchyOf(Path testRoot) {
        for (Hierarchy h : roots) {
            if (layout.rootDir(h).equals(testRoot)) {
                return h;
            }
        }
        throw new IllegalStateException(testRoot + " is not a test root of " + layout);
    }

    private void removeTree(Hierarchy h, Path dir, List<String> problems) throws CgroupException {
        checkInside(h, dir);
        for (String child : files.childDirectories(dir)) {
            removeTree(h, dir.resolve(child), problems);
        }
        Path evacuateTo = h.ownDir();
        for (int attempt = 0; ; attempt++) {
            for (int pid : files.procs(dir)) {
                files.moveProcess(evacuateTo, pid);
            }
            try {
                files.rmdir(dir);
                return;
            } catch (CgroupException e) {
                // EBUSY: a process is still leaving (an exiting task stays in its cgroup until reaped)
                if (e.errno() != Errno.EBUSY || attempt >= 50) {
                    problems.add(e.getMessage());
                    return;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add(dir + ": interrupted while removing");
                return;
            }
        }
    }

    private void checkTestRoot(Hierarchy h, Path dir) {
        if (!dir.getFileName().toString().startsWith(PREFIX) || !dir.getParent().equals(h.ownDir())) {
            throw new IllegalStateException(dir + " is not a " + PREFIX + "* directory directly beneath "
                    + h.ownDir() + "; refusing to touch it");
        }
    }

    private void checkInside(Hierarchy h, Path dir) {
        Path testRoot = layout.rootDir(h);
        checkTestRoot(h, testRoot);
        if (!dir.normalize().startsWith(testRoot)) {
            throw new IllegalStateException(dir + " is outside the test root " + testRoot + "; refusing to touch it");
        }
    }

    /** Where process {@code pid} is in the hierarchy of {@code controller}, from /proc/PID/cgroup. */
    public static Optional<String> cgroupOf(long pid, String controller) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && Set.of(f[1].split(",")).contains(controller)) {
                return Optional.of(f[2]);
            }
        }
        return Optional.empty();
    }
}

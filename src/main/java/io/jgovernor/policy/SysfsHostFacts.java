package io.jgovernor.policy;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.sys.Accounts;

import java.io.IOException;
import java.io.UncheckedIOException;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Host facts read from sysfs and device nodes: CPUs and memory can be hot-plugged, and a
 * validation should judge the host as it is now. "Now" is within {@link #FRESH}: a cold start
 * validates a thousand files, and reading the same sysfs files and device nodes for each of them
 * was most of the time it took to parse them (measured: 70-130 ms of reads for 1000 files).
 * The sysfs root is configurable so that tests can hand in a fake tree.
 */
public final class SysfsHostFacts implements HostFacts {
    private final Accounts accounts = Accounts.host();
    private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");
    private static final Pattern MAJ_MIN = Pattern.compile("(\\d+):(\\d+)");
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    /** How long an answer read from the host stands for the host as it is now. */
    static final long FRESH = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private final Path sysfs;
    private final Path cgroupMount;
    private final java.util.function.BooleanSupplier cgroupV2;
    private final Path stateDir;
    /** Answers by question, with when they were read; safe for the catalog's parallel parsing. */
    private final java.util.concurrent.ConcurrentHashMap<String, Answer> answers = new java.util.concurrent.ConcurrentHashMap<>();

    /** A value, or the refusal (an IllegalArgumentException's message) it was. */
    private record Answer(long readAt, Object value, String refusal) {
    }

    @SuppressWarnings("unchecked")
    private <T> T fresh(String question, java.util.function.Supplier<T> read) {
        long now = System.nanoTime();
        Answer a = answers.get(question);
        if (a == null || now - a.readAt > FRESH) {
            try {
                a = new Answer(now, read.get(), null);
            } catch (IllegalArgumentException e) {
                a = new Answer(now, null, e.getMessage());
            }
            answers.put(question, a);
        }
        if (a.refusal != null) {
            throw new IllegalArgumentException(a.refusal);
        }
        return (T) a.value;
    }

    public SysfsHostFacts() {
        this(Path.of("/sys"));
    }

    /** With the cgroup mount root at {@code <sysfsRoot>/fs/cgroup}. */
    public SysfsHostFacts(Path sysfsRoot) {
        this(sysfsRoot, sysfsRoot.resolve("fs/cgroup"));
    }

    /**
     * Where no backend was built (a {@code validate} command, a test's fake tree): the version is
     * what {@link Backend#cgroupV2At} sees at the mount root.
     *
     * @param cgroupMount the cgroup mount root (jgovernor.cgroup.mount)
     */
    public SysfsHostFacts(Path sysfsRoot, Path cgroupMount) {
        this(sysfsRoot, cgroupMount, null);
    }

    /** @param stateDir the daemon's state directory (jgovernor.state-dir), where no layer may be; null: unknown */
    public SysfsHostFacts(Path sysfsRoot, Path cgroupMount, Path stateDir) {
        this(sysfsRoot, cgroupMount, () -> Backend.cgroupV2At(cgroupMount), stateDir);
    }

    /** @param cgroupV2 the backend's answer ({@link Backend#cgroupV2()}): the parser asks it, it does not detect */
    public SysfsHostFacts(Path sysfsRoot, Path cgroupMount, java.util.function.BooleanSupplier cgroupV2, Path stateDir) {
        this.sysfs = sysfsRoot;
        this.cgroupMount = cgroupMount;
        this.cgroupV2 = cgroupV2;
        this.stateDir = stateDir;
    }

    @Override
    public Optional<Path> stateDir() {
        return Optional.ofNullable(stateDir);
    }

    /** The backend's answer (the daemon's), or what the mount root shows (see the constructors). */
    @Override
    public boolean cgroupV2() {
        return fresh("cgroupV2", cgroupV2::getAsBoolean);
    }

    /**
     * PSI on (/proc/pressure/cpu, absent with psi=0 or without CONFIG_PSI) and a cgroup2 tree for
     * the groups' directories: at the mount root (v2) or systemd's hybrid "unified" directory.
     */
    @Override
    public boolean pressureFiles() {
        return fresh("pressureFiles", () -> Files.exists(Path.of("/proc/pressure/cpu"))
                && (cgroupV2() || Files.isRegularFile(cgroupMount.resolve("unified/cgroup.controllers"))));
    }

    /**
     * Looks for the file where a fresh group would have it: on v2 in a non-root directory (the
     * root lacks most controller files) whose controllers include the file's, on v1 in the
     * hierarchy that holds the controller. Answers are kept for {@link #FRESH}, like the others.
     */
    @Override
    public Optional<String> cgroupFileProblem(String name) {
        return fresh("cgroupFile " + name, () -> Optional.ofNullable(readCgroupFileProblem(name)));
    }

    private String readCgroupFileProblem(String name) {
        String controller = io.jgovernor.cgroup.RawFiles.controllerOf(name);
        List<Path> dirs = new java.util.ArrayList<>();
        if (cgroupV2()) {
            String enabled = readOr(cgroupMount.resolve("cgroup.controllers"), "");
            if (!List.of(enabled.strip().split("\\s+")).contains(controller)) {
                return "controller \"" + controller + "\" is not available in this host's cgroup v2 tree"
                        + " (cgroup.controllers: " + (enabled.isBlank() ? "none" : enabled.strip()) + ")";
            }
            childDirs(cgroupMount, dirs);
        } else {
            Path hierarchy = null;
            for (Path d : childDirList(cgroupMount)) {
                if (List.of(d.getFileName().toString().split(",")).contains(controller)) {
                    hierarchy = d;
                    break;
                }
            }
            if (hierarchy == null) {
                return "no cgroup v1 hierarchy of controller \"" + controller + "\" is mounted on this host";
            }
            dirs.add(hierarchy);
            childDirs(hierarchy, dirs);
        }
        for (Path d : dirs) {
            if (Files.isRegularFile(d.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                return null;
            }
        }
        return "this host's kernel has no cgroup file " + name + " (looked in " + dirs.getFirst()
                + (dirs.size() > 1 ? " and " + (dirs.size() - 1) + " more" : "") + ")";
    }

    @Override
    public java.util.SortedSet<Long> hugePageSizes() {
        return fresh("hugePageSizes", () -> io.jgovernor.cgroup.HugePages.sizes(sysfs));
    }

    /**
     * v2: freezer (cgroup.freeze) and perf_event are in every cgroup2 directory; hugetlb must be in
     * cgroup.controllers. v1: a hierarchy of the controller must be mounted. A hybrid host whose
     * hugetlb sits on the cgroup2 tree (no v1 hierarchy claimed it) cannot give it to groups:
     * jgovernor keeps a hybrid host's groups in the v1 hierarchies only (see README).
     */
    @Override
    public Optional<String> controllerProblem(String controller) {
        return fresh("controller " + controller, () -> Optional.ofNullable(readControllerProblem(controller)));
    }

    private String readControllerProblem(String controller) {
        if (cgroupV2()) {
            if (!controller.equals("hugetlb")) {
                return null;
            }
            String enabled = readOr(cgroupMount.resolve("cgroup.controllers"), "");
            return List.of(enabled.strip().split("\\s+")).contains(controller) ? null
                    : "this host's cgroup v2 tree has no " + controller + " controller (cgroup.controllers: "
                    + (enabled.isBlank() ? "none" : enabled.strip()) + ")";
        }
        for (Path d : childDirList(cgroupMount)) {
            if (List.of(d.getFileName().toString().split(",")).contains(controller)) {
                return null;
            }
        }
        String why = "no cgroup v1 hierarchy of controller \"" + controller + "\" is mounted on this host";
        for (Path d : childDirList(cgroupMount)) {
            String onTree = readOr(d.resolve("cgroup.controllers"), "");
            if (List.of(onTree.strip().split("\\s+")).contains(controller)) {
                return why + "; it is on this hybrid host's cgroup2 tree (" + d + "), where jgovernor keeps no"
                        + " groups: mount a v1 " + controller + " hierarchy, or boot with cgroup v2 only"
                        + " (systemd.unified_cgroup_hierarchy=1)";
            }
        }
        return why;
    }

    /** A few directories below {@code dir}: any one holds what a group there has. */
    private static void childDirs(Path dir, List<Path> out) {
        List<Path> children = childDirList(dir);
        out.addAll(children.subList(0, Math.min(children.size(), 8)));
    }

    private static List<Path> childDirList(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String readOr(Path file, String otherwise) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return otherwise;
        }
    }

    @Override
    public CpuList onlineCpus() {
        return fresh("onlineCpus", () -> CpuList.parse(read(sysfs.resolve("devices/system/cpu/online"))));
    }

    @Override
    public CpuList memoryNodes() {
        return fresh("memoryNodes", this::readMemoryNodes);
    }

    private CpuList readMemoryNodes() {
        Path nodeDir = sysfs.resolve("devices/system/node");
        // has_memory is what cpuset.mems accepts (N_MEMORY); online also counts CPU-only nodes.
        for (String name : new String[] {"has_memory", "online"}) {
            Path file = nodeDir.resolve(name);
            if (Files.isRegularFile(file)) {
                return CpuList.parse(read(file));
            }
        }
        return nodeSet();
    }

    @Override
    public SortedMap<Integer, CpuList> numaNodes() {
        return fresh("numaNodes", () -> java.util.Collections.unmodifiableSortedMap(readNumaNodes()));
    }

    private SortedMap<Integer, CpuList> readNumaNodes() {
        SortedMap<Integer, CpuList> nodes = new TreeMap<>();
        BitSet ids = nodeSet().bits();
        for (int id = ids.nextSetBit(0); id >= 0; id = ids.nextSetBit(id + 1)) {
            Path cpulist = sysfs.resolve("devices/system/node/node" + id + "/cpulist");
            if (Files.isRegularFile(cpulist)) {
                nodes.put(id, CpuList.parse(read(cpulist)));
            }
        }
        if (nodes.isEmpty() && !Files.isDirectory(sysfs.resolve("devices/system/node"))) {
            // A kernel built without NUMA has no node directory: everything is node 0.
            nodes.put(0, onlineCpus());
        }
        return nodes;
    }

    /** Node ids from devices/system/node/online, or from the nodeN directories when it is missing. */
    private CpuList nodeSet() {
        Path nodeDir = sysfs.resolve("devices/system/node");
        Path online = nodeDir.resolve("online");
        if (Files.isRegularFile(online)) {
            return CpuList.parse(read(online));
        }
        BitSet ids = new BitSet();
        if (Files.isDirectory(nodeDir)) {
            try (Stream<Path> entries = Files.list(nodeDir)) {
                entries.forEach(p -> {
                    Matcher m = NODE_DIR.matcher(p.getFileName().toString());
                    if (m.matches() && Files.isDirectory(p)) {
                        ids.set(Integer.parseInt(m.group(1)));
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            ids.set(0);
        }
        return new CpuList(ids);
    }

    @Override
    public Optional<String> pathProblem(Path path, PathUse use) {
        return switch (use) {
            case ENTRY -> Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? Optional.empty() : Optional.of("does not exist");
            case EXISTS -> Files.exists(path) ? Optional.empty() : Optional.of("does not exist");
            case DIRECTORY -> !Files.exists(path) ? Optional.of("does not exist")
                    : Files.isDirectory(path) ? Optional.empty() : Optional.of("is not a directory");
            case EXECUTABLE -> !Files.exists(path) ? Optional.of("does not exist")
                    : !Files.isRegularFile(path) ? Optional.of("is not a regular file")
                    : Files.isExecutable(path) ? Optional.empty() : Optional.of("is not executable (no x permission)");
        };
    }

    @Override
    public boolean userExists(String name) {
        return accounts.user(name).isPresent();
    }

    @Override
    public boolean groupExists(String name) {
        return accounts.group(name).isPresent();
    }

    @Override
    public DeviceNumber blockDevice(String device) {
        return fresh("blockDevice " + device, () -> readBlockDevice(device));
    }

    private DeviceNumber readBlockDevice(String device) {
        Matcher m = MAJ_MIN.matcher(device);
        if (m.matches()) {
            DeviceNumber number;
            try {
                number = new DeviceNumber(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + device + "\" is not a block device on this host");
            }
            if (!Files.exists(sysfs.resolve("dev/block/" + number))) {
                throw new IllegalArgumentException("block device " + number + " does not exist on this host (no "
                        + sysfs.resolve("dev/block/" + number) + ")");
            }
            return number;
        }
        Path path = Path.of(device);
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("\"" + device + "\" is neither an absolute device path like /dev/vda"
                    + " nor MAJ:MIN like 8:0");
        }
        int mode;
        long rdev;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
            rdev = (Long) Files.getAttribute(path, "unix:rdev");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(device + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot inspect " + device + ": " + e.getMessage());
        }
        if ((mode & S_IFMT) != S_IFBLK) {
            throw new IllegalArgumentException(device + " is not a block device");
        }
        return fromRdev(rdev);
    }

    /** glibc's gnu_dev_major/gnu_dev_minor: the 64-bit dev_t keeps the low 8 minor bits at the bottom. */
    static DeviceNumber fromRdev(long rdev) {
        long major = ((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xffL) | ((rdev >>> 12) & 0xffffff00L);
        return new DeviceNumber((int) major, (int) minor);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}

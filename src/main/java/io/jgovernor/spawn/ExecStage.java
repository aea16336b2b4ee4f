package io.jgovernor.spawn;

import io.jgovernor.model.Confinement;
import io.jgovernor.model.Rlimit;
import io.jgovernor.model.RunSpec;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The exec stage binary, {@code jgovernor-exec} (src/main/c/jgovernor-exec.c), and the argv that
 * tells it what to do. The daemon never forks itself: it starts the stage with posix_spawn
 * ({@link PosixSpawnProcess}), and the stage joins the cgroups, creates the namespaces and execs the command.
 */
public final class ExecStage {
    public static final String NAME = "jgovernor-exec";
    /** Where the RPM installs it, next to the app. */
    static final Path INSTALLED = Path.of("/usr/lib/jgovernor", NAME);

    static final String TAG = "--tag";
    /** What is read of /proc/PID/cmdline and /proc/PID/status: far more than a stage's first words need. */
    private static final int READ_LIMIT = 8192;
    private static final Pattern TAG_VALUE = Pattern.compile("[0-9a-f]{1,128}");

    private final Path binary;
    /** Compiled seccomp programs by the filter text they were compiled from: one compile per profile. */
    private final java.util.Map<String, byte[]> programs = new java.util.concurrent.ConcurrentHashMap<>();

    public ExecStage(Path binary) {
        this.binary = binary;
    }

    public Path binary() {
        return binary;
    }

    /**
     * {@code -Djgovernor.exec-stage=PATH} when given; else next to the running app (the native
     * runner's directory, or quarkus-run.jar's directory and its parent: target/ in a checkout);
     * else /usr/lib/jgovernor.
     */
    public static ExecStage locate() {
        String configured = System.getProperty("jgovernor.exec-stage");
        if (configured != null && !configured.isBlank()) {
            return new ExecStage(Path.of(configured));
        }
        List<Path> dirs = new ArrayList<>();
        ProcessHandle.current().info().command().map(Path::of).map(Path::getParent).ifPresent(dirs::add);
        appDir().ifPresent(d -> {
            dirs.add(d);
            if (d.getParent() != null) {
                dirs.add(d.getParent());
            }
        });
        for (Path d : dirs) {
            Path p = d.resolve(NAME);
            if (Files.isExecutable(p)) {
                return new ExecStage(p);
            }
        }
        return new ExecStage(INSTALLED);
    }

    private static Optional<Path> appDir() {
        try {
            var source = ExecStage.class.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return Optional.empty();
            }
            Path p = Path.of(source.getLocation().toURI());
            // quarkus-app/app/jgovernor.jar or quarkus-run.jar: walk up to quarkus-app's parent.
            for (Path d = p.getParent(); d != null; d = d.getParent()) {
                if (d.getFileName() != null && d.getFileName().toString().equals("quarkus-app")) {
                    return Optional.of(d);
                }
            }
            return Optional.ofNullable(p.getParent());
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return Optional.empty();
        }
    }

    /**
     * Root keeps its capabilities in the bounding, effective and permitted sets (a root execve
     * gets the bounding set); anyone else has them in the ambient set too, which is how a
     * program without file capabilities keeps any across execve. The inheritable set is empty
     * for root, as runc has it since CVE-2022-24769: a file's inheritable bits must not add any.
     */
    private static void confinement(List<String> a, Confinement conf, boolean root) {
        conf.rlimits().forEach((r, v) -> {
            // a default stops at the daemon's hard limit when it cannot raise it; the policy's own value must hold
            a.add(conf.limits().containsKey(r) ? "--rlimit" : "--rlimit-default");
            a.add(r.key);
            a.add(Rlimit.Value.text(v.soft()));
            a.add(Rlimit.Value.text(v.hard()));
        });
        a.add("--caps");
        a.add(Confinement.ordered(conf.kept(root)).stream().map(cap -> Integer.toString(cap.number))
                .collect(Collectors.joining(",")));
        if (!root) {
            a.add("--ambient-caps");
        }
        if (conf.noNewPrivileges()) {
            a.add("--no-new-privs");
        }
        if (conf.seccomp().profile().isPresent()) {
            a.add("--seccomp");
        }
    }

    /** The group's process knobs, which the stage sets on itself before it clones the workload. */
    private static void knobs(List<String> a, io.jgovernor.model.ProcessKnobs k) {
        k.schedPolicy().ifPresent(p -> {
            a.add("--sched-policy");
            a.add(Integer.toString(p.number));
        });
        k.nice().ifPresent(n -> {
            a.add("--nice");
            a.add(Integer.toString(n));
        });
        k.ioprio().ifPresent(v -> {
            a.add("--ioprio");
            a.add(Integer.toString(v));
        });
        k.oomScoreAdj().ifPresent(v -> {
            a.add("--oom-score-adj");
            a.add(Integer.toString(v));
        });
    }

    /** The seccomp filter's text (the format of --seccomp-export, see jgovernor-exec.c). */
    static java.util.Optional<String> filter(RunSpec spec) {
        return spec.confinement().seccomp().profile().map(SeccompFilter::lines);
    }

    /**
     * The BPF program the stage reads on its stdin when argv has --seccomp, compiled by the stage
     * itself (--seccomp-export, libseccomp) once per filter: compiling took 3 ms of every start.
     */
    Optional<byte[]> program(RunSpec spec) throws StartFailure {
        Optional<String> text = filter(spec);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        byte[] cached = programs.get(text.get());
        if (cached != null) {
            return Optional.of(cached);
        }
        try {
            Process p = new ProcessBuilder(binary.toString(), "--seccomp-export").start();
            try (var in = p.getOutputStream()) {
                in.write(text.get().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            byte[] program = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0 || program.length == 0) {
                throw new StartFailure("seccomp (" + spec.confinement().seccomp().source() + "): "
                        + (err.startsWith("error: ") ? err.substring(7) : err));
            }
            programs.put(text.get(), program);
            return Optional.of(program);
        } catch (java.io.IOException e) {
            throw new StartFailure("cannot run the exec stage " + binary + " to compile the seccomp filter: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartFailure("interrupted while compiling the seccomp filter");
        }
    }

    /**
     * The stage's argv; the format is documented at the top of jgovernor-exec.c. {@code tag} (the
     * run spec's hash) comes first, where {@link #tagOf} reads it back.
     */
    List<String> argv(RunSpec spec, List<Path> groupDirs, Credentials c, String tag) {
        return argv(spec, groupDirs, c, tag, null, WorkloadStorage.NONE);
    }

    /** With the group's layers and volumes in {@code storage} (see {@link WorkloadStorage}). */
    List<String> argv(RunSpec spec, List<Path> groupDirs, Credentials c, String tag, io.jgovernor.model.GroupName group,
                      WorkloadStorage storage) {
        List<String> a = new ArrayList<>();
        a.add(binary.toString());
        a.add(TAG);
        a.add(tag);
        workload(a, spec, groupDirs, c, group, storage);
        a.add("--");
        a.addAll(spec.command());
        return a;
    }

    /**
     * The argv of {@code jgovernor exec} (join.c): the stage joins running workload {@code pid}
     * (started at {@code startTime}) with the workload's cgroups, ids and confinement; the caller
     * adds {@code --seccomp-hex HEX} when {@link #program} has one, then {@code --} and the command.
     */
    List<String> joinArgv(RunSpec spec, List<Path> groupDirs, Credentials c, int pid, long startTime) {
        List<String> a = new ArrayList<>();
        a.add(binary.toAbsolutePath().toString()); // run by the CLI, whose working directory is not the daemon's
        a.add("--join");
        a.add(Integer.toString(pid));
        a.add(Long.toString(startTime));
        for (Path d : groupDirs) {
            a.add("--cgroup");
            a.add(d.toString());
        }
        credentials(a, spec, c);
        // --seccomp (stdin) is the workload's; exec passes the program on another descriptor
        a.remove("--seccomp");
        return a;
    }

    private void workload(List<String> a, RunSpec spec, List<Path> groupDirs, Credentials c,
                          io.jgovernor.model.GroupName group, WorkloadStorage storage) {
        for (Path d : groupDirs) {
            a.add("--cgroup");
            a.add(d.toString());
        }
        spec.isolate().ifPresent(iso -> {
            for (RunSpec.Namespace ns : RunSpec.Namespace.values()) {
                if (iso.namespaces().contains(ns)) {
                    a.add("--ns");
                    a.add(ns.key);
                }
            }
            iso.hostname().ifPresent(h -> {
                a.add("--hostname");
                a.add(h);
            });
            iso.rootfs().ifPresent(r -> {
                a.add("--rootfs");
                a.add(r.toString());
            });
            for (Path layer : iso.layers()) {
                a.add("--layer");
                a.add(layer.toString());
            }
            if (!iso.layers().isEmpty()) {
                a.add("--layer-state");
                a.add(storage.layerState(group).toString());
            }
            if (!iso.volumes().isEmpty()) {
                a.add("--volumes");
                a.add(storage.volumes().toString());
                a.add("--volume-owner");
                a.add(Long.toString(c.hostUid()));
                a.add(Long.toString(c.hostGid()));
            }
            for (RunSpec.Volume v : iso.volumes()) {
                a.add("--volume");
                a.add(v.name());
                a.add(v.target().toString());
                a.add(v.readOnly() ? "ro" : "rw");
            }
            if (iso.readOnlyRootfs()) {
                a.add("--ro-rootfs");
            }
            for (RunSpec.BindMount m : iso.mounts()) {
                a.add("--bind");
                a.add(m.source().toString());
                a.add(m.target().toString());
                a.add(m.readOnly() ? "ro" : "rw");
            }
        });
        for (String line : c.uidMap()) {
            a.add("--uid-map");
            a.add(line);
        }
        for (String line : c.gidMap()) {
            a.add("--gid-map");
            a.add(line);
        }
        credentials(a, spec, c);
    }

    /** The ids, working directory and confinement the command runs with: a workload's and exec's alike. */
    private static void credentials(List<String> a, RunSpec spec, Credentials c) {
        a.add("--uid");
        a.add(Long.toString(c.uid()));
        a.add("--gid");
        a.add(Long.toString(c.gid()));
        a.add("--groups");
        a.add(c.groups().stream().map(String::valueOf).collect(Collectors.joining(",")));
        spec.workingDir().ifPresent(w -> {
            a.add("--cwd");
            a.add(w.toString());
        });
        confinement(a, spec.confinement(), c.uid() == 0);
        // exec'd commands get the workload's knobs too (the stage sets them before it joins or clones)
        spec.process().ifPresent(k -> knobs(a, k));
    }

    /**
     * The tag of process {@code pid} when it is one of our exec stages, found without any record:
     * it runs this binary (the same file, or this path with " (deleted)" after the binary was
     * replaced by an upgrade), with the daemon's own user ids (no other user can start a root
     * process of a non-setuid binary, so one classified into a group cannot pose as its
     * workload's stage), and {@code --tag TAG} as its first words. Any other process's /proc is
     * hostile input: reads are bounded, and a process that vanishes or changes while it is read
     * is simply not a stage.
     */
    Optional<String> tagOf(int pid) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        try {
            if (!runsThisBinary(proc.resolve("exe"))) {
                return Optional.empty();
            }
            if (!ids(read(proc.resolve("status"))).equals(ids(read(Path.of("/proc/self/status"))))) {
                return Optional.empty();
            }
            String[] words = read(proc.resolve("cmdline")).split("\0", 4);
            if (words.length < 3 || !words[1].equals(TAG) || !TAG_VALUE.matcher(words[2]).matches()) {
                return Optional.empty();
            }
            return Optional.of(words[2]);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private boolean runsThisBinary(Path exe) throws IOException {
        String link = Files.readSymbolicLink(exe).toString();
        String path = binary.toAbsolutePath().normalize().toString();
        if (link.equals(path) || link.equals(path + " (deleted)")) {
            return true;
        }
        try {
            return Files.isSameFile(exe, binary); // the same file by another path (st_dev, st_ino)
        } catch (IOException e) {
            return false; // the binary is gone: only its path could tell
        }
    }

    /** The Uid: and Gid: lines of a /proc/PID/status (real, effective, saved, filesystem). */
    private static String ids(String status) {
        StringBuilder b = new StringBuilder();
        status.lines().filter(l -> l.startsWith("Uid:") || l.startsWith("Gid:")).forEach(b::append);
        if (b.isEmpty()) {
            throw new IllegalArgumentException("no ids in status");
        }
        return b.toString();
    }

    private static String read(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readNBytes(READ_LIMIT), StandardCharsets.UTF_8);
        }
    }
}

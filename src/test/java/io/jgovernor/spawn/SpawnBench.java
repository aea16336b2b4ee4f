package io.jgovernor.spawn;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.Confinement;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Time from the decision to start a workload to its command's first instruction (bench/firstinsn.c
 * writes CLOCK_MONOTONIC, the JVM's System.nanoTime clock), for every start path launched the same
 * way from this JVM (ProcessBuilder), interleaved per repetition. Run by bin/bench-spawn, which
 * prepares the rootfs, the crun bundle and a mount namespace where crun accepts this host.
 *
 * <p>Arguments: work dir (holds rootfs/ with /firstinsn, bundle/, out/), cgroup root name, reps,
 * warm-ups. Prints a markdown table.
 */
public final class SpawnBench {
    static final int GAP_MS = Integer.getInteger("bench.gapMs", 50);

    private SpawnBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        String root = args[1];
        int reps = Integer.parseInt(args[2]);
        int warmups = Integer.parseInt(args[3]);
        Path out = work.resolve("out");
        Path probe = work.resolve("rootfs/firstinsn");
        CgroupFiles files = new CgroupFiles();
        CgroupLayout layout = CgroupLayout.detect(Path.of("/sys/fs/cgroup"), root, files);
        List<Path> dirs = new ArrayList<>();
        String cgexecCpu = null;
        String cgexecMemory = null;
        for (Hierarchy h : layout.hierarchies()) {
            if (h.has("cpu") || h.has("memory")) {
                Path d = layout.rootDir(h);
                files.mkdir(d);
                dirs.add(d);
                String rel = h.cgroupPath(d);
                if (h.has("cpu")) {
                    cgexecCpu = rel;
                } else {
                    cgexecMemory = rel;
                }
            }
        }
        ExecStage stage = ExecStage.locate();
        GroupName group = new GroupName("bench");
        Credentials rootCreds = new Credentials(0, 0, List.of(), List.of(), List.of());
        Credentials userNsCreds = new Credentials(0, 0, List.of(), List.of("0 0 1"), List.of("0 0 1"));
        // What a policy's run: gets without confinement keys: runc's 14 capabilities, no_new_privs,
        // the built-in seccomp profile, the default limits.
        Confinement confined = io.jgovernor.testing.TestPolicies.parse(Path.of("bench.yaml"),
                "name: bench\nrun: {command: [/bin/true]}\n").values().iterator().next().run().orElseThrow().confinement();
        RunSpec plain = new RunSpec(List.of(probe.toString(), out.resolve("t").toString()), Optional.empty(),
                Optional.empty(), Optional.empty(), Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                Optional.empty(), confined);
        RunSpec isolated = new RunSpec(List.of("/firstinsn", "/out/t"), Optional.empty(), Optional.empty(),
                Optional.empty(), Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                Optional.of(new RunSpec.Isolation(EnumSet.allOf(RunSpec.Namespace.class), Optional.of("bench"),
                        Optional.of(work.resolve("rootfs")), true,
                        List.of(new RunSpec.BindMount(out, Path.of("/out"), false)), List.of())), confined);
        RunSpec unconfined = new RunSpec(isolated.command(), Optional.empty(), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT, isolated.isolate(), Confinement.NONE);
        Map<String, Start> paths = new LinkedHashMap<>();
        paths.put("jgovernor, plain (cgroups only)", () -> Workload.launch(stage, group, plain, dirs, rootCreds).awaitExit());
        paths.put("jgovernor, isolated (7 namespaces, pivot_root, ro rootfs, bind mount, minimal /dev, masked /proc)",
                () -> Workload.launch(stage, group, isolated, dirs, userNsCreds).awaitExit());
        paths.put("jgovernor, isolated, unconfined (all capabilities, no no_new_privs, no seccomp)",
                () -> Workload.launch(stage, group, unconfined, dirs, userNsCreds).awaitExit());
        // Diagnostic: the same stage joining no cgroup, to show what the cgroup.procs writes cost.
        List<String> noCgroups = stage.argv(isolated, List.of(), userNsCreds, WorkloadRecord.hash(isolated));
        paths.put("jgovernor stage, isolated, joining no cgroup (diagnostic)", () -> {
            Process p = PosixSpawnProcess.start(noCgroups, Map.of(), true);
            try (var in = p.getOutputStream()) {
                in.write(stage.program(isolated).orElseThrow());
            }
            try (var o = p.getInputStream(); var e = p.getErrorStream()) {
                return p.waitFor();
            }
        });
        // Diagnostic: the confined isolated start as it was launched before (ProcessBuilder, whose
        // jspawnhelper execs first), to show what posix_spawn saves in the same run.
        List<String> withCgroups = stage.argv(isolated, dirs, userNsCreds, WorkloadRecord.hash(isolated));
        paths.put("jgovernor stage, isolated, confined, started by ProcessBuilder (diagnostic: the launch before)", () -> {
            ProcessBuilder pb = new ProcessBuilder(withCgroups);
            pb.environment().clear();
            Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (var in = p.getOutputStream()) {
                in.write(stage.program(isolated).orElseThrow());
            }
            return p.waitFor();
        });
        // Layers (issue 16): the same rootfs as the bottom layer, a second layer over it, an upper
        // layer in a state directory; no user namespace (layers refuse one), so its peer is the
        // same isolated start on the rootfs alone without one.
        Path layer = Files.createDirectories(work.resolve("layer2"));
        Files.writeString(layer.resolve("from-layer2"), "2");
        WorkloadStorage storage = new WorkloadStorage(Files.createDirectories(work.resolve("state")));
        java.util.Set<RunSpec.Namespace> noUser = EnumSet.complementOf(EnumSet.of(RunSpec.Namespace.USER));
        RunSpec rootfsNoUser = new RunSpec(isolated.command(), Optional.empty(), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                Optional.of(new RunSpec.Isolation(noUser, Optional.of("bench"), Optional.of(work.resolve("rootfs")), false,
                        List.of(new RunSpec.BindMount(out, Path.of("/out"), false)), List.of())), confined);
        RunSpec layered = new RunSpec(isolated.command(), Optional.empty(), Optional.empty(), Optional.empty(),
                Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                Optional.of(new RunSpec.Isolation(noUser, Optional.of("bench"), Optional.empty(), false,
                        List.of(new RunSpec.BindMount(out, Path.of("/out"), false)), List.of(),
                        List.of(work.resolve("rootfs"), layer), List.of())), confined);
        storage.prepare(layered);
        paths.put("jgovernor, isolated on a rootfs, no user namespace (6 namespaces; peer of the layered start)",
                () -> Workload.launch(stage, group, rootfsNoUser, dirs, rootCreds).awaitExit());
        paths.put("jgovernor, isolated on 2 layers (overlayfs, upper layer in the state directory; 6 namespaces)",
                () -> Workload.launch(stage, group, layered, dirs, rootCreds, storage).awaitExit());

        // exec (issue 16): a command started inside a running isolated workload, against nsenter
        // and crun exec into a running container of the same rootfs.
        RunSpec target = new RunSpec(List.of("/bin/sh", "-c", "exec /bin/busybox sleep 100000"), Optional.empty(),
                Optional.empty(), Optional.empty(), Map.of(), RunSpec.Restart.NEVER, RunSpec.DEFAULT_STOP_TIMEOUT,
                rootfsNoUser.isolate(), confined);
        Workload running = Workload.launch(stage, new GroupName("bench-exec"), target, dirs, rootCreds);
        List<String> join = new ArrayList<>(stage.joinArgv(target, dirs, rootCreds, running.pid(), running.startTime()));
        // as the CLI passes it: the program in hex on the command line
        join.addAll(List.of("--seccomp-hex", java.util.HexFormat.of().formatHex(stage.program(target).orElseThrow())));
        join.addAll(List.of("--", "/firstinsn", "/out/t"));
        paths.put("jgovernor exec stage (--join: cgroups, 6 namespaces, caps, seccomp; without the CLI's JVM start)", () -> {
            return new ProcessBuilder(join).redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        });
        paths.put("nsenter -t PID -a (every namespace and root; no cgroup, no confinement)", () -> new ProcessBuilder(
                "nsenter", "-t", Integer.toString(running.pid()), "-a", "/firstinsn", "/out/t").start().waitFor());
        String execContainer = "bench-exec-" + ProcessHandle.current().pid();
        boolean crunExec = new ProcessBuilder("crun", "--cgroup-manager=disabled", "run", "-d", "-b",
                work.resolve("bundle-exec").toString(), execContainer).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start().waitFor() == 0;
        if (crunExec) {
            paths.put("crun exec (into a running container of the same rootfs)", () -> new ProcessBuilder("crun", "exec",
                    execContainer, "/firstinsn", "/out/t").inheritIO().start().waitFor());
        }
        List<String> unshare = List.of("/usr/bin/unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net",
                "--propagation", "private", probe.toString(), out.resolve("t").toString());
        paths.put("unshare --fork (pid, mount, uts, ipc, net; private), no cgroup", () -> new ProcessBuilder(unshare)
                .start().waitFor());
        // The peers started as the daemon starts its stage (posix_spawn, no jspawnhelper): like for like.
        paths.put("unshare --fork (same), started by posix_spawn as the stage is", () -> direct(unshare));
        String cg = "cpu:" + cgexecCpu;
        String mem = "memory:" + cgexecMemory;
        paths.put("cgexec (cpu, memory) + unshare --fork (pid, mount, uts, ipc, net; private)", () -> new ProcessBuilder(
                "cgexec", "-g", cg, "-g", mem, "unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net",
                "--propagation", "private", probe.toString(), out.resolve("t").toString()).start().waitFor());
        int[] id = {0};
        String crunPath = Path.of("/usr/bin/crun").toString();
        java.util.function.Supplier<List<String>> crun = () -> List.of(crunPath, "--cgroup-manager=disabled", "run", "-b",
                work.resolve("bundle").toString(), "bench-" + ProcessHandle.current().pid() + "-" + id[0]++);
        paths.put("crun run (--cgroup-manager=disabled; pid, net, ipc, uts, mount; ro rootfs, bind mount)",
                () -> new ProcessBuilder(crun.get()).inheritIO().start().waitFor());
        paths.put("crun run (same), started by posix_spawn as the stage is", () -> direct(crun.get()));
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        paths.keySet().forEach(k -> ms.put(k, new ArrayList<>()));
        try {
            List<Map.Entry<String, Start>> order = new ArrayList<>(paths.entrySet());
            java.util.Random random = new java.util.Random(42);
            for (int rep = -warmups; rep < reps; rep++) {
                // Shuffled every repetition: a start pays for what the previous one left to tear
                // down (a net namespace is destroyed asynchronously), so no path always follows the
                // same other one (a rotation would keep the cyclic order, and the predecessors).
                java.util.Collections.shuffle(order, random);
                for (Map.Entry<String, Start> e : order) {
                    Files.deleteIfExists(out.resolve("t"));
                    Thread.sleep(GAP_MS); // lets the kernel finish tearing down the previous start's namespaces
                    long t0 = System.nanoTime();
                    int status = e.getValue().run();
                    if (status != 0 || !Files.exists(out.resolve("t"))) {
                        throw new IllegalStateException(e.getKey() + ": exit " + status + ", no timestamp");
                    }
                    long t1 = Long.parseLong(Files.readString(out.resolve("t")).strip());
                    if (rep >= 0) {
                        ms.get(e.getKey()).add((t1 - t0) / 1e6);
                    }
                }
            }
        } finally {
            running.signal(true);
            running.awaitExit();
            if (crunExec) {
                new ProcessBuilder("crun", "delete", "-f", execContainer).inheritIO().start().waitFor();
            }
            for (Path d : dirs.reversed()) {
                files.rmdir(d);
            }
        }
        System.out.println("| start path | median ms | p90 ms | min ms |");
        System.out.println("|---|---|---|---|");
        for (Map.Entry<String, List<Double>> e : ms.entrySet()) {
            List<Double> v = e.getValue().stream().sorted().toList();
            System.out.printf("| %s | %.2f | %.2f | %.2f |%n", e.getKey(), v.get(v.size() / 2),
                    v.get((int) Math.min(v.size() - 1, Math.ceil(v.size() * 0.9) - 1)), v.getFirst());
        }
    }

    /**
     * Started as Workload.launch starts the exec stage (posix_spawn, not ProcessBuilder's
     * jspawnhelper). Its output is read after it ended (the peers write little or nothing), so no
     * reader thread competes with the start being measured.
     */
    private static int direct(List<String> argv) throws Exception {
        Process p = PosixSpawnProcess.start(argv, System.getenv(), false);
        int status = p.waitFor();
        try (var o = p.getInputStream(); var err = p.getErrorStream()) {
            err.transferTo(System.err);
        }
        return status;
    }

    private interface Start {
        int run() throws Exception;
    }
}

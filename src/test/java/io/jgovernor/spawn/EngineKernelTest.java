package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container engine of issue 16 with real workloads: a root of two overlay layers with a
 * writable upper layer in the state directory, and named volumes that outlive their policy.
 */
@KernelTest
class EngineKernelTest {
    /** Every entry beneath {@code dir}: its path, type, mode, owner and content, hashed. */
    static String treeHash(Path dir) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted().toList()) {
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                md.update((dir.relativize(p) + " " + (a.isDirectory() ? "d" : a.isSymbolicLink() ? "l" : "f") + " "
                        + PosixFilePermissions.toString(a.permissions()) + " " + a.owner() + " "
                        + a.lastModifiedTime() + "\n").getBytes());
                if (a.isRegularFile()) {
                    md.update(Files.readAllBytes(p));
                } else if (a.isSymbolicLink()) {
                    md.update(Files.readSymbolicLink(p).toString().getBytes());
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    /** A script that reports the files it sees in /out/run-N (N counting its starts), writes, and stays. */
    private static final String LAYERED = String.join("; ",
            "n=$(cat /count 2>/dev/null || echo 0)", "n=$((n+1))", "echo $n > /count",
            "echo f=$(cat /f) g=$(cat /g) own=$(cat /own 2>/dev/null) > /out/run-$n",
            "echo written > /own", "echo changed > /g", "/bin/busybox rm -f /only-base",
            "echo done >> /out/run-$n", "exec sleep 60");

    @Test
    void aWorkloadOnTwoLayersSeesTheUpperOneWinAndItsOwnWritesKeptAcrossRestartsNeverInTheLayers() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path base = h.busyboxRootfs();
            Files.writeString(base.resolve("f"), "base");
            Files.writeString(base.resolve("g"), "base");
            Files.writeString(base.resolve("only-base"), "base");
            Files.createDirectories(base.resolve("dev"));
            Path app = Files.createDirectories(h.temp.resolve("app"));
            Files.writeString(app.resolve("f"), "app");
            Path out = Files.createDirectories(h.temp.resolve("out"));
            String baseHash = treeHash(base);
            String appHash = treeHash(app);
            String policy = """
                    name: layered
                    run:
                      command: ["/bin/sh", "-c", "%s"]
                      restart: always
                      stopTimeout: 1s
                      isolate:
                        namespaces: [mount, pid]
                        layers: [%s, %s]
                        mounts: [{source: %s, target: /out}]
                    """.formatted(LAYERED, base, app, out);
            h.apply(policy);
            int first = h.awaitRunning("layered");
            SpawnHarness.await(() -> read(out.resolve("run-1")).contains("done"), "the first run's report");
            assertEquals("f=app g=base own=\ndone\n", read(out.resolve("run-1")), "the upper layer (app) wins");

            // the workload ends: restarted, it finds its writes in the upper layer
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            SpawnHarness.await(() -> read(out.resolve("run-2")).contains("done"), "the second run's report");
            assertEquals("f=app g=changed own=written\ndone\n", read(out.resolve("run-2")));

            // a daemon restart (the workload adopted, then restarted by a changed spec) keeps them too
            h.restart();
            h.apply(policy.replace("stopTimeout: 1s", "stopTimeout: 2s"));
            SpawnHarness.await(() -> read(out.resolve("run-3")).contains("done"), "the third run's report");
            assertEquals("f=app g=changed own=written\ndone\n", read(out.resolve("run-3")));

            Path upper = h.temp.resolve("layers/layered/upper");
            assertEquals("written\n", Files.readString(upper.resolve("own")), "writes go to the state directory");
            assertTrue(Files.exists(base.resolve("only-base")), "a removal is a whiteout in the upper layer");
            assertEquals(baseHash, treeHash(base), "the bottom layer is byte-identical");
            assertEquals(appHash, treeHash(app), "the top layer is byte-identical");
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(h.temp.toString()),
                    "the overlay is in the workload's mount namespace only");

            // the policy goes: its upper layer goes with it
            h.apply("name: other\n");
            assertFalse(Files.exists(h.temp.resolve("layers/layered"), LinkOption.NOFOLLOW_LINKS));
            assertEquals(baseHash, treeHash(base));
        }
    }

    @Test
    void layersInAUserNamespaceWhereRootIsRoot() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path base = h.busyboxRootfs();
            Files.writeString(base.resolve("f"), "base");
            Path app = Files.createDirectories(h.temp.resolve("app"));
            Files.writeString(app.resolve("f"), "app");
            Path out = Files.createDirectories(h.temp.resolve("out"));
            String baseHash = treeHash(base);
            h.apply("""
                    name: userlayers
                    run:
                      command: ["/bin/sh", "-c", "echo f=$(cat /f) > /out/r; echo mine > /f; echo done >> /out/r; exec sleep 60"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [user, mount, pid]
                        layers: [%s, %s]
                        mounts: [{source: %s, target: /out}]
                    """.formatted(base, app, out));
            h.awaitRunning("userlayers");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done"), "the report");
            assertEquals("f=app\ndone\n", read(out.resolve("r")));
            assertEquals("mine\n", Files.readString(h.temp.resolve("layers/userlayers/upper/f")));
            assertEquals(baseHash, treeHash(base));
            assertEquals("app", Files.readString(app.resolve("f")));
        }
    }

    @Test
    void readOnlyLayersHaveNoUpperLayer() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path base = h.busyboxRootfs();
            // nothing can be made in a read-only root: the mount points are in a layer
            Files.createDirectories(base.resolve("dev"));
            Files.createDirectories(base.resolve("out"));
            Path app = Files.createDirectories(h.temp.resolve("app"));
            Files.writeString(app.resolve("f"), "app");
            Path out = Files.createDirectories(h.temp.resolve("out"));
            h.apply("""
                    name: ro
                    run:
                      command: ["/bin/sh", "-c", "echo f=$(cat /f) $( (echo x > /new) 2>&1) > /out/r; exec sleep 60"]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [mount, pid]
                        layers: [%s, %s]
                        readOnlyRootfs: true
                        mounts: [{source: %s, target: /out}]
                    """.formatted(base, app, out));
            h.awaitRunning("ro");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("f="), "the report");
            assertTrue(read(out.resolve("r")).startsWith("f=app ") && read(out.resolve("r")).contains("Read-only file system"),
                    read(out.resolve("r")));
            assertFalse(Files.exists(h.temp.resolve("layers/ro/upper")), "no upper layer");
        }
    }

    @Test
    void aVolumeMadeForTheRunUserOutlivesItsPolicyAndIsRemovedOnlyWhenUnused() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path out = Files.createDirectories(h.temp.resolve("out"));
            Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
            String policy = """
                    name: vol
                    run:
                      command: ["/bin/sh", "-c", "cat /data/x > /out/before 2>/dev/null; echo kept > /data/x; (echo x > /seed/x) 2> /out/ro; echo done > /out/r; exec sleep 60"]
                      user: nobody
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [mount, pid]
                        rootfs: %s
                        mounts: [{source: %s, target: /out}]
                        volumes: [{name: data, target: /data}, {name: seed, target: /seed, readOnly: true}]
                    """.formatted(rootfs, out);
            h.apply(policy);
            h.awaitRunning("vol");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done"), "the first run");
            Path volume = h.temp.resolve("volumes/data");
            PosixFileAttributes a = Files.readAttributes(volume, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            assertEquals("nobody", a.owner().getName(), "made for the run user");
            assertEquals("rwx------", PosixFilePermissions.toString(a.permissions()));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(h.temp.resolve("volumes"))));
            assertEquals("kept\n", Files.readString(volume.resolve("x")));
            assertEquals("", read(out.resolve("before")), "empty at first");
            assertTrue(read(out.resolve("ro")).contains("Read-only file system"), read(out.resolve("ro")));
            assertFalse(Files.exists(h.temp.resolve("volumes/seed/x")));

            Workloads.Refused refused = assertThrows(Workloads.Refused.class, () -> h.workloads.removeVolume("data"));
            assertTrue(refused.getMessage().contains("in use by the workload of group vol"), refused.getMessage());
            assertEquals(List.of(new WorkloadStorage.VolumeInfo("data", 5, List.of("vol")),
                    new WorkloadStorage.VolumeInfo("seed", 0, List.of("vol"))), h.workloads.volumes());

            // the policy goes and comes back: the volume stays, with its content
            h.apply("name: other\n");
            assertEquals("kept\n", Files.readString(volume.resolve("x")));
            Files.delete(out.resolve("r"));
            h.apply(policy);
            h.awaitRunning("vol");
            SpawnHarness.await(() -> read(out.resolve("r")).contains("done"), "the second run");
            assertEquals("kept\n", read(out.resolve("before")), "the second workload sees the first one's file");

            h.apply("name: other\n");
            assertEquals(List.of(new WorkloadStorage.VolumeInfo("data", 5, List.of()),
                    new WorkloadStorage.VolumeInfo("seed", 0, List.of())), h.workloads.volumes());
            assertTrue(h.workloads.removeVolume("data"));
            assertFalse(Files.exists(volume, LinkOption.NOFOLLOW_LINKS));
            assertFalse(h.workloads.removeVolume("data"), "no such volume any more");
        }
    }

    @Test
    void aSymbolicLinkWhereAVolumeBelongsIsNeverFollowed() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Path elsewhere = Files.createDirectories(h.temp.resolve("elsewhere"));
            Files.createDirectories(h.temp.resolve("volumes"));
            Files.createSymbolicLink(h.temp.resolve("volumes/data"), elsewhere);
            h.apply("""
                    name: vol
                    run:
                      command: ["/bin/sh", "-c", "echo x > /data/x; exec sleep 60"]
                      restart: never
                      isolate:
                        namespaces: [mount, pid]
                        rootfs: %s
                        volumes: [{name: data, target: /data}]
                    """.formatted(rootfs));
            SpawnHarness.await(() -> h.status("vol") != null && h.status("vol").lastError() != null, "the start failure");
            assertTrue(h.status("vol").lastError().contains("never followed"), h.status("vol").lastError());
            try (Stream<Path> s = Files.list(elsewhere)) {
                assertEquals(0, s.count(), "nothing written through the link");
            }
        }
    }

    /**
     * exec into a workload with a user namespace: joined first (it owns the others), the command
     * is root inside and the run user outside, with the workload's hostname, pid 1 and root, and
     * no capability beyond the workload's.
     */
    @Test
    void execJoinsAUserNamespaceFirstAndTakesNoMoreThanTheWorkload() throws Exception {
        try (SpawnHarness h = new SpawnHarness()) {
            Path rootfs = h.busyboxRootfs();
            Files.writeString(rootfs.resolve("marker"), "inside\n");
            h.apply("""
                    name: userns
                    run:
                      command: ["/bin/sh", "-c", "exec sleep 60"]
                      capabilities: [CAP_NET_BIND_SERVICE, CAP_CHOWN]
                      restart: never
                      stopTimeout: 1s
                      isolate:
                        namespaces: [user, pid, mount, uts, ipc, net, cgroup]
                        hostname: inside
                        rootfs: %s
                    """.formatted(rootfs));
            int pid = h.awaitRunning("userns");
            String workload = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
            Workloads.Join join = h.workloads.join(group("userns"));
            List<String> argv = new java.util.ArrayList<>(join.argv());
            argv.addAll(List.of("--seccomp", "--", "/bin/sh", "-c",
                    "hostname; id -u; cat /proc/1/comm /marker; grep -E '^(Uid|CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; busybox readlink /proc/self/ns/user; exit 3"));
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                in.write(join.seccomp().orElseThrow());
            }
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(3, p.waitFor(), out);
            List<String> lines = out.lines().toList();
            assertEquals(List.of("inside", "0", "sleep", "inside"), lines.subList(0, 4), out);
            String status = String.join("\n", lines.subList(4, lines.size()));
            // joined the workload's user namespace (root inside maps to root, "0 0 1": a map to another
            // id fails the workload's own start today, making /dev in its tmpfs: EOVERFLOW)
            assertEquals(Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns/user")).toString(),
                    lines.getLast(), out);
            long eff = capability(status, "CapEff"), bnd = capability(status, "CapBnd");
            assertEquals(0, eff & ~capability(workload, "CapEff"), out);
            assertEquals(0, bnd & ~capability(workload, "CapBnd"), out);
            assertEquals((1L << 0) | (1L << 10), bnd, "CAP_CHOWN and CAP_NET_BIND_SERVICE only: " + out);
            assertTrue(status.contains("Seccomp:\t2") && status.contains("NoNewPrivs:\t1"), out);

            Workloads.Refused none = assertThrows(Workloads.Refused.class, () -> h.workloads.join(group("other")));
            assertTrue(none.getMessage().contains("has no workload"), none.getMessage());
        }
    }

    private static long capability(String status, String set) {
        return status.lines().filter(l -> l.startsWith(set + ":")).findFirst()
                .map(l -> Long.parseUnsignedLong(l.substring(set.length() + 1).strip(), 16)).orElseThrow();
    }

    static GroupName group(String name) {
        return new GroupName(name);
    }
}

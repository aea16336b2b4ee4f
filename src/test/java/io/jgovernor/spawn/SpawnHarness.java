package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.reconcile.Report;
import io.jgovernor.sys.Accounts;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A test root, a reconciler on it and the workloads of the policies applied there, wired as the
 * daemon wires them; a busybox rootfs on request. Closing stops every workload, then removes the
 * groups (TestCgroups kills whatever is left).
 */
final class SpawnHarness implements AutoCloseable {
    final TestCgroups cgroups = TestCgroups.create();
    final Path temp;
    Reconciler reconciler;
    Workloads workloads;

    SpawnHarness() throws IOException {
        temp = Files.createTempDirectory("jgovernor-spawn-test");
        // A workload running as another user (nobody) must reach the directories beneath.
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        wire();
    }

    private void wire() {
        try {
            reconciler = new Reconciler(io.jgovernor.cgroup.Backend.of(cgroups.layout(), cgroups.files()), cgroups.files());
        } catch (io.jgovernor.cgroup.CgroupException e) {
            throw new java.io.UncheckedIOException(e);
        }
        workloads = new Workloads(ExecStage.locate(), reconciler, cgroups.files(), Accounts.host(), records());
        reconciler.keepOccupied(workloads::holds);
    }

    /** Where the workloads' records are (state-dir/workloads). */
    Path records() {
        return temp.resolve("workloads");
    }

    /**
     * A daemon restart: the current workloads are left running unsupervised (as a SIGKILL of the
     * daemon leaves them), and a fresh reconciler and {@link Workloads} over the same cgroups and
     * records take over at the next {@link #apply}.
     */
    void restart() {
        workloads.abandon();
        wire();
    }

    SortedMap<GroupName, Policy> policies(String yaml) {
        return TestPolicies.parse(Path.of("test.yaml"), yaml);
    }

    /** What the daemon does on a pass: stop vanished workloads, reconcile, start the rest. */
    void apply(String yaml) {
        SortedMap<GroupName, Policy> desired = policies(yaml);
        workloads.stopVanished(desired);
        Report report = reconciler.reconcileAll(desired);
        assertEquals(List.of(), report.errors(), "reconcile errors");
        workloads.sync(desired);
    }

    WorkloadStatus status(String group) {
        return workloads.status().get(new GroupName(group));
    }

    /** Waits until the group's workload runs and returns its host pid. */
    int awaitRunning(String group) {
        try {
            await(() -> status(group) != null && status(group).pid() > 0 && status(group).state().equals("running"),
                    "workload " + group + " running");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (its status: " + status(group) + ")", e);
        }
        return status(group).pid();
    }

    List<Path> dirs(String group) {
        return reconciler.of(new GroupName(group));
    }

    List<Integer> procs(Path dir) {
        try {
            return cgroups.files().procs(dir);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A root filesystem with Debian's static busybox and its applets; nothing else of the host. */
    Path busyboxRootfs() throws IOException {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            fail("/bin/busybox is missing: install busybox-static (bin/setup does)");
        }
        Path root = temp.resolve("rootfs");
        Files.createDirectories(root.resolve("bin"));
        Files.copy(busybox, root.resolve("bin/busybox"));
        for (String applet : List.of("sh", "ls", "cat", "echo", "hostname", "ip", "touch", "sleep", "id", "grep",
                "wc", "mount", "ps", "seq", "true", "head")) {
            Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(root.resolve("proc"));
        return root;
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            workloads.stopAll();
        } finally {
            cgroups.close();
            try (Stream<Path> s = Files.walk(temp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}

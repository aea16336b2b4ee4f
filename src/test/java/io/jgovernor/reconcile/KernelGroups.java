package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reconciler on a throwaway test root, with policies written as YAML the way operators write them. */
final class KernelGroups implements AutoCloseable {
    final TestCgroups cgroups;
    final Reconciler reconciler;

    /** On a fresh test root, with the controllers of this host's backend, as the daemon builds them. */
    KernelGroups() {
        this(TestCgroups.create());
    }

    private KernelGroups(TestCgroups cgroups) {
        this(cgroups, backend(cgroups));
    }

    static io.jgovernor.cgroup.Backend backend(TestCgroups cgroups) {
        try {
            return io.jgovernor.cgroup.Backend.of(cgroups.layout(), cgroups.files());
        } catch (io.jgovernor.cgroup.CgroupException e) {
            cgroups.close();
            throw new IllegalStateException(e);
        }
    }

    /** On {@code cgroups}, with the controllers of {@code controllerFor} (the v2 ones, say). */
    KernelGroups(TestCgroups cgroups, io.jgovernor.cgroup.Backend backend) {
        this.cgroups = cgroups;
        this.reconciler = new Reconciler(backend, cgroups.files());
    }

    /**
     * As the daemon runs on a hybrid host (jgovernor.cgroup.hybrid-unified): every group also has a
     * directory in the unified tree; {@link #joinAll} puts a process into all of them.
     */
    static KernelGroups withUnifiedGroups() {
        TestCgroups cg = TestCgroups.create();
        try {
            return new KernelGroups(cg, io.jgovernor.cgroup.Backend.of(cg.layout().withUnifiedGroups(), cg.files()));
        } catch (io.jgovernor.cgroup.CgroupException e) {
            cg.close();
            throw new IllegalStateException(e);
        }
    }

    /** Moves a process into every directory the reconciler gives the group (GroupDirectories). */
    void joinAll(long pid, String group) throws io.jgovernor.cgroup.CgroupException {
        java.util.List<Path> dirs = reconciler.of(new GroupName(group));
        assertTrue(!dirs.isEmpty(), "group " + group + " has no directory");
        for (Path dir : dirs) {
            cgroups.files().moveProcess(dir, (int) pid);
        }
    }

    SortedMap<GroupName, Policy> policies(String yaml) {
        return TestPolicies.parse(Path.of("test.yaml"), yaml);
    }

    /** Applies the policies in a full pass and asserts the kernel took every write. */
    Report apply(String yaml) {
        Report report = reconciler.reconcileAll(policies(yaml));
        assertEquals(java.util.List.of(), report.errors(), "reconcile errors");
        return report;
    }

    Path dir(String controller, String group) {
        return cgroups.layout().groupDir(cgroups.hierarchy(controller), new GroupName(group));
    }

    String read(String controller, String group, String file) throws IOException {
        return Files.readString(dir(controller, group).resolve(file)).strip();
    }

    /** Moves a process into the group in every hierarchy where the group has a directory. */
    void join(long pid, String group) throws IOException {
        int joined = 0;
        for (Hierarchy h : cgroups.hierarchies()) {
            Path dir = cgroups.layout().groupDir(h, new GroupName(group));
            if (Files.isDirectory(dir)) {
                cgroups.files().moveProcess(dir, (int) pid);
                joined++;
            }
        }
        assertTrue(joined > 0, "group " + group + " has no directory");
    }

    /** Starts {@code sh -c script}, registered to be killed; the script should wait for a line on stdin. */
    Process shell(String script) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        cgroups.register(p.toHandle());
        return p;
    }

    /** Lets a {@link #shell} script go on, once it is in its group. */
    static void go(Process p) throws IOException {
        java.io.OutputStream in = p.getOutputStream();
        in.write('\n');
        in.flush();
    }

    /** Runs a command to its end and returns its output; fails the test when it fails. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Override
    public void close() {
        cgroups.close();
    }
}

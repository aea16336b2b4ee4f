package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import io.jgovernor.sys.Errno;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.jgovernor.testing.TestResources.cpu;
import static io.jgovernor.testing.TestResources.cpuFull;
import static io.jgovernor.testing.TestResources.cpuset;
import static io.jgovernor.testing.TestResources.device;
import static io.jgovernor.testing.TestResources.io;
import static io.jgovernor.testing.TestResources.memory;
import static io.jgovernor.testing.TestResources.pids;
import static io.jgovernor.testing.TestResources.weight;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each v1 controller against this machine's kernel: a fresh directory reads what fresh() says;
 * after applying reconcile()'s writes a second reconcile wants nothing (so normalization matches
 * what the kernel reads back); Resources.NONE returns every file to the fresh default.
 */
class V1ControllersKernelTest {
    private static final long MiB = 1024 * 1024;

    private TestCgroups cg;
    private CgroupFiles files;

    @BeforeEach
    void setUp() {
        cg = TestCgroups.create();
        files = cg.files();
    }

    @AfterEach
    void tearDown() {
        cg.close();
    }

    private GroupContext context(Path parent) throws Exception {
        String cpus = files.read(parent, "cpuset.cpus").orElse("");
        String mems = files.read(parent, "cpuset.mems").orElse("");
        return new GroupContext("web", CpuList.parse(cpus), CpuList.parse(mems));
    }

    /** A directory made with plain mkdir, nothing inherited: what the daemon gets. */
    private Path freshGroup(Controller c) throws Exception {
        Path dir = cg.dir(c.name()).resolve("web");
        assertTrue(files.mkdir(dir));
        return dir;
    }

    private Map<String, String> observe(Controller c, Path dir) throws Exception {
        return files.readAll(dir, c.observedFiles());
    }

    private List<Write> apply(Controller c, Resources r, GroupContext ctx, Path dir) throws Exception {
        List<Write> writes = c.reconcile(r, ctx, observe(c, dir));
        for (Write w : writes) {
            files.write(dir, w.file(), w.value());
        }
        List<Write> again = c.reconcile(r, ctx, observe(c, dir));
        assertEquals(List.of(), again, c.name() + ": after " + writes + " the kernel reads " + observe(c, dir));
        return writes;
    }

    private void roundTrip(Controller c, Resources... policies) throws Exception {
        Path dir = freshGroup(c);
        GroupContext ctx = context(cg.dir("cpuset"));
        Map<String, String> fresh = c.fresh(ctx);
        assertEquals(fresh, observe(c, dir), c.name() + ": fresh() must be what a new directory reads");
        for (Resources r : policies) {
            List<Write> writes = apply(c, r, ctx, dir);
            assertTrue(!writes.isEmpty() || c.observedFiles().isEmpty(), c.name() + ": " + r + " changed nothing");
        }
        apply(c, Resources.NONE, ctx, dir);
        if (!c.name().equals("cpuset")) {
            assertEquals(fresh, observe(c, dir), c.name() + ": Resources.NONE must restore the fresh defaults");
        }
    }

    @Test
    void cpuController() throws Exception {
        roundTrip(new CpuController(),
                cpu(cpuFull(512, 50, Duration.ofMillis(50))),
                cpu(cpuFull(262144, 250, null)),
                cpu(weight(50)),
                cpu(cpuFull(2, 1.5, Duration.ofMillis(100))));
    }

    @Test
    void cpusetController() throws Exception {
        CpusetController c = new CpusetController();
        Path dir = freshGroup(c);
        GroupContext ctx = context(cg.dir("cpuset"));
        assertEquals(c.fresh(ctx), observe(c, dir));
        String lastCpu = Integer.toString(ctx.parentCpus().bits().length() - 1);
        apply(c, cpuset(lastCpu, "0"), ctx, dir);
        assertEquals(lastCpu + "\n", files.read(dir, "cpuset.cpus").orElseThrow());
        apply(c, cpuset(ctx.parentCpus().toString().replace("-", ","), null), ctx, dir);
        apply(c, Resources.NONE, ctx, dir);
        assertEquals(ctx.parentCpus() + "\n", files.read(dir, "cpuset.cpus").orElseThrow());
        assertEquals(ctx.parentMems() + "\n", files.read(dir, "cpuset.mems").orElseThrow());
        // and now a process may join
        Process sleep = cg.start("sleep", "30");
        assertTrue(files.moveProcess(dir, (int) sleep.pid()));
    }

    @Test
    void memoryController() throws Exception {
        MemoryController c = new MemoryController();
        roundTrip(c,
                memory(Limit.of(1_000_000), Limit.of(512 * MiB), true),
                // limit up past the old memsw: memsw must go first
                memory(Limit.of(1024 * MiB), Limit.of(2048 * MiB), false),
                // and down below the old limit: the limit must go first
                memory(Limit.of(64 * MiB), Limit.of(128 * MiB), true),
                memory(Limit.of(256 * MiB), null, null),
                memory(Limit.of(128 * MiB), Limit.of(128 * MiB), null));
        Path dir = cg.dir("memory").resolve("web");
        List<Write> w = c.reconcile(memory(Limit.of(1_000_000), null, null), context(cg.dir("cpuset")), observe(c, dir));
        files.write(dir, w.getFirst().file(), w.getFirst().value());
        assertEquals("999424\n", files.read(dir, "memory.limit_in_bytes").orElseThrow());
    }

    /**
     * memsw is memory+swap, so a swap limit below the memory limit (or one without a memory
     * limit, which is max) is a policy the kernel refuses: policy validation must reject it.
     */
    @Test
    void aSwapLimitBelowTheLimitIsRefused() throws Exception {
        MemoryController c = new MemoryController();
        Path dir = freshGroup(c);
        GroupContext ctx = context(cg.dir("cpuset"));
        List<Write> writes = c.reconcile(memory(null, Limit.of(256 * MiB), null), ctx, observe(c, dir));
        assertEquals(List.of("memory.memsw.limit_in_bytes"), writes.stream().map(Write::file).toList());
        CgroupException e = assertThrows(CgroupException.class,
                () -> files.write(dir, writes.getFirst().file(), writes.getFirst().value()));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void blkioController() throws Exception {
        // fitted to this host: where no scheduler reads weights, the policies ask for none (the
        // parser refuses io.weight there)
        BlkioController fitted = BlkioController.forHierarchy(files, cg.hierarchy("blkio").ownDir());
        boolean weights = io.jgovernor.testing.TestHost.weightsIo();
        roundTrip(fitted,
                io(weights ? 200 : null, device("254:0", Limit.of(10 * MiB), Limit.of(5 * MiB), Limit.of(1000), Limit.of(500)),
                        device("7:0", null, null, null, Limit.of(100))),
                io(weights ? 1000 : null, device("254:0", Limit.of(20 * MiB), Limit.MAX, null, null)),
                io(null, device("7:0", Limit.of(1), null, null, null)));
    }

    @Test
    void blkioWeightFileIsDetectedFromTheHost() throws Exception {
        BlkioController fitted = BlkioController.forHierarchy(files, cg.hierarchy("blkio").ownDir());
        Path dir = freshGroup(fitted);
        assertEquals(fitted.fresh(context(cg.dir("cpuset"))), observe(fitted, dir));
    }

    @Test
    void pidsController() throws Exception {
        roundTrip(new PidsController(), pids(Limit.of(128)), pids(Limit.of(1)), pids(Limit.MAX), pids(Limit.of(4096)));
    }

    @Test
    void cpuacctHasNothingToSet() throws Exception {
        CpuacctController c = new CpuacctController();
        Path dir = freshGroup(c);
        assertEquals(List.of(), c.reconcile(Resources.NONE, context(cg.dir("cpuset")), observe(c, dir)));
        assertTrue(files.read(dir, "cpuacct.usage").isPresent());
    }
}

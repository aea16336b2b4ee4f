package io.jgovernor.classify;

import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The classifier thread's scheduling class on the real kernel, for the calling thread: granted,
 * given back, and refused where the kernel refuses it (a v1 cpu cgroup with no real-time runtime).
 */
class RealtimeKernelTest {
    private TestCgroups cg;

    @BeforeEach
    void setUp() {
        cg = TestCgroups.create();
    }

    @AfterEach
    void tearDown() {
        cg.close();
    }

    /** [policy, rt_priority] of the calling thread. */
    private static List<Integer> scheduling() throws Exception {
        return scheduling(Files.readString(Path.of("/proc/thread-self/stat")));
    }

    /** [policy, rt_priority] from a thread's /proc stat line: fields 41 and 40, counted after the comm. */
    static List<Integer> scheduling(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state): field n is f[n - 3]
        return List.of(Integer.parseInt(f[41 - 3]), Integer.parseInt(f[40 - 3]));
    }

    private static int tid() throws Exception {
        String link = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString(); // "PID/task/TID"
        return Integer.parseInt(link.substring(link.lastIndexOf('/') + 1));
    }

    @Test
    void entersSchedFifoAndLeavesIt() throws Exception {
        Realtime rt = new Realtime(7);
        try {
            rt.enter();
            assertTrue(rt.on());
            assertEquals(List.of(1, 7), scheduling(), "SCHED_FIFO priority 7");
            assertEquals("SCHED_FIFO 7", rt.describe());
            rt.leave();
            assertFalse(rt.on());
            assertEquals(List.of(0, 0), scheduling(), "back to SCHED_OTHER");
        } finally {
            rt.leave();
        }
    }

    @Test
    void priorityZeroNeverAsks() throws Exception {
        Realtime rt = new Realtime(0);
        rt.enter();
        assertFalse(rt.on());
        assertEquals(List.of(0, 0), scheduling());
        assertEquals("SCHED_OTHER", rt.describe());
    }

    @Test
    void whereTheKernelRefusesTheThreadKeepsTheNormalScheduler() throws Exception {
        // With real-time group scheduling (CONFIG_RT_GROUP_SCHED, as on this project's hosts) a new
        // v1 cpu cgroup has cpu.rt_runtime_us 0: the kernel refuses SCHED_FIFO to its tasks, as it
        // would to a daemon in such a cgroup.
        Path dir = cg.makeGroup("cpu", new GroupName("no-rt-runtime"));
        Path runtime = dir.resolve("cpu.rt_runtime_us");
        assumeTrue(Files.exists(runtime), "this kernel has no real-time group scheduling, so nothing refuses here");
        assertEquals("0", Files.readString(runtime).strip());
        Hierarchy h = cg.hierarchy("cpu");
        int tid = tid();
        String home = Files.readAllLines(Path.of("/proc/thread-self/cgroup")).stream()
                .filter(l -> List.of(l.split(":", 3)[1].split(",")).contains("cpu"))
                .map(l -> l.split(":", 3)[2]).findFirst().orElseThrow();
        Path homeDir = home.equals("/") ? h.mountPoint() : h.mountPoint().resolve(home.substring(1));
        cg.files().write(dir, "tasks", Integer.toString(tid)); // this thread only
        Realtime rt = new Realtime(1);
        try {
            rt.enter();
            assertFalse(rt.on(), "refused");
            assertEquals(List.of(0, 0), scheduling(), "still SCHED_OTHER");
            rt.enter(); // refused once: not asked again, and nothing changes
            assertFalse(rt.on());
            assertEquals("SCHED_OTHER (the kernel refused SCHED_FIFO 1)", rt.describe());
        } finally {
            rt.leave();
            cg.files().write(homeDir, "tasks", Integer.toString(tid));
        }
    }
}

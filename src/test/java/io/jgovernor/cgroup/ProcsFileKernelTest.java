package io.jgovernor.cgroup;

import io.jgovernor.model.GroupName;
import io.jgovernor.sys.Errno;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A kept-open cgroup.procs on the real kernel: moves, a gone process, a directory made again, none at all. */
class ProcsFileKernelTest {
    private TestCgroups cg;

    @BeforeEach
    void setUp() {
        cg = TestCgroups.create();
    }

    @AfterEach
    void tearDown() {
        cg.close();
    }

    private String cpuPathOf(long pid) throws Exception {
        return TestCgroups.cgroupOf(pid, "cpu").orElse("?");
    }

    @Test
    void movesProcessesThroughOneDescriptorAndSaysWhenOneIsGone() throws Exception {
        Path dir = cg.makeGroup("cpu", new GroupName("procs"));
        Hierarchy h = cg.hierarchy("cpu");
        Process a = cg.start("sleep", "300");
        Process b = cg.start("sleep", "300");
        try (ProcsFile procs = new ProcsFile(dir)) {
            assertTrue(procs.move((int) a.pid()));
            assertTrue(procs.move((int) b.pid()), "the same descriptor moves a second process");
            assertEquals(h.cgroupPath(dir), cpuPathOf(a.pid()));
            assertEquals(h.cgroupPath(dir), cpuPathOf(b.pid()));

            Process gone = cg.start("true");
            gone.waitFor();
            assertFalse(procs.move((int) gone.pid()), "a process that exited: false, not an error");
        }
    }

    @Test
    void aDirectoryRemovedAndMadeAgainIsOpenedAgain() throws Exception {
        GroupName name = new GroupName("again");
        Path dir = cg.makeGroup("cpu", name);
        Hierarchy h = cg.hierarchy("cpu");
        Process a = cg.start("sleep", "300");
        try (ProcsFile procs = new ProcsFile(dir)) {
            assertTrue(procs.move((int) a.pid()));
            cg.files().moveProcess(cg.dir("cpu"), (int) a.pid());
            Files.delete(dir);
            cg.makeGroup("cpu", name);
            assertTrue(procs.move((int) a.pid()), "the stale descriptor's ENODEV leads to the path again");
            assertEquals(h.cgroupPath(dir), cpuPathOf(a.pid()));
        }
    }

    @Test
    void aDirectoryThatIsNotThereIsAnErrorNamingIt() throws Exception {
        Path dir = cg.dir("cpu").resolve("never-made");
        Process a = cg.start("sleep", "300");
        try (ProcsFile procs = new ProcsFile(dir)) {
            CgroupException e = assertThrows(CgroupException.class, () -> procs.move((int) a.pid()));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().contains(dir.resolve("cgroup.procs").toString()) || e.getMessage().contains(dir.toString()),
                    e.getMessage());
        }
        assertEquals(cpuPathOf(ProcessHandle.current().pid()), cpuPathOf(a.pid()), "nothing moved");
    }
}

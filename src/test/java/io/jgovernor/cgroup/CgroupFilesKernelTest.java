package io.jgovernor.cgroup;

import io.jgovernor.model.GroupName;
import io.jgovernor.sys.Errno;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CgroupFiles on the real cgroupfs of this machine, in a throwaway subtree. */
class CgroupFilesKernelTest {
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

    @Test
    void writesAndReadsBack() throws Exception {
        Path web = cg.makeGroup("cpu", new GroupName("web"));
        assertEquals("1024\n", files.read(web, "cpu.shares").orElseThrow());
        files.write(web, "cpu.shares", "512");
        assertEquals("512\n", files.read(web, "cpu.shares").orElseThrow());
    }

    @Test
    void aRefusedWriteCarriesDirFileValueAndErrno() throws Exception {
        Path web = cg.makeGroup("cpu", new GroupName("web"));
        CgroupException e = assertThrows(CgroupException.class, () -> files.write(web, "cpu.cfs_quota_us", "500"));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("EINVAL", e.errnoName());
        assertEquals(web, e.dir());
        assertEquals(Optional.of("cpu.cfs_quota_us"), e.file());
        assertEquals(Optional.of("500"), e.value());
        assertEquals(web + "/cpu.cfs_quota_us: write \"500\": EINVAL (Invalid argument)", e.getMessage());
    }

    @Test
    void writingAMissingFileIsEnoent() throws Exception {
        Path web = cg.makeGroup("cpu", new GroupName("web"));
        CgroupException e = assertThrows(CgroupException.class, () -> files.write(web, "cpu.no_such_file", "1"));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void absentFilesAndDirectoriesReadEmpty() throws Exception {
        Path web = cg.makeGroup("memory", new GroupName("web"));
        assertEquals(Optional.empty(), files.read(web, "memory.no_such_file"));
        assertEquals(Optional.empty(), files.read(web.resolve("gone"), "memory.limit_in_bytes"));
        assertEquals(List.of(), files.procs(web.resolve("gone")));
        assertEquals(List.of(), files.childDirectories(web.resolve("gone")));
    }

    @Test
    void mkdirRmdirAndChildren() throws Exception {
        Path root = cg.dir("pids");
        Path a = root.resolve("a");
        assertTrue(files.mkdir(a));
        assertFalse(files.mkdir(a));
        assertTrue(files.mkdir(a.resolve("b")));
        assertEquals(List.of("a"), files.childDirectories(root));
        assertEquals(List.of("b"), files.childDirectories(a));
        CgroupException busy = assertThrows(CgroupException.class, () -> files.rmdir(a));
        assertTrue(busy.errno() == Errno.EBUSY || busy.errno() == Errno.ENOTEMPTY, busy.getMessage());
        files.rmdir(a.resolve("b"));
        files.rmdir(a);
        files.rmdir(a); // gone already: fine
        assertFalse(Files.exists(a));
        CgroupException noParent = assertThrows(CgroupException.class, () -> files.mkdir(root.resolve("x/y")));
        assertEquals(Errno.ENOENT, noParent.errno());
        assertEquals(root.resolve("x/y") + ": mkdir: ENOENT (No such file or directory)", noParent.getMessage());
    }

    @Test
    void movesARealProcessAndSeesItLeave() throws Exception {
        Path web = cg.makeGroup("pids", new GroupName("web"));
        Process sleep = cg.start("sleep", "30");
        int pid = (int) sleep.pid();
        assertTrue(files.moveProcess(web, pid));
        assertEquals(List.of(pid), files.procs(web));
        String own = cg.hierarchy("pids").ownPath();
        String expected = (own.equals("/") ? "" : own) + "/" + cg.root() + "/web";
        assertEquals(Optional.of(expected), TestCgroups.cgroupOf(pid, "pids"));

        CgroupException busy = assertThrows(CgroupException.class, () -> files.rmdir(web));
        assertEquals(Errno.EBUSY, busy.errno());

        sleep.destroyForcibly();
        assertTrue(sleep.waitFor(10, TimeUnit.SECONDS));
        // the process is gone: moving it is no failure, just nothing to do
        assertFalse(files.moveProcess(web, pid));
        assertEquals(List.of(), files.procs(web));
    }

    @Test
    void anEmptyV1CpusetTakesNoProcess() throws Exception {
        Path bare = cg.dir("cpuset").resolve("bare");
        assertTrue(files.mkdir(bare)); // no cpus/mems inherited
        assertEquals("\n", files.read(bare, "cpuset.cpus").orElseThrow());
        Process sleep = cg.start("sleep", "30");
        CgroupException e = assertThrows(CgroupException.class, () -> files.moveProcess(bare, (int) sleep.pid()));
        assertEquals(Errno.ENOSPC, e.errno());
        assertEquals(Optional.of(String.valueOf(sleep.pid())), e.value());
    }

    @Test
    void closeKillsRegisteredProcessesAndRemovesEverything() throws Exception {
        TestCgroups other = TestCgroups.create();
        Path deep = other.makeGroup("memory", new GroupName("a/b/c"));
        Path cpusetGroup = other.makeGroup("cpuset", new GroupName("x"));
        Process sleep = other.start("sleep", "30");
        assertTrue(files.moveProcess(deep, (int) sleep.pid()));
        Process stray = new ProcessBuilder("sleep", "30").start();
        try {
            assertTrue(files.moveProcess(cpusetGroup, (int) stray.pid()));
            other.close();
            assertTrue(sleep.waitFor(10, TimeUnit.SECONDS), "a registered process is killed");
            assertTrue(stray.isAlive(), "an unregistered process is moved out, not killed");
            assertEquals(Optional.of(other.hierarchy("cpuset").ownPath()), TestCgroups.cgroupOf(stray.pid(), "cpuset"));
            for (var h : other.hierarchies()) {
                assertFalse(Files.exists(other.layout().rootDir(h)), other.layout().rootDir(h) + " is left behind");
            }
        } finally {
            stray.destroyForcibly();
        }
    }
}

package io.jgovernor.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LibcTest {
    /** The per-thread calls of process knobs: a thread that is gone is ESRCH (which ThreadKnobs takes as "nothing to do"). */
    @Test
    void perThreadCallsOnAThreadThatIsGoneAreEsrch() throws Exception {
        Process p = new ProcessBuilder("/bin/true").start();
        p.waitFor();
        int gone = (int) p.pid(); // reaped: no such thread now (a pid is not reused this soon)
        assertEquals(-Errno.ESRCH, Libc.setNiceRaw(gone, 5));
        assertEquals(-Errno.ESRCH, Libc.ioprioSetRaw(gone, 3 << 13));
        assertEquals(-Errno.ESRCH, Libc.ioprioGetRaw(gone));
        assertEquals(-Errno.ESRCH, Libc.schedSetschedulerRaw(gone, 3, 0));
    }

    @Test
    void ioprioOfAThreadReadsBackWhatWasSet() throws Exception {
        Process p = new ProcessBuilder("/bin/sleep", "30").start();
        try {
            int tid = (int) p.pid();
            assertEquals(0, Libc.ioprioSetRaw(tid, 2 << 13 | 5));
            assertEquals(2 << 13 | 5, Libc.ioprioGetRaw(tid));
            assertEquals(-Errno.EINVAL, Libc.ioprioSetRaw(tid, 5 << 13), "no class 5");
            assertEquals(0, Libc.setNiceRaw(tid, 7));
            String stat = Files.readString(Path.of("/proc/" + tid + "/stat"));
            assertEquals("7", stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void getpidIsThisProcess() {
        assertEquals(ProcessHandle.current().pid(), Libc.getpid());
    }

    @Test
    void pageSizeIsAPowerOfTwo() {
        long page = Libc.pageSize();
        assertTrue(page >= 4096 && Long.bitCount(page) == 1, "page size " + page);
    }

    @Test
    void openOfAMissingFileCarriesEnoent() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> Libc.open("/nonexistent/jgovernor-test", Libc.O_RDONLY | Libc.O_CLOEXEC));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.name());
        assertEquals("open /nonexistent/jgovernor-test: ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void closeOfABadDescriptorCarriesEbadf() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.close(-1));
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void rawCallsReturnMinusErrno() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-Errno.ENOENT, Libc.openRaw(arena.allocateFrom("/nonexistent/x"), Libc.O_RDONLY));
            assertEquals(-Errno.EBADF, Libc.readRaw(-1, arena.allocate(8), 8));
        }
    }

    @Test
    void readsAndWritesAFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("f");
        Files.writeString(f, "");
        int fd = Libc.open(f.toString(), Libc.O_WRONLY | Libc.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hello = arena.allocateFrom("hello");
            assertEquals(5, Libc.write(fd, hello.asSlice(0, 5)));
        } finally {
            Libc.close(fd);
        }
        fd = Libc.open(f.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16);
            long n = Libc.read(fd, buf);
            assertEquals("hello", new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE)));
            assertEquals(0, Libc.read(fd, buf));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void mkdirAndRmdir(@TempDir Path tmp) throws Exception {
        Path d = tmp.resolve("d");
        Libc.mkdir(d.toString(), 0755);
        assertTrue(Files.isDirectory(d));
        assertEquals(Errno.EEXIST, assertThrows(ErrnoException.class, () -> Libc.mkdir(d.toString(), 0755)).errno());
        Files.writeString(d.resolve("x"), "");
        assertEquals(Errno.ENOTEMPTY, assertThrows(ErrnoException.class, () -> Libc.rmdir(d.toString())).errno());
        Files.delete(d.resolve("x"));
        Libc.rmdir(d.toString());
        assertTrue(Files.notExists(d));
    }

    @Test
    void eventfdWakesPoll() throws Exception {
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(Libc.POLLFD);
            pollfd.set(ValueLayout.JAVA_INT, 0, efd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
            assertEquals(0, Libc.poll(pollfd, 1, 0), "nothing written yet");

            MemorySegment counter = arena.allocate(ValueLayout.JAVA_LONG);
            ErrnoException empty = assertThrows(ErrnoException.class, () -> Libc.read(efd, counter));
            assertEquals(Errno.EAGAIN, empty.errno());

            counter.set(ValueLayout.JAVA_LONG, 0, 3);
            assertEquals(8, Libc.write(efd, counter));
            assertEquals(1, Libc.poll(pollfd, 1, 1000));
            assertTrue((pollfd.get(ValueLayout.JAVA_SHORT, 6) & Libc.POLLIN) != 0);
            assertEquals(8, Libc.read(efd, counter));
            assertEquals(3, counter.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            Libc.close(efd);
        }
    }

    @Test
    void inotifyReportsACreatedFile(@TempDir Path tmp) throws Exception {
        int ifd = Libc.inotifyInit1(Libc.IN_CLOEXEC | Libc.IN_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            int wd = Libc.inotifyAddWatch(ifd, tmp.toString(), Libc.IN_CREATE | Libc.IN_DELETE);
            Files.writeString(tmp.resolve("new-file"), "x");
            MemorySegment pollfd = arena.allocate(Libc.POLLFD);
            pollfd.set(ValueLayout.JAVA_INT, 0, ifd);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
            assertEquals(1, Libc.poll(pollfd, 1, 5000));
            MemorySegment buf = arena.allocate(4096);
            long n = Libc.read(ifd, buf);
            // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[]; }
            assertTrue(n >= 16);
            assertEquals(wd, buf.get(ValueLayout.JAVA_INT, 0));
            assertTrue((buf.get(ValueLayout.JAVA_INT, 4) & Libc.IN_CREATE) != 0);
            assertEquals("new-file", buf.asSlice(16).getString(0));
            Libc.inotifyRmWatch(ifd, wd);
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> Libc.inotifyRmWatch(ifd, wd)).errno());
        } finally {
            Libc.close(ifd);
        }
    }

    @Test
    void errnoIsPerThread() throws Exception {
        ErrnoException[] seen = new ErrnoException[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Libc.close(-1);
            } catch (ErrnoException e) {
                seen[0] = e;
            }
        });
        assertEquals(Errno.ENOENT, assertThrows(ErrnoException.class, () -> Libc.open("/nonexistent/y", 0)).errno());
        t.join();
        assertEquals(Errno.EBADF, seen[0].errno());
    }

    @Test
    void namesAndTexts() {
        assertEquals("EINVAL (Invalid argument)", ErrnoException.describe(Errno.EINVAL));
        assertEquals("ESRCH (No such process)", ErrnoException.describe(Errno.ESRCH));
        assertEquals("ENOTEMPTY (Directory not empty)", ErrnoException.describe(Errno.ENOTEMPTY));
        assertEquals("errno 200 (Unknown error 200)", ErrnoException.describe(200));
    }
}

package io.jgovernor.cgroup;

import io.jgovernor.sys.Errno;
import io.jgovernor.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One group's {@code cgroup.procs} in one hierarchy, kept open: moving a process there is one
 * write(2) of its pid. The classifier moves every matching process as it starts, and opening the
 * file (a path walk through /sys/fs/cgroup) and closing it again were two of a move's three
 * system calls, on the path between a process's exec and its arrival in the group.
 *
 * <p>A kept descriptor outlives its directory when the group is removed (and perhaps made again):
 * the kernel then answers ENODEV, and the file is opened once more by its path.
 *
 * <p>Not thread-safe: one owner thread (the classifier's).
 */
public final class ProcsFile implements AutoCloseable {
    static final String NAME = "cgroup.procs";

    private final Path dir;
    private final MemorySegment path;
    /** The pid's decimal digits, written in place: no allocation per move. */
    private final MemorySegment digits;
    private int fd = -1;

    public ProcsFile(Path dir) {
        this.dir = dir;
        Arena arena = Arena.ofAuto();
        byte[] name = dir.resolve(NAME).toString().getBytes(StandardCharsets.UTF_8);
        this.path = arena.allocate(name.length + 1L);
        MemorySegment.copy(name, 0, path, ValueLayout.JAVA_BYTE, 0, name.length);
        this.digits = arena.allocate(16);
    }

    /**
     * Moves process {@code pid} (its whole thread group) into this group.
     *
     * @return false when the process is gone (ESRCH): it exited, which is normal
     */
    public boolean move(int pid) throws CgroupException {
        int length = encode(pid);
        for (int attempt = 0; ; attempt++) {
            if (fd < 0) {
                int opened = Libc.openRaw(path, Libc.O_WRONLY | Libc.O_CLOEXEC);
                if (opened < 0) {
                    throw new CgroupException(dir, NAME, "write", Integer.toString(pid), -opened);
                }
                fd = opened;
            }
            long n = Libc.writeRaw(fd, digits, length);
            if (n == length) {
                return true;
            }
            if (n == -Errno.ESRCH) {
                return false;
            }
            if (n == -Errno.ENODEV && attempt == 0) {
                close(); // the directory this descriptor named is gone: open the path again
                continue;
            }
            if (n >= 0) {
                throw new CgroupException(dir, NAME, "write", Integer.toString(pid), 0,
                        "short write: " + n + " of " + length + " bytes");
            }
            throw new CgroupException(dir, NAME, "write", Integer.toString(pid), (int) -n);
        }
    }

    private int encode(int pid) {
        if (pid <= 0) {
            throw new IllegalArgumentException("not a pid: " + pid);
        }
        int length = 0;
        for (int v = pid; v > 0; v /= 10) {
            length++;
        }
        int at = length;
        for (int v = pid; v > 0; v /= 10) {
            digits.set(ValueLayout.JAVA_BYTE, --at, (byte) ('0' + v % 10));
        }
        return length;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            Libc.closeRaw(fd);
            fd = -1;
        }
    }
}

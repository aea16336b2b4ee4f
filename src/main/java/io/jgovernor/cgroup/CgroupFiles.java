package io.jgovernor.cgroup;

import io.jgovernor.sys.Errno;
import io.jgovernor.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one way jgovernor touches cgroup files and directories.
 *
 * <p>cgroupfs parses each write(2) as one value and answers with the value's errno, so a value is
 * written with exactly one write(2) on a freshly opened descriptor (a buffered stream could split
 * or join values, and would report the error on close). Paths and values are encoded into
 * per-thread native buffers, so a write allocates nothing on the Java heap, and an absent file is
 * an answer (ENOENT → empty), not an exception.
 */
public final class CgroupFiles {
    private static final int PATH_MAX = 4096;
    private static final int INITIAL_DATA = 16 * 1024;
    private static final int DIR_MODE = 0755;
    private static final byte DT_DIR = 4;

    /** Native scratch space of one thread; freed by the GC with the thread. */
    private static final class Buffers {
        final Arena arena = Arena.ofAuto();
        final MemorySegment path = arena.allocate(PATH_MAX);
        MemorySegment data = arena.allocate(INITIAL_DATA);

        /** The heap copy of what was read, reused: one copy into the String, not two. */
        byte[] bytes = new byte[INITIAL_DATA];

        /** The UTF-8 text of data's first {@code used} bytes, up to a NUL as a C string ends. */
        String text(MemorySegment data, long used) {
            int n = Math.toIntExact(used);
            if (bytes.length < n) {
                bytes = new byte[Math.max(n, bytes.length * 2)];
            }
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, bytes, 0, n);
            for (int i = 0; i < n; i++) {
                if (bytes[i] == 0) {
                    n = i;
                    break;
                }
            }
            return new String(bytes, 0, n, StandardCharsets.UTF_8);
        }

        MemorySegment grow(long used) {
            MemorySegment bigger = arena.allocate(data.byteSize() * 2);
            MemorySegment.copy(data, 0, bigger, 0, used);
            data = bigger;
            return bigger;
        }
    }

    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);

    /** The text of {@code dir/file} as read, or empty when the file (or the directory) does not exist. */
    public Optional<String> read(Path dir, String file) throws CgroupException {
        Buffers b = buffers.get();
        encodePath(b.path, dir, file, "read", null);
        int fd = Libc.openRaw(b.path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd == -Errno.ENOENT) {
            return Optional.empty();
        }
        if (fd < 0) {
            throw new CgroupException(dir, file, "read", null, -fd);
        }
        long used = 0;
        try {
            MemorySegment data = b.data;
            while (true) {
                // keep one byte for the terminating NUL
                long room = data.byteSize() - used - 1;
                if (room <= 0) {
                    data = b.grow(used);
                    continue;
                }
                long n = Libc.readRaw(fd, used == 0 ? data : data.asSlice(used), room);
                if (n < 0) {
                    throw new CgroupException(dir, file, "read", null, (int) -n);
                }
                if (n == 0) {
                    break;
                }
                used += n;
            }
            return Optional.of(b.text(data, used));
        } finally {
            Libc.closeRaw(fd);
        }
    }

    /**
     * Opens {@code dir/file} read-only and returns the descriptor, which the caller closes: for
     * cgroup v1 event registration ({@code cgroup.event_control} takes an open descriptor).
     */
    public int openDescriptor(Path dir, String file) throws CgroupException {
        Buffers b = buffers.get();
        encodePath(b.path, dir, file, "open", null);
        int fd = Libc.openRaw(b.path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new CgroupException(dir, file, "open", null, -fd);
        }
        return fd;
    }

    /** Reads each of {@code files} in {@code dir}; files that do not exist are left out of the map. */
    public Map<String, String> readAll(Path dir, List<String> files) throws CgroupException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String file : files) {
            Optional<String> text = read(dir, file);
            if (text.isPresent()) {
                out.put(file, text.get());
            }
        }
        return out;
    }

    /** Writes {@code value} to {@code dir/file} with a single write(2). */
    public void write(Path dir, String file, String value) throws CgroupException {
        Buffers b = buffers.get();
        encodePath(b.path, dir, file, "write", value);
        MemorySegment data = b.data;
        long length = encode(value, data);
        while (length < 0) {
            data = b.grow(0);
            length = encode(value, data);
        }
        int fd = Libc.openRaw(b.path, Libc.O_WRONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new CgroupException(dir, file, "write", value, -fd);
        }
        long n;
        try {
            n = Libc.writeRaw(fd, data, length);
        } finally {
            Libc.closeRaw(fd);
        }
        if (n < 0) {
            throw new CgroupException(dir, file, "write", value, (int) -n);
        }
        if (n != length) {
            throw new CgroupException(dir, file, "write", value, 0,
                    "short write: " + n + " of " + length + " bytes");
        }
    }

    /** Makes {@code dir}; true if it was created, false if it already existed. The parent must exist. */
    public boolean mkdir(Path dir) throws CgroupException {
        Buffers b = buffers.get();
        encodePath(b.path, dir, null, "mkdir", null);
        int r = Libc.mkdirRaw(b.path, DIR_MODE);
        if (r == -Errno.EEXIST) {
            return false;
        }
        if (r < 0) {
            throw new CgroupException(dir, null, "mkdir", null, -r);
        }
        return true;
    }

    /**
     * Removes the (empty of processes and child groups) cgroup {@code dir}. A directory that is
     * already gone counts as removed. EBUSY means a process is still inside.
     */
    public void rmdir(Path dir) throws CgroupException {
        Buffers b = buffers.get();
        encodePath(b.path, dir, null, "rmdir", null);
        int r = Libc.rmdirRaw(b.path);
        if (r < 0 && r != -Errno.ENOENT) {
            throw new CgroupException(dir, null, "rmdir", null, -r);
        }
    }

    /** The processes (thread group ids) in {@code dir}'s cgroup.procs; empty if the directory is gone. */
    public List<Integer> procs(Path dir) throws CgroupException {
        Optional<String> text = read(dir, "cgroup.procs");
        if (text.isEmpty()) {
            return List.of();
        }
        String s = text.get();
        List<Integer> pids = new ArrayList<>();
        int value = -1;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                value = (value < 0 ? 0 : value * 10) + (c - '0');
            } else {
                if (value >= 0) {
                    pids.add(value);
                }
                value = -1;
            }
        }
        if (value >= 0) {
            pids.add(value);
        }
        return pids;
    }

    /**
     * Moves process {@code pid} (all its threads) into {@code dir}. Returns false when the process
     * has already exited (ESRCH), which is not a failure: there is nothing left to move.
     */
    public boolean moveProcess(Path dir, int pid) throws CgroupException {
        try {
            write(dir, "cgroup.procs", Integer.toString(pid));
            return true;
        } catch (CgroupException e) {
            if (e.errno() == Errno.ESRCH) {
                return false;
            }
            throw e;
        }
    }

    /** Names of the subdirectories (child groups) of {@code dir}, sorted; empty if {@code dir} is gone. */
    public List<String> childDirectories(Path dir) throws CgroupException {
        // getdents64 gives each entry's type: a cgroup directory holds a dozen control files per
        // child group, and a stat(2) for each was most of a periodic pass over 1000 groups.
        Buffers b = buffers.get();
        encodePath(b.path, dir, null, "list", null);
        int fd = Libc.openRaw(b.path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd == -Errno.ENOENT) {
            return List.of();
        }
        if (fd < 0) {
            throw new CgroupException(dir, null, "list", null, -fd);
        }
        List<String> names = new ArrayList<>();
        try {
            MemorySegment data = b.data;
            while (true) {
                long n = Libc.getdents64Raw(fd, data, data.byteSize());
                if (n == -Errno.EINVAL) {
                    data = b.grow(0); // the buffer is too small for the next entry
                    continue;
                }
                if (n < 0) {
                    throw new CgroupException(dir, null, "list", null, (int) -n);
                }
                if (n == 0) {
                    break;
                }
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                for (long at = 0; at < n; ) {
                    int reclen = Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 16));
                    byte type = data.get(ValueLayout.JAVA_BYTE, at + 18);
                    if (type == DT_DIR) {
                        String name = data.getString(at + 19);
                        if (!name.equals(".") && !name.equals("..")) {
                            names.add(name);
                        }
                    }
                    at += reclen;
                }
            }
        } finally {
            Libc.closeRaw(fd);
        }
        names.sort(null);
        return names;
    }

    /** Writes "dir/file\0" (or "dir\0") into {@code out}. */
    private static void encodePath(MemorySegment out, Path dir, String file, String operation, String value)
            throws CgroupException {
        String d = dir.toString();
        long at = encodeAscii(d, out, 0);
        if (at >= 0 && file != null) {
            if (at + 1 >= out.byteSize()) {
                at = -1;
            } else {
                out.set(ValueLayout.JAVA_BYTE, at++, (byte) '/');
                at = encodeAscii(file, out, at);
            }
        }
        if (at == -2) {
            // not plain ASCII: encode properly (rare: jgovernor's own names are ASCII)
            byte[] bytes = (file == null ? d : d + "/" + file).getBytes(StandardCharsets.UTF_8);
            if (bytes.length + 1 > out.byteSize()) {
                at = -1;
            } else {
                MemorySegment.copy(bytes, 0, out, ValueLayout.JAVA_BYTE, 0, bytes.length);
                at = bytes.length;
            }
        }
        if (at < 0 || at >= out.byteSize()) {
            throw new CgroupException(dir, file, operation, value, Errno.ENAMETOOLONG);
        }
        out.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
    }

    /** Copies ASCII {@code s} at {@code at}; the end offset, -1 if it does not fit, -2 if not ASCII. */
    private static long encodeAscii(String s, MemorySegment out, long at) {
        int n = s.length();
        if (at + n >= out.byteSize()) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || c == 0) {
                return -2;
            }
            out.set(ValueLayout.JAVA_BYTE, at + i, (byte) c);
        }
        return at + n;
    }

    /** Encodes {@code value} as UTF-8 at 0; its length, or -1 if {@code out} is too small. */
    private static long encode(String value, MemorySegment out) {
        long at = encodeAscii(value, out, 0);
        if (at == -2) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            if (bytes.length >= out.byteSize()) {
                return -1;
            }
            MemorySegment.copy(bytes, 0, out, ValueLayout.JAVA_BYTE, 0, bytes.length);
            return bytes.length;
        }
        return at;
    }
}

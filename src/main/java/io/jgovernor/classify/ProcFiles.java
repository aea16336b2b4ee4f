package io.jgovernor.classify;

import io.jgovernor.sys.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads what the classifier needs from /proc/PID, one read(2) per file into a reused native
 * buffer: a process starting is one exec event and, for most, one read of its comm. Every method
 * answers null (or -1) when the process is gone, which is normal: processes exit at any time.
 *
 * <p>Every read is bounded, because a process's files are written by whoever started it: a
 * command line is read up to {@link #MAX_CMDLINE} bytes and rules match that prefix only, comm is
 * at most 16 bytes (the kernel's TASK_COMM_LEN), the exe link at most PATH_MAX (readlink's own
 * bound), stat, status and cgroup are the kernel's text of a known, small size.
 *
 * <p>Not thread-safe: one per thread (the classifier has one thread).
 */
final class ProcFiles {
    /** PF_KTHREAD, in the flags field (9th) of /proc/PID/stat. */
    static final long PF_KTHREAD = 0x00200000L;
    /** kthreadd: every kernel thread but itself is its child. */
    static final int KTHREADD = 2;
    /**
     * The part of a command line a rule sees: argv beyond 4 KiB is not read. RE2 is linear but
     * not free (some 60-140 ns a byte per hostile rule here): at 32 KiB one process cost 2-5 ms
     * per rule, at 4 KiB it costs well under a millisecond (docs/benchmarks.md, "Hostile
     * command lines"). A rule for a long command line names what comes early in it.
     */
    static final int MAX_CMDLINE = 4 * 1024;
    /** The largest single read: the buffer is allocated once, at this size, and reused. */
    private static final int BUFFER = 64 * 1024;

    private final Path proc;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment path = arena.allocate(256);
    private final MemorySegment data = arena.allocate(BUFFER);

    ProcFiles(Path proc) {
        this.proc = proc;
    }

    /** What /proc/PID/stat says about a process's kind and parent. */
    record Stat(int ppid, long flags) {
        boolean kernelThread() {
            return (flags & PF_KTHREAD) != 0;
        }
    }

    /** The comm name, without its newline. */
    String comm(int pid) {
        int n = read(pid, "comm", 64);
        if (n <= 0) {
            return null;
        }
        int len = n;
        if (data.get(ValueLayout.JAVA_BYTE, len - 1) == '\n') {
            len--;
        }
        return string(0, len);
    }

    /**
     * argv joined by single spaces, at most its first {@link #MAX_CMDLINE} bytes; "" for a kernel
     * thread or a zombie.
     */
    String cmdline(int pid) {
        int n = read(pid, "cmdline", MAX_CMDLINE);
        if (n < 0) {
            return null;
        }
        int len = n;
        while (len > 0 && data.get(ValueLayout.JAVA_BYTE, len - 1) == 0) {
            len--;
        }
        byte[] bytes = data.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                bytes[i] = ' ';
            }
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The resolved executable (/proc/PID/exe); null when gone or a kernel thread. */
    String exe(int pid) {
        try {
            return Files.readSymbolicLink(proc.resolve(Integer.toString(pid)).resolve("exe")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** The effective uid from /proc/PID/status ("Uid: real effective saved fs"), or -1. */
    long euid(int pid) {
        int n = read(pid, "status", BUFFER);
        if (n <= 0) {
            return -1;
        }
        String text = string(0, n);
        int at = text.indexOf("\nUid:");
        if (at < 0) {
            return -1;
        }
        String[] fields = text.substring(at + 5, text.indexOf('\n', at + 1)).strip().split("\\s+");
        try {
            return fields.length > 1 ? Long.parseLong(fields[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** ppid and flags; the comm field may hold spaces and parentheses, so fields count from the last ')'. */
    Stat stat(int pid) {
        int n = read(pid, "stat", 4096);
        if (n <= 0) {
            return null;
        }
        String text = string(0, n);
        int close = text.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        // after ")": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9)
        String[] f = text.substring(close + 2).split(" ", 8);
        try {
            return new Stat(Integer.parseInt(f[1]), Long.parseUnsignedLong(f[6]));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * What /proc/PID/task/TID/stat says of a thread's scheduling: its start time (clock ticks
     * after boot: with the tid, what tells this thread from a later one that got its id), nice,
     * real-time priority and policy.
     */
    record ThreadStat(long startTime, int nice, int rtPriority, int policy) {
    }

    /** A thread's scheduling fields; null when it is gone (or {@code tid} is not a thread of {@code pid}). */
    ThreadStat threadStat(int pid, int tid) {
        return schedFields(read(pid, "task/" + tid + "/stat", 4096));
    }

    /** The start time of process {@code pid} (field 22 of /proc/PID/stat), or -1 when gone. */
    long startTime(int pid) {
        ThreadStat s = schedFields(read(pid, "stat", 4096));
        return s == null ? -1 : s.startTime();
    }

    private ThreadStat schedFields(int n) {
        if (n <= 0) {
            return null;
        }
        String text = string(0, n);
        int close = text.lastIndexOf(')');
        if (close < 0 || close + 2 >= text.length()) {
            return null;
        }
        // after ")": field k of proc(5) is f[k - 3]: nice(19) starttime(22) rt_priority(40) policy(41)
        String[] f = text.substring(close + 2).split(" ", 40);
        try {
            return new ThreadStat(Long.parseLong(f[19]), Integer.parseInt(f[16]), Integer.parseInt(f[37]),
                    Integer.parseInt(f[38].strip()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** /proc/PID/oom_score_adj, or MIN_VALUE when gone. */
    int oomScoreAdj(int pid) {
        int n = read(pid, "oom_score_adj", 32);
        if (n <= 0) {
            return Integer.MIN_VALUE;
        }
        try {
            return Integer.parseInt(string(0, n).strip());
        } catch (NumberFormatException e) {
            return Integer.MIN_VALUE;
        }
    }

    /**
     * Writes /proc/PID/oom_score_adj (the kernel keeps it per process, shared by every thread and
     * by processes sharing its memory); 0 or {@code -errno} (ENOENT, ESRCH: gone).
     */
    int writeOomScoreAdj(int pid, int value) {
        encode(pid, "oom_score_adj");
        int fd = Libc.openRaw(path, Libc.O_WRONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            return fd;
        }
        try {
            byte[] text = Integer.toString(value).getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(text, 0, data, ValueLayout.JAVA_BYTE, 0, text.length);
            long r = Libc.writeRaw(fd, data, text.length);
            return r < 0 ? (int) r : 0;
        } finally {
            Libc.closeRaw(fd);
        }
    }

    /** The thread ids of process {@code pid} now (/proc/PID/task); empty when it is gone. */
    int[] tids(int pid) {
        try {
            return ids(proc.resolve(Integer.toString(pid)).resolve("task"));
        } catch (IOException e) {
            return new int[0];
        }
    }

    /** /proc/PID/cgroup as the kernel wrote it; null when gone. */
    String cgroupText(int pid) {
        int n = read(pid, "cgroup", BUFFER);
        if (n <= 0) {
            return null;
        }
        return string(0, n);
    }

    /**
     * Reads /proc/PID/file, at most {@code limit} bytes, into {@code data} in one read(2); the
     * length, or -1. These files (seq_file, and cmdline) fill a read as far as they can, so one
     * read is the whole file or its first {@code limit} bytes, and the read(2) that would return 0
     * is saved on every exec.
     */
    private int read(int pid, String file, int limit) {
        encode(pid, file);
        int fd = Libc.openRaw(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            return -1;
        }
        try {
            long n = Libc.readRaw(fd, data, Math.min(limit, BUFFER));
            return n < 0 ? -1 : (int) n; // ESRCH: it exited between open and read
        } finally {
            Libc.closeRaw(fd);
        }
    }

    private void encode(int pid, String file) {
        String p = proc + "/" + pid + "/" + file;
        int i = 0;
        for (; i < p.length(); i++) {
            path.set(ValueLayout.JAVA_BYTE, i, (byte) p.charAt(i));
        }
        path.set(ValueLayout.JAVA_BYTE, i, (byte) 0);
    }

    private String string(int from, int to) {
        byte[] bytes = data.asSlice(from, to - from).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The numeric entries of /proc: every process (thread group) now. */
    int[] pids() throws IOException {
        return ids(proc);
    }

    /** The numeric entries of a directory. */
    private static int[] ids(Path dir) throws IOException {
        try (var list = Files.newDirectoryStream(dir)) {
            int[] out = new int[256];
            int n = 0;
            for (Path p : list) {
                String name = p.getFileName().toString();
                int pid = parsePid(name);
                if (pid > 0) {
                    if (n == out.length) {
                        out = java.util.Arrays.copyOf(out, n * 2);
                    }
                    out[n++] = pid;
                }
            }
            return java.util.Arrays.copyOf(out, n);
        }
    }

    private static int parsePid(String s) {
        if (s.isEmpty() || s.length() > 10) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }
}

package io.jgovernor.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The bpf(2) commands that load cgroup programs, attach them to a cgroup directory, and find the
 * ones attached there. Each fills the command's part of {@code union bpf_attr} (include/uapi/
 * linux/bpf.h; offsets below are of that header) in a zeroed buffer: the kernel takes a buffer
 * longer than its own union when the tail is zero, and zero-fills one that is shorter.
 *
 * <p>All of them need root (CAP_SYS_ADMIN, or CAP_BPF with CAP_NET_ADMIN); the daemon has it.
 */
public final class Bpf {
    // enum bpf_cmd
    private static final int PROG_LOAD = 5;
    private static final int PROG_ATTACH = 8;
    private static final int PROG_DETACH = 9;
    private static final int PROG_GET_FD_BY_ID = 13;
    private static final int OBJ_GET_INFO_BY_FD = 15;
    private static final int PROG_QUERY = 16;

    /** enum bpf_prog_type BPF_PROG_TYPE_CGROUP_DEVICE. */
    public static final int PROG_TYPE_CGROUP_DEVICE = 15;
    /** enum bpf_attach_type BPF_CGROUP_DEVICE. */
    public static final int CGROUP_DEVICE = 6;
    /** Several programs on one cgroup, all run: a device is allowed only if every one allows it. */
    public static final int F_ALLOW_MULTI = 2;
    /** Attach in the place of {@code replace_bpf_fd}'s program, in one step (5.6+). */
    public static final int F_REPLACE = 4;

    private static final int ATTR_SIZE = 128;
    /** struct bpf_prog_info up to and including name[16]. */
    private static final int INFO_SIZE = 80;
    private static final int OBJ_NAME_LEN = 16;
    /** Verifier logs longer than this are cut: the end, where the refusal is said, is kept. */
    private static final int LOG_SIZE = 64 * 1024;

    private Bpf() {
    }

    /** A program that the verifier refused, with what it said. */
    public static final class LoadException extends ErrnoException {
        private final String verifierLog;

        LoadException(String name, int errno, String verifierLog) {
            super("BPF_PROG_LOAD", name, errno);
            this.verifierLog = verifierLog;
        }

        /** The verifier's log, stripped; empty if it said nothing. */
        public String verifierLog() {
            return verifierLog;
        }
    }

    /** What BPF_OBJ_GET_INFO_BY_FD says of a program. {@code tag} is 16 hex digits. */
    public record ProgInfo(int id, String tag, String name) {
    }

    /**
     * BPF_PROG_LOAD: the new program's descriptor. The program lives as long as a descriptor or an
     * attachment refers to it. Loaded first without a log (the cheap path); if the verifier refuses
     * it, loaded once more with one, so the refusal comes with the verifier's reasons.
     */
    public static int progLoad(int type, int expectedAttachType, byte[] instructions, String license, String name)
            throws LoadException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = arena.allocate(instructions.length, 8);
            insns.copyFrom(MemorySegment.ofArray(instructions));
            MemorySegment lic = arena.allocateFrom(license);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, type);
            attr.set(ValueLayout.JAVA_INT, 4, instructions.length / 8);
            attr.set(ValueLayout.JAVA_LONG, 8, insns.address());
            attr.set(ValueLayout.JAVA_LONG, 16, lic.address());
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, attr, ValueLayout.JAVA_BYTE, 48, Math.min(n.length, OBJ_NAME_LEN - 1));
            attr.set(ValueLayout.JAVA_INT, 68, expectedAttachType);
            long fd = Libc.bpfRaw(PROG_LOAD, attr, ATTR_SIZE);
            if (fd >= 0) {
                return (int) fd;
            }
            MemorySegment log = arena.allocate(LOG_SIZE);
            attr.set(ValueLayout.JAVA_INT, 24, 1); // log_level
            attr.set(ValueLayout.JAVA_INT, 28, LOG_SIZE);
            attr.set(ValueLayout.JAVA_LONG, 32, log.address());
            long again = Libc.bpfRaw(PROG_LOAD, attr, ATTR_SIZE);
            if (again >= 0) {
                return (int) again; // refused once, taken the second time (a transient ENOMEM, say)
            }
            // ENOSPC here is the log overflowing; the first refusal is the one to report
            throw new LoadException(name, (int) -fd, log.getString(0).strip());
        }
    }

    /**
     * BPF_PROG_ATTACH of {@code progFd} to cgroup directory {@code cgroupFd}; with
     * {@link #F_REPLACE}, in the place of {@code replaceFd}'s program (ignored otherwise).
     */
    public static void progAttach(int cgroupFd, int progFd, int attachType, int flags, int replaceFd)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, cgroupFd);
            attr.set(ValueLayout.JAVA_INT, 4, progFd);
            attr.set(ValueLayout.JAVA_INT, 8, attachType);
            attr.set(ValueLayout.JAVA_INT, 12, flags);
            attr.set(ValueLayout.JAVA_INT, 16, (flags & F_REPLACE) != 0 ? replaceFd : 0);
            check("BPF_PROG_ATTACH", Libc.bpfRaw(PROG_ATTACH, attr, ATTR_SIZE));
        }
    }

    /** BPF_PROG_DETACH of the program {@code progFd} names from cgroup directory {@code cgroupFd}. */
    public static void progDetach(int cgroupFd, int progFd, int attachType) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, cgroupFd);
            attr.set(ValueLayout.JAVA_INT, 4, progFd);
            attr.set(ValueLayout.JAVA_INT, 8, attachType);
            check("BPF_PROG_DETACH", Libc.bpfRaw(PROG_DETACH, attr, ATTR_SIZE));
        }
    }

    /**
     * BPF_PROG_QUERY: the ids of the programs attached to cgroup directory {@code cgroupFd} itself
     * (not its ancestors'), in the order they run.
     */
    public static int[] progQuery(int cgroupFd, int attachType) throws ErrnoException {
        int room = 16;
        try (Arena arena = Arena.ofConfined()) {
            while (true) {
                MemorySegment ids = arena.allocate(4L * room, 8);
                MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
                attr.set(ValueLayout.JAVA_INT, 0, cgroupFd);
                attr.set(ValueLayout.JAVA_INT, 4, attachType);
                attr.set(ValueLayout.JAVA_LONG, 16, ids.address());
                attr.set(ValueLayout.JAVA_INT, 24, room);
                long r = Libc.bpfRaw(PROG_QUERY, attr, ATTR_SIZE);
                int count = attr.get(ValueLayout.JAVA_INT, 24);
                if (r == -Errno.ENOSPC && count > room) {
                    room = count; // more were attached than there was room for: the count is the real one
                    continue;
                }
                check("BPF_PROG_QUERY", r);
                return ids.asSlice(0, 4L * count).toArray(ValueLayout.JAVA_INT);
            }
        }
    }

    /** BPF_PROG_GET_FD_BY_ID: a descriptor of program {@code id} (ENOENT: it is gone). */
    public static int progGetFdById(int id) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, id);
            return (int) check("BPF_PROG_GET_FD_BY_ID", Libc.bpfRaw(PROG_GET_FD_BY_ID, attr, ATTR_SIZE));
        }
    }

    /** BPF_OBJ_GET_INFO_BY_FD for the program {@code progFd} names. */
    public static ProgInfo progInfo(int progFd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(INFO_SIZE, 8);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, progFd);
            attr.set(ValueLayout.JAVA_INT, 4, INFO_SIZE);
            attr.set(ValueLayout.JAVA_LONG, 8, info.address());
            check("BPF_OBJ_GET_INFO_BY_FD", Libc.bpfRaw(OBJ_GET_INFO_BY_FD, attr, ATTR_SIZE));
            String tag = HexFormat.of().formatHex(info.asSlice(8, 8).toArray(ValueLayout.JAVA_BYTE));
            return new ProgInfo(info.get(ValueLayout.JAVA_INT, 4), tag, info.asSlice(64, OBJ_NAME_LEN).getString(0));
        }
    }

    private static long check(String command, long result) throws ErrnoException {
        if (result < 0) {
            throw new ErrnoException(command, null, (int) -result);
        }
        return result;
    }
}

package io.jgovernor.classify;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's process connector messages (linux/cn_proc.h), as one datagram of the netlink
 * socket carries them: {@code struct nlmsghdr} (16 bytes), {@code struct cn_msg} (20 bytes), then
 * {@code struct proc_event}: what (u32, offset 36), cpu (u32), timestamp_ns (u64 at offset 44,
 * not 8-aligned, hence the unaligned reads) and the event's data from offset 52. Only what the
 * classifier acts on is decoded.
 */
final class ProcEvents {
    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_DONE = 3;
    static final int NLMSG_ERROR = 2;
    static final int CN_MSG_LEN = 20;
    /** The connector's id for process events: CN_IDX_PROC, CN_VAL_PROC. */
    static final int CN_IDX_PROC = 1;
    static final int CN_VAL_PROC = 1;
    static final int PROC_CN_MCAST_LISTEN = 1;

    static final int PROC_EVENT_NONE = 0;
    static final int PROC_EVENT_FORK = 0x1;
    static final int PROC_EVENT_EXEC = 0x2;
    static final int PROC_EVENT_UID = 0x4;
    static final int PROC_EVENT_COMM = 0x200;
    static final int PROC_EVENT_EXIT = 0x80000000;

    private static final long EVENT = NLMSG_HDRLEN + CN_MSG_LEN;
    private static final long WHAT = EVENT;
    private static final long DATA = EVENT + 16;

    /** What the classifier hears; pids are thread ids, tgids process ids. */
    interface Sink {
        void exec(int tgid);

        void uid(int pid, int tgid, int euid);

        void comm(int pid, int tgid);

        void exit(int pid, int tgid);

        /** A new process (childPid == childTgid) or thread (not equal); asked for only while needed. */
        default void fork(int parentTgid, int childPid, int childTgid) {
        }

        /** The kernel's answer to a listen request: 0, or an errno. */
        void ack(int error);
    }

    private ProcEvents() {
    }

    /** Decodes the netlink messages in the first {@code length} bytes of {@code buf}. */
    static void parse(MemorySegment buf, long length, Sink sink) {
        long at = 0;
        while (at + NLMSG_HDRLEN <= length) {
            int len = buf.get(ValueLayout.JAVA_INT_UNALIGNED, at);
            int type = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 4));
            if (len < NLMSG_HDRLEN || at + len > length) {
                return; // truncated or malformed: nothing more can be trusted in this datagram
            }
            if (type == NLMSG_DONE && len >= EVENT + 16) {
                event(buf.asSlice(at, len), sink);
            }
            at += (len + 3) & ~3; // NLMSG_ALIGN
        }
    }

    private static void event(MemorySegment m, Sink sink) {
        int idx = m.get(ValueLayout.JAVA_INT_UNALIGNED, NLMSG_HDRLEN);
        int val = m.get(ValueLayout.JAVA_INT_UNALIGNED, NLMSG_HDRLEN + 4);
        if (idx != CN_IDX_PROC || val != CN_VAL_PROC) {
            return;
        }
        int what = m.get(ValueLayout.JAVA_INT_UNALIGNED, WHAT);
        long size = m.byteSize();
        switch (what) {
            case PROC_EVENT_EXEC -> {
                if (size >= DATA + 8) {
                    sink.exec(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 4));
                }
            }
            case PROC_EVENT_UID -> {
                if (size >= DATA + 16) {
                    // id_proc_event { pid, tgid, r.ruid, e.euid }
                    sink.uid(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA), m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 4),
                            m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 12));
                }
            }
            case PROC_EVENT_COMM -> {
                if (size >= DATA + 8) {
                    sink.comm(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA), m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 4));
                }
            }
            case PROC_EVENT_EXIT -> {
                if (size >= DATA + 8) {
                    sink.exit(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA), m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 4));
                }
            }
            case PROC_EVENT_FORK -> {
                if (size >= DATA + 16) {
                    // fork_proc_event { parent_pid, parent_tgid, child_pid, child_tgid }
                    sink.fork(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 4), m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 8),
                            m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA + 12));
                }
            }
            case PROC_EVENT_NONE -> {
                if (size >= DATA + 4) {
                    sink.ack(m.get(ValueLayout.JAVA_INT_UNALIGNED, DATA));
                }
            }
            default -> {
                // gid, sid, ptrace, coredump: they match nothing
            }
        }
    }

    /**
     * The listen request: nlmsghdr, cn_msg, then struct proc_input {mcast_op, event_type}. The
     * event type is a filter (kernel 6.6+) so that fork events, half of all traffic when many
     * processes start, never reach this socket; older kernels ignore a request of this length,
     * and {@link #listenAll} is sent instead.
     */
    static void listen(MemorySegment out, int portId, int eventMask) {
        header(out, portId, 8);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, EVENT, PROC_CN_MCAST_LISTEN);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, EVENT + 4, eventMask);
    }

    /** The request older kernels know: just the operation, every event. */
    static void listenAll(MemorySegment out, int portId) {
        header(out, portId, 4);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, EVENT, PROC_CN_MCAST_LISTEN);
    }

    static long listenLength(int payload) {
        return EVENT + payload;
    }

    private static void header(MemorySegment out, int portId, int payload) {
        out.fill((byte) 0);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, 0, (int) listenLength(payload));
        out.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, (short) NLMSG_DONE);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, 12, portId);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, NLMSG_HDRLEN, CN_IDX_PROC);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, NLMSG_HDRLEN + 4, CN_VAL_PROC);
        out.set(ValueLayout.JAVA_SHORT_UNALIGNED, NLMSG_HDRLEN + 16, (short) payload);
    }
}

package io.jgovernor.classify;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Decoding the process connector's messages, laid out as linux/cn_proc.h and linux/connector.h say. */
class ProcEventsTest {
    private final List<String> heard = new ArrayList<>();
    private final ProcEvents.Sink sink = new ProcEvents.Sink() {
        public void exec(int tgid) {
            heard.add("exec " + tgid);
        }

        public void uid(int pid, int tgid, int euid) {
            heard.add("uid " + pid + " " + tgid + " " + euid);
        }

        public void comm(int pid, int tgid) {
            heard.add("comm " + pid + " " + tgid);
        }

        public void exit(int pid, int tgid) {
            heard.add("exit " + pid + " " + tgid);
        }

        public void ack(int error) {
            heard.add("ack " + error);
        }

        public void fork(int parentTgid, int childPid, int childTgid) {
            heard.add("fork " + parentTgid + " " + childPid + " " + childTgid);
        }
    };

    /** One message: nlmsghdr, cn_msg {idx, val}, proc_event {what, cpu, timestamp_ns (offset 44), data...}. */
    private static MemorySegment message(Arena arena, int idx, int what, int... data) {
        int len = 52 + 4 * Math.max(data.length, 6);
        MemorySegment m = arena.allocate(len, 4);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, 0, len);
        m.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, (short) ProcEvents.NLMSG_DONE);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, 16, idx);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, 20, 1);
        m.set(ValueLayout.JAVA_SHORT_UNALIGNED, 32, (short) (len - 36));
        m.set(ValueLayout.JAVA_INT_UNALIGNED, 36, what);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, 44, 123456789L);
        for (int i = 0; i < data.length; i++) {
            m.set(ValueLayout.JAVA_INT_UNALIGNED, 52 + 4L * i, data[i]);
        }
        return m;
    }

    private void parse(MemorySegment... messages) {
        try (Arena a = Arena.ofConfined()) {
            long total = 0;
            for (MemorySegment m : messages) {
                total += (m.byteSize() + 3) & ~3;
            }
            MemorySegment buf = a.allocate(total, 8);
            long at = 0;
            for (MemorySegment m : messages) {
                MemorySegment.copy(m, 0, buf, at, m.byteSize());
                at += (m.byteSize() + 3) & ~3;
            }
            ProcEvents.parse(buf, total, sink);
        }
    }

    @Test
    void decodesTheEventsTheClassifierActsOn() {
        try (Arena a = Arena.ofConfined()) {
            parse(message(a, 1, ProcEvents.PROC_EVENT_EXEC, 4242, 4242),
                    message(a, 1, ProcEvents.PROC_EVENT_UID, 4243, 4242, 0, 65534),
                    message(a, 1, ProcEvents.PROC_EVENT_COMM, 4244, 4242),
                    message(a, 1, ProcEvents.PROC_EVENT_EXIT, 4242, 4242, 0, 17),
                    message(a, 1, ProcEvents.PROC_EVENT_NONE, 1));
        }
        assertEquals(List.of("exec 4242", "uid 4243 4242 65534", "comm 4244 4242", "exit 4242 4242", "ack 1"), heard);
    }

    @Test
    void decodesForksOfProcessesAndThreadsAndIgnoresOtherConnectorsAndTruncatedMessages() {
        try (Arena a = Arena.ofConfined()) {
            // fork_proc_event {parent_pid, parent_tgid, child_pid, child_tgid}: a process, then a thread of it
            parse(message(a, 1, ProcEvents.PROC_EVENT_FORK, 1, 1, 2, 2), message(a, 1, ProcEvents.PROC_EVENT_FORK, 2, 2, 5, 2),
                    message(a, 7, ProcEvents.PROC_EVENT_EXEC, 5, 5));
            MemorySegment whole = message(a, 1, ProcEvents.PROC_EVENT_EXEC, 6, 6);
            ProcEvents.parse(whole, 40, sink); // the datagram ends inside the message
        }
        assertEquals(List.of("fork 1 2 2", "fork 2 5 2"), heard);
    }

    @Test
    void theListenRequestAsksForExecUidCommAndExitOnly() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(ProcEvents.listenLength(8));
            ProcEvents.listen(r, 99, 0x80000206);
            assertEquals(44, r.get(ValueLayout.JAVA_INT_UNALIGNED, 0), "nlmsg_len");
            assertEquals(ProcEvents.NLMSG_DONE, r.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4));
            assertEquals(99, r.get(ValueLayout.JAVA_INT_UNALIGNED, 12), "nlmsg_pid");
            assertEquals(8, r.get(ValueLayout.JAVA_SHORT_UNALIGNED, 32), "cn_msg len: struct proc_input");
            assertEquals(ProcEvents.PROC_CN_MCAST_LISTEN, r.get(ValueLayout.JAVA_INT_UNALIGNED, 36));
            assertEquals(0x80000206, r.get(ValueLayout.JAVA_INT_UNALIGNED, 40));
        }
    }

    @Test
    void theEventFilterIsAppliedByKernels6_6AndLater() {
        org.junit.jupiter.api.Assertions.assertTrue(ProcConnector.kernelFilters("6.18.44-fc-v669"));
        org.junit.jupiter.api.Assertions.assertTrue(ProcConnector.kernelFilters("6.6.0"));
        org.junit.jupiter.api.Assertions.assertTrue(ProcConnector.kernelFilters("7.0.1"));
        org.junit.jupiter.api.Assertions.assertFalse(ProcConnector.kernelFilters("6.1.0-28-amd64"));
        org.junit.jupiter.api.Assertions.assertFalse(ProcConnector.kernelFilters("5.14.0-427.el9.x86_64"));
        org.junit.jupiter.api.Assertions.assertFalse(ProcConnector.kernelFilters("garbage"));
    }
}

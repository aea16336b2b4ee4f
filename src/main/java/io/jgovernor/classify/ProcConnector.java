package io.jgovernor.classify;

import io.jgovernor.sys.Errno;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A netlink socket subscribed to the kernel's process connector (CONFIG_PROC_EVENTS): the kernel
 * sends a message on every exec, uid change, comm change and exit, system-wide, as it happens.
 *
 * <p>Subscribing needs CAP_NET_ADMIN in the initial user namespace, and the connector exists only
 * in the initial network namespace: elsewhere {@link #open} fails and the classifier scans /proc
 * instead. When the socket's buffer overflows the kernel drops messages and the next read fails
 * with ENOBUFS: the caller rescans /proc.
 */
final class ProcConnector implements AutoCloseable {
    private static final int NETLINK_CONNECTOR = 11;
    /** struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; } */
    private static final int SOCKADDR_NL = 12;
    private static final int EVENTS = ProcEvents.PROC_EVENT_EXEC | ProcEvents.PROC_EVENT_UID
            | ProcEvents.PROC_EVENT_COMM | ProcEvents.PROC_EVENT_EXIT;
    /**
     * The kernel answers a listen request at once, or never: it ignores requests from outside the
     * initial user and pid namespaces (a container), and older kernels ignore the filtered form.
     */
    private static final int ACK_WAIT_MILLIS = 500;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(64 * 1024, 8);
    private final int fd;
    /** Whether the kernel applies the event filter (6.6+), so fork events never reach this socket. */
    private boolean filtered;
    /** Whether fork events are asked for now. */
    private boolean forks;

    private ProcConnector(int fd) {
        this.fd = fd;
    }

    /**
     * Opens, subscribes and waits for the kernel's acknowledgement.
     *
     * @param receiveBuffer bytes of socket buffer to ask for (SO_RCVBUFFORCE, which ignores
     *                      net.core.rmem_max, then SO_RCVBUF, which the kernel caps there)
     * @throws ErrnoException when the connector is not available to this process
     */
    static ProcConnector open(int receiveBuffer) throws ErrnoException {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, NETLINK_CONNECTOR);
        ProcConnector c = new ProcConnector(fd);
        try {
            if (Libc.setsockoptIntRaw(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, receiveBuffer) < 0) {
                Libc.setsockoptIntRaw(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, receiveBuffer);
            }
            MemorySegment addr = c.arena.allocate(SOCKADDR_NL, 4);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
            addr.set(ValueLayout.JAVA_INT, 8, ProcEvents.CN_IDX_PROC);
            Libc.bind(fd, addr, SOCKADDR_NL);
            c.subscribe();
            return c;
        } catch (ErrnoException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Subscribes with the plain listen request, whose acknowledgement says at once whether the
     * connector is there for this process, then asks for the event filter (exec, uid, comm, exit).
     * The filtered request is not waited for: the kernel (6.6+) filters its own acknowledgement
     * away, since an ack is event "none" and no filter lets that through (measured here: no ack,
     * the first answer is an exit event 100 ms later). Older kernels ignore a request of that
     * length and keep sending every event, which the decoder skips.
     */
    private void subscribe() throws ErrnoException {
        MemorySegment plain = arena.allocate(ProcEvents.listenLength(4), 8);
        ProcEvents.listenAll(plain, Libc.getpid());
        send(plain);
        int ack = awaitAck();
        if (ack == Integer.MIN_VALUE) {
            throw new ErrnoException("proc connector listen",
                    "no answer from the kernel (it ignores listeners outside the host's user and pid namespaces)", Errno.ENOSYS);
        }
        if (ack != 0) {
            throw new ErrnoException("proc connector listen", "", ack);
        }
        sendFilter();
        filtered = kernelFilters(osRelease());
    }

    private void sendFilter() throws ErrnoException {
        MemorySegment request = arena.allocate(ProcEvents.listenLength(8), 8);
        ProcEvents.listen(request, Libc.getpid(), forks ? EVENTS | ProcEvents.PROC_EVENT_FORK : EVENTS);
        send(request);
    }

    /**
     * Asks for fork events too, or no more: a second listen request on the same socket replaces
     * its filter (cn_proc_mcast_ctl keeps one proc_input per socket and counts the listener once).
     * Kernels before 6.6 send every event whatever is asked.
     */
    void followForks(boolean on) throws ErrnoException {
        if (on != forks) {
            forks = on;
            sendFilter();
        }
    }

    private static String osRelease() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Whether a kernel of this release ("6.18.44-...") applies the connector's event filter (6.6+). */
    static boolean kernelFilters(String release) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (!m.find()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 6 || (major == 6 && minor >= 6);
    }

    private void send(MemorySegment request) throws ErrnoException {
        MemorySegment kernel = arena.allocate(SOCKADDR_NL, 4);
        kernel.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
        Libc.sendto(fd, request, 0, kernel, SOCKADDR_NL);
    }

    /** The acknowledgement's error (0: subscribed), or MIN_VALUE when none came in time. */
    private int awaitAck() throws ErrnoException {
        int[] ack = {Integer.MIN_VALUE};
        ProcEvents.Sink onlyAck = new ProcEvents.Sink() {
            public void exec(int tgid) {
            }

            public void uid(int pid, int tgid, int euid) {
            }

            public void comm(int pid, int tgid) {
            }

            public void exit(int pid, int tgid) {
            }

            public void ack(int error) {
                ack[0] = error;
            }
        };
        long deadline = System.nanoTime() + ACK_WAIT_MILLIS * 1_000_000L;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pollfd = a.allocate(Libc.POLLFD);
            while (ack[0] == Integer.MIN_VALUE) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    break;
                }
                pollfd.set(ValueLayout.JAVA_INT, 0, fd);
                pollfd.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
                if (Libc.poll(pollfd, 1, (int) left) > 0) {
                    long n = receive(onlyAck);
                    if (n < 0 && n != -Errno.ENOBUFS && n != -Errno.EAGAIN) {
                        throw new ErrnoException("recv", "proc connector", (int) -n);
                    }
                }
            }
        }
        return ack[0];
    }

    boolean filtered() {
        return filtered;
    }

    int fd() {
        return fd;
    }

    /**
     * Reads one datagram and hands its events to {@code sink}; the bytes read, or {@code -errno}
     * (ENOBUFS: the kernel dropped messages; EAGAIN: nothing to read).
     */
    long receive(ProcEvents.Sink sink) {
        long n = Libc.readRaw(fd, buf, buf.byteSize());
        if (n > 0) {
            ProcEvents.parse(buf, n, sink);
        }
        return n;
    }

    @Override
    public void close() {
        Libc.closeRaw(fd);
        arena.close();
    }
}

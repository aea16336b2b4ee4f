package io.jgovernor.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * systemd's readiness protocol: one datagram per message to the unix socket named by
 * {@code $NOTIFY_SOCKET} ("READY=1", "RELOADING=1", "STATUS=...", "WATCHDOG=1"). Through FFM,
 * because the JDK's datagram channels do not speak AF_UNIX, and no subprocess: a
 * {@code systemd-notify} child would be a different pid, which systemd ignores under
 * {@code NotifyAccess=main}. A name starting with '@' is in the abstract namespace.
 */
public final class SdNotify {
    private static final System.Logger LOG = System.getLogger(SdNotify.class.getName());
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** struct sockaddr_un: sa_family_t (2 bytes), then sun_path[108]. */
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SUN_PATH_MAX = 108;

    private final String socket;

    private SdNotify(String socket) {
        this.socket = socket;
    }

    /** The notifier for this process, when systemd asked for one. */
    public static Optional<SdNotify> fromEnvironment() {
        String name = System.getenv("NOTIFY_SOCKET");
        return name == null || name.isEmpty() ? Optional.empty() : Optional.of(new SdNotify(name));
    }

    public static SdNotify to(String socket) {
        return new SdNotify(socket);
    }

    /** Sends one message (lines of KEY=VALUE); failures are logged, never thrown: systemd is optional. */
    public boolean send(String message) {
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        if (path.length == 0 || path.length >= SUN_PATH_MAX || (path[0] != '/' && path[0] != '@')) {
            LOG.log(System.Logger.Level.WARNING, "NOTIFY_SOCKET \"" + socket + "\" is not a unix socket path");
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SUN_PATH_OFFSET + SUN_PATH_MAX);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, SUN_PATH_OFFSET, path.length);
            int addrLen = SUN_PATH_OFFSET + path.length;
            if (path[0] == '@') {
                addr.set(ValueLayout.JAVA_BYTE, SUN_PATH_OFFSET, (byte) 0); // abstract: no trailing NUL counted
            } else {
                addrLen++; // a path name is NUL-terminated
            }
            byte[] body = message.getBytes(StandardCharsets.UTF_8);
            MemorySegment buf = arena.allocate(body.length);
            MemorySegment.copy(body, 0, buf, ValueLayout.JAVA_BYTE, 0, body.length);
            int fd = Libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            try {
                Libc.sendto(fd, buf, MSG_NOSIGNAL, addr, addrLen);
            } finally {
                Libc.close(fd);
            }
            return true;
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "sd_notify to " + socket + " failed: " + e.getMessage());
            return false;
        }
    }
}

package io.jgovernor.testing;

import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A datagram socket standing in for systemd's notify socket: what the daemon sends, in order. */
public final class NotifySocket implements AutoCloseable {
    private static final MethodHandle BIND = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("bind").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private final Path path;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final List<String> received = new ArrayList<>();

    public NotifySocket(Path path) throws Throwable {
        this.path = path;
        Files.deleteIfExists(path);
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        MemorySegment addr = arena.allocate(110);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
        MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
        fd = Libc.socket(1, 2 | 0x80000, 0);
        if ((int) BIND.invokeExact(fd, addr, 2 + name.length + 1) != 0) {
            Libc.close(fd);
            throw new IllegalStateException("cannot bind " + path);
        }
    }

    public Path path() {
        return path;
    }

    /** Every message received so far (waiting for none). */
    public synchronized List<String> received() throws ErrnoException {
        drain(0);
        return List.copyOf(received);
    }

    /** Waits until a message containing {@code text} arrives; returns it. */
    public synchronized Optional<String> await(String text, Duration timeout) throws ErrnoException {
        long end = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (true) {
            for (; seen < received.size(); seen++) {
                if (received.get(seen).contains(text)) {
                    String m = received.get(seen);
                    received.subList(0, seen + 1).clear();
                    return Optional.of(m);
                }
            }
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return Optional.empty();
            }
            drain((int) Math.min(left, 200));
        }
    }

    private void drain(int waitMillis) throws ErrnoException {
        MemorySegment pfd = arena.allocate(Libc.POLLFD);
        pfd.set(ValueLayout.JAVA_INT, 0, fd);
        pfd.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
        MemorySegment buf = arena.allocate(4096);
        int wait = waitMillis;
        while (Libc.poll(pfd, 1, wait) > 0) {
            long n = Libc.read(fd, buf);
            received.add(new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            wait = 0;
        }
    }

    @Override
    public void close() throws Exception {
        Libc.close(fd);
        arena.close();
        Files.deleteIfExists(path);
    }
}

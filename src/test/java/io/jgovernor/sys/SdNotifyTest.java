package io.jgovernor.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The datagram arrives on a real unix socket, as systemd would receive it. */
class SdNotifyTest {
    @TempDir
    Path tmp;

    @Test
    void aMessageArrivesOnAPathSocket() throws Throwable {
        Path sock = tmp.resolve("notify");
        assertEquals("READY=1\nSTATUS=3 groups", roundTrip(sock.toString(), "READY=1\nSTATUS=3 groups"));
    }

    @Test
    void aMessageArrivesOnAnAbstractSocket() throws Throwable {
        String name = "@jgovernor-test-" + UUID.randomUUID();
        assertEquals("WATCHDOG=1", roundTrip(name, "WATCHDOG=1"));
    }

    @Test
    void aSocketNameThatIsNoPathIsRefusedWithoutThrowing() {
        assertFalse(SdNotify.to("relative/path").send("READY=1"));
        assertFalse(SdNotify.to("/nonexistent/jgovernor/notify").send("READY=1"));
    }

    /** Binds a datagram socket with the same address rules, sends, and reads what arrived. */
    private static String roundTrip(String name, String message) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            byte[] path = name.getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = arena.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            int len = 2 + path.length + 1;
            if (path[0] == '@') {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                len = 2 + path.length;
            }
            int fd = Libc.socket(1, 2 | 0x80000, 0);
            try {
                var bind = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                        java.lang.foreign.Linker.nativeLinker().defaultLookup().find("bind").orElseThrow(),
                        java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
                assertEquals(0, (int) bind.invokeExact(fd, addr, len));
                assertTrue(SdNotify.to(name).send(message));
                MemorySegment buf = arena.allocate(256);
                long n = Libc.read(fd, buf);
                return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            } finally {
                Libc.close(fd);
            }
        }
    }
}

package io.jgovernor.events;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SignerTest {
    @TempDir
    Path tmp;

    /** RFC 4231, test case 2. */
    @Test
    void knownHmacSha256Vector() {
        Signer s = new Signer("Jefe".getBytes(StandardCharsets.US_ASCII));
        assertEquals("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                s.sign("what do ya want for nothing?"));
    }

    @Test
    void theKeyFileIsReadWithoutItsTrailingNewline() throws IOException {
        Path f = tmp.resolve("secret");
        Files.writeString(f, "Jefe\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertEquals("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                Signer.fromFile(f).sign("what do ya want for nothing?"));
    }

    @Test
    void aKeyFileOthersCanReadIsRefusedWithAClearMessage() throws IOException {
        Path f = tmp.resolve("secret");
        Files.writeString(f, "Jefe\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        IOException e = assertThrows(IOException.class, () -> Signer.fromFile(f));
        assertTrue(e.getMessage().contains("accessible by group or others (mode 0644)"), e.getMessage());
        assertTrue(e.getMessage().contains("chmod 600 " + f), e.getMessage());
    }

    @Test
    void anEmptyKeyFileIsRefused() throws IOException {
        Path f = tmp.resolve("secret");
        Files.writeString(f, "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertThrows(IOException.class, () -> Signer.fromFile(f));
    }
}

package io.jgovernor.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DurableFilesTest {
    @TempDir
    Path dir;

    @Test
    void aReplacementIsWholeAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("web.yaml");
        DurableFiles.replace(f, "one\n".getBytes(StandardCharsets.UTF_8));
        DurableFiles.replace(f, "two, longer\n".getBytes(StandardCharsets.UTF_8));
        DurableFiles.replace(f, "3\n".getBytes(StandardCharsets.UTF_8)); // shorter: nothing of the old is left
        assertEquals("3\n", Files.readString(f));
        try (var list = Files.list(dir)) {
            assertEquals(List.of(f), list.toList());
        }
    }

    @Test
    void aReaderSeesTheOldContentOrTheNewNeverAMix() throws Exception {
        Path f = dir.resolve("copy");
        byte[] a = new byte[256 * 1024];
        byte[] b = new byte[128 * 1024];
        Arrays.fill(a, (byte) 'a');
        Arrays.fill(b, (byte) 'b');
        DurableFiles.replace(f, a);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                try {
                    byte[] r = Files.readAllBytes(f);
                    if (!Arrays.equals(r, a) && !Arrays.equals(r, b)) {
                        seen.compareAndSet(null, "a read of " + r.length + " bytes that is neither version");
                    }
                } catch (IOException e) {
                    seen.compareAndSet(null, "the file was missing: " + e);
                }
            }
        });
        for (int i = 0; i < 200; i++) {
            DurableFiles.replace(f, i % 2 == 0 ? b : a);
        }
        done.set(true);
        reader.join();
        assertNull(seen.get());
    }

    @Test
    void aFailedReplacementKeepsTheOldFileAndRemovesTheTemporary() throws IOException {
        Path target = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(target.resolve("inside"), "x"); // a non-empty directory cannot be renamed over
        Path tmp = dir.resolve(".busy.tmp");
        assertThrows(IOException.class, () -> DurableFiles.replace(target, tmp, "new".getBytes(StandardCharsets.UTF_8)));
        assertFalse(Files.exists(tmp));
        assertTrue(Files.isDirectory(target));
        assertEquals("x", Files.readString(target.resolve("inside")));
    }

    @Test
    void appendAddsAndSyncDirectoryRefusesAFile() throws IOException {
        Path f = dir.resolve("acked");
        DurableFiles.write(f, "a\n".getBytes(StandardCharsets.UTF_8), true);
        DurableFiles.write(f, "b\n".getBytes(StandardCharsets.UTF_8), true);
        assertEquals("a\nb\n", Files.readString(f));
        // O_DIRECTORY: a directory fsync that is handed a file is an error, not a silent no-op
        ErrnoException e = assertThrows(ErrnoException.class, () -> DurableFiles.syncDirectory(f));
        assertTrue(e.getMessage().contains("ENOTDIR"), e.getMessage());
    }

    /** strace attached to this very thread sees the two fsyncs: the file's, then the directory's. */
    @Test
    void aReplacementFsyncsTheFileAndThenItsDirectory() throws Exception {
        Path strace = Path.of("/usr/bin/strace");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(strace), "needs strace (bin/setup installs it)");
        String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        Path out = dir.resolve("strace.out");
        Process p = new ProcessBuilder(strace.toString(), "-e", "trace=fsync,fdatasync,rename,renameat,renameat2",
                "-o", out.toString(), "-p", tid).redirectErrorStream(true).start();
        try {
            // strace says "attached" once the thread is traced
            byte[] buf = new byte[256];
            int n = p.getInputStream().read(buf);
            assertTrue(n > 0 && new String(buf, 0, n).contains("attached"), "strace did not attach");
            DurableFiles.replace(dir.resolve("state"), "x".getBytes(StandardCharsets.UTF_8));
        } finally {
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            p.waitFor(10, TimeUnit.SECONDS);
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        List<String> calls = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            if (line.startsWith("fsync") || line.startsWith("rename") || line.startsWith("fdatasync")) {
                calls.add(line.substring(0, line.indexOf('(')));
            }
        }
        assertEquals(List.of("fsync", "rename", "fsync"), calls, String.join("\n", Files.readAllLines(out)));
    }

    @Test
    void theBytesWrittenAreTheBytesRead() throws IOException {
        byte[] bytes = new byte[70000];
        new java.util.Random(1).nextBytes(bytes);
        Path f = dir.resolve("bin");
        DurableFiles.replace(f, bytes);
        assertArrayEquals(bytes, Files.readAllBytes(f));
    }

    @Test
    void aBatchReplacesAndRemovesInOneGoAndLeavesNoTemporaryFile() throws IOException {
        Files.writeString(dir.resolve("old.yaml"), "old\n");
        Files.writeString(dir.resolve("web.yaml"), "web 1\n");
        java.util.LinkedHashMap<String, byte[]> batch = new java.util.LinkedHashMap<>();
        batch.put("web.yaml", "web 2\n".getBytes(StandardCharsets.UTF_8));
        batch.put("db.yaml", "db\n".getBytes(StandardCharsets.UTF_8));
        batch.put("old.yaml", null);
        batch.put("never-was.yaml", null);
        DurableFiles.replaceAll(dir, batch);
        assertEquals("web 2\n", Files.readString(dir.resolve("web.yaml")));
        assertEquals("db\n", Files.readString(dir.resolve("db.yaml")));
        try (var list = Files.list(dir)) {
            assertEquals(List.of("db.yaml", "web.yaml"), list.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void aBatchThatCannotBeWrittenChangesNoFileAndLeavesNoTemporaryFile() throws IOException {
        Files.writeString(dir.resolve("web.yaml"), "web 1\n");
        Files.createDirectory(dir.resolve(".db.yaml.tmp")); // db's temporary file cannot be made
        java.util.LinkedHashMap<String, byte[]> batch = new java.util.LinkedHashMap<>();
        batch.put("web.yaml", "web 2\n".getBytes(StandardCharsets.UTF_8));
        batch.put("db.yaml", "db\n".getBytes(StandardCharsets.UTF_8));
        assertThrows(IOException.class, () -> DurableFiles.replaceAll(dir, batch));
        assertEquals("web 1\n", Files.readString(dir.resolve("web.yaml")));
        assertFalse(Files.exists(dir.resolve(".web.yaml.tmp")));
        assertFalse(Files.exists(dir.resolve("db.yaml")));
    }
}

package io.jgovernor.sys;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes that survive a crash or a power cut: the data is fsync'd before anything names it, and
 * the name itself (a rename) is made durable by fsync'ing the directory that holds it, as
 * rename(2) alone promises atomicity but not durability. The one place that does this, for the
 * webhook spool, the accepted policy copies and the OOM kill counts.
 */
public final class DurableFiles {
    private DurableFiles() {
    }

    /**
     * Replaces {@code file} with {@code bytes} so that after a crash it holds either the old
     * content or the new one, whole: written to {@code tmp} (in the same directory), fsync'd,
     * renamed over {@code file}, then the directory fsync'd. On failure {@code file} is unchanged
     * and {@code tmp} is removed.
     */
    public static void replace(Path file, Path tmp, byte[] bytes) throws IOException {
        try {
            write(tmp, bytes, false);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        syncDirectory(file.toAbsolutePath().getParent());
    }

    /** {@link #replace(Path, Path, byte[])} with the temporary file {@code .NAME.tmp} beside it. */
    public static void replace(Path file, byte[] bytes) throws IOException {
        replace(file, file.resolveSibling("." + file.getFileName() + ".tmp"), bytes);
    }

    /** Writes (or appends) {@code bytes} and fsyncs the file before returning. */
    public static void write(Path file, byte[] bytes, boolean append) throws IOException {
        try (FileChannel ch = append
                ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true); // fsync(2)
        }
    }

    /** fsync(2) on a directory: the names made or removed in it (a rename) are durable. */
    public static void syncDirectory(Path dir) throws IOException {
        int fd = Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        try {
            Libc.fsync(fd);
        } finally {
            try {
                Libc.close(fd);
            } catch (ErrnoException ignored) {
                // the fsync result is what matters
            }
        }
    }
}

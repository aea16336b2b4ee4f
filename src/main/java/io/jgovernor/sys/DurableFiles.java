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

    /**
     * Replaces ({@code bytes}) or removes ({@code null}) each named file of {@code dir}, in the
     * order given, each as {@link #replace(Path, byte[])} would, but with one syncfs(2) for the data
     * of them all and one fsync of the directory for all the names, instead of two fsyncs (each a
     * journal commit) per file: a cold start keeps a copy of every one of 1000 policy files, and
     * their 2000 commits took 0.25x of the raw apply's time from the pass beside them (issue 18).
     * After a crash each file holds its old content or its new one, whole. On failure no file was
     * replaced by a partial one and the temporary files are removed.
     */
    public static void replaceAll(Path dir, java.util.SequencedMap<String, byte[]> files) throws IOException {
        java.util.List<Path> written = new java.util.ArrayList<>();
        try {
            for (var e : files.entrySet()) {
                if (e.getValue() != null) {
                    Path tmp = dir.resolve("." + e.getKey() + ".tmp");
                    written.add(tmp);
                    writeUnsynced(tmp, e.getValue());
                }
            }
            if (!written.isEmpty()) {
                int fd = Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
                try {
                    Libc.syncfs(fd);
                } finally {
                    closeQuietly(fd);
                }
            }
            for (var e : files.entrySet()) {
                Path file = dir.resolve(e.getKey());
                if (e.getValue() != null) {
                    Files.move(dir.resolve("." + e.getKey() + ".tmp"), file, StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } else {
                    Files.deleteIfExists(file);
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Path tmp : written) {
                Files.deleteIfExists(tmp);
            }
            throw e;
        }
        syncDirectory(dir);
    }

    private static void writeUnsynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // the sync's result is what matters
        }
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
            closeQuietly(fd);
        }
    }
}

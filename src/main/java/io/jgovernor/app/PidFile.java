package io.jgovernor.app;

import io.jgovernor.sys.DurableFiles;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@code jgovernor.pid-file}: the daemon's pid and a newline, written by rename so that a reader
 * never sees half a number, removed at stop only while it still names this process (a daemon
 * started after it owns the file then). A pidfile that cannot be written is logged, not fatal: the
 * daemon does its work without one.
 */
final class PidFile {
    private static final Logger LOG = Logger.getLogger(PidFile.class);

    private final Path file;
    private final String content;

    private PidFile(Path file, String content) {
        this.file = file;
        this.content = content;
    }

    static PidFile write(Path file) {
        String content = ProcessHandle.current().pid() + "\n";
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                // as the control socket's directory: made 0700 when the daemon makes it (RuntimeDirectory= does under systemd)
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            DurableFiles.replace(file, content.getBytes(StandardCharsets.US_ASCII));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException | RuntimeException e) {
            LOG.errorf("cannot write the pid file %s: %s (set jgovernor.pid-file to a path root can write)", file, e);
        }
        return new PidFile(file, content);
    }

    void remove() {
        try {
            if (Files.isRegularFile(file) && Files.readString(file, StandardCharsets.US_ASCII).equals(content)) {
                Files.delete(file);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debugf("pid file removal: %s", e);
        }
    }
}

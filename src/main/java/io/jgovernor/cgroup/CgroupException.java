package io.jgovernor.cgroup;

import io.jgovernor.sys.Errno;
import io.jgovernor.sys.ErrnoException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A cgroup file or directory operation the kernel refused. The message is a log line an operator
 * can act on: {@code /sys/fs/cgroup/cpu/jgovernor/web/cpu.cfs_quota_us: write "500": EINVAL (Invalid argument)}.
 */
public final class CgroupException extends IOException {
    private final Path dir;
    private final String file;
    private final String operation;
    private final String value;
    private final int errno;

    /**
     * @param file the file in {@code dir}, or null when the operation is on the directory itself
     * @param operation "read", "write", "mkdir", "rmdir", "list"
     * @param value what was written, or null
     * @param errno the kernel's errno, or 0 when the failure is not an errno (a short write)
     */
    public CgroupException(Path dir, String file, String operation, String value, int errno, String detail) {
        super(message(dir, file, operation, value, errno, detail));
        this.dir = dir;
        this.file = file;
        this.operation = operation;
        this.value = value;
        this.errno = errno;
    }

    public CgroupException(Path dir, String file, String operation, String value, int errno) {
        this(dir, file, operation, value, errno, null);
    }

    private static String message(Path dir, String file, String operation, String value, int errno, String detail) {
        StringBuilder out = new StringBuilder(128);
        out.append(dir);
        if (file != null) {
            out.append('/').append(file);
        }
        out.append(": ").append(operation);
        if (value != null) {
            out.append(" \"").append(value.replace("\n", "\\n")).append('"');
        }
        out.append(": ");
        if (errno != 0) {
            out.append(ErrnoException.describe(errno));
        }
        if (detail != null) {
            out.append(errno != 0 ? " " : "").append(detail);
        }
        return out.toString();
    }

    public Path dir() {
        return dir;
    }

    /** The file within {@link #dir()}, empty for a directory operation. */
    public Optional<String> file() {
        return Optional.ofNullable(file);
    }

    public String operation() {
        return operation;
    }

    /** What was written, for a write. */
    public Optional<String> value() {
        return Optional.ofNullable(value);
    }

    /** The errno, 0 when none applies. */
    public int errno() {
        return errno;
    }

    /** "EINVAL", ... */
    public String errnoName() {
        return Errno.name(errno);
    }
}

package io.jgovernor.sys;

import java.io.IOException;

/**
 * A failed system call: the call, what it was called on, and the errno the kernel returned. The
 * message reads like a log line: {@code open /sys/fs/cgroup/cpu/x/cpu.shares: ENOENT (No such file or directory)}.
 */
public class ErrnoException extends IOException {
    private final int errno;

    public ErrnoException(String call, String subject, int errno) {
        super(call + (subject == null || subject.isEmpty() ? "" : " " + subject) + ": " + describe(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** The symbolic name, e.g. "EINVAL". */
    public String name() {
        return Errno.name(errno);
    }

    /** "EINVAL (Invalid argument)". */
    public static String describe(int errno) {
        return Errno.name(errno) + " (" + Errno.text(errno) + ")";
    }
}

package io.jgovernor.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a policy file or the policy directory can be trusted. A policy can start processes as
 * root, so whoever can write it is root: the file (and the directory, where anyone who can write
 * could replace the file) must be owned by root and not writable by group or others. A symlink is
 * judged by its target and by its own owner, since whoever owns the link can point it elsewhere.
 */
public final class FileSafety {
    /** No honest policy is this big; a file that is, is a mistake or an attack on memory. */
    public static final long MAX_FILE_BYTES = 1 << 20;
    /** The problem of a path that is not there (any more): the catalog takes it as gone, not broken. */
    static final String GONE = "no such file or directory";
    private static final int ROOT = 0;
    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;

    private FileSafety() {
    }

    /** Why the policy file {@code file} must be refused, or empty when it may be read. */
    public static Optional<String> fileProblem(Path file) {
        return problem(file, false);
    }

    /** Why the policy directory {@code dir} must be refused, or empty when its files may be read. */
    public static Optional<String> directoryProblem(Path dir) {
        return problem(dir, true);
    }

    private static final int S_IFLNK = 0120000;

    private static Optional<String> problem(Path path, boolean directory) {
        String what = directory ? "directory" : "file";
        try {
            // One lstat; a symlink then costs one stat of its target (a cold start checks every file).
            java.util.Map<String, Object> link = Files.readAttributes(path, "unix:mode,uid,size", LinkOption.NOFOLLOW_LINKS);
            boolean symlink = ((Integer) link.get("mode") & S_IFMT) == S_IFLNK;
            if (symlink && (Integer) link.get("uid") != ROOT) {
                return Optional.of("symlink is owned by uid " + link.get("uid") + ", not root; a policy can start"
                        + " processes as root; run: chown -h root " + path);
            }
            java.util.Map<String, Object> target = symlink ? Files.readAttributes(path, "unix:mode,uid,size") : link;
            int mode = (Integer) target.get("mode");
            int owner = (Integer) target.get("uid");
            int type = mode & S_IFMT;
            if (type != (directory ? S_IFDIR : S_IFREG)) {
                return Optional.of(path + (directory ? " is not a directory" : " is not a regular file"));
            }
            Path shown = symlink ? path.toRealPath() : path;
            if (owner != ROOT) {
                return Optional.of(what + " is owned by uid " + owner + ", not root; a policy can start processes"
                        + " as root; run: chown root " + shown);
            }
            if ((mode & GROUP_OR_OTHER_WRITE) != 0) {
                return Optional.of(what + " is writable by group or others (mode "
                        + String.format("%04o", mode & 07777) + "); run: chmod go-w " + shown);
            }
            if (!directory) {
                long size = (Long) target.get("size");
                if (size > MAX_FILE_BYTES) {
                    return Optional.of("file is " + size + " bytes, more than the 1 MiB a policy file may have");
                }
            }
            return Optional.empty();
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.of(GONE);
        } catch (IOException e) {
            return Optional.of("cannot inspect " + what + ": " + e);
        }
    }
}

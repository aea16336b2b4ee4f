package io.jgovernor.policy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Needs root (to chown files to someone else), as the daemon itself does. */
class FileSafetyTest {
    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(isRoot(), "needs root to create files owned by other users");
        file = dir.resolve("web.yaml");
        Files.writeString(file, "name: web\n");
        chmod(file, "rw-r--r--");
        chmod(dir, "rwxr-xr-x");
    }

    static boolean isRoot() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        } catch (IOException e) {
            return false;
        }
    }

    static void chmod(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    static void chown(Path p, int uid, LinkOption... options) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, options);
    }

    @Test
    void rootOwnedAndNotGroupWritableIsSafe() {
        assertEquals(Optional.empty(), FileSafety.fileProblem(file));
        assertEquals(Optional.empty(), FileSafety.directoryProblem(dir));
    }

    @Test
    void groupWritableFileIsRefused() throws IOException {
        chmod(file, "rw-rw-r--");
        assertEquals(Optional.of("file is writable by group or others (mode 0664); run: chmod go-w " + file),
                FileSafety.fileProblem(file));
    }

    @Test
    void otherWritableFileIsRefused() throws IOException {
        chmod(file, "rw-r--rw-");
        assertEquals(Optional.of("file is writable by group or others (mode 0646); run: chmod go-w " + file),
                FileSafety.fileProblem(file));
    }

    @Test
    void fileOwnedBySomeoneElseIsRefused() throws IOException {
        chown(file, 65534);
        assertEquals(Optional.of("file is owned by uid 65534, not root; a policy can start processes as root;"
                + " run: chown root " + file), FileSafety.fileProblem(file));
    }

    @Test
    void writableDirectoryIsRefused() throws IOException {
        chmod(dir, "rwxrwxrwx");
        assertEquals(Optional.of("directory is writable by group or others (mode 0777); run: chmod go-w " + dir),
                FileSafety.directoryProblem(dir));
    }

    @Test
    void directoryOwnedBySomeoneElseIsRefused() throws IOException {
        chown(dir, 65534);
        assertEquals(Optional.of("directory is owned by uid 65534, not root; a policy can start processes as root;"
                + " run: chown root " + dir), FileSafety.directoryProblem(dir));
    }

    @Test
    void symlinkIsJudgedByItsTargetAndItsOwnOwner() throws IOException {
        Path link = dir.resolve("link.yaml");
        Files.createSymbolicLink(link, file);
        assertEquals(Optional.empty(), FileSafety.fileProblem(link));
        chmod(file, "rw-rw-r--");
        assertEquals(Optional.of("file is writable by group or others (mode 0664); run: chmod go-w " + file.toRealPath()),
                FileSafety.fileProblem(link));
        chmod(file, "rw-r--r--");
        chown(link, 65534, LinkOption.NOFOLLOW_LINKS);
        assertEquals(Optional.of("symlink is owned by uid 65534, not root; a policy can start processes as root;"
                + " run: chown -h root " + link), FileSafety.fileProblem(link));
    }

    @Test
    void bigFileIsRefused() throws IOException {
        Files.writeString(file, "#".repeat((1 << 20) + 1));
        assertEquals(Optional.of("file is 1048577 bytes, more than the 1 MiB a policy file may have"),
                FileSafety.fileProblem(file));
    }

    @Test
    void directoryIsNotAPolicyFile() {
        assertEquals(Optional.of(dir + " is not a regular file"), FileSafety.fileProblem(dir));
    }
}

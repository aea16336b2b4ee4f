package io.jgovernor.policy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * What a {@code run:} section needs from this host, checked in advance with a located error:
 * the program, the user and group, the rootfs, the bind mount sources. Real files in a temp
 * directory and this host's /etc/passwd (Debian: root and nobody exist).
 */
class RunHostValidationTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/web.yaml");
    @TempDir
    static Path dir;
    static Path program;
    static Path notExecutable;
    static Path rootfs;

    @BeforeAll
    static void files() throws IOException {
        program = Files.writeString(dir.resolve("prog"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        notExecutable = Files.writeString(dir.resolve("data"), "x");
        rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.createSymbolicLink(rootfs.resolve("sh"), Path.of("/bin/busybox-that-only-exists-inside"));
        rootfs = rootfs.getParent();
    }

    private static List<String> errors(String yaml) {
        ParseResult r = new PolicyParser(new SysfsHostFacts()).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Rejected.class, r).errors().stream().map(PolicyError::toString).toList();
    }

    private static void ok(String yaml) {
        ParseResult r = new PolicyParser(new SysfsHostFacts()).parse(FILE, yaml);
        assertInstanceOf(ParseResult.Ok.class, r, () -> r.toString());
    }

    @Test
    void aProgramThatIsMissingOrNotExecutable() {
        assertEquals(List.of(FILE + ":2:17: run.command[0]: " + dir.resolve("nope") + " does not exist"),
                errors("name: web\nrun: {command: [" + dir.resolve("nope") + "]}\n"));
        assertEquals(List.of(FILE + ":2:17: run.command[0]: " + notExecutable + " is not executable (no x permission)"),
                errors("name: web\nrun: {command: [" + notExecutable + "]}\n"));
        assertEquals(List.of(FILE + ":2:17: run.command[0]: " + dir + " is not a regular file"),
                errors("name: web\nrun: {command: [" + dir + "]}\n"));
        ok("name: web\nrun: {command: [" + program + ", arg]}\n");
    }

    @Test
    void unknownUserAndGroup() {
        String line = "run: {command: [" + program + "], user: no-such-user-x, group: no-such-group-x}";
        assertEquals(List.of(FILE + ":2:" + (line.indexOf("no-such-user") + 1)
                        + ": run.user: no user \"no-such-user-x\" on this host (/etc/passwd);"
                        + " create it or give a numeric uid",
                FILE + ":2:" + (line.indexOf("no-such-group") + 1)
                        + ": run.group: no group \"no-such-group-x\" on this host (/etc/group);"
                        + " create it or give a numeric gid"),
                errors("name: web\n" + line + "\n"));
        ok("name: web\nrun: {command: [" + program + "], user: nobody, group: \"12345\"}\n");
        ok("name: web\nrun: {command: [" + program + "], user: \"4321\"}\n");
    }

    @Test
    void aRootfsThatIsNotADirectoryAndAProgramMissingInside() {
        String iso = "name: web\nrun:\n  command: [%s]\n  isolate: {namespaces: [mount], rootfs: %s}\n";
        assertEquals(List.of(FILE + ":4:42: run.isolate.rootfs: " + notExecutable + " is not a directory;"
                        + " the workload pivots into this directory"),
                errors(iso.formatted("/bin/sh", notExecutable)));
        assertEquals(List.of(FILE + ":4:42: run.isolate.rootfs: " + dir.resolve("gone") + " does not exist;"
                        + " the workload pivots into this directory"),
                errors(iso.formatted("/bin/sh", dir.resolve("gone"))));
        assertEquals(List.of(FILE + ":3:13: run.command[0]: /bin/python3 does not exist in the rootfs ("
                        + rootfs.resolve("bin/python3") + ")"),
                errors(iso.formatted("/bin/python3", rootfs)));
        // a link inside the rootfs points into the rootfs: it is not followed on the host
        ok(iso.formatted("/bin/sh", rootfs));
    }

    @Test
    void aMountSourceThatDoesNotExist() {
        String yaml = "name: web\nrun:\n  command: [" + program + "]\n  isolate:\n    namespaces: [mount]\n"
                + "    mounts:\n      - {source: " + dir + ", target: /a}\n      - {source: " + dir.resolve("gone")
                + ", target: /b, readOnly: true}\n";
        assertEquals(List.of(FILE + ":8:18: run.isolate.mounts[1].source: " + dir.resolve("gone")
                + " does not exist on this host"), errors(yaml));
    }
}

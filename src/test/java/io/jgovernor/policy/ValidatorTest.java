package io.jgovernor.policy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ValidatorTest {
    @TempDir
    Path root;
    Path dir;
    final Validator validator = new Validator(new PolicyParser(FakeHost.HOST));

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(FileSafetyTest.isRoot(), "policy files must be owned by root");
        dir = Files.createDirectories(root.resolve("policies.d"));
        FileSafetyTest.chmod(dir, "rwxr-xr-x");
    }

    private Path write(Path in, String name, String content) throws IOException {
        Path f = in.resolve(name);
        Files.writeString(f, content);
        FileSafetyTest.chmod(f, "rw-r--r--");
        return f;
    }

    private List<String> validate(Path... paths) {
        return validator.validate(List.of(paths)).stream().map(PolicyError::toString).toList();
    }

    @Test
    void aCleanDirectoryHasNoErrors() throws IOException {
        write(dir, "batch.yaml", "name: batch\n");
        write(dir, "low.yaml", "name: batch/low\n");
        write(dir, "ignored.yaml~", "garbage: [\n");
        assertEquals(List.of(), validate(dir));
    }

    @Test
    void duplicatesAcrossFilesNameTheOtherFile() throws IOException {
        Path web = write(dir, "web.yaml", "name: web\n");
        Path db = write(dir, "db.yaml", "name: web\n");
        // name order: db.yaml is read first, so web.yaml is the later one
        assertEquals(List.of(web + ":1:7: group \"web\" is already defined in " + db), validate(dir));
    }

    @Test
    void theSpecExampleForADuplicate() throws IOException {
        Path web = write(dir, "web.yaml", "name: web\n");
        Path other = Files.createDirectories(root.resolve("other"));
        FileSafetyTest.chmod(other, "rwxr-xr-x");
        Path db = write(other, "db.yaml", "name: web\n");
        assertEquals(List.of(db + ":1:7: group \"web\" is already defined in " + web), validate(web, db));
    }

    @Test
    void aMissingParentIsReported() throws IOException {
        Path low = write(dir, "low.yaml", "name: batch/low\n");
        assertEquals(List.of(low + ":1:7: parent group \"batch\" is not defined"), validate(dir));
    }

    @Test
    void aParentGivenAsAnotherFileCounts() throws IOException {
        Path low = write(dir, "low.yaml", "name: batch/low\n");
        Path other = Files.createDirectories(root.resolve("other"));
        Path batch = write(other, "batch.yaml", "name: batch\n");
        assertEquals(List.of(), validate(low, batch));
    }

    @Test
    void parseErrorsAndSafetyProblemsAreAllReported() throws IOException {
        Path web = write(dir, "web.yaml", "name: web\ncpu: {quota: 150}\n");
        FileSafetyTest.chmod(web, "rw-rw-r--");
        FileSafetyTest.chmod(dir, "rwxrwxr-x");
        assertEquals(List.of(
                dir + ":1:1: directory is writable by group or others (mode 0775); run: chmod go-w " + dir,
                web + ":1:1: file is writable by group or others (mode 0664); run: chmod go-w " + web,
                web + ":2:14: cpu.quota: \"150\" is not a percentage; write it like \"150%\""), validate(dir));
    }

    @Test
    void aFileOwnedBySomeoneElseIsReported() throws IOException {
        Path web = write(dir, "web.yaml", "name: web\n");
        FileSafetyTest.chown(web, 65534);
        assertEquals(List.of(web + ":1:1: file is owned by uid 65534, not root; a policy can start processes as root;"
                + " run: chown root " + web), validate(web));
    }

    @Test
    void aMissingFileIsReported() {
        Path missing = dir.resolve("missing.yaml");
        assertEquals(List.of(missing + ":1:1: no such file or directory"), validate(missing));
    }
}

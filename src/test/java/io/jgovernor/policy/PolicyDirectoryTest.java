package io.jgovernor.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PolicyDirectoryTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        return new PolicyDirectory(dir).list().stream().map(c -> c.file().getFileName().toString()).toList();
    }

    @Test
    void listsOnlyPolicyFilesInNameOrder() throws IOException {
        for (String name : List.of("web.yaml", "db.yml", "a.yaml", "x.yaml~", "x.yaml.rpmnew", ".x.yaml.swp",
                ".hidden.yaml", "notes.txt", "yaml")) {
            Files.writeString(dir.resolve(name), "name: x\n");
        }
        Files.createDirectories(dir.resolve("sub.yaml"));
        Files.writeString(dir.resolve("sub.yaml").resolve("inner.yaml"), "name: y\n");
        Files.createSymbolicLink(dir.resolve("linked.yaml"), dir.resolve("web.yaml"));
        Files.createSymbolicLink(dir.resolve("dangling.yaml"), dir.resolve("missing.yaml"));
        Files.createSymbolicLink(dir.resolve("todir.yaml"), dir.resolve("sub.yaml"));
        assertEquals(List.of("a.yaml", "db.yml", "linked.yaml", "web.yaml"), names());
    }

    @Test
    void fingerprintChangesWhenContentOrModeChanges() throws IOException, InterruptedException {
        Path f = dir.resolve("web.yaml");
        Files.writeString(f, "name: web\n");
        PolicyDirectory.Fingerprint first = PolicyDirectory.fingerprint(f);
        assertEquals(first, PolicyDirectory.fingerprint(f));
        Files.writeString(f, "name: web2\n");
        assertNotEquals(first, PolicyDirectory.fingerprint(f));

        Path tmp = dir.resolve(".web.yaml.tmp");
        Files.writeString(tmp, "name: web2\n"); // same size, new inode
        PolicyDirectory.Fingerprint before = PolicyDirectory.fingerprint(f);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertNotEquals(before, PolicyDirectory.fingerprint(f));
    }

    @Test
    void unreadableDirectoryThrows() {
        assertThrows(IOException.class, () -> new PolicyDirectory(dir.resolve("missing")).list());
    }
}

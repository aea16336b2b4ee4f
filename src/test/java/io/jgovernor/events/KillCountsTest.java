package io.jgovernor.events;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KillCountsTest {
    @TempDir
    Path tmp;

    @Test
    void countsKeptByOneRunAreReadByTheNext() throws IOException {
        Path file = tmp.resolve("state/oom-kills");
        KillCounts run = KillCounts.load(file);
        run.putAll(Map.of(new GroupName("web"), new KillCounts.Seen("boot:1", 3),
                new GroupName("batch/low"), new KillCounts.Seen("boot:2", 0)));
        run.put(new GroupName("web"), new KillCounts.Seen("boot:1", 5));
        KillCounts next = KillCounts.load(file);
        assertEquals(Optional.of(new KillCounts.Seen("boot:1", 5)), next.get(new GroupName("web")));
        assertEquals(Optional.of(new KillCounts.Seen("boot:2", 0)), next.get(new GroupName("batch/low")));
        assertEquals("jgovernor-oom-kills 1\nbatch/low boot:2 0\nweb boot:1 5\n", Files.readString(file));
        try (var list = Files.list(file.getParent())) {
            assertEquals(1, list.count(), "no temporary file left");
        }
    }

    @Test
    void aForgottenGroupLeavesWithTheNextWrite() throws IOException {
        Path file = tmp.resolve("oom-kills");
        KillCounts run = KillCounts.load(file);
        run.putAll(Map.of(new GroupName("a"), new KillCounts.Seen("k", 1)));
        run.forget(new GroupName("a"));
        run.put(new GroupName("b"), new KillCounts.Seen("k", 2));
        assertEquals(Optional.empty(), KillCounts.load(file).get(new GroupName("a")));
    }

    @Test
    void aDamagedFileIsIgnoredNotFatal() throws IOException {
        Path file = tmp.resolve("oom-kills");
        Files.writeString(file, "jgovernor-oom-kills 1\nweb boot:1\n"); // cut short
        assertEquals(Optional.empty(), KillCounts.load(file).get(new GroupName("web")));
        Files.writeString(file, "something else\n");
        assertEquals(Optional.empty(), KillCounts.load(file).get(new GroupName("web")));
    }

    @Test
    void aDirectoryMadeAgainHasAnotherKey() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("g"));
        String first = KillCounts.dirKey(dir).orElseThrow();
        assertEquals(first, KillCounts.dirKey(dir).orElseThrow());
        Path keep = Files.createDirectory(tmp.resolve("keep")); // the old inode stays taken
        Files.move(dir, keep.resolve("g"));
        Files.createDirectory(dir);
        assertNotEquals(first, KillCounts.dirKey(dir).orElseThrow());
        assertTrue(first.startsWith(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip() + ":"), first);
        assertEquals(Optional.empty(), KillCounts.dirKey(tmp.resolve("missing")));
    }
}

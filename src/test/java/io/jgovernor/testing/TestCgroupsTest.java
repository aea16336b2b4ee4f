package io.jgovernor.testing;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
class TestCgroupsTest {
    @Test
    void makesOneRootPerHierarchyBeneathThisProcess(TestCgroups cg) throws Exception {
        assertTrue(cg.root().startsWith(TestCgroups.PREFIX));
        for (var h : cg.hierarchies()) {
            Path dir = cg.layout().rootDir(h);
            assertEquals(h.ownDir().resolve(cg.root()), dir);
            assertTrue(Files.isDirectory(dir), dir.toString());
        }
        // the cpuset test root is usable: it inherited cpus and mems
        assertFalse(cg.files().read(cg.dir("cpuset"), "cpuset.cpus").orElseThrow().isBlank());
        Path nested = cg.makeGroup("cpuset", new GroupName("a/b"));
        assertEquals(cg.files().read(cg.dir("cpuset"), "cpuset.mems"), cg.files().read(nested, "cpuset.mems"));
    }

    @Test
    void refusesToWorkOutsideItsRoot(TestCgroups cg) {
        // GroupName cannot hold "..", so the only way out would be a bad layout; the guard is still checked
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cg.hierarchy("net_cls"));
        assertTrue(e.getMessage().contains("no net_cls hierarchy"), e.getMessage());
    }
}

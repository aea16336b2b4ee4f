package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run-time freezes: kept in their file, laid over the desired state, a policy's freezer: key winning. */
class RuntimeFreezesTest {
    @TempDir
    Path tmp;

    private static Policy policy(String name, Resources r) {
        return new Policy(new GroupName(name), Optional.empty(), List.of(), Optional.empty(), r, List.of());
    }

    @Test
    void keptAcrossLoadsAndLaidOverOnlyWhereThePolicyHasNoFreezerKey() throws Exception {
        Path file = tmp.resolve("state/frozen");
        RuntimeFreezes f = RuntimeFreezes.load(file);
        SortedMap<GroupName, Policy> desired = new TreeMap<>();
        desired.put(new GroupName("web"), policy("web", Resources.NONE));
        desired.put(new GroupName("held"), policy("held",
                Resources.NONE.withFreezer(Optional.of(new Resources.Freezer(false)))));
        assertSame(desired, f.overlay(desired), "nothing frozen: the same map, so a pass's base check holds");

        assertTrue(f.add(new GroupName("web")));
        assertFalse(f.add(new GroupName("web")));
        assertTrue(f.add(new GroupName("held")));
        assertTrue(f.add(new GroupName("gone")));
        assertEquals("gone\nheld\nweb\n", Files.readString(file));

        SortedMap<GroupName, Policy> over = RuntimeFreezes.load(file).overlay(desired);
        assertEquals(Optional.of(new Resources.Freezer(true)), over.get(new GroupName("web")).resources().freezer());
        assertEquals(Optional.of(new Resources.Freezer(false)), over.get(new GroupName("held")).resources().freezer(),
                "the policy's freezer: key wins");
        assertFalse(over.containsKey(new GroupName("gone")), "a group no policy defines is not made");
        assertEquals(Optional.empty(), desired.get(new GroupName("web")).resources().freezer(), "the input is not changed");

        assertTrue(f.remove(new GroupName("web")));
        assertFalse(f.remove(new GroupName("web")));
        assertEquals("gone\nheld\n", Files.readString(file));
        assertSame(desired, RuntimeFreezes.load(file).overlay(desired));
    }
}

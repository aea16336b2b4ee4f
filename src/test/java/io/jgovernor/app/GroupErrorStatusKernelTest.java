package io.jgovernor.app;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.reconcile.Report;
import io.jgovernor.testing.KernelTest;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * issue 14 point 3: a group whose write the kernel refuses shows in {@code status} as state
 * {@code error} with its {@code lastError}, and the systemd STATUS line counts it; the error comes
 * from the reconcile pass's own report (Reconciler.groupErrors), through a real kernel refusal.
 */
@KernelTest
class GroupErrorStatusKernelTest {
    private static JsonObject group(JsonObject status, String name) {
        for (Object o : status.getJsonArray("groups")) {
            JsonObject g = (JsonObject) o;
            if (g.getString("name").equals(name)) {
                return g;
            }
        }
        throw new AssertionError("no group " + name + " in " + status.encodePrettily());
    }

    @Test
    void aGroupWhoseWriteTheKernelRefusesIsInErrorWithItsLastError(TestCgroups cg) throws Exception {
        Reconciler reconciler = new Reconciler(Backend.of(cg.layout(), cg.files()), cg.files());
        // memory.swappiness takes 0..100: the kernel refuses 500 with EINVAL (the parser cannot
        // know a raw file's range, so the write is where it fails)
        SortedMap<GroupName, Policy> policies = TestPolicies.parse(Path.of("t.yaml"), """
                name: good
                pids: {max: 5}
                ---
                name: bad
                files:
                  memory.swappiness: 500
                """);
        Report report = reconciler.reconcileAll(policies);
        assertEquals(1, report.errors().size(), report.toString());
        assertEquals(List.of("bad"), List.copyOf(reconciler.groupErrors().keySet()));

        CatalogState catalog = new CatalogState(policies, List.of(), List.of());
        JsonObject status = StatusDocument.build(true, catalog, report, reconciler.groupErrors(), null, null, null);
        JsonObject bad = group(status, "bad");
        assertEquals(StatusDocument.ERROR, bad.getString("state"), bad.encode());
        String lastError = bad.getString("lastError");
        assertTrue(lastError.contains("memory.swappiness") && lastError.contains("500") && lastError.contains("EINVAL"),
                lastError);
        JsonObject good = group(status, "good");
        assertEquals(StatusDocument.APPLIED, good.getString("state"), good.encode());
        assertNull(good.getString("lastError"));
        assertTrue(Daemon.statusLine(catalog, null, Path.of("/etc/jgovernor/policies.d"), reconciler.groupErrors())
                .endsWith("; 1 groups with errors"), Daemon.statusLine(catalog, null, Path.of("/p"), reconciler.groupErrors()));

        // fixed: the next pass over it succeeds, and status says applied with no error
        SortedMap<GroupName, Policy> fixed = TestPolicies.parse(Path.of("t.yaml"),
                "name: good\npids: {max: 5}\n---\nname: bad\nfiles:\n  memory.swappiness: 50\n");
        assertEquals(List.of(), reconciler.reconcileAll(fixed).errors());
        JsonObject after = StatusDocument.build(true, new CatalogState(fixed, List.of(), List.of()), null,
                reconciler.groupErrors(), null, null, null);
        assertEquals(StatusDocument.APPLIED, group(after, "bad").getString("state"));
        assertEquals(Map.of(), reconciler.groupErrors());
    }
}

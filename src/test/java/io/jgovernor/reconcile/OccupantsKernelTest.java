package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.testing.KernelTest;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestPolicies;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A removed group whose directories still hold a process of its workload (one that did not stop)
 * keeps them, whole, with an error for the group; the next pass removes them once it is gone.
 */
@KernelTest
class OccupantsKernelTest {

    @Test
    void aRemovedGroupHoldingItsWorkloadKeepsItsDirectoriesUntilTheWorkloadIsGone(TestCgroups cg) throws Exception {
        Reconciler r = new Reconciler(io.jgovernor.cgroup.Backend.of(cg.layout(), cg.files()), cg.files());
        GroupName svc = new GroupName("svc");
        SortedMap<GroupName, Policy> desired = TestPolicies.parse(Path.of("svc.yaml"),
                "name: svc\nmemory: {limit: 64Mi}\npids: {max: 50}\n");
        assertEquals(List.of(), r.reconcileAll(desired).errors());
        List<Path> dirs = r.of(svc);
        assertTrue(dirs.size() >= 2, "memory and pids at least: " + dirs);
        Process workload = cg.start("sleep", "300");
        for (Path d : dirs) {
            cg.files().moveProcess(d, (int) workload.pid());
        }
        AtomicBoolean stillRuns = new AtomicBoolean(true);
        r.keepOccupied((g, pid) -> stillRuns.get() && g.equals(svc) && pid == workload.pid());

        Report kept = r.reconcileAll(new TreeMap<>());
        assertFalse(kept.errors().isEmpty(), "an error for svc");
        assertTrue(kept.errors().stream().allMatch(e -> e.group().equals("svc")), "errors: " + kept.errors());
        assertTrue(kept.errors().getFirst().message().contains("pid " + workload.pid()), kept.errors().toString());
        for (Path d : dirs) {
            assertTrue(Files.isDirectory(d), d + " kept");
            assertEquals(List.of((int) workload.pid()), cg.files().procs(d), "the workload not moved out of " + d);
        }

        workload.destroyForcibly().waitFor();
        stillRuns.set(false);
        assertEquals(List.of(), r.reconcileAll(new TreeMap<>()).errors(), "removed on the next pass");
        for (Path d : dirs) {
            assertFalse(Files.exists(d), d + " removed");
        }
    }
}

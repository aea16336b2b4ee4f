package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the reconciler keeps real cgroup directories equal to the policies. */
class ReconcilerKernelTest {
    private static final String MAX_MEMORY = "9223372036854771712";
    private KernelGroups k;

    @BeforeEach
    void setUp() {
        k = new KernelGroups();
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    /** issue 14: weight 100 is cpu.shares 1024 on v1 (systemd's formula), as the kernel reads it back. */
    @Test
    void weightIsWrittenAsSharesOnV1() throws Exception {
        k.apply("name: w\ncpu: {shares: 512}\n");
        assertEquals("512", k.read("cpu", "w", "cpu.shares"));
        k.apply("name: w\ncpu: {weight: 100}\n");
        assertEquals("1024", k.read("cpu", "w", "cpu.shares"));
        k.apply("name: w\ncpu: {weight: 250}\n");
        assertEquals("2560", k.read("cpu", "w", "cpu.shares"));
        assertEquals(0, k.reconciler.reconcileAll(k.policies("name: w\ncpu: {weight: 250}\n")).writes(),
                "read back equal: nothing to write again");
    }

    @Test
    void aSecondPassOverUnchangedPoliciesWritesNothing() {
        String yaml = """
                name: web
                cpu: {shares: 512, quota: 50%, period: 50ms}
                cpuset: {cpus: "0-1", mems: "0"}
                memory: {limit: 1000000, swapLimit: 2000000, oomKillDisable: true}
                io: {weight: 300}
                pids: {max: 100}
                """;
        Report first = k.apply(yaml);
        assertTrue(first.writes() > 5, first.toString());
        // 1000000 is not a multiple of the page size: the kernel rounds it, and the comparison
        // must normalize or every pass would write it again.
        Report second = k.apply(yaml);
        assertEquals(0, second.writes() + second.mkdirs() + second.removals(), second.toString());
        assertEquals(0, second.driftCorrections());
    }

    @Test
    void aValueChangedByHandIsPutBackAndCountedAsDrift() throws Exception {
        String yaml = "name: web\ncpu: {shares: 512}\npids: {max: 50}\n";
        k.apply(yaml);
        Files.writeString(k.dir("cpu", "web").resolve("cpu.shares"), "4096");
        Files.writeString(k.dir("pids", "web").resolve("pids.max"), "max");
        Report again = k.apply(yaml);
        assertEquals(2, again.driftCorrections(), again.toString());
        assertEquals("512", k.read("cpu", "web", "cpu.shares"));
        assertEquals("50", k.read("pids", "web", "pids.max"));
        assertEquals(2, k.reconciler.driftCorrectionsTotal());
    }

    @Test
    void aDirectoryRemovedByHandIsMadeAgain() throws Exception {
        String yaml = "name: web\npids: {max: 50}\n";
        k.apply(yaml);
        Files.delete(k.dir("pids", "web"));
        Report again = k.apply(yaml);
        assertEquals(1, again.mkdirs());
        assertTrue(again.driftCorrections() >= 1);
        assertEquals("50", k.read("pids", "web", "pids.max"));
    }

    @Test
    void aKeyLeftOutReturnsItsFileToTheFreshDefault() throws Exception {
        k.apply("name: web\ncpu: {shares: 512, quota: 30%}\nmemory: {limit: 64Mi, swapLimit: 128Mi}\n");
        assertEquals("30000", k.read("cpu", "web", "cpu.cfs_quota_us"));
        k.apply("name: web\ncpu: {shares: 512}\nmemory: {}\n");
        assertEquals("-1", k.read("cpu", "web", "cpu.cfs_quota_us"));
        assertEquals("100000", k.read("cpu", "web", "cpu.cfs_period_us"));
        assertEquals(MAX_MEMORY, k.read("memory", "web", "memory.limit_in_bytes"));
        assertEquals(MAX_MEMORY, k.read("memory", "web", "memory.memsw.limit_in_bytes"));
    }

    @Test
    void aSectionLeftOutRemovesTheGroupFromThatHierarchyAndKeepsItsProcesses() throws Exception {
        k.apply("name: web\nmemory: {limit: 64Mi}\npids: {max: 50}\n");
        Process p = k.cgroups.start("sleep", "30");
        k.join(p.pid(), "web");
        k.apply("name: web\npids: {max: 50}\n");
        assertFalse(Files.exists(k.dir("memory", "web")));
        assertTrue(Files.isDirectory(k.dir("pids", "web")));
        // moved to the parent, i.e. the root, in the memory hierarchy
        assertEquals(cgroupPath("memory", null), TestCgroups.cgroupOf(p.pid(), "memory").orElseThrow());
        assertEquals(cgroupPath("pids", "web"), TestCgroups.cgroupOf(p.pid(), "pids").orElseThrow());
    }

    @Test
    void aRemovedGroupMovesItsProcessesToTheParentAndLeavesNoDirectory() throws Exception {
        k.apply("name: batch\npids: {max: 50}\n---\nname: batch/low\npids: {max: 10}\n---\nname: web\npids: {max: 5}\n");
        Process p = k.cgroups.start("sleep", "30");
        k.join(p.pid(), "batch/low");
        Report removal = k.apply("name: batch\npids: {max: 50}\n");
        // batch/low and web, each in the pids and cpuacct hierarchies (every group is accounted)
        assertEquals(4, removal.removals(), removal.toString());
        assertFalse(Files.exists(k.dir("pids", "batch/low")));
        assertFalse(Files.exists(k.dir("pids", "web")));
        assertEquals(cgroupPath("pids", "batch"), TestCgroups.cgroupOf(p.pid(), "pids").orElseThrow());
        assertTrue(p.isAlive());
    }

    @Test
    void aNestedGroupWithoutACpusetGetsItsParentsCpus() throws Exception {
        k.apply("""
                name: batch
                cpuset: {cpus: "1", mems: "0"}
                ---
                name: batch/low
                cpuset: {}
                ---
                name: batch/low/deeper
                pids: {max: 5}
                """);
        assertEquals("1", k.read("cpuset", "batch/low", "cpuset.cpus"));
        assertEquals("0", k.read("cpuset", "batch/low", "cpuset.mems"));
        assertTrue(Files.isDirectory(k.dir("pids", "batch/low/deeper")));
        // batch/low/deeper sets no cpuset, but it is contained in its parent's: a directory there
        // with the parent's cpus and mems (policy.md: nested groups are contained); pids needs its parents.
        assertEquals("1", k.read("cpuset", "batch/low/deeper", "cpuset.cpus"));
        assertEquals("0", k.read("cpuset", "batch/low/deeper", "cpuset.mems"));
        assertTrue(Files.isDirectory(k.dir("pids", "batch/low")));
    }

    @Test
    void aWriteTheKernelRefusesIsLocatedAndDoesNotStopOtherGroups() throws Exception {
        // Validation would refuse a child's cpuset outside its parent's; built here directly to
        // see what the reconciler does when the kernel refuses a write anyway.
        SortedMap<GroupName, Policy> policies = new TreeMap<>(k.policies("""
                name: a
                cpuset: {cpus: "0", mems: "0"}
                ---
                name: b
                pids: {max: 7}
                """));
        policies.putAll(k.policies("name: a/child\ncpuset: {cpus: \"1\", mems: \"0\"}\n"));
        Report report = k.reconciler.reconcileAll(policies);
        assertEquals(1, report.errors().size(), report.errors().toString());
        ReconcileError error = report.errors().getFirst();
        assertEquals("a/child", error.group());
        assertTrue(error.message().contains("a/child/cpuset.cpus") && error.message().contains("\"1\"")
                && error.message().contains("EACCES"), error.message()); // v1 cpuset's answer
        assertEquals("7", k.read("pids", "b", "pids.max"));
        assertEquals("0", k.read("cpuset", "a", "cpuset.cpus"));
        assertEquals(1, k.reconciler.errorsTotal());
    }

    @Test
    void aGroupsErrorIsKeptUntilAPassOverItSucceeds() throws Exception {
        // status and the systemd STATUS line read groupErrors: it was never filled (issue 14).
        SortedMap<GroupName, Policy> policies = new TreeMap<>(k.policies("""
                name: a
                cpuset: {cpus: "0", mems: "0"}
                ---
                name: b
                pids: {max: 7}
                """));
        policies.putAll(k.policies("name: a/child\ncpuset: {cpus: \"1\", mems: \"0\"}\n"));
        k.reconciler.reconcileAll(policies);
        assertEquals(java.util.Set.of("a/child"), k.reconciler.groupErrors().keySet());
        assertTrue(k.reconciler.groupErrors().get("a/child").contains("EACCES"), k.reconciler.groupErrors().toString());

        // a partial pass over another group leaves a/child's error as it is
        SortedMap<GroupName, Policy> bChanged = new TreeMap<>(policies);
        bChanged.putAll(k.policies("name: b\npids: {max: 8}\n"));
        assertEquals(1, k.reconciler.reconcileChanges(bChanged).groups());
        assertEquals(java.util.Set.of("a/child"), k.reconciler.groupErrors().keySet());

        // fixed: a pass over a/child succeeds and its error goes
        SortedMap<GroupName, Policy> fixed = new TreeMap<>(bChanged);
        fixed.putAll(k.policies("name: a/child\ncpuset: {cpus: \"0\", mems: \"0\"}\n"));
        assertEquals(java.util.List.of(), k.reconciler.reconcileChanges(fixed).errors());
        assertEquals(java.util.Map.of(), k.reconciler.groupErrors());
    }

    @Test
    void aPartialPassTouchesOnlyChangedGroups() throws Exception {
        k.apply("name: a\npids: {max: 5}\n---\nname: b\npids: {max: 6}\n");
        // drift in b is not looked at by a pass triggered by a change to a
        Files.writeString(k.dir("pids", "b").resolve("pids.max"), "99");
        Report partial = k.reconciler.reconcileChanges(k.policies("name: a\npids: {max: 8}\n---\nname: b\npids: {max: 6}\n"));
        assertEquals(1, partial.groups(), partial.toString());
        assertEquals("8", k.read("pids", "a", "pids.max"));
        assertEquals("99", k.read("pids", "b", "pids.max"));
        Report full = k.reconciler.reconcileAll(k.policies("name: a\npids: {max: 8}\n---\nname: b\npids: {max: 6}\n"));
        assertEquals(1, full.driftCorrections());
        assertEquals("6", k.read("pids", "b", "pids.max"));
    }

    @Test
    void aGroupDeletedFromPoliciesIsRemovedByAPartialPass() throws Exception {
        k.reconciler.reconcileChanges(k.policies("name: a\npids: {max: 5}\n---\nname: b\npids: {max: 6}\n"));
        Report partial = k.reconciler.reconcileChanges(k.policies("name: a\npids: {max: 5}\n"));
        assertFalse(Files.exists(k.dir("pids", "b")));
        assertTrue(partial.removals() >= 2, partial.toString());
        assertTrue(Files.isDirectory(k.dir("pids", "a")));
    }

    @Test
    void aChildThatStartsUsingAControllerGetsItsUnchangedParentThereInAPartialPass() throws Exception {
        String without = "name: batch\npids: {max: 50}\n---\nname: batch/low\npids: {max: 10}\n";
        k.reconciler.reconcileChanges(k.policies(without));
        assertFalse(Files.exists(k.dir("memory", "batch")));
        Report on = k.reconciler.reconcileChanges(k.policies(without + "memory: {limit: 64Mi}\n"));
        assertEquals(java.util.List.of(), on.errors());
        assertEquals("67108864", k.read("memory", "batch/low", "memory.limit_in_bytes"));
        Report off = k.reconciler.reconcileChanges(k.policies(without));
        assertEquals(java.util.List.of(), off.errors());
        assertFalse(Files.exists(k.dir("memory", "batch")), "the parent no longer needs the memory hierarchy");
        assertEquals("10", k.read("pids", "batch/low", "pids.max"));
    }

    @Test
    void aLargePlanAppliedOneHierarchyPerThreadLeavesEverySettingAsAskedAndCountsEveryStep() throws Exception {
        StringBuilder yaml = new StringBuilder();
        // 150 groups: above the sizes planned (128 groups) and applied (256 steps) a hierarchy per thread
        int n = 150;
        for (int i = 0; i < n; i++) {
            yaml.append("---\nname: g").append(i).append("\ncpu: {shares: ").append(100 + i)
                    .append(", quota: ").append(10 + i).append("%}\nmemory: {limit: ").append(16 + i)
                    .append("Mi}\npids: {max: ").append(10 + i).append("}\n");
        }
        Report first = k.apply(yaml.toString());
        assertEquals(java.util.List.of(), first.errors());
        assertTrue(first.mkdirs() >= 4 * n, first.toString());
        assertEquals(4 * n, first.writes(), first.toString()); // shares, quota, limit, pids.max (period is the default)
        for (int i = 0; i < n; i++) {
            assertEquals(Integer.toString(100 + i), k.read("cpu", "g" + i, "cpu.shares"));
            assertEquals(Integer.toString((10 + i) * 1000), k.read("cpu", "g" + i, "cpu.cfs_quota_us"));
            assertEquals(Long.toString((16L + i) << 20), k.read("memory", "g" + i, "memory.limit_in_bytes"));
            assertEquals(Integer.toString(10 + i), k.read("pids", "g" + i, "pids.max"));
        }
        Files.writeString(k.dir("pids", "g77").resolve("pids.max"), "max");
        Files.delete(k.dir("cpu", "g78"));
        Report again = k.apply(yaml.toString());
        assertEquals(1, again.mkdirs(), "a directory removed by hand, seen from its parent's listing: " + again);
        assertEquals(3, again.writes(), "pids.max put back, g78's shares and quota written again: " + again);
        assertEquals("87", k.read("pids", "g77", "pids.max"));
        assertEquals("178", k.read("cpu", "g78", "cpu.shares"));
        Report quiet = k.apply(yaml.toString());
        assertEquals(0, quiet.writes() + quiet.mkdirs() + quiet.removals(), quiet.toString());
        Report removed = k.apply("name: g0\ncpu: {shares: 100, quota: 10%}\nmemory: {limit: 16Mi}\npids: {max: 10}\n");
        assertEquals(java.util.List.of(), removed.errors());
        assertTrue(removed.removals() >= 4 * (n - 1), removed.toString());
        assertFalse(Files.exists(k.dir("memory", "g" + (n - 1))));
    }

    @Test
    void groupDirectoriesAreTheDirectoriesThePassMadeInEveryHierarchyTheGroupUses() throws Exception {
        k.apply("name: web\ncpu: {shares: 512}\nmemory: {limit: 64Mi}\n---\nname: web/api\npids: {max: 9}\n");
        java.util.List<java.nio.file.Path> web = k.reconciler.of(new GroupName("web"));
        assertTrue(web.contains(k.dir("cpu", "web")), web.toString());
        assertTrue(web.contains(k.dir("memory", "web")), web.toString());
        assertTrue(web.contains(k.dir("pids", "web")), "a parent has every hierarchy of its children: " + web);
        web.forEach(d -> assertTrue(Files.isDirectory(d), d + " exists"));
        assertTrue(k.reconciler.of(new GroupName("web/api")).contains(k.dir("memory", "web/api")),
                "a child has every hierarchy of its parent (contained in web's memory limit)");
        assertEquals(java.util.List.of(), k.reconciler.of(new GroupName("nope")));
        k.apply("name: other\npids: {max: 3}\n");
        assertEquals(java.util.List.of(), k.reconciler.of(new GroupName("web")), "a removed group has none");
    }

    /** The path /proc/PID/cgroup shows for {@code group} (the test root when null). */
    private String cgroupPath(String controller, String group) {
        var h = k.cgroups.hierarchy(controller);
        java.nio.file.Path dir = group == null ? k.cgroups.layout().rootDir(h)
                : k.cgroups.layout().groupDir(h, new GroupName(group));
        String rel = h.mountPoint().relativize(dir).toString();
        String root = h.mountRoot().equals("/") ? "" : h.mountRoot();
        return root + "/" + rel;
    }
}

package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.v2.V2Backend;
import io.jgovernor.cgroup.v2.V2Controllers;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The v2 plan on a fake cgroup2 tree in a temp dir (files hold text as the kernel prints it):
 * controllers enabled top-down along the path, only those the subtree uses, and removals that move
 * processes to the root's leaf. Kernel behaviour itself is proven in the VM (it/vm/v2.sh).
 */
class V2PlannerTest {
    @TempDir
    Path mount;
    CgroupLayout layout;
    Hierarchy h;
    Path own;
    Path root;
    Map<Hierarchy, List<Controller>> controllers;

    @BeforeEach
    void tree() throws IOException {
        String mountInfo = "28 24 0:26 / " + mount + " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        layout = CgroupLayout.of(mountInfo, "0::/system.slice/jgovernor.service\n", mount, "jgovernor",
                p -> Optional.of("cpuset cpu io memory hugetlb pids rdma misc\n"));
        h = layout.hierarchies().getFirst();
        own = mount.resolve("system.slice/jgovernor.service");
        root = own.resolve("jgovernor");
        Files.createDirectories(root);
        Files.writeString(own.resolve("cgroup.subtree_control"), "\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "\n");
        // devices observes the BPF programs of a real cgroup2 directory, no file of this fake tree:
        // V2DevicesKernelTest plans it on the kernel
        controllers = Map.of(h, h.controllers().stream().filter(n -> !n.equals("devices")).sorted()
                .map(n -> V2Controllers.forName(n).orElseThrow()).toList());
    }

    static SortedMap<GroupName, Policy> policies(String yaml) {
        SortedMap<GroupName, Policy> out = new TreeMap<>();
        var result = (ParseResult.Ok) new PolicyParser(new SysfsHostFacts()).parse(Path.of("t.yaml"), yaml);
        result.policies().forEach(p -> out.put(p.policy().name(), p.policy()));
        return out;
    }

    private List<String> plan(String yaml, Scope scope) {
        Planner planner = new Planner(new V2Backend(layout), new CgroupFiles(), controllers, Map.of(h, Set.of()));
        List<ReconcileError> errors = new ArrayList<>();
        Plan plan = planner.plan(DesiredTree.build(policies(yaml), controllers, hierarchy -> true), scope, new HashMap<>(), errors);
        assertEquals(List.of(), errors);
        return plan.steps().stream().map(s -> s.toString().replace(mount.toString(), "")).toList();
    }

    @Test
    void controllersAreEnabledDownThePathOnlyAsFarAsTheSubtreeUsesThem() {
        List<String> steps = plan("name: batch\nmemory: {limit: 1Gi}\n---\nname: batch/low\ncpu: {shares: 512}\n"
                + "---\nname: web\npids: {max: 10}\n", Scope.ALL);
        assertEquals(List.of(
                "(above root: /system.slice/jgovernor.service): cgroup.subtree_control (none) -> cpu memory pids",
                "(root): cgroup.subtree_control (none) -> cpu memory pids",
                "batch: mkdir /system.slice/jgovernor.service/jgovernor/batch",
                "batch: cgroup.subtree_control (none) -> cpu",
                "batch: memory.max absent -> 1073741824",
                "batch/low: mkdir /system.slice/jgovernor.service/jgovernor/batch/low",
                "batch/low: cpu.weight absent -> 50 (from shares 512)",
                "batch/low: cpu.max absent -> max 100000",
                "web: mkdir /system.slice/jgovernor.service/jgovernor/web",
                "web: pids.max absent -> 10"), steps);
    }

    @Test
    void aControllerNoGroupUsesAnyMoreIsDisabledInTheRootButNotAboveIt() throws IOException {
        Files.writeString(own.resolve("cgroup.subtree_control"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "cpu memory pids\n");
        List<String> steps = plan("name: web\nmemory: {limit: 64Mi}\n", Scope.ALL);
        assertEquals("(root): cgroup.subtree_control cpu memory pids -> memory", steps.getFirst());
        assertTrue(steps.stream().noneMatch(s -> s.startsWith("(above root")), steps.toString());
    }

    @Test
    void aRemovedGroupsProcessesGoToTheRootsLeafNotToAnInnerNode() throws IOException {
        Files.createDirectories(root.resolve("batch/low"));
        Files.writeString(root.resolve("batch/cgroup.subtree_control"), "memory\n");
        Files.writeString(root.resolve("batch/memory.max"), "max\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "memory\n");
        Files.writeString(own.resolve("cgroup.subtree_control"), "memory\n");
        List<String> steps = plan("name: batch\nmemory: {limit: 1Gi}\n", Scope.ALL);
        assertEquals(List.of(
                "batch: cgroup.subtree_control memory -> (none)",
                "batch: memory.max max -> 1073741824",
                "(root): mkdir /system.slice/jgovernor.service/jgovernor/_released",
                "batch/low: remove /system.slice/jgovernor.service/jgovernor/batch/low"
                        + " (processes to /system.slice/jgovernor.service/jgovernor/_released)"), steps);
    }

    @Test
    void theReleasedLeafIsNeverRemoved() throws IOException {
        Files.createDirectories(root.resolve("_released"));
        Files.createDirectories(root.resolve("web"));
        Files.createDirectories(root.resolve("old"));
        assertEquals(List.of("old: remove /system.slice/jgovernor.service/jgovernor/old"
                + " (processes to /system.slice/jgovernor.service/jgovernor/_released)"), plan("name: web\n", Scope.ALL));
    }
}

package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Fixtures;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which directories the policies ask for, on captured layouts (no kernel needed). */
class DesiredTreeTest {
    private static Map<Hierarchy, List<Controller>> controllers(String fixture) {
        CgroupLayout layout = CgroupLayout.of(Fixtures.text("mountinfo-" + fixture + ".txt"),
                Fixtures.text("cgroup-" + fixture + ".txt"), Path.of("/sys/fs/cgroup"), "jgovernor", p -> Optional.empty());
        Map<Hierarchy, List<Controller>> out = new LinkedHashMap<>();
        for (Hierarchy h : layout.hierarchies()) {
            List<Controller> list = h.controllers().stream().sorted().map(V1Controllers::forName)
                    .flatMap(Optional::stream).toList();
            if (!list.isEmpty()) {
                out.put(h, list);
            }
        }
        return out;
    }

    private static SortedMap<GroupName, Policy> policies(String yaml) {
        SortedMap<GroupName, Policy> out = new TreeMap<>();
        var result = (ParseResult.Ok) new PolicyParser(new SysfsHostFacts()).parse(Path.of("t.yaml"), yaml);
        result.policies().forEach(p -> out.put(p.policy().name(), p.policy()));
        return out;
    }

    private static Set<String> hierarchies(DesiredTree.Node node) {
        return node.hierarchies().stream().map(Hierarchy::name).collect(Collectors.toSet());
    }

    @Test
    void everyGroupIsAccountedAndGetsTheHierarchiesItsSectionsUse() {
        DesiredTree tree = DesiredTree.build(policies("name: web\nmemory: {limit: 64Mi}\n---\nname: idle\n"),
                controllers("hybrid-host"), h -> false);
        assertEquals(Set.of("cpuacct", "memory"), hierarchies(tree.group(new GroupName("web")).orElseThrow()));
        assertEquals(Set.of("cpuacct"), hierarchies(tree.group(new GroupName("idle")).orElseThrow()));
        assertEquals(Set.of("cpuacct", "memory"), hierarchies(tree.root()));
    }

    @Test
    void aParentNeedsEveryHierarchyItsDescendantsUseAndMissingParentsAreImplied() {
        DesiredTree tree = DesiredTree.build(policies("name: a/b/c\npids: {max: 5}\n---\nname: a\ncpu: {shares: 100}\n"),
                controllers("hybrid-host"), h -> false);
        DesiredTree.Node a = tree.group(new GroupName("a")).orElseThrow();
        DesiredTree.Node b = tree.group(new GroupName("a/b")).orElseThrow();
        assertEquals(Set.of("cpu", "cpuacct", "pids"), hierarchies(a));
        assertFalse(a.implicit());
        assertTrue(b.implicit(), "a/b is no policy, only a parent");
        // contained in a's cpu directory too (policy.md: nested groups are contained)
        assertEquals(Set.of("cpu", "cpuacct", "pids"), hierarchies(b));
        assertEquals(List.of("a", "a/b", "a/b/c"),
                tree.subtree(new GroupName("a")).stream().map(DesiredTree.Node::label).toList());
    }

    @Test
    void coMountedCpuAndCpuacctAreOneDirectory() {
        DesiredTree tree = DesiredTree.build(policies("name: web\ncpu: {shares: 100}\n"), controllers("rhel7"), h -> false);
        assertEquals(Set.of("cpu,cpuacct"), hierarchies(tree.group(new GroupName("web")).orElseThrow()));
    }

    @Test
    void aPartialScopeCoversChangedSubtreesAndSingleAncestors() {
        DesiredTree tree = DesiredTree.build(policies(
                "name: a\n---\nname: a/b\n---\nname: a/b/c\n---\nname: a/x\n---\nname: a/bb\n"), controllers("hybrid-host"), h -> false);
        Scope scope = Scope.of(Set.of(new GroupName("a/b")), Set.of(new GroupName("a")));
        List<String> looked = new java.util.ArrayList<>();
        tree.in(scope).forEach(n -> looked.add(n.label()));
        // a sibling of the changed group (a/x) and a name that only starts like it (a/bb) are not looked at
        assertEquals(List.of("a", "a/b", "a/b/c"), looked);
    }
}

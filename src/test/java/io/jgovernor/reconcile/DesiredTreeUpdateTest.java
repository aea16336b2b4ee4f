package io.jgovernor.reconcile;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.v2.V2Backend;
import io.jgovernor.cgroup.v2.V2Controllers;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.SortedSnapshot;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The incremental tree ({@link DesiredTree#update}) against the full rebuild ({@link
 * DesiredTree#build}) over many random edit sequences: groups added, edited, renamed and removed,
 * parents and children (also a child whose parent is no policy, and names like "a-b" and "a.b"
 * that sort between "a" and "a/b"), on v1 layouts (separate and co-mounted cpu,cpuacct) and v2.
 * After every edit both must give the same tree, node for node, and the same plan.
 */
class DesiredTreeUpdateTest {
    private static final String[] SEGMENTS = {"a", "b", "a-b", "a.b", "c0"};
    private static final String[] BODIES = {
            "",
            "cpu: {shares: 100}\n",
            "cpu: {shares: 300}\n",
            "memory: {limit: 64Mi}\n",
            "pids: {max: 5}\n",
            "cpuset: {cpus: \"0\"}\n",
            "cpu: {shares: 200}\nmemory: {limit: 32Mi}\n",
            "memory: {limit: 16Mi}\npids: {max: 9}\n",
    };
    private static final PolicyParser PARSER = new PolicyParser(new SysfsHostFacts());
    private static final Map<String, Policy> PARSED = new HashMap<>();

    /** v1: a group has a directory only where it uses something. */
    private static final Predicate<Hierarchy> V1 = h -> false;

    @TempDir
    Path mount;

    private static Policy policy(String name, int body) {
        return PARSED.computeIfAbsent(name + "#" + body, k -> {
            var ok = (ParseResult.Ok) PARSER.parse(Path.of("t.yaml"), "name: " + name + "\n" + BODIES[body]);
            return ok.policies().getFirst().policy();
        });
    }

    private static Map<Hierarchy, List<Controller>> v1(String fixture) {
        return DesiredTreeTest.controllers(fixture);
    }

    /** A fake cgroup2 tree (as V2PlannerTest makes it), so that plans can be compared too. */
    private record V2(CgroupLayout layout, Map<Hierarchy, List<Controller>> controllers) {
    }

    private V2 v2() throws IOException {
        String mountInfo = "28 24 0:26 / " + mount + " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        CgroupLayout layout = CgroupLayout.of(mountInfo, "0::/system.slice/jgovernor.service\n", mount, "jgovernor",
                p -> Optional.of("cpuset cpu io memory hugetlb pids rdma misc\n"));
        Hierarchy h = layout.hierarchies().getFirst();
        Path own = mount.resolve("system.slice/jgovernor.service");
        Files.createDirectories(own.resolve("jgovernor"));
        Files.writeString(own.resolve("cgroup.subtree_control"), "\n");
        Files.writeString(own.resolve("jgovernor/cgroup.subtree_control"), "\n");
        return new V2(layout, Map.of(h, h.controllers().stream().filter(n -> !n.equals("devices")).sorted()
                .map(n -> V2Controllers.forName(n).orElseThrow()).toList()));
    }

    private static GroupName randomName(Random r) {
        int depth = 1 + r.nextInt(3);
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            parts.add(SEGMENTS[r.nextInt(SEGMENTS.length)]);
        }
        return new GroupName(String.join("/", parts));
    }

    /** One random edit of {@code policies}; returns the groups it changed. */
    private static Set<GroupName> edit(Random r, SortedMap<GroupName, Policy> policies) {
        List<GroupName> names = new ArrayList<>(policies.keySet());
        Set<GroupName> changed = new HashSet<>();
        int kind = names.isEmpty() ? 0 : r.nextInt(6);
        switch (kind) {
            case 0, 1 -> { // add (a child of an existing group half the time)
                GroupName g = !names.isEmpty() && r.nextBoolean()
                        ? new GroupName(names.get(r.nextInt(names.size())).value() + "/" + SEGMENTS[r.nextInt(SEGMENTS.length)])
                        : randomName(r);
                if (g.depth() <= 4) {
                    policies.put(g, policy(g.value(), r.nextInt(BODIES.length)));
                    changed.add(g);
                }
            }
            case 2 -> { // edit in place
                GroupName g = names.get(r.nextInt(names.size()));
                policies.put(g, policy(g.value(), r.nextInt(BODIES.length)));
                changed.add(g);
            }
            case 3 -> { // rename: the same body under another name
                GroupName from = names.get(r.nextInt(names.size()));
                GroupName to = randomName(r);
                Policy p = policies.remove(from);
                int body = bodyOf(p);
                policies.put(to, policy(to.value(), body));
                changed.add(from);
                changed.add(to);
            }
            case 4 -> { // remove (a parent's children stay, under a bare directory)
                GroupName g = names.get(r.nextInt(names.size()));
                policies.remove(g);
                changed.add(g);
            }
            default -> { // several files at once: a deploy
                for (int i = 0; i < 3; i++) {
                    changed.addAll(edit(r, policies));
                }
            }
        }
        return changed;
    }

    private static int bodyOf(Policy p) {
        for (int i = 0; i < BODIES.length; i++) {
            if (policy(p.name().value(), i).resources().equals(p.resources())) {
                return i;
            }
        }
        throw new AssertionError();
    }

    private static String describe(DesiredTree.Node n) {
        List<String> hs = n.hierarchies().stream().map(Hierarchy::name).sorted().toList();
        return n.label() + " " + n.resources() + " " + hs + " implicit=" + n.implicit() + " below=" + n.below();
    }

    private static List<String> describe(DesiredTree t) {
        List<String> out = new ArrayList<>();
        out.add(describe(t.root()));
        t.groups().forEach((g, n) -> {
            assertEquals(g, n.name().orElseThrow());
            out.add(describe(n));
        });
        return out;
    }

    private void sequences(Map<Hierarchy, List<Controller>> controllers, Predicate<Hierarchy> everyGroup, int count,
                           int edits,
                           java.util.function.BiConsumer<DesiredTree, DesiredTree> alsoCompare) {
        for (int seed = 0; seed < count; seed++) {
            Random r = new Random(seed);
            SortedMap<GroupName, Policy> policies = new TreeMap<>();
            DesiredTree incremental = DesiredTree.build(SortedSnapshot.of(policies), controllers, everyGroup);
            for (int step = 0; step < edits; step++) {
                Set<GroupName> changed = edit(r, policies);
                SortedSnapshot<GroupName, Policy> desired = SortedSnapshot.of(new TreeMap<>(policies));
                DesiredTree next = DesiredTree.update(incremental, desired, changed, controllers, everyGroup);
                DesiredTree full = DesiredTree.build(desired, controllers, everyGroup);
                String where = "seed " + seed + ", edit " + step + " (" + changed + ") of " + policies.keySet();
                assertEquals(describe(full), describe(next), where);
                for (GroupName g : changed) {
                    assertEquals(full.subtree(g).stream().map(DesiredTreeUpdateTest::describe).toList(),
                            next.subtree(g).stream().map(DesiredTreeUpdateTest::describe).toList(), where);
                }
                alsoCompare.accept(full, next);
                incremental = next;
            }
        }
    }

    @Test
    void updatesGiveTheTreeOfAFullRebuildOnV1() {
        sequences(v1("hybrid-host"), V1, 150, 40, (a, b) -> { });
    }

    @Test
    void updatesGiveTheTreeOfAFullRebuildWithCoMountedControllers() {
        sequences(v1("rhel7"), V1, 80, 40, (a, b) -> { });
    }

    @Test
    void updatesGiveTheTreeAndPlanOfAFullRebuildOnV2() throws IOException {
        V2 v2 = v2();
        Planner planner = new Planner(new V2Backend(v2.layout()), new CgroupFiles(), v2.controllers(),
                Map.of(v2.layout().hierarchies().getFirst(), Set.of()));
        sequences(v2.controllers(), h -> true, 80, 40, (full, next) -> {
            List<ReconcileError> e1 = new ArrayList<>();
            List<ReconcileError> e2 = new ArrayList<>();
            String p1 = planner.plan(full, Scope.ALL, new HashMap<>(), e1).steps().toString();
            String p2 = planner.plan(next, Scope.ALL, new HashMap<>(), e2).steps().toString();
            assertEquals(p1, p2);
            assertEquals(e1.toString(), e2.toString());
        });
    }

    @Test
    void anOldTreeIsNotUpdatedTwiceButRebuilt() {
        var controllers = v1("hybrid-host");
        SortedMap<GroupName, Policy> one = new TreeMap<>(Map.of(new GroupName("a"), policy("a", 1)));
        DesiredTree first = DesiredTree.build(one, controllers, V1);
        SortedMap<GroupName, Policy> two = new TreeMap<>(one);
        two.put(new GroupName("a/b"), policy("a/b", 3));
        DesiredTree second = DesiredTree.update(first, two, Set.of(new GroupName("a/b")), controllers, V1);
        // from the first tree again (its facts moved on to the second): a full build, still right
        SortedMap<GroupName, Policy> three = new TreeMap<>(one);
        three.put(new GroupName("b"), policy("b", 4));
        DesiredTree third = DesiredTree.update(first, three, Set.of(new GroupName("b")), controllers, V1);
        assertEquals(describe(DesiredTree.build(three, controllers, V1)), describe(third));
        assertEquals(describe(DesiredTree.build(two, controllers, V1)), describe(second));
    }

    @Test
    void aSubtreeHoldsDescendantsBehindSiblingsThatSortBetween() {
        SortedMap<GroupName, Policy> p = new TreeMap<>();
        for (String n : List.of("a", "a-b", "a.b", "a-b/c", "a/c", "a/c/d", "b")) {
            p.put(new GroupName(n), policy(n, 0));
        }
        DesiredTree t = DesiredTree.build(p, v1("hybrid-host"), V1);
        assertEquals(List.of("a", "a/c", "a/c/d"), t.subtree(new GroupName("a")).stream().map(DesiredTree.Node::label).toList());
        assertTrue(t.subtree(new GroupName("c0")).isEmpty());
    }
}

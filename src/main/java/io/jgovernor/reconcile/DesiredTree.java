package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cgroup tree the policies ask for: the daemon's root, every group, and the bare parents a
 * nested group implies, each with the hierarchies it needs a directory in.
 */
final class DesiredTree {
    /**
     * One directory-to-be. {@code name} is empty for the daemon's root. {@code below} names the
     * controllers that the groups beneath it use: what a v2 directory must enable in its
     * cgroup.subtree_control (v1 ignores it).
     */
    record Node(Optional<GroupName> name, Resources resources, Set<Hierarchy> hierarchies, boolean implicit,
                Set<String> below) {
        String label() {
            return name.map(GroupName::value).orElse("(root)");
        }
    }

    private final Node root;
    private final SortedMap<GroupName, Node> groups;

    private DesiredTree(Node root, SortedMap<GroupName, Node> groups) {
        this.root = root;
        this.groups = groups;
    }

    /**
     * @param everyGroup the hierarchies where every group has a directory whatever it uses
     *                   ({@link io.jgovernor.cgroup.Backend#everyGroupHasDirectory})
     */
    static DesiredTree build(Map<GroupName, Policy> policies, Map<Hierarchy, List<Controller>> controllers,
                             java.util.function.Predicate<Hierarchy> everyGroup) {
        // Which hierarchies a node needs, as a bit mask over this list: every pass builds the tree
        // for every group, so it stays cheap (hash maps while building, one shared set per mask).
        List<Hierarchy> order = List.copyOf(controllers.keySet());
        int always = 0;
        for (int i = 0; i < order.size(); i++) {
            if (everyGroup.test(order.get(i))) {
                always |= 1 << i;
            }
        }
        Map<GroupName, Resources> resources = new HashMap<>(policies.size() * 2);
        Map<GroupName, Integer> needs = new HashMap<>(policies.size() * 2);
        for (var e : policies.entrySet()) {
            Resources r = e.getValue().resources();
            resources.put(e.getKey(), r);
            needs.put(e.getKey(), mask(r, order, controllers, always));
        }
        // Nested groups are contained (policy.md): on v1 a child has a directory in every
        // hierarchy an ancestor sets something in, or its processes would stay outside that
        // limit (a 700 MB process in batch/low with only cpu: ran freely under batch's 512Mi).
        // Parents sort before their children, so one walk in name order inherits down the tree.
        Map<GroupName, Integer> chain = new HashMap<>(needs); // own needs and inherited ones
        for (GroupName g : new TreeMap<>(chain).keySet()) {
            int inherited = 0;
            for (Optional<GroupName> p = g.parent(); p.isPresent(); p = p.get().parent()) {
                Integer up = chain.get(p.get());
                if (up != null) {
                    inherited = up; // already holds what its own ancestors set
                    break;
                }
            }
            if ((needs.get(g) | inherited) != needs.get(g)) {
                needs.put(g, needs.get(g) | inherited);
                chain.put(g, needs.get(g));
            }
        }
        // A child whose parent is not (or no longer) a policy still needs the parent directory,
        // and a parent needs every hierarchy any descendant needs, since the child lives inside it.
        for (var e : policies.entrySet()) {
            int m = needs.get(e.getKey());
            for (Optional<GroupName> p = e.getKey().parent(); p.isPresent(); p = p.get().parent()) {
                Integer up = needs.get(p.get());
                if (up == null) {
                    needs.put(p.get(), mask(Resources.NONE, order, controllers, always) | m);
                } else if ((up | m) != up) {
                    needs.put(p.get(), up | m);
                } else if (resources.containsKey(p.get())) {
                    break; // this ancestor, and so every one above it, already has all of m
                }
            }
        }
        // The controllers used beneath each node, as a bit mask over controller names. If an
        // ancestor already has all of a group's bits, so has every ancestor above it: whatever
        // put them there went up through all of them.
        List<String> names = controllerNames(controllers);
        Map<GroupName, Integer> below = new HashMap<>();
        int belowRoot = 0;
        for (var e : policies.entrySet()) {
            int c = uses(e.getValue().resources(), names, controllers);
            belowRoot |= c;
            for (Optional<GroupName> p = e.getKey().parent(); p.isPresent() && c != 0; p = p.get().parent()) {
                int up = below.getOrDefault(p.get(), 0);
                if ((up | c) == up) {
                    break;
                }
                below.put(p.get(), up | c);
            }
        }
        Map<Integer, Set<Hierarchy>> sets = new HashMap<>();
        Map<Integer, Set<String>> nameSets = new HashMap<>();
        SortedMap<GroupName, Node> groups = new TreeMap<>();
        int all = 0;
        for (var e : needs.entrySet()) {
            Resources r = resources.get(e.getKey());
            int m = e.getValue();
            all |= m;
            groups.put(e.getKey(), new Node(Optional.of(e.getKey()), r == null ? Resources.NONE : r,
                    sets.computeIfAbsent(m, k -> hierarchies(k, order)), r == null,
                    nameSets.computeIfAbsent(below.getOrDefault(e.getKey(), 0), k -> names(k, names))));
        }
        return new DesiredTree(new Node(Optional.empty(), Resources.NONE, hierarchies(all, order), false,
                names(belowRoot, names)), groups);
    }

    private static List<String> controllerNames(Map<Hierarchy, List<Controller>> controllers) {
        List<String> names = new ArrayList<>();
        controllers.values().forEach(list -> list.forEach(c -> {
            if (!names.contains(c.name())) {
                names.add(c.name());
            }
        }));
        return names;
    }

    private static int uses(Resources r, List<String> names, Map<Hierarchy, List<Controller>> controllers) {
        int m = 0;
        for (List<Controller> list : controllers.values()) {
            for (Controller c : list) {
                if (c.usedBy(r)) {
                    m |= 1 << names.indexOf(c.name());
                }
            }
        }
        return m;
    }

    private static Set<String> names(int mask, List<String> names) {
        Set<String> out = new java.util.TreeSet<>();
        for (int i = 0; i < names.size(); i++) {
            if ((mask & (1 << i)) != 0) {
                out.add(names.get(i));
            }
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    /** @param always the hierarchies (bits over {@code order}) where every group has a directory */
    private static int mask(Resources r, List<Hierarchy> order, Map<Hierarchy, List<Controller>> controllers,
                            int always) {
        int m = always;
        for (int i = 0; i < order.size(); i++) {
            if ((m & (1 << i)) != 0) {
                continue;
            }
            for (Controller c : controllers.get(order.get(i))) {
                if (c.usedBy(r)) {
                    m |= 1 << i;
                    break;
                }
            }
        }
        return m;
    }

    private static Set<Hierarchy> hierarchies(int mask, List<Hierarchy> order) {
        Set<Hierarchy> out = new LinkedHashSet<>();
        for (int i = 0; i < order.size(); i++) {
            if ((mask & (1 << i)) != 0) {
                out.add(order.get(i));
            }
        }
        return Set.copyOf(out);
    }

    Node root() {
        return root;
    }

    /** Groups in name order, which is top-down: a parent's name is a prefix of its children's. */
    SortedMap<GroupName, Node> groups() {
        return groups;
    }

    Optional<Node> group(GroupName name) {
        return Optional.ofNullable(groups.get(name));
    }

    /** The groups a pass with this scope looks at, top-down. */
    Iterable<Node> in(Scope scope) {
        if (scope.all()) {
            return groups.values();
        }
        SortedMap<GroupName, Node> nodes = new TreeMap<>();
        for (GroupName g : scope.subtrees()) {
            subtree(g).forEach(n -> nodes.put(n.name().orElseThrow(), n));
        }
        for (GroupName g : scope.nodes()) {
            group(g).ifPresent(n -> nodes.put(g, n));
        }
        return nodes.values();
    }

    /** The group and all its descendants, top-down. */
    List<Node> subtree(GroupName name) {
        List<Node> out = new ArrayList<>();
        for (Node n : groups.tailMap(name).values()) {
            GroupName g = n.name().orElseThrow();
            if (!g.equals(name) && !g.value().startsWith(name.value() + "/")) {
                break;
            }
            out.add(n);
        }
        return out;
    }
}

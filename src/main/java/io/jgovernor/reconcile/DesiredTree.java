package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;

import java.util.ArrayList;
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
    /** One directory-to-be. {@code name} is empty for the daemon's root. */
    record Node(Optional<GroupName> name, Resources resources, Set<Hierarchy> hierarchies, boolean implicit) {
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

    static DesiredTree build(Map<GroupName, Policy> policies, Map<Hierarchy, List<Controller>> controllers) {
        SortedMap<GroupName, Resources> resources = new TreeMap<>();
        policies.forEach((name, policy) -> resources.put(name, policy.resources()));
        // A child whose parent is not (or no longer) a policy still needs the parent directory.
        for (GroupName name : List.copyOf(resources.keySet())) {
            for (Optional<GroupName> p = name.parent(); p.isPresent(); p = p.get().parent()) {
                resources.putIfAbsent(p.get(), null);
            }
        }
        SortedMap<GroupName, Set<Hierarchy>> needs = new TreeMap<>();
        for (var e : resources.entrySet()) {
            Resources r = e.getValue() == null ? Resources.NONE : e.getValue();
            Set<Hierarchy> own = new LinkedHashSet<>();
            controllers.forEach((h, list) -> {
                if (list.stream().anyMatch(c -> c.usedBy(r))) {
                    own.add(h);
                }
            });
            needs.put(e.getKey(), own);
        }
        // Bottom-up (reverse name order puts children before parents): a parent needs every
        // hierarchy any descendant needs, since the child directory lives inside it.
        for (GroupName name : List.copyOf(needs.keySet()).reversed()) {
            name.parent().ifPresent(p -> needs.get(p).addAll(needs.get(name)));
        }
        SortedMap<GroupName, Node> groups = new TreeMap<>();
        Set<Hierarchy> all = new LinkedHashSet<>();
        for (var e : needs.entrySet()) {
            Resources r = resources.get(e.getKey());
            groups.put(e.getKey(), new Node(Optional.of(e.getKey()), r == null ? Resources.NONE : r,
                    Set.copyOf(e.getValue()), r == null));
            all.addAll(e.getValue());
        }
        return new DesiredTree(new Node(Optional.empty(), Resources.NONE, Set.copyOf(all), false), groups);
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

package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import io.jgovernor.model.SortedSnapshot;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The cgroup tree the policies ask for: the daemon's root, every group, and the bare parents a
 * nested group implies, each with the hierarchies it needs a directory in.
 *
 * <p>{@link #build} works it out from every policy (a full pass, and the fallback);
 * {@link #update} works out the next tree from the newest one and the groups whose policy
 * changed, touching only those groups' subtrees and their ancestors, so an edit among a thousand
 * groups costs what one group costs. Both give the same tree: DesiredTreeUpdateTest checks it
 * over random edit sequences.
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
    private final SortedSnapshot<GroupName, Node> groups;
    /** What {@link #update} needs to make the next tree; taken by the update that does (see {@link #take}). */
    private Facts facts;

    private DesiredTree(Node root, SortedSnapshot<GroupName, Node> groups, Facts facts) {
        this.root = root;
        this.groups = groups;
        this.facts = facts;
    }

    /**
     * @param everyGroup the hierarchies where every group has a directory whatever it uses
     *                   ({@link io.jgovernor.cgroup.Backend#everyGroupHasDirectory})
     */
    static DesiredTree build(Map<GroupName, Policy> policies, Map<Hierarchy, List<Controller>> controllers,
                             java.util.function.Predicate<Hierarchy> everyGroup) {
        // Which hierarchies a node needs, as a bit mask over this list: every pass builds the tree
        // for every group, so it stays cheap (hash maps while building, one shared set per mask).
        Masks masks = new Masks(controllers, everyGroup);
        Map<GroupName, Resources> resources = new HashMap<>(policies.size() * 2);
        Map<GroupName, Integer> needs = new HashMap<>(policies.size() * 2);
        for (var e : policies.entrySet()) {
            Resources r = e.getValue().resources();
            resources.put(e.getKey(), r);
            needs.put(e.getKey(), masks.mask(r));
        }
        Map<GroupName, Integer> own = new HashMap<>(needs);
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
                    needs.put(p.get(), masks.none | m);
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
        Map<GroupName, Integer> below = new HashMap<>();
        int belowRoot = 0;
        for (var e : policies.entrySet()) {
            int c = masks.uses(e.getValue().resources());
            belowRoot |= c;
            for (Optional<GroupName> p = e.getKey().parent(); p.isPresent() && c != 0; p = p.get().parent()) {
                int up = below.getOrDefault(p.get(), 0);
                if ((up | c) == up) {
                    break;
                }
                below.put(p.get(), up | c);
            }
        }
        TreeMap<GroupName, Node> groups = new TreeMap<>();
        int all = 0;
        for (var e : needs.entrySet()) {
            Resources r = resources.get(e.getKey());
            int m = e.getValue();
            all |= m;
            groups.put(e.getKey(), masks.node(e.getKey(), r, m, below.getOrDefault(e.getKey(), 0)));
        }
        Node rootNode = new Node(Optional.empty(), Resources.NONE, masks.hierarchies(all), false, masks.names(belowRoot));
        // What an update needs: each node's own, inherited and total masks, and per parent how
        // many children carry each bit, so that a child's change is one count up or down there.
        Facts facts = new Facts(masks);
        for (var e : groups.entrySet()) {
            GroupName g = e.getKey();
            Resources r = resources.get(g);
            Fact f = new Fact(r != null);
            f.own = r == null ? 0 : own.get(g);
            f.uses = r == null ? 0 : masks.uses(r);
            f.needs = needs.get(g);
            f.below = below.getOrDefault(g, 0);
            Fact parent = g.parent().map(facts.byGroup::get).orElse(facts.root);
            f.inherit = r == null ? parent.inherit : chain.get(g); // parents come first in name order
            facts.byGroup.put(g, f);
        }
        for (GroupName g : groups.descendingKeySet()) { // children first: a bare parent counts them before it counts
            Fact parent = g.parent().map(facts.byGroup::get).orElse(facts.root);
            parent.count(facts.byGroup.get(g).contribution(), 1, masks);
        }
        facts.root.needs = all;
        facts.root.below = belowRoot;
        return new DesiredTree(rootNode, SortedSnapshot.of(groups), facts);
    }

    /**
     * The tree for {@code desired}, made from {@code previous} (the tree of the policies before)
     * by working out again only the groups in {@code changed} (each group whose policy was added,
     * removed or changed; more is harmless) with their descendants, which inherit a changed
     * parent's hierarchies, and their ancestors, whose hierarchies and controllers below follow
     * their descendants', and which appear or go as bare parents. Falls back to {@link #build}
     * when {@code previous} was already updated from, or was built for other controllers.
     */
    static DesiredTree update(DesiredTree previous, SortedMap<GroupName, Policy> desired, Set<GroupName> changed,
                              Map<Hierarchy, List<Controller>> controllers,
                              java.util.function.Predicate<Hierarchy> everyGroup) {
        Facts facts = previous.take();
        if (facts == null || !facts.masks.controllers.equals(controllers)) {
            return build(desired, controllers, everyGroup);
        }
        Update u = new Update(previous, facts, desired);
        for (GroupName g : changed) {
            if (topmost(g, changed)) {
                u.redo(g);
            }
        }
        Node rootNode = facts.masks.node(facts.root);
        return new DesiredTree(rootNode, previous.groups.with(u.nodes()), facts);
    }

    /** Whether no ancestor of {@code g} is in {@code set}: its subtree is not redone by another's. */
    private static boolean topmost(GroupName g, Set<GroupName> set) {
        for (Optional<GroupName> p = g.parent(); p.isPresent(); p = p.get().parent()) {
            if (set.contains(p.get())) {
                return false;
            }
        }
        return true;
    }

    /** Only the newest tree can be updated from: the facts move on to the tree made from it. */
    private synchronized Facts take() {
        Facts f = facts;
        facts = null;
        return f;
    }

    /** One node's masks: bits over {@link Masks#order} (hierarchies) or {@link Masks#names} (controllers). */
    private static final class Fact {
        final boolean policy;
        /** The hierarchies its own resources use (a policy only). */
        int own;
        /** What its children inherit (v1 containment): its own and its ancestors' own, policies only. */
        int inherit;
        /** The hierarchies it needs a directory in: its inherited ones and every descendant's. */
        int needs;
        /** The controllers its own resources use (a policy only), and those used beneath it. */
        int uses;
        int below;
        /** Its children, and per bit how many children carry it (made when the first child comes). */
        int children;
        int[] childNeeds;
        int[] childBelow;

        Fact(boolean policy) {
            this.policy = policy;
        }

        /** What this node adds to its parent: null when it is no node (no policy, no children). */
        int[] contribution() {
            return policy || children > 0 ? new int[]{needs, uses | below} : null;
        }

        /** Adds ({@code sign} 1) or takes away (-1) one child's contribution. */
        void count(int[] child, int sign, Masks masks) {
            if (child == null) {
                return;
            }
            if (childNeeds == null) {
                childNeeds = new int[masks.order.size()];
                childBelow = new int[masks.names.size()];
            }
            children += sign;
            add(childNeeds, child[0], sign);
            add(childBelow, child[1], sign);
        }

        private static void add(int[] counts, int bits, int sign) {
            for (int m = bits; m != 0; m &= m - 1) {
                counts[Integer.numberOfTrailingZeros(m)] += sign;
            }
        }

        private static int bits(int[] counts) {
            int m = 0;
            for (int i = 0; counts != null && i < counts.length; i++) {
                if (counts[i] > 0) {
                    m |= 1 << i;
                }
            }
            return m;
        }

        /** needs and below again from its own masks and its children's counts. */
        void settle(int none, boolean isRoot) {
            int base = isRoot ? 0 : policy ? inherit : none;
            needs = base | bits(childNeeds);
            below = bits(childBelow);
        }
    }

    private static final class Facts {
        final Masks masks;
        final Map<GroupName, Fact> byGroup = new HashMap<>();
        final Fact root = new Fact(false);

        Facts(Masks masks) {
            this.masks = masks;
        }
    }

    /** One update: the facts are changed in place, the nodes that changed are collected. */
    private static final class Update {
        private final DesiredTree previous;
        private final Facts facts;
        private final Masks masks;
        private final SortedMap<GroupName, Policy> desired;
        /** Changed nodes of the new tree; null: the node is gone. */
        private final SortedMap<GroupName, Node> nodes = new TreeMap<>();

        Update(DesiredTree previous, Facts facts, SortedMap<GroupName, Policy> desired) {
            this.previous = previous;
            this.facts = facts;
            this.masks = facts.masks;
            this.desired = desired;
        }

        SortedMap<GroupName, Node> nodes() {
            return nodes;
        }

        /** Works out group {@code g} and everything beneath it again, then its ancestors. */
        void redo(GroupName g) {
            Fact old = facts.byGroup.get(g);
            int[] before = old == null ? null : old.contribution();
            // the old subtree goes (a name redone below comes back)
            for (GroupName n : within(previous.groups, g)) {
                facts.byGroup.remove(n);
                nodes.put(n, null);
            }
            // the new one, top-down: a node's children inherit from it
            Optional<GroupName> parentName = g.parent();
            int inherited = inheritedAt(parentName);
            List<GroupName> made = new ArrayList<>();
            Map<GroupName, Fact> sub = new HashMap<>();
            for (GroupName p : within(desired, g)) {
                Fact f = new Fact(true);
                Resources r = desired.get(p).resources();
                f.own = masks.mask(r);
                f.uses = masks.uses(r);
                // bare parents between g and p, made on the way down
                for (Optional<GroupName> up = p.parent(); up.isPresent() && !sub.containsKey(up.get())
                        && up.get().value().length() >= g.value().length(); up = up.get().parent()) {
                    Fact bare = new Fact(false);
                    sub.put(up.get(), bare);
                    made.add(up.get());
                }
                sub.put(p, f);
                made.add(p);
            }
            made.sort(null);
            for (GroupName n : made) {
                Fact f = sub.get(n);
                int fromParent = n.equals(g) ? inherited : sub.get(n.parent().orElseThrow()).inherit;
                f.inherit = f.policy ? f.own | fromParent : fromParent;
            }
            // bottom-up: each node settles, then counts in its parent
            for (int i = made.size() - 1; i >= 0; i--) {
                GroupName n = made.get(i);
                Fact f = sub.get(n);
                f.settle(masks.none, false);
                facts.byGroup.put(n, f);
                if (!n.equals(g)) {
                    sub.get(n.parent().orElseThrow()).count(f.contribution(), 1, masks);
                }
            }
            Fact now = sub.get(g);
            if (now != null) {
                nodes.put(g, masks.node(g, resourcesOf(g), now));
                for (GroupName n : made) {
                    nodes.put(n, masks.node(n, resourcesOf(n), sub.get(n)));
                }
            }
            replace(parentName, before, now == null ? null : now.contribution());
        }

        /**
         * In parent {@code at}, one child's contribution {@code before} became {@code after}; up
         * the ancestors for as long as what a node contributes changes.
         */
        private void replace(Optional<GroupName> at, int[] before, int[] after) {
            while (!java.util.Arrays.equals(before, after)) {
                boolean isRoot = at.isEmpty();
                Fact f = isRoot ? facts.root : facts.byGroup.get(at.get());
                if (f == null) { // a bare parent the new child needs
                    f = new Fact(false);
                    f.inherit = inheritedAt(at.get().parent());
                    facts.byGroup.put(at.get(), f);
                }
                int[] was = f.contribution();
                f.count(before, -1, masks);
                f.count(after, 1, masks);
                f.settle(masks.none, isRoot);
                if (isRoot) {
                    return;
                }
                int[] is = f.contribution();
                if (is == null) {
                    facts.byGroup.remove(at.get());
                    nodes.put(at.get(), null);
                } else {
                    nodes.put(at.get(), masks.node(at.get(), resourcesOf(at.get()), f));
                }
                before = was;
                after = is;
                at = at.get().parent();
            }
        }

        /** What a child of {@code parent} (the root when empty) inherits: from its nearest node. */
        private int inheritedAt(Optional<GroupName> parent) {
            for (Optional<GroupName> p = parent; p.isPresent(); p = p.get().parent()) {
                Fact f = facts.byGroup.get(p.get());
                if (f != null) {
                    return f.inherit;
                }
            }
            return 0;
        }

        private Resources resourcesOf(GroupName g) {
            Policy p = desired.get(g);
            return p == null ? null : p.resources();
        }
    }

    /** The masks of one set of hierarchies and controllers, with one shared set per mask. */
    private static final class Masks {
        final Map<Hierarchy, List<Controller>> controllers;
        final List<Hierarchy> order;
        final List<String> names;
        /** The hierarchies where every group has a directory whatever it uses (v2's one tree). */
        final int always;
        /** What a bare parent needs: every hierarchy whose groups all have a directory (v2). */
        final int none;
        private final Map<Integer, Set<Hierarchy>> sets = new HashMap<>();
        private final Map<Integer, Set<String>> nameSets = new HashMap<>();

        Masks(Map<Hierarchy, List<Controller>> controllers, java.util.function.Predicate<Hierarchy> everyGroup) {
            this.controllers = controllers;
            this.order = List.copyOf(controllers.keySet());
            this.names = controllerNames(controllers);
            int a = 0;
            for (int i = 0; i < order.size(); i++) {
                if (everyGroup.test(order.get(i))) {
                    a |= 1 << i;
                }
            }
            this.always = a;
            this.none = mask(Resources.NONE);
        }

        Node node(GroupName g, Resources r, int needs, int below) {
            return new Node(Optional.of(g), r == null ? Resources.NONE : r, hierarchies(needs), r == null, names(below));
        }

        Node node(GroupName g, Resources r, Fact f) {
            return node(g, r, f.needs, f.below);
        }

        Node node(Fact root) {
            return new Node(Optional.empty(), Resources.NONE, hierarchies(root.needs), false, names(root.below));
        }

        Set<Hierarchy> hierarchies(int mask) {
            return sets.computeIfAbsent(mask, k -> DesiredTree.hierarchies(k, order));
        }

        Set<String> names(int mask) {
            return nameSets.computeIfAbsent(mask, k -> DesiredTree.names(k, names));
        }

        int mask(Resources r) {
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

        int uses(Resources r) {
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

    private static Set<String> names(int mask, List<String> names) {
        Set<String> out = new TreeSet<>();
        for (int i = 0; i < names.size(); i++) {
            if ((mask & (1 << i)) != 0) {
                out.add(names.get(i));
            }
        }
        return java.util.Collections.unmodifiableSet(out);
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
        for (GroupName g : within(groups, name)) {
            out.add(groups.get(g));
        }
        return out;
    }

    /**
     * The keys of {@code map} that are {@code g} or beneath it, in name order. Not simply the
     * names from {@code g} on that start with it: "a-b" and "a.b" sort between "a" and "a/b".
     * Every descendant sorts at or after "g/0" ('0' is the least character a segment starts with).
     */
    static List<GroupName> within(SortedMap<GroupName, ?> map, GroupName g) {
        List<GroupName> out = new ArrayList<>();
        if (map.containsKey(g)) {
            out.add(g);
        }
        String prefix = g.value() + "/";
        for (GroupName n : map.tailMap(new GroupName(prefix + "0")).keySet()) {
            if (!n.value().startsWith(prefix)) {
                break;
            }
            out.add(n);
        }
        return out;
    }
}

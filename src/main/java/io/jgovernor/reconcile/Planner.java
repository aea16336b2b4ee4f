package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Resources;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns the desired tree and what the kernel shows now into a {@link Plan}. Reading happens here,
 * writing never: a plan can be printed, counted or thrown away.
 */
final class Planner {
    private static final String ROOT = "(root)";

    private final Backend backend;
    private final CgroupLayout layout;
    private final CgroupFiles files;
    private final Map<Hierarchy, List<Controller>> controllers;
    /** The control files of each hierarchy, probed once: a fresh directory has exactly these. */
    private final Map<Hierarchy, Set<String>> controlFiles;

    Planner(Backend backend, CgroupFiles files, Map<Hierarchy, List<Controller>> controllers,
            Map<Hierarchy, Set<String>> controlFiles) {
        this.backend = backend;
        this.layout = backend.layout();
        this.files = files;
        this.controllers = controllers;
        this.controlFiles = controlFiles;
    }

    /**
     * @param applied the resources last applied without error, by group label; a step for a group
     *                whose resources are unchanged since then repairs drift
     * @param unreadable collects the groups whose files could not be read (they get no writes)
     */
    Plan plan(DesiredTree tree, Scope scope, Map<String, Resources> applied, List<ReconcileError> unreadable) {
        return plan(tree, null, scope, applied, unreadable);
    }

    /**
     * @param previous the tree of the last pass (null on the first): a v2 cgroup.subtree_control
     *                 write repairs drift only when what the subtree uses did not change since
     */
    Plan plan(DesiredTree tree, DesiredTree previous, Scope scope, Map<String, Resources> applied,
              List<ReconcileError> unreadable) {
        List<Hierarchy> used = new ArrayList<>();
        for (Hierarchy h : layout.hierarchies()) {
            if (!controllers.getOrDefault(h, List.of()).isEmpty()) {
                used.add(h);
            }
        }
        // One part per hierarchy; a full pass over many groups plans them on a thread each (it
        // reads every managed file: the reads of different hierarchies overlap in the kernel).
        HierarchyPlan[] parts = new HierarchyPlan[used.size()];
        if (scope.all() && tree.groups().size() >= PARALLEL_GROUPS && used.size() > 1) {
            List<Runnable> tasks = new ArrayList<>();
            for (int i = 0; i < parts.length; i++) {
                int index = i;
                tasks.add(() -> parts[index] = planHierarchy(used.get(index), tree, previous, scope, applied));
            }
            HierarchyThreads.runAll("jgovernor-plan", tasks);
        } else {
            for (int i = 0; i < parts.length; i++) {
                parts[i] = planHierarchy(used.get(i), tree, previous, scope, applied);
            }
        }
        List<Plan.Step> steps = new ArrayList<>();
        List<Plan.Step> removals = new ArrayList<>();
        for (HierarchyPlan part : parts) {
            steps.addAll(part.steps);
            removals.addAll(part.removals);
            unreadable.addAll(part.unreadable);
        }
        // Removals run last, after every new parent exists to take processes, and deepest
        // first: a directory with a child cannot be removed.
        removals.sort(java.util.Comparator.comparingInt((Plan.Step r) -> r.dir().getNameCount()).reversed());
        steps.addAll(removals);
        return new Plan(steps);
    }

    /** Below this many groups a full pass plans on one thread. */
    private static final int PARALLEL_GROUPS = 128;

    /** What one hierarchy needs; made on one thread, read after it is joined. */
    private static final class HierarchyPlan {
        final List<Plan.Step> steps = new ArrayList<>();
        final List<Plan.Step> removals = new ArrayList<>();
        final List<ReconcileError> unreadable = new ArrayList<>();
    }

    private HierarchyPlan planHierarchy(Hierarchy h, DesiredTree tree, DesiredTree previous, Scope scope,
                                        Map<String, Resources> applied) {
        HierarchyPlan out = new HierarchyPlan();
        List<Controller> here = controllers.get(h);
        // A full pass learns which directories exist from their parents' listings (one getdents64
        // per parent, none beneath a missing one) instead of a stat per group; a scoped pass over
        // a few groups stats them.
        Existence existence = scope.all() ? new Existence(files) : null;
        // where a new directory starts with an empty cpuset, it takes its parent's (v1)
        boolean cpuset = backend.copiesParentCpuset(h);
        Cpuset rootParent = cpuset ? parentCpuset(h, layout.rootDir(h).getParent()) : Cpuset.NONE;
        DesiredTree.Node root = tree.root();
        Cpuset rootEffective = rootParent.inside(root.resources());
        if (root.hierarchies().contains(h)) {
            planAboveRoot(h, root.below(), out.steps, out.unreadable);
            // The root is planned on every pass that needs it: it is one directory, and a
            // scoped pass may be the first to use a hierarchy.
            boolean sameBelow = previous != null && previous.root().below().equals(root.below());
            planNode(h, here, ROOT, layout.rootDir(h), Files.isDirectory(layout.rootDir(h)), root.resources(),
                    rootParent, root.below(), sameBelow, applied, out.steps, out.unreadable);
        }
        // Inherited cpusets are worked out on demand up the ancestors of the groups in scope,
        // so a pass over one changed group does not walk all of them.
        Map<GroupName, Cpuset> effective = new HashMap<>();
        for (DesiredTree.Node node : tree.in(scope)) {
            if (!node.hierarchies().contains(h)) {
                continue;
            }
            GroupName name = node.name().orElseThrow();
            Cpuset parent = cpuset ? effective(name.parent(), tree, effective, rootEffective) : Cpuset.NONE;
            Path dir = layout.groupDir(h, name);
            boolean exists = existence == null ? Files.isDirectory(dir) : existence.of(dir, layout.rootDir(h));
            boolean sameBelow = previous != null && previous.group(name)
                    .map(n -> n.below().equals(node.below())).orElse(false);
            planNode(h, here, name.value(), dir, exists, node.resources(), parent, node.below(), sameBelow, applied,
                    out.steps, out.unreadable);
        }
        planRemovals(h, tree, scope, out.removals);
        Optional<Path> released = backend.releasedDir(h);
        if (released.isPresent() && !out.removals.isEmpty() && !Files.isDirectory(released.get())) {
            out.steps.add(new Plan.Mkdir(ROOT, released.get(), false));
        }
        return out;
    }

    /** Which directories exist, from the listings of their parents, each listed once. */
    private static final class Existence {
        private final CgroupFiles files;
        private final Map<Path, Set<String>> listings = new HashMap<>();

        Existence(CgroupFiles files) {
            this.files = files;
        }

        /** Whether {@code dir}, beneath {@code root} (which is stat'ed), is a directory now. */
        boolean of(Path dir, Path root) {
            Path parent = dir.getParent();
            Set<String> children = listings.get(parent);
            if (children == null) {
                boolean parentExists = parent.equals(root) ? Files.isDirectory(root) : of(parent, root);
                children = Set.of();
                if (parentExists) {
                    try {
                        children = new HashSet<>(files.childDirectories(parent));
                    } catch (CgroupException e) {
                        children = Set.of(); // unreadable: its groups look missing, and their mkdir says why
                    }
                }
                listings.put(parent, children);
            }
            return children.contains(dir.getFileName().toString());
        }
    }


    /** The cpuset that group {@code name} (the root when empty) hands down to its children. */
    private static Cpuset effective(Optional<GroupName> name, DesiredTree tree, Map<GroupName, Cpuset> memo,
                                    Cpuset rootEffective) {
        if (name.isEmpty()) {
            return rootEffective;
        }
        Cpuset known = memo.get(name.get());
        if (known != null) {
            return known;
        }
        Cpuset parent = effective(name.get().parent(), tree, memo, rootEffective);
        Cpuset own = tree.group(name.get()).map(n -> parent.inside(n.resources())).orElse(parent);
        memo.put(name.get(), own);
        return own;
    }

    /**
     * The directories above the root that must hand down what the root's subtree uses (v2
     * delegation, see {@link Backend#aboveRoot}). Only added there: those directories are not
     * jgovernor's alone.
     */
    private void planAboveRoot(Hierarchy h, java.util.Set<String> wanted, List<Plan.Step> steps,
                               List<ReconcileError> unreadable) {
        for (Path dir : backend.aboveRoot(h)) {
            String label = delegationLabel(dir);
            boolean exists = Files.isDirectory(dir);
            if (!exists) {
                steps.add(new Plan.Mkdir(label, dir, false));
            }
            try {
                Write w = backend.handDown(files, dir, exists, wanted, false);
                if (w != null) {
                    steps.add(new Plan.WriteFile(label, dir, w, false));
                }
            } catch (CgroupException e) {
                unreadable.add(new ReconcileError(label, e));
            }
        }
    }

    /** How a directory above the root shows in logs and errors: it is no group, and not the root. */
    static String delegationLabel(Path dir) {
        return "(above root: " + dir + ")";
    }

    private void planNode(Hierarchy h, List<Controller> here, String group, Path dir, boolean exists,
                          Resources resources, Cpuset parent, java.util.Set<String> below, boolean sameBelow,
                          Map<String, Resources> applied, List<Plan.Step> steps, List<ReconcileError> unreadable) {
        GroupContext context = new GroupContext(group, parent.cpus(), parent.mems());
        boolean drift = resources.equals(applied.get(group));
        if (!exists) {
            steps.add(new Plan.Mkdir(group, dir, drift));
        }
        // handed down before this group's children are made or written, which the top-down order gives
        try {
            Write w = backend.handDown(files, dir, exists, below, true);
            if (w != null) {
                steps.add(new Plan.WriteFile(group, dir, w, drift && sameBelow));
            }
        } catch (CgroupException e) {
            unreadable.add(new ReconcileError(group, e));
            return;
        }
        Set<String> present = controlFiles.getOrDefault(h, Set.of());
        for (Controller c : here) {
            Map<String, String> observed;
            if (exists) {
                try {
                    observed = c.observe(files, dir, resources);
                } catch (CgroupException e) {
                    unreadable.add(new ReconcileError(group, e));
                    continue;
                }
            } else {
                observed = new HashMap<>(c.fresh(context));
                observed.keySet().retainAll(present);
            }
            for (Write w : c.reconcile(resources, context, observed)) {
                steps.add(new Plan.WriteFile(group, dir, w, drift, c));
            }
        }
    }

    private void planRemovals(Hierarchy h, DesiredTree tree, Scope scope, List<Plan.Step> removals) {
        Predicate<GroupName> wanted = g -> tree.group(g).map(n -> n.hierarchies().contains(h)).orElse(false);
        Set<Path> seen = new HashSet<>();
        if (scope.all()) {
            Path root = layout.rootDir(h);
            Optional<Path> released = backend.releasedDir(h);
            for (String child : childDirectories(root)) {
                if (released.isPresent() && root.resolve(child).equals(released.get())) {
                    continue;
                }
                consider(h, root.resolve(child), child, wanted, seen, removals);
            }
        } else {
            Set<GroupName> looked = new java.util.TreeSet<>(scope.subtrees());
            looked.addAll(scope.nodes());
            for (GroupName g : looked) {
                Path dir = layout.groupDir(h, g);
                if (Files.isDirectory(dir)) {
                    consider(h, dir, g.value(), wanted, seen, removals);
                }
            }
        }
    }

    /** Plans the removal of {@code dir} (group path {@code rel}) if no policy wants it, then looks below. */
    private void consider(Hierarchy h, Path dir, String rel, Predicate<GroupName> wanted, Set<Path> seen,
                          List<Plan.Step> removals) {
        if (!seen.add(dir)) {
            return;
        }
        // A directory whose name is not a valid group name was not made by a policy: it is ours to
        // remove all the same, since everything beneath the root belongs to the daemon.
        boolean keep = GroupName.problem(rel) == null && wanted.test(new GroupName(rel));
        if (!keep) {
            removals.add(new Plan.Remove(rel, dir, backend.releasedDir(h).orElseGet(() -> survivingAncestor(h, rel, wanted)),
                    false));
        }
        for (String child : childDirectories(dir)) {
            consider(h, dir.resolve(child), rel + "/" + child, wanted, seen, removals);
        }
    }

    private List<String> childDirectories(Path dir) {
        try {
            return files.childDirectories(dir);
        } catch (CgroupException e) {
            return List.of(); // an unreadable directory is left alone; the next pass tries again
        }
    }

    private Path survivingAncestor(Hierarchy h, String rel, Predicate<GroupName> wanted) {
        for (int slash = rel.lastIndexOf('/'); slash > 0; slash = rel.lastIndexOf('/', slash - 1)) {
            String up = rel.substring(0, slash);
            if (GroupName.problem(up) == null && wanted.test(new GroupName(up))) {
                return layout.groupDir(h, new GroupName(up));
            }
        }
        return layout.rootDir(h);
    }

    /** The cpus and mems a directory's children may use; empty sets where the hierarchy has no cpuset. */
    private Cpuset parentCpuset(Hierarchy h, Path parentDir) {
        if (!h.controllers().contains("cpuset")) {
            return Cpuset.NONE;
        }
        try {
            String cpus = files.read(parentDir, "cpuset.effective_cpus")
                    .or(() -> readQuietly(parentDir, "cpuset.cpus")).orElse("");
            String mems = files.read(parentDir, "cpuset.effective_mems")
                    .or(() -> readQuietly(parentDir, "cpuset.mems")).orElse("");
            return new Cpuset(CpuList.parse(cpus), CpuList.parse(mems));
        } catch (CgroupException e) {
            return Cpuset.NONE;
        }
    }

    private Optional<String> readQuietly(Path dir, String file) {
        try {
            return files.read(dir, file);
        } catch (CgroupException e) {
            return Optional.empty();
        }
    }

    /** A directory's effective cpuset as its children inherit it. */
    record Cpuset(CpuList cpus, CpuList mems) {
        static final Cpuset NONE = new Cpuset(CpuList.parse(""), CpuList.parse(""));

        Cpuset inside(Resources resources) {
            return resources.cpuset()
                    .map(c -> new Cpuset(c.cpus().orElse(cpus), c.mems().orElse(mems)))
                    .orElse(this);
        }
    }
}

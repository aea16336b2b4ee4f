package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Keeps the cgroup tree equal to the policies. Level-based: every pass rebuilds the desired tree
 * from all valid policies, reads what the kernel shows, and writes only the differences. The
 * daemon runs passes on one thread, so passes never overlap; a {@link #preview} from another
 * thread (a {@code jgovernor plan} request) waits for the pass in progress, since a pass changes
 * what it reads.
 */
public final class Reconciler implements GroupDirectories {
    private static final System.Logger LOG = System.getLogger(Reconciler.class.getName());

    private final Backend backend;
    private final CgroupLayout layout;
    private final CgroupFiles files;
    private final Map<Hierarchy, List<Controller>> controllers;
    private final Applier applier;
    /** Resources applied without error, by group label: what drift is measured against. */
    private final Map<String, Resources> applied = new HashMap<>();
    /** What the last pass applied (the catalog makes a new map for every refresh and never changes it). */
    private SortedMap<GroupName, Policy> lastDesired = new TreeMap<>();
    private volatile RuntimeFreezes freezes = RuntimeFreezes.none();
    private Planner planner;
    /** The tree of the last pass, read by other threads through {@link #of(GroupName)}. */
    private volatile DesiredTree lastTree;

    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong errorsTotal = new AtomicLong();
    private final AtomicLong driftTotal = new AtomicLong();
    /** The first error of each group whose last pass over it failed; read by status requests on other threads. */
    private volatile Map<String, String> groupErrors = Map.of();
    private volatile Occupants occupants = Occupants.NONE;

    /**
     * @param backend this host's cgroup version: its controllers by kernel name (hierarchies whose
     *                controllers have none are not touched) and the shape of its tree
     */
    public Reconciler(Backend backend, CgroupFiles files) {
        this.backend = backend;
        this.layout = backend.layout();
        this.files = files;
        Map<Hierarchy, List<Controller>> byHierarchy = new LinkedHashMap<>();
        for (Hierarchy h : layout.hierarchies()) {
            List<Controller> list = backend.controllersOf(h);
            if (!list.isEmpty()) {
                byHierarchy.put(h, list);
            }
        }
        this.controllers = Map.copyOf(byHierarchy);
        this.applier = new Applier(files, byHierarchy.keySet().stream().map(Hierarchy::mountPoint).toList(),
                (group, pid) -> occupants.holds(group, pid));
    }

    /**
     * The groups frozen at run time, laid over each pass's desired state as
     * {@code freezer: {frozen: true}} (see {@link RuntimeFreezes}); none until set.
     */
    public void runtimeFreezes(RuntimeFreezes f) {
        this.freezes = f;
    }

    public RuntimeFreezes runtimeFreezes() {
        return freezes;
    }

    /** Processes that keep a removed group's directories (the workloads, which are built after this). */
    public void keepOccupied(Occupants o) {
        this.occupants = o;
    }

    /** A full pass: every group, drift repaired everywhere, orphan directories removed. */
    public synchronized Report reconcileAll(SortedMap<GroupName, Policy> desired) {
        desired = freezes.overlay(desired);
        long start = System.nanoTime();
        return pass(desired, DesiredTree.build(desired, controllers, backend::everyGroupHasDirectory), Scope.ALL, start);
    }

    /**
     * A pass over only the groups whose resources differ from the previous pass's desired state
     * (added, changed or removed), with their descendants, whose inherited cpuset may change, and
     * their ancestors, whose set of hierarchies follows their descendants'.
     */
    public synchronized Report reconcileChanges(SortedMap<GroupName, Policy> desired) {
        desired = freezes.overlay(desired);
        return changes(desired, changedGroups(lastDesired, desired));
    }

    /**
     * Like {@link #reconcileChanges(SortedMap)}, told which groups changed: {@code touched} names
     * every group whose policy differs between {@code base} and {@code desired} (more is harmless),
     * as the policy catalog knows them from the files it read. When {@code base} is what the last
     * pass applied, nothing else is compared, so an edit costs the same among any number of
     * groups; otherwise every group is compared, as above.
     */
    public synchronized Report reconcileChanges(SortedMap<GroupName, Policy> desired,
                                                SortedMap<GroupName, Policy> base, Set<GroupName> touched) {
        if (base != lastDesired || freezes.overlay(desired) != desired) {
            return reconcileChanges(desired);
        }
        Set<GroupName> changed = new HashSet<>();
        for (GroupName g : touched) {
            Policy before = base.get(g);
            Policy after = desired.get(g);
            if (before != after && (before == null || after == null || !before.resources().equals(after.resources()))) {
                changed.add(g);
            }
        }
        return changes(desired, changed);
    }

    private Report changes(SortedMap<GroupName, Policy> desired, Set<GroupName> changed) {
        long start = System.nanoTime();
        Set<GroupName> ancestors = new HashSet<>();
        for (GroupName g : changed) {
            for (var p = g.parent(); p.isPresent(); p = p.get().parent()) {
                ancestors.add(p.get());
            }
        }
        ancestors.removeAll(changed);
        if (changed.isEmpty()) {
            lastDesired = desired;
            return new Report(false, 0, 0, 0, 0, 0, List.of(), Set.of(), Duration.ZERO);
        }
        DesiredTree tree = lastTree == null ? DesiredTree.build(desired, controllers, backend::everyGroupHasDirectory)
                : DesiredTree.update(lastTree, desired, changed, controllers, backend::everyGroupHasDirectory);
        return pass(desired, tree, Scope.of(changed, ancestors), start);
    }

    /**
     * Groups added, removed or with other resources: one merge walk over the two sorted maps,
     * and no comparison at all for a policy the catalog kept (the same object).
     */
    static Set<GroupName> changedGroups(SortedMap<GroupName, Policy> before, SortedMap<GroupName, Policy> after) {
        Set<GroupName> changed = new HashSet<>();
        var b = before.entrySet().iterator();
        var a = after.entrySet().iterator();
        Map.Entry<GroupName, Policy> x = b.hasNext() ? b.next() : null;
        Map.Entry<GroupName, Policy> y = a.hasNext() ? a.next() : null;
        while (x != null || y != null) {
            int c = x == null ? 1 : y == null ? -1 : x.getKey().compareTo(y.getKey());
            if (c < 0) {
                changed.add(x.getKey());
                x = b.hasNext() ? b.next() : null;
            } else if (c > 0) {
                changed.add(y.getKey());
                y = a.hasNext() ? a.next() : null;
            } else {
                if (x.getValue() != y.getValue() && !x.getValue().resources().equals(y.getValue().resources())) {
                    changed.add(y.getKey());
                }
                x = b.hasNext() ? b.next() : null;
                y = a.hasNext() ? a.next() : null;
            }
        }
        return changed;
    }

    /** @param start when the pass began (System.nanoTime), its desired tree included */
    private Report pass(SortedMap<GroupName, Policy> desired, DesiredTree tree, Scope scope, long start) {
        List<ReconcileError> errors = new ArrayList<>();
        ensureRoot(errors);
        List<ReconcileError> unreadable = new ArrayList<>();
        long planned = System.nanoTime();
        Plan plan = planner().plan(tree, lastTree, scope, applied, unreadable);
        long applying = System.nanoTime();
        Applier.Outcome outcome = applier.apply(plan);
        long appliedAt = System.nanoTime();
        if (enabledControllersAboveGroups(plan)) {
            planner = null; // v2: the root now has the files of what was enabled; probe them anew
        }
        // together: the next partial pass updates this tree by what changed since this map
        lastTree = tree;
        lastDesired = desired;
        errors.addAll(unreadable);
        errors.addAll(outcome.errors());

        Set<String> failed = new HashSet<>(outcome.failedGroups());
        unreadable.forEach(e -> failed.add(e.group()));
        int groups = 0;
        if (scope.all() || !failed.contains("(root)")) {
            applied.put("(root)", tree.root().resources());
        }
        for (DesiredTree.Node node : tree.in(scope)) {
            String label = node.name().orElseThrow().value();
            groups++;
            if (failed.contains(label)) {
                applied.remove(label);
            } else {
                applied.put(label, node.resources());
            }
        }
        forgetRemoved(tree, scope);
        groupErrors = groupErrors(tree, scope, errors);

        passes.incrementAndGet();
        errorsTotal.addAndGet(errors.size());
        driftTotal.addAndGet(outcome.driftCorrections());
        Report report = new Report(scope.all(), groups, outcome.mkdirs(), outcome.writes(), outcome.removals(),
                outcome.driftCorrections(), errors, failed, Duration.ofNanos(System.nanoTime() - start));
        for (ReconcileError e : errors) {
            LOG.log(System.Logger.Level.ERROR, e.toString());
        }
        LOG.log(report.changedSomething() || !errors.isEmpty() ? System.Logger.Level.INFO : System.Logger.Level.DEBUG,
                report::toString);
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("pass of %d steps: desired tree %.2f ms, plan %.2f ms,"
                        + " apply %.2f ms, the rest %.2f ms", plan.steps().size(), (planned - start) / 1e6,
                (applying - planned) / 1e6, (appliedAt - applying) / 1e6, (System.nanoTime() - appliedAt) / 1e6));
        return report;
    }

    /**
     * The first error of each group this pass failed on, over what is kept of the previous
     * passes: a group outside the scope keeps its error, one in the scope (or gone) loses it.
     */
    private Map<String, String> groupErrors(DesiredTree tree, Scope scope, List<ReconcileError> errors) {
        Map<String, String> next = new TreeMap<>();
        if (!scope.all()) {
            Set<String> passed = new HashSet<>();
            passed.add("(root)");
            tree.in(scope).forEach(node -> passed.add(node.name().orElseThrow().value()));
            groupErrors.forEach((label, error) -> {
                boolean gone = !label.startsWith("(") && tree.group(new GroupName(label)).isEmpty();
                if (!passed.contains(label) && !gone) {
                    next.put(label, error);
                }
            });
        }
        for (ReconcileError e : errors) {
            next.putIfAbsent(e.group(), e.message());
        }
        return Map.copyOf(next);
    }

    /** What a full pass over {@code desired} would do now, and the groups whose files could not be read. */
    public record Preview(Plan plan, List<ReconcileError> unreadable) {
    }

    /**
     * The plan a full pass over {@code desired} would apply now, made by the same planner from the
     * same kernel reads, and thrown away: nothing is written, and no state of the next pass
     * changes (the daemon's root is not made; a missing one shows as its mkdir).
     */
    public synchronized Preview preview(SortedMap<GroupName, Policy> desired) {
        desired = freezes.overlay(desired);
        DesiredTree tree = DesiredTree.build(desired, controllers, backend::everyGroupHasDirectory);
        List<ReconcileError> unreadable = new ArrayList<>();
        Plan plan = planner().plan(tree, lastTree, Scope.ALL, applied, unreadable);
        return new Preview(plan, unreadable);
    }

    /** Drops what was applied to groups that no longer exist, so drift is not judged against them. */
    private void forgetRemoved(DesiredTree tree, Scope scope) {
        if (scope.all()) {
            Set<String> present = new HashSet<>();
            tree.groups().keySet().forEach(g -> present.add(g.value()));
            applied.keySet().removeIf(label -> !label.equals("(root)") && !present.contains(label));
            return;
        }
        for (GroupName g : scope.subtrees()) {
            if (tree.group(g).isEmpty()) {
                String prefix = g.value() + "/";
                applied.keySet().removeIf(label -> label.equals(g.value()) || label.startsWith(prefix));
            }
        }
    }

    /**
     * Makes the daemon's root directory in every hierarchy. A v1 cpuset directory starts empty,
     * so each level made here gets its parent's cpus and mems before anything may join below it.
     */
    private void ensureRoot(List<ReconcileError> errors) {
        for (Hierarchy h : controllers.keySet()) {
            Path root = layout.rootDir(h);
            if (Files.isDirectory(root)) {
                continue;
            }
            List<Path> missing = new ArrayList<>();
            for (Path p = root; p != null && !Files.isDirectory(p); p = p.getParent()) {
                missing.addFirst(p);
            }
            try {
                for (Path dir : missing) {
                    files.mkdir(dir);
                    // where a new cpuset directory starts empty (v1), it takes its parent's
                    if (backend.copiesParentCpuset(h)) {
                        for (String file : List.of("cpuset.cpus", "cpuset.mems")) {
                            String parentValue = files.read(dir.getParent(), file).orElse("");
                            files.write(dir, file, parentValue.strip().isEmpty() ? "\n" : parentValue.strip());
                        }
                    }
                }
                planner = null; // the root's file set is probed anew
            } catch (CgroupException e) {
                errors.add(new ReconcileError("(root)", e));
            }
        }
    }

    private boolean enabledControllersAboveGroups(Plan plan) {
        for (Plan.Step step : plan.steps()) {
            if (step instanceof Plan.WriteFile w && w.group().startsWith("(") && backend.handsDown(w.write())) {
                return true;
            }
        }
        return false;
    }

    private Planner planner() {
        if (planner == null) {
            Map<Hierarchy, Set<String>> controlFiles = new HashMap<>();
            for (Hierarchy h : controllers.keySet()) {
                controlFiles.put(h, probeControlFiles(layout.rootDir(h)));
            }
            planner = new Planner(backend, files, controllers, controlFiles);
        }
        return planner;
    }

    /** The files a non-root cgroup directory of this hierarchy has: what a fresh group will have. */
    private static Set<String> probeControlFiles(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            Set<String> names = new HashSet<>();
            list.filter(Files::isRegularFile).forEach(p -> names.add(p.getFileName().toString()));
            return names;
        } catch (IOException e) {
            return Set.of();
        }
    }

    @Override
    public List<Path> of(GroupName group) {
        DesiredTree tree = lastTree;
        if (tree == null) {
            return List.of();
        }
        return tree.group(group).map(node -> node.hierarchies().stream()
                .sorted((a, b) -> a.name().compareTo(b.name()))
                .map(h -> layout.groupDir(h, group)).toList()).orElse(List.of());
    }

    @Override
    public Map<GroupName, List<Path>> present() {
        Map<GroupName, List<Path>> out = new TreeMap<>();
        for (Hierarchy h : controllers.keySet().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList()) {
            walk(layout.rootDir(h), List.of(), out);
        }
        return out;
    }

    private void walk(Path dir, List<String> segments, Map<GroupName, List<Path>> out) {
        List<String> children;
        try {
            children = files.childDirectories(dir);
        } catch (CgroupException e) {
            return; // unreadable or gone: nothing found there
        }
        for (String child : children) {
            List<String> name = new ArrayList<>(segments);
            name.add(child);
            GroupName g;
            try {
                g = new GroupName(String.join("/", name));
            } catch (IllegalArgumentException e) {
                continue; // not a group jgovernor made
            }
            Path d = dir.resolve(child);
            out.computeIfAbsent(g, k -> new ArrayList<>()).add(d);
            walk(d, name, out);
        }
    }

    /**
     * The first error of the last pass over each group that failed, by group label ("(root)" for
     * the daemon's root); a group leaves the map when a later pass over it succeeds.
     */
    public Map<String, String> groupErrors() {
        return groupErrors;
    }

    public long passes() {
        return passes.get();
    }

    public long errorsTotal() {
        return errorsTotal.get();
    }

    public long driftCorrectionsTotal() {
        return driftTotal.get();
    }
}

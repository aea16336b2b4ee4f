package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The rules that need all files at once: a group is defined by one file only, a nested group's
 * parent must be defined somewhere, and a nested group's cpuset must lie inside its ancestors'
 * (the v1 kernel refuses it otherwise, with EACCES, at apply time).
 *
 * <p>Every file starts on the version it had applied before (possibly nothing) and tries to move
 * to its candidate, the version now on disk. A file whose groups are already applied keeps them,
 * so a newcomer defining the same name is the one rejected; among newcomers the earlier in the
 * input order wins. Moves are retried until none succeeds, so a file that waits for another
 * (for a name to be given up, or a parent to appear) moves in the same pass once it can.
 */
final class CrossFile {
    /**
     * Every group applied now, by name, with the file (its id) that defines it. Checks look names
     * up here instead of gathering every other file's groups, which made a refresh cost files x
     * groups; sorted, so that a group's descendants are one range.
     */
    private final NavigableMap<String, Owned> index = new TreeMap<>();
    /** Groups whose owner or policy changed since the last {@link #takeChanges()}. */
    private Set<String> changes = new HashSet<>();

    /** One file: what it had applied, and its new valid version (null when it has none). */
    record Input(Path file, List<ParsedPolicy> previous, List<ParsedPolicy> candidate) {
    }

    /** What the file contributes now; {@code moved} when that is its candidate. */
    record Outcome(Path file, List<ParsedPolicy> applied, boolean moved, List<PolicyError> errors) {
    }

    /** A group as applied now: the file (its id) that defines it, and its policy. */
    private record Owned(int file, Path path, ParsedPolicy policy) {
    }

    /** Where one file stands after {@link #settle}, before the missing-parent check of {@link #outcome}. */
    record Settled(List<ParsedPolicy> applied, boolean moved, List<PolicyError> errors) {
    }

    /** All files at once, each identified by its position in {@code inputs}. */
    static List<Outcome> resolve(List<Input> inputs) {
        CrossFile cross = new CrossFile();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            cross.load(i, inputs.get(i).file(), inputs.get(i).previous());
            ids.add(i);
        }
        List<Settled> settled = cross.settle(ids, inputs);
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            out.add(cross.outcome(inputs.get(i), settled.get(i)));
        }
        return out;
    }

    /** Adds the groups a file has applied (a name already held by an earlier file stays with it). */
    void load(int id, Path file, List<ParsedPolicy> applied) {
        for (ParsedPolicy p : applied) {
            index.putIfAbsent(p.policy().name().value(), new Owned(id, file, p));
        }
    }

    /** A file that is gone for good: its groups go. */
    void drop(int id, List<ParsedPolicy> applied) {
        for (ParsedPolicy p : applied) {
            String name = p.policy().name().value();
            Owned o = index.get(name);
            if (o != null && o.file() == id) {
                index.remove(name);
                changes.add(name);
            }
        }
    }

    /** The policy of each group applied now. */
    Map<String, ParsedPolicy> applied(Iterable<String> groups) {
        Map<String, ParsedPolicy> out = new HashMap<>();
        for (String g : groups) {
            Owned o = index.get(g);
            out.put(g, o == null ? null : o.policy());
        }
        return out;
    }

    /** The groups whose owner or policy changed since the last call (added, replaced or gone). */
    Set<String> takeChanges() {
        Set<String> out = changes;
        changes = new HashSet<>();
        return out;
    }

    /**
     * The files that hold a child of one of {@code groups}: whether its parent is defined
     * may have changed with them. Only direct children count, so each group is one range.
     */
    Set<Path> holdersOfChildren(Set<String> groups) {
        Set<Path> out = new HashSet<>();
        for (String g : groups) {
            String prefix = g + "/";
            for (var e : index.subMap(prefix, true, g + "0", false).entrySet()) {
                if (e.getKey().indexOf('/', prefix.length()) < 0) {
                    out.add(e.getValue().path());
                }
            }
        }
        return out;
    }

    /**
     * Every file of {@code inputs} (ids in {@code ids}, in priority order) starts on the version it
     * had applied and tries to move to its candidate, given the groups of every file in the index
     * (files not given here keep theirs: either they have nothing new, or it was judged before).
     * Moves are retried until none succeeds.
     */
    List<Settled> settle(List<Integer> ids, List<Input> inputs) {
        int n = inputs.size();
        List<List<ParsedPolicy>> applied = new ArrayList<>();
        boolean[] moved = new boolean[n];
        List<List<PolicyError>> errors = new ArrayList<>();
        for (Input in : inputs) {
            applied.add(in.previous());
            errors.add(List.of());
        }
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < n; i++) {
                Input in = inputs.get(i);
                if (moved[i] || in.candidate() == null) {
                    continue;
                }
                if (in.candidate() == in.previous()) {
                    // the version on disk is the one applied: nothing new to check (a parent
                    // that went away meanwhile is caught below), so an edit costs one file's check
                    moved[i] = true;
                    continue;
                }
                int self = ids.get(i);
                List<PolicyError> problems = check(in, self, index);
                errors.set(i, problems);
                if (problems.isEmpty()) {
                    for (ParsedPolicy p : applied.get(i)) {
                        String name = p.policy().name().value();
                        Owned o = index.get(name);
                        if (o != null && o.file() == self) {
                            index.remove(name);
                            changes.add(name);
                        }
                    }
                    for (ParsedPolicy p : in.candidate()) {
                        index.put(p.policy().name().value(), new Owned(self, in.file(), p));
                        changes.add(p.policy().name().value());
                    }
                    applied.set(i, in.candidate());
                    moved[i] = true;
                    progress = true;
                }
            }
        }
        List<Settled> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Settled(applied.get(i), moved[i], errors.get(i)));
        }
        return out;
    }

    /**
     * A file's outcome once every move is made. A version that stays applied may have lost its
     * parent (the parent's file was deleted): it stays, under a bare intermediate directory, and
     * the problem is reported on its file.
     */
    Outcome outcome(Input input, Settled s) {
        Set<PolicyError> problems = null; // made only for a file with a problem: most have none
        for (ParsedPolicy p : s.applied()) {
            Optional<GroupName> parent = p.policy().name().parent();
            if (parent.isPresent() && !index.containsKey(parent.get().value())) {
                if (problems == null) {
                    problems = new LinkedHashSet<>(s.errors());
                }
                problems.add(parentMissing(input.file(), p, parent.get()));
            }
        }
        boolean moved = s.moved();
        if (problems != null && s.applied() == input.previous()) {
            moved = false; // kept as it was, as a last good version with a problem
        }
        return new Outcome(input.file(), s.applied(), moved, problems == null ? s.errors() : List.copyOf(problems));
    }

    /** The state of a file not given to {@link #settle}: its version on disk, if any, is applied already or was judged. */
    static Settled unchanged(Input input) {
        return new Settled(input.previous(), input.candidate() != null && input.candidate() == input.previous(), List.of());
    }

    /** Whether file {@code self}'s candidate can replace what it has applied, given every other file's groups. */
    private static List<PolicyError> check(Input input, int self, NavigableMap<String, Owned> index) {
        Map<String, ParsedPolicy> own = new HashMap<>();
        input.candidate().forEach(p -> own.put(p.policy().name().value(), p));
        Path file = input.file();
        List<PolicyError> problems = new ArrayList<>();
        for (ParsedPolicy p : input.candidate()) {
            GroupName name = p.policy().name();
            Owned owner = index.get(name.value());
            if (owner != null && owner.file() != self) {
                problems.add(new PolicyError(file, p.nameLine(), p.nameColumn(),
                        "group \"" + name + "\" is already defined in " + owner.path()));
            }
            Optional<GroupName> parent = name.parent();
            if (parent.isPresent() && lookup(parent.get().value(), own, self, index) == null) {
                problems.add(parentMissing(file, p, parent.get()));
            }
        }
        cpusetsNest(input, own, self, index, problems);
        return problems;
    }

    /** The policy of group {@code name} as it would be with the candidate applied, or null. */
    private static ParsedPolicy lookup(String name, Map<String, ParsedPolicy> own, int self, Map<String, Owned> index) {
        ParsedPolicy p = own.get(name);
        if (p != null) {
            return p;
        }
        Owned o = index.get(name);
        return o == null || o.file() == self ? null : o.policy();
    }

    /**
     * Each explicit cpus or mems set must lie inside the nearest ancestor's explicit set. Checked
     * where the candidate file is involved, as the child or as the ancestor, so a parent cannot
     * shrink below a child defined in another file either.
     */
    private static void cpusetsNest(Input input, Map<String, ParsedPolicy> own, int self,
                                    NavigableMap<String, Owned> index, List<PolicyError> problems) {
        Path file = input.file();
        for (ParsedPolicy p : input.candidate()) {
            String name = p.policy().name().value();
            // p as the child
            for (String key : List.of("cpus", "mems")) {
                Optional<CpuList> set = cpuset(p, key);
                if (set.isEmpty()) {
                    continue;
                }
                NearestSet outer = nearestAbove(p.policy().name(), key, own, self, index);
                if (outer != null && !outer.set().containsAll(set.get())) {
                    problems.add(new PolicyError(file, p.nameLine(), p.nameColumn(),
                            "cpuset." + key + ": \"" + set.get() + "\" is not inside parent group \""
                                    + outer.group() + "\"'s cpuset." + key + " \"" + outer.set() + "\""));
                }
            }
            // p as the ancestor of groups in other files (only sets need this: most policies skip it)
            if (cpuset(p, "cpus").isEmpty() && cpuset(p, "mems").isEmpty()) {
                continue;
            }
            // its descendants are one range of the sorted index: "name/" up to "name0" ('0' follows '/')
            for (Owned d : index.subMap(name + "/", true, name + "0", false).values()) {
                if (d.file() == self) {
                    continue;
                }
                for (String key : List.of("cpus", "mems")) {
                    Optional<CpuList> inner = cpuset(d.policy(), key);
                    if (inner.isEmpty()) {
                        continue;
                    }
                    NearestSet outer = nearestAbove(d.policy().policy().name(), key, own, self, index);
                    if (outer != null && outer.group().value().equals(name) && !outer.set().containsAll(inner.get())) {
                        problems.add(new PolicyError(file, p.nameLine(), p.nameColumn(),
                                "cpuset." + key + ": \"" + outer.set() + "\" leaves out part of child group \""
                                        + d.policy().policy().name() + "\"'s cpuset." + key + " \"" + inner.get() + "\""));
                    }
                }
            }
        }
    }

    private record NearestSet(GroupName group, CpuList set) {
    }

    /** The closest ancestor of {@code name} with an explicit cpuset {@code key}, with the candidate applied. */
    private static NearestSet nearestAbove(GroupName name, String key, Map<String, ParsedPolicy> own, int self,
                                           Map<String, Owned> index) {
        for (Optional<GroupName> up = name.parent(); up.isPresent(); up = up.get().parent()) {
            ParsedPolicy ancestor = lookup(up.get().value(), own, self, index);
            Optional<CpuList> set = ancestor == null ? Optional.empty() : cpuset(ancestor, key);
            if (set.isPresent()) {
                return new NearestSet(up.get(), set.get());
            }
        }
        return null;
    }

    private static Optional<CpuList> cpuset(ParsedPolicy p, String key) {
        return p.policy().resources().cpuset().flatMap(c -> key.equals("cpus") ? c.cpus() : c.mems());
    }

    private static PolicyError parentMissing(Path file, ParsedPolicy p, GroupName parent) {
        return new PolicyError(file, p.nameLine(), p.nameColumn(), "parent group \"" + parent + "\" is not defined");
    }
}

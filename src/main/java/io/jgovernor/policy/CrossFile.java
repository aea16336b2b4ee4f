package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
    private CrossFile() {
    }

    /** One file: what it had applied, and its new valid version (null when it has none). */
    record Input(Path file, List<ParsedPolicy> previous, List<ParsedPolicy> candidate) {
    }

    /** What the file contributes now; {@code moved} when that is its candidate. */
    record Outcome(Path file, List<ParsedPolicy> applied, boolean moved, List<PolicyError> errors) {
    }

    /** A group as applied now: the file (input index) that defines it, and its policy. */
    private record Owned(int file, Path path, ParsedPolicy policy) {
    }

    static List<Outcome> resolve(List<Input> inputs) {
        int n = inputs.size();
        List<List<ParsedPolicy>> applied = new ArrayList<>();
        boolean[] moved = new boolean[n];
        List<List<PolicyError>> errors = new ArrayList<>();
        // Every group applied now, by name. Checks look names up here instead of gathering every
        // other file's groups, which made a refresh cost files x groups.
        Map<String, Owned> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Input in = inputs.get(i);
            applied.add(in.previous());
            errors.add(List.of());
            for (ParsedPolicy p : in.previous()) {
                index.putIfAbsent(p.policy().name().value(), new Owned(i, in.file(), p));
            }
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
                List<PolicyError> problems = check(inputs.get(i), i, index);
                errors.set(i, problems);
                if (problems.isEmpty()) {
                    for (ParsedPolicy p : applied.get(i)) {
                        Owned o = index.get(p.policy().name().value());
                        if (o != null && o.file() == i) {
                            index.remove(p.policy().name().value());
                        }
                    }
                    for (ParsedPolicy p : in.candidate()) {
                        index.put(p.policy().name().value(), new Owned(i, in.file(), p));
                    }
                    applied.set(i, in.candidate());
                    moved[i] = true;
                    progress = true;
                }
            }
        }
        // A version that stays applied may have lost its parent (the parent's file was deleted):
        // it stays, under a bare intermediate directory, and the problem is reported on its file.
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Set<PolicyError> problems = null; // made only for a file with a problem: most have none
            for (ParsedPolicy p : applied.get(i)) {
                Optional<GroupName> parent = p.policy().name().parent();
                if (parent.isPresent() && !index.containsKey(parent.get().value())) {
                    if (problems == null) {
                        problems = new LinkedHashSet<>(errors.get(i));
                    }
                    problems.add(parentMissing(inputs.get(i).file(), p, parent.get()));
                }
            }
            if (problems != null && applied.get(i) == inputs.get(i).previous()) {
                moved[i] = false; // kept as it was, as a last good version with a problem
            }
            out.add(new Outcome(inputs.get(i).file(), applied.get(i), moved[i],
                    problems == null ? errors.get(i) : List.copyOf(problems)));
        }
        return out;
    }

    /** Whether file {@code self}'s candidate can replace what it has applied, given every other file's groups. */
    private static List<PolicyError> check(Input input, int self, Map<String, Owned> index) {
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
    private static void cpusetsNest(Input input, Map<String, ParsedPolicy> own, int self, Map<String, Owned> index,
                                    List<PolicyError> problems) {
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
            String prefix = name + "/";
            for (Owned d : index.values()) {
                if (d.file() == self || !d.policy().policy().name().value().startsWith(prefix)) {
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

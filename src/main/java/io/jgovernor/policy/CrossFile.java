package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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

    static List<Outcome> resolve(List<Input> inputs) {
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
                List<PolicyError> problems = check(inputs, applied, i);
                errors.set(i, problems);
                if (problems.isEmpty()) {
                    applied.set(i, in.candidate());
                    moved[i] = true;
                    progress = true;
                }
            }
        }
        // A version that stays applied may have lost its parent (the parent's file was deleted):
        // it stays, under a bare intermediate directory, and the problem is reported on its file.
        Set<GroupName> all = new HashSet<>();
        applied.forEach(list -> list.forEach(p -> all.add(p.policy().name())));
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Set<PolicyError> problems = new LinkedHashSet<>(errors.get(i));
            for (ParsedPolicy p : applied.get(i)) {
                Optional<GroupName> parent = p.policy().name().parent();
                if (parent.isPresent() && !all.contains(parent.get())) {
                    problems.add(parentMissing(inputs.get(i).file(), p, parent.get()));
                }
            }
            out.add(new Outcome(inputs.get(i).file(), applied.get(i), moved[i], List.copyOf(problems)));
        }
        return out;
    }

    private static List<PolicyError> check(List<Input> inputs, List<List<ParsedPolicy>> applied, int self) {
        Map<GroupName, Path> others = new HashMap<>();
        Map<GroupName, ParsedPolicy> all = new HashMap<>();
        for (int j = 0; j < inputs.size(); j++) {
            if (j != self) {
                Path owner = inputs.get(j).file();
                applied.get(j).forEach(p -> others.putIfAbsent(p.policy().name(), owner));
                applied.get(j).forEach(p -> all.putIfAbsent(p.policy().name(), p));
            }
        }
        inputs.get(self).candidate().forEach(p -> all.put(p.policy().name(), p));
        List<ParsedPolicy> candidate = inputs.get(self).candidate();
        Set<GroupName> own = new HashSet<>();
        candidate.forEach(p -> own.add(p.policy().name()));
        Path file = inputs.get(self).file();
        List<PolicyError> problems = new ArrayList<>();
        for (ParsedPolicy p : candidate) {
            GroupName name = p.policy().name();
            Path owner = others.get(name);
            if (owner != null) {
                problems.add(new PolicyError(file, p.nameLine(), p.nameColumn(),
                        "group \"" + name + "\" is already defined in " + owner));
            }
            Optional<GroupName> parent = name.parent();
            if (parent.isPresent() && !own.contains(parent.get()) && !others.containsKey(parent.get())) {
                problems.add(parentMissing(file, p, parent.get()));
            }
        }
        cpusetsNest(all, own, file, problems);
        return problems;
    }

    /**
     * Each explicit cpus or mems set must lie inside the nearest ancestor's explicit set. Checked
     * where the candidate file is involved, as the child or as the ancestor, so a parent cannot
     * shrink below a child defined in another file either.
     */
    private static void cpusetsNest(Map<GroupName, ParsedPolicy> all, Set<GroupName> own, Path file,
                                    List<PolicyError> problems) {
        for (ParsedPolicy child : all.values()) {
            GroupName name = child.policy().name();
            for (String key : List.of("cpus", "mems")) {
                Optional<CpuList> set = cpuset(child, key);
                if (set.isEmpty()) {
                    continue;
                }
                for (Optional<GroupName> up = name.parent(); up.isPresent(); up = up.get().parent()) {
                    ParsedPolicy ancestor = all.get(up.get());
                    Optional<CpuList> outer = ancestor == null ? Optional.empty() : cpuset(ancestor, key);
                    if (outer.isEmpty()) {
                        continue;
                    }
                    if (!outer.get().containsAll(set.get())) {
                        if (own.contains(name)) {
                            problems.add(new PolicyError(file, child.nameLine(), child.nameColumn(),
                                    "cpuset." + key + ": \"" + set.get() + "\" is not inside parent group \""
                                            + up.get() + "\"'s cpuset." + key + " \"" + outer.get() + "\""));
                        } else if (own.contains(up.get())) {
                            problems.add(new PolicyError(file, ancestor.nameLine(), ancestor.nameColumn(),
                                    "cpuset." + key + ": \"" + outer.get() + "\" leaves out part of child group \""
                                            + name + "\"'s cpuset." + key + " \"" + set.get() + "\""));
                        }
                    }
                    break;
                }
            }
        }
    }

    private static Optional<CpuList> cpuset(ParsedPolicy p, String key) {
        return p.policy().resources().cpuset().flatMap(c -> key.equals("cpus") ? c.cpus() : c.mems());
    }

    private static PolicyError parentMissing(Path file, ParsedPolicy p, GroupName parent) {
        return new PolicyError(file, p.nameLine(), p.nameColumn(), "parent group \"" + parent + "\" is not defined");
    }
}

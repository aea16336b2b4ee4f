package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the policy directory would ask for if some files were put in it ({@code jgovernor plan}):
 * the daemon's catalog as its last pass left it, with each given file replacing the live file of
 * its name. Live files keep the groups they have applied now (also a last good version), so a given
 * file that defines one of them again, or names a parent that exists nowhere, is rejected, as the
 * daemon would reject it.
 */
public final class WhatIf {
    private WhatIf() {
    }

    /**
     * A given file: {@code name} is its name in the policy directory, {@code shown} where the person
     * has it (errors point there), {@code content} its text.
     */
    public record Given(String name, Path shown, String content) {
    }

    /** The groups that would be desired, and the given files' problems (none: the result can be planned). */
    public record Result(SortedMap<GroupName, Policy> desired, List<PolicyError> errors) {
        public Result {
            desired = java.util.Collections.unmodifiableSortedMap(desired);
            errors = List.copyOf(errors);
        }
    }

    public static Result of(PolicyParser parser, CatalogState live, List<Given> given) {
        Set<String> replaced = new HashSet<>();
        Set<PolicyError> errors = new LinkedHashSet<>();
        given.forEach(g -> replaced.add(g.name()));
        List<CrossFile.Input> inputs = new ArrayList<>();
        for (CatalogState.FileStatus f : live.files()) {
            if (replaced.contains(f.file().getFileName().toString())) {
                continue;
            }
            List<ParsedPolicy> applied = new ArrayList<>();
            for (GroupName g : f.groups()) {
                Policy p = live.desired().get(g);
                if (p != null) {
                    applied.add(new ParsedPolicy(p, 1, 1));
                }
            }
            inputs.add(new CrossFile.Input(f.file(), applied, applied));
        }
        for (Given g : given) {
            if (!PolicyDirectory.isPolicyName(g.name()) || g.name().contains("/")) {
                errors.add(PolicyError.whole(g.shown(), g.name() + " is no policy file name (NAME.yaml or NAME.yml)"));
                continue;
            }
            if (g.content().getBytes(StandardCharsets.UTF_8).length > FileSafety.MAX_FILE_BYTES) {
                errors.add(PolicyError.whole(g.shown(), "file is more than the 1 MiB a policy file may have"));
                continue;
            }
            List<ParsedPolicy> candidate = null;
            switch (parser.parse(g.shown(), g.content())) {
                case ParseResult.Ok ok -> candidate = ok.policies();
                case ParseResult.Rejected r -> errors.addAll(r.errors());
            }
            inputs.add(new CrossFile.Input(g.shown(), List.of(), candidate));
        }
        SortedMap<GroupName, Policy> desired = new TreeMap<>();
        Set<Path> mine = new HashSet<>();
        given.forEach(g -> mine.add(g.shown()));
        for (CrossFile.Outcome o : CrossFile.resolve(inputs)) {
            if (mine.contains(o.file())) {
                errors.addAll(o.errors());
            }
            for (ParsedPolicy p : o.applied()) {
                desired.putIfAbsent(p.policy().name(), p.policy());
            }
        }
        return new Result(desired, new ArrayList<>(errors));
    }
}

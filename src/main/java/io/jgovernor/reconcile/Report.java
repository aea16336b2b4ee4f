package io.jgovernor.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/** What one pass did. {@code failedGroups} are the labels of groups with at least one failed step. */
public record Report(boolean full, int groups, int mkdirs, int writes, int removals, int driftCorrections,
                     List<ReconcileError> errors, Set<String> failedGroups, Duration took) {
    public Report {
        errors = List.copyOf(errors);
        failedGroups = Set.copyOf(failedGroups);
    }

    public boolean changedSomething() {
        return mkdirs + writes + removals > 0;
    }

    @Override
    public String toString() {
        return (full ? "full" : "partial") + " pass over " + groups + " groups: " + mkdirs + " created, "
                + writes + " writes, " + removals + " removed, " + driftCorrections + " drift corrections, "
                + errors.size() + " errors in " + took.toMillis() + " ms";
    }
}

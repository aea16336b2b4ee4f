package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.SortedSnapshot;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the policy directory asks for after one refresh: the groups that must exist now, and how
 * each file stands, for logs, {@code jgovernor status}, the status API and metrics.
 */
public record CatalogState(SortedMap<GroupName, Policy> desired, List<FileStatus> files, List<PolicyError> errors,
                           Change change) {
    public CatalogState {
        // wrapped, not copied: the catalog makes a new map for every refresh and never changes it
        desired = desired instanceof SortedSnapshot<GroupName, Policy> ? desired : Collections.unmodifiableSortedMap(desired);
        files = List.copyOf(files);
        errors = List.copyOf(errors);
    }

    /** A state whose change from the one before is not known (a full refresh): compare every group. */
    public CatalogState(SortedMap<GroupName, Policy> desired, List<FileStatus> files, List<PolicyError> errors) {
        this(desired, files, errors, null);
    }

    /**
     * How {@code desired} differs from the state of the refresh before ({@code base}, the very map
     * that refresh gave): {@code groups} names every group added, removed or given another policy
     * object (more is harmless). A reconcile pass that applied {@code base} compares only those.
     */
    public record Change(SortedMap<GroupName, Policy> base, java.util.Set<GroupName> groups) {
    }

    /**
     * One file: whether its current content is accepted, its problems, the groups it contributes
     * now, and whether those come from an earlier accepted version because the current one is not;
     * {@code removing}: the file is missing, and its groups go unless it is back within the removal
     * delay (a replacement by unlink + create is an edit).
     */
    public record FileStatus(Path file, boolean valid, List<PolicyError> errors, SortedSet<GroupName> groups,
                             boolean onLastGood, boolean removing) {
        public FileStatus {
            errors = List.copyOf(errors);
            groups = Collections.unmodifiableSortedSet(new TreeSet<>(groups));
        }

        public FileStatus(Path file, boolean valid, List<PolicyError> errors, SortedSet<GroupName> groups,
                          boolean onLastGood) {
            this(file, valid, errors, groups, onLastGood, false);
        }
    }

    public long validCount() {
        return files.stream().filter(FileStatus::valid).count();
    }

    public long invalidCount() {
        return files.size() - validCount();
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;

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
public record CatalogState(SortedMap<GroupName, Policy> desired, List<FileStatus> files, List<PolicyError> errors) {
    public CatalogState {
        // wrapped, not copied: the catalog builds a new map for every refresh and keeps no handle
        desired = Collections.unmodifiableSortedMap(desired);
        files = List.copyOf(files);
        errors = List.copyOf(errors);
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

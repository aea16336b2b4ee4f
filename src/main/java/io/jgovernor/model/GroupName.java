package io.jgovernor.model;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A group's name as written in a policy: segments separated by '/', where "batch/low" is a child
 * of "batch". Each segment is also a cgroup directory name, so the pattern excludes '.' and '..'
 * and anything that could leave the daemon's root.
 */
public record GroupName(String value) implements Comparable<GroupName> {
    public static final Pattern SEGMENT = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    public GroupName {
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Why {@code value} is not a valid group name, or null when it is. */
    public static String problem(String value) {
        if (value == null || value.isEmpty()) {
            return "a group name must not be empty";
        }
        for (String segment : value.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches()) {
                return "\"" + value + "\" is not a valid group name: each '/'-separated part must match "
                        + SEGMENT.pattern();
            }
        }
        return null;
    }

    public List<String> segments() {
        return List.of(value.split("/"));
    }

    public Optional<GroupName> parent() {
        int slash = value.lastIndexOf('/');
        return slash < 0 ? Optional.empty() : Optional.of(new GroupName(value.substring(0, slash)));
    }

    public int depth() {
        return segments().size();
    }

    @Override
    public int compareTo(GroupName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

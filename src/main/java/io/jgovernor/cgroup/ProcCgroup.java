package io.jgovernor.cgroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A process's cgroup membership as /proc/PID/cgroup gives it: one line per hierarchy,
 * {@code hierarchy-id:controller-list:path}, where the v2 line reads {@code 0::/path}.
 */
public record ProcCgroup(List<Entry> entries) {
    public ProcCgroup {
        entries = List.copyOf(entries);
    }

    /** One line; {@code controllers} is empty for the v2 line. */
    public record Entry(int hierarchyId, Set<String> controllers, String path) {
        public Entry {
            controllers = Set.copyOf(controllers);
        }
    }

    public static ProcCgroup parse(String text) {
        List<Entry> entries = new ArrayList<>();
        int lineNumber = 0;
        for (String line : text.split("\n")) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                throw new IllegalArgumentException("/proc/self/cgroup line " + lineNumber
                        + " is not id:controllers:path: " + line);
            }
            int id;
            try {
                id = Integer.parseInt(line.substring(0, first));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("/proc/self/cgroup line " + lineNumber
                        + " is not id:controllers:path: " + line);
            }
            String list = line.substring(first + 1, second);
            Set<String> controllers = list.isEmpty() ? Set.of() : Set.of(list.split(","));
            entries.add(new Entry(id, controllers, line.substring(second + 1).strip()));
        }
        return new ProcCgroup(entries);
    }

    /** The path in the v1 hierarchy that carries {@code controller} ("cpu", "name=systemd"). */
    public Optional<String> pathOf(String controller) {
        for (Entry e : entries) {
            if (e.controllers().contains(controller)) {
                return Optional.of(e.path());
            }
        }
        return Optional.empty();
    }

    /** The path in the v2 hierarchy (the "0::" line). */
    public Optional<String> unifiedPath() {
        for (Entry e : entries) {
            if (e.hierarchyId() == 0 && e.controllers().isEmpty()) {
                return Optional.of(e.path());
            }
        }
        return Optional.empty();
    }

    /** The path in hierarchy {@code h}: its "0::" line on v2, the line of its controllers on v1. */
    public Optional<String> pathIn(Hierarchy h) {
        return h.isUnified() ? unifiedPath() : pathOf(h.controllers().iterator().next());
    }
}

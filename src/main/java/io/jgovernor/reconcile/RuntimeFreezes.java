package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The groups frozen at run time ({@code jgovernor freeze GROUP}), kept in one file of the state
 * directory (a group name a line, written by rename) so that they stay frozen across daemon
 * restarts until thawed. The reconciler applies them as if the group's policy said
 * {@code freezer: {frozen: true}}: a pass then freezes the group (making its freezer directory
 * where there is none) instead of undoing the freeze. A policy that has a {@code freezer:} key
 * wins: the run-time freeze is not laid over it.
 */
public final class RuntimeFreezes {
    private final Path file;
    private volatile SortedSet<GroupName> groups;

    private RuntimeFreezes(Path file, SortedSet<GroupName> groups) {
        this.file = file;
        this.groups = groups;
    }

    /** None, kept nowhere (tests, and a reconciler without a state directory). */
    public static RuntimeFreezes none() {
        return new RuntimeFreezes(null, new TreeSet<>());
    }

    /** The freezes recorded in {@code file}; none when it does not exist. Unreadable names are skipped. */
    public static RuntimeFreezes load(Path file) throws IOException {
        SortedSet<GroupName> set = new TreeSet<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    try {
                        set.add(new GroupName(line.strip()));
                    } catch (IllegalArgumentException e) {
                        // a hand-edited line: ignored rather than keeping the daemon from starting
                    }
                }
            }
        }
        return new RuntimeFreezes(file, set);
    }

    public SortedSet<GroupName> groups() {
        return java.util.Collections.unmodifiableSortedSet(groups);
    }

    public boolean contains(GroupName g) {
        return groups.contains(g);
    }

    /** Records {@code g} frozen (durably, before any pass applies it); false when it already was. */
    public synchronized boolean add(GroupName g) throws IOException {
        if (groups.contains(g)) {
            return false;
        }
        SortedSet<GroupName> next = new TreeSet<>(groups);
        next.add(g);
        save(next);
        return true;
    }

    /** Forgets {@code g}'s run-time freeze (durably); false when there was none. */
    public synchronized boolean remove(GroupName g) throws IOException {
        if (!groups.contains(g)) {
            return false;
        }
        SortedSet<GroupName> next = new TreeSet<>(groups);
        next.remove(g);
        save(next);
        return true;
    }

    private void save(SortedSet<GroupName> next) throws IOException {
        if (file != null) {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            StringBuilder s = new StringBuilder();
            next.forEach(g -> s.append(g.value()).append('\n'));
            Files.writeString(tmp, s, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        groups = next;
    }

    /**
     * {@code desired} with {@code freezer: {frozen: true}} for every group frozen at run time whose
     * policy has no {@code freezer:} key; the same map when nothing changes, so that a pass's
     * identity check of its base still holds.
     */
    public SortedMap<GroupName, Policy> overlay(SortedMap<GroupName, Policy> desired) {
        SortedSet<GroupName> now = groups;
        if (now.isEmpty()) {
            return desired;
        }
        SortedMap<GroupName, Policy> out = null;
        for (GroupName g : now) {
            Policy p = desired.get(g);
            if (p == null || p.resources().freezer().isPresent()) {
                continue;
            }
            if (out == null) {
                out = new TreeMap<>(desired);
            }
            Resources r = p.resources().withFreezer(java.util.Optional.of(new Resources.Freezer(true)));
            out.put(g, new Policy(p.name(), p.description(), p.match(), p.run(), r, p.oomWebhooks(), p.process()));
        }
        return out == null ? desired : out;
    }
}

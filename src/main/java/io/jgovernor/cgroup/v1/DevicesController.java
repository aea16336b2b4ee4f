package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.DeviceRule;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * "devices": a group's device allow list in devices.allow / devices.deny, read back from
 * devices.list.
 *
 * <p>What the kernel keeps (security/device_cgroup.c): a behaviour, allow-all or deny-all, and a
 * list of exceptions, one per type and major:minor, whose accesses a second write for the same
 * numbers merges into. devices.list prints "a *:* rwm" for allow-all (the exceptions of an
 * allow-all group are not shown) and the exceptions of a deny-all one, in the order they were
 * added. A policy's list is deny-all with its rules as the exceptions. Rules of type "a" are
 * written as a "b" and a "c" rule: anything written that begins with "a" sets the behaviour.
 *
 * <p>"a" is written once, to devices.deny, to turn a group made allow-all (as a new directory
 * under an allow-all parent is) into a list: it drops every exception at once, and the kernel
 * refuses it (EINVAL) in a group that has children. Every later edit is a diff on the list, the
 * new rules allowed first and the old ones denied after, so a device both lists allow stays open
 * throughout and the group never holds more than the old and the new list together. "a" is never
 * written to devices.allow (EINVAL with children too): allow-all within a list is "b *:* rwm" and
 * "c *:* rwm". A group may only allow what its parent allows (EPERM, the group's error); a rule
 * denied in a parent is removed from its children by the kernel.
 *
 * <p>A group without {@code devices:} gets what a fresh directory has: its parent's list (read in
 * {@link #observe}), the same devices if not the same words.
 */
public final class DevicesController implements Controller {
    public static final String ALLOW = "devices.allow";
    public static final String DENY = "devices.deny";
    public static final String LIST = "devices.list";
    /** The key under which {@link #observe} puts the parent directory's devices.list. */
    static final String PARENT_LIST = "../" + LIST;
    private static final String ALL = "a";
    private static final String NONE_SHOWN = "(none)";

    @Override
    public String name() {
        return "devices";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.devices().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(LIST);
    }

    @Override
    public Map<String, String> observe(CgroupFiles files, Path dir) throws CgroupException {
        Map<String, String> out = new LinkedHashMap<>(files.readAll(dir, observedFiles()));
        files.read(dir.getParent(), LIST).ifPresent(text -> out.put(PARENT_LIST, text));
        return out;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        State now = State.parse(Normalize.text(observed, LIST));
        State wanted;
        if (resources.devices().isPresent()) {
            wanted = State.of(resources.devices().get().allow());
        } else {
            wanted = State.parse(Normalize.text(observed, PARENT_LIST));
            if (now == null || wanted == null) {
                return List.of(); // a fresh directory: it has its parent's list already
            }
        }
        if (wanted.allowAll && now != null && !now.allowAll) {
            // "a" to devices.allow is refused (EINVAL) while the group has children: the two
            // wildcard rules allow the same, and reach it by a diff
            wanted = State.ANY;
        }
        if (wanted.equals(now)) {
            return List.of();
        }
        List<Write> writes = new ArrayList<>();
        if (now == null || now.allowAll) {
            // (wanted is a list here: an allow-all "now" only differs from a list)
            writes.add(new Write(DENY, ALL, now == null ? Normalize.ABSENT : now.toString(), NONE_SHOWN));
            now = new State(false, Map.of());
        }
        // Allows first, denies after: a device that the old and the new list both allow, if only
        // through a wildcard of one of them, stays open throughout.
        for (var e : wanted.exceptions.entrySet()) {
            Set<DeviceRule.Access> had = now.exceptions.getOrDefault(e.getKey(), Set.of());
            if (!had.containsAll(e.getValue())) {
                String rule = e.getKey() + " " + letters(e.getValue());
                writes.add(new Write(ALLOW, rule, had.isEmpty() ? NONE_SHOWN : e.getKey() + " " + letters(had),
                        e.getKey() + " " + letters(union(had, e.getValue()))));
            }
        }
        for (var e : now.exceptions.entrySet()) {
            Set<DeviceRule.Access> keep = wanted.exceptions.getOrDefault(e.getKey(), Set.of());
            Set<DeviceRule.Access> held = union(e.getValue(), keep);
            EnumSet<DeviceRule.Access> gone = EnumSet.copyOf(held);
            gone.removeAll(keep);
            if (!gone.isEmpty()) {
                writes.add(new Write(DENY, e.getKey() + " " + letters(gone), e.getKey() + " " + letters(held),
                        keep.isEmpty() ? NONE_SHOWN : e.getKey() + " " + letters(keep)));
            }
        }
        return writes;
    }

    private static Set<DeviceRule.Access> union(Set<DeviceRule.Access> a, Set<DeviceRule.Access> b) {
        EnumSet<DeviceRule.Access> out = EnumSet.noneOf(DeviceRule.Access.class);
        out.addAll(a);
        out.addAll(b);
        return out;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        // A new directory copies its parent's list, which the plan does not read: absent means
        // "not known", and a policy's list is then written whole, "a" denied first.
        return Map.of();
    }

    private static String letters(Set<DeviceRule.Access> access) {
        StringBuilder out = new StringBuilder(3);
        for (DeviceRule.Access a : DeviceRule.Access.values()) {
            if (access.contains(a)) {
                out.append(a.letter);
            }
        }
        return out.toString();
    }

    /** A directory's list as the kernel keeps it: the behaviour, and the exceptions by "c 1:3". */
    record State(boolean allowAll, Map<String, Set<DeviceRule.Access>> exceptions) {
        /** A deny-all list that allows every device all the same: what allow-all becomes in a list. */
        static final State ANY = of(List.of(DeviceRule.parse("a *:* rwm")));

        /** devices.list's text; null for a file not read. */
        static State parse(String text) {
            if (text == null) {
                return null;
            }
            Map<String, Set<DeviceRule.Access>> exceptions = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                DeviceRule rule;
                try {
                    rule = DeviceRule.parse(line);
                } catch (IllegalArgumentException e) {
                    continue; // the kernel prints nothing else; a line it might add later is not ours
                }
                if (rule.type() == 'a') {
                    return new State(true, Map.of());
                }
                add(exceptions, rule);
            }
            return new State(false, exceptions);
        }

        /** What a deny-all list with these rules as exceptions reads like. */
        static State of(List<DeviceRule> rules) {
            Map<String, Set<DeviceRule.Access>> exceptions = new LinkedHashMap<>();
            for (DeviceRule r : rules) {
                if (r.type() == 'a') {
                    add(exceptions, new DeviceRule('b', r.major(), r.minor(), r.access()));
                    add(exceptions, new DeviceRule('c', r.major(), r.minor(), r.access()));
                } else {
                    add(exceptions, r);
                }
            }
            return new State(false, exceptions);
        }

        private static void add(Map<String, Set<DeviceRule.Access>> exceptions, DeviceRule r) {
            String key = r.toString();
            key = key.substring(0, key.lastIndexOf(' '));
            exceptions.computeIfAbsent(key, k -> EnumSet.noneOf(DeviceRule.Access.class)).addAll(r.access());
        }

        @Override
        public String toString() {
            if (allowAll) {
                return "a *:* rwm";
            }
            if (exceptions.isEmpty()) {
                return NONE_SHOWN;
            }
            List<String> out = new ArrayList<>();
            exceptions.forEach((k, v) -> out.add(k + " " + letters(v)));
            return String.join(", ", out);
        }
    }
}

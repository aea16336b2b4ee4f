package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;

import java.util.Set;

/**
 * Which groups a pass looks at. A periodic pass looks at everything (and so repairs drift and
 * removes orphans anywhere); a pass triggered by a policy change looks only at the groups whose
 * policy changed, which keeps an edit's latency independent of how many groups exist.
 */
record Scope(boolean all, Set<GroupName> groups) {
    static final Scope ALL = new Scope(true, Set.of());

    static Scope of(Set<GroupName> groups) {
        return new Scope(false, Set.copyOf(groups));
    }

    boolean covers(GroupName name) {
        if (all) {
            return true;
        }
        for (GroupName g : groups) {
            if (name.equals(g) || name.value().startsWith(g.value() + "/")) {
                return true;
            }
        }
        return false;
    }
}

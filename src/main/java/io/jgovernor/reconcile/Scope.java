package io.jgovernor.reconcile;

import io.jgovernor.model.GroupName;

import java.util.Set;

/**
 * Which groups a pass looks at. A periodic pass looks at everything (and so repairs drift and
 * removes orphans anywhere); a pass triggered by a policy change looks only at the groups whose
 * policy changed, which keeps an edit's latency independent of how many groups exist.
 *
 * @param subtrees groups looked at together with all their descendants (a changed cpuset is
 *                 inherited below)
 * @param nodes    groups looked at alone: the ancestors of a changed group, which may need a
 *                 directory in a hierarchy they did not use before, or no longer need one
 */
record Scope(boolean all, Set<GroupName> subtrees, Set<GroupName> nodes) {
    static final Scope ALL = new Scope(true, Set.of(), Set.of());

    static Scope of(Set<GroupName> subtrees, Set<GroupName> nodes) {
        return new Scope(false, Set.copyOf(subtrees), Set.copyOf(nodes));
    }
}

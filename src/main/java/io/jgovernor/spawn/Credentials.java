package io.jgovernor.spawn;

import io.jgovernor.model.RunSpec;
import io.jgovernor.sys.Accounts;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The numeric ids a workload runs with, resolved from the policy's names in the daemon (see
 * {@link Accounts} for why not in the stage).
 *
 * <p>Without a user namespace the command runs as {@code run.user} (default root) with that
 * user's primary group, or {@code run.group}, and the supplementary groups /etc/group lists for
 * the user. With a user namespace and no {@code uidMap}, root inside maps to the run user
 * outside (uid and gid, one id each) and the command runs as root inside. With a {@code uidMap},
 * it is used for uids and gids alike, and {@code run.user}/{@code run.group} name the ids inside.
 */
record Credentials(long uid, long gid, List<Long> groups, List<String> uidMap, List<String> gidMap) {
    /** The uid as the host sees it: through the uid map inside a user namespace (-1 when unmapped). */
    long hostUid() {
        return outside(uid, uidMap);
    }

    long hostGid() {
        return outside(gid, gidMap);
    }

    private static long outside(long id, List<String> map) {
        if (map.isEmpty()) {
            return id;
        }
        for (String line : map) {
            String[] f = line.split(" ");
            long inside = Long.parseLong(f[0]);
            if (id >= inside && id - inside < Long.parseLong(f[2])) {
                return Long.parseLong(f[1]) + id - inside;
            }
        }
        return -1;
    }

    static Credentials resolve(RunSpec spec, Accounts accounts) throws StartFailure {
        String userName = spec.user().orElse("0");
        Accounts.User user = accounts.user(userName)
                .orElseThrow(() -> new StartFailure("run.user: no user \"" + userName + "\" in /etc/passwd"));
        long gid = user.gid();
        if (spec.group().isPresent()) {
            String g = spec.group().get();
            gid = accounts.group(g).orElseThrow(() -> new StartFailure("run.group: no group \"" + g + "\" in /etc/group"));
        }
        Set<Long> groups = new LinkedHashSet<>(accounts.supplementaryGroups(user.name()));
        boolean userNs = spec.isolate().map(i -> i.namespaces().contains(RunSpec.Namespace.USER)).orElse(false);
        if (!userNs) {
            return new Credentials(user.uid(), gid, List.copyOf(groups), List.of(), List.of());
        }
        List<RunSpec.IdMapping> map = spec.isolate().get().uidMap();
        if (map.isEmpty()) {
            // Only ids 0 exist inside; supplementary groups outside it cannot be named there.
            return new Credentials(0, 0, List.of(), List.of("0 " + user.uid() + " 1"), List.of("0 " + gid + " 1"));
        }
        List<String> lines = new ArrayList<>();
        for (RunSpec.IdMapping m : map) {
            lines.add(m.inside() + " " + m.outside() + " " + m.count());
        }
        return new Credentials(user.uid(), gid, List.copyOf(groups), lines, lines);
    }
}

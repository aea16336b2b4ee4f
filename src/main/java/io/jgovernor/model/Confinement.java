package io.jgovernor.model;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a workload may do once it runs, the {@code run:} keys capabilities, noNewPrivileges,
 * seccomp and limits. The exec stage applies it in runc's order, last thing before execve.
 *
 * @param capabilities what the workload keeps, as the policy lists them; empty when it lists
 *                     none, then {@link #kept(boolean)} decides by user
 * @param seccomp      where the filter came from ("default", "unconfined" or the profile's
 *                     path) and the filter; no profile when unconfined
 * @param limits       the limits the policy sets; every other one is {@link Rlimit#initial()}
 */
public record Confinement(Optional<Set<Capability>> capabilities, boolean noNewPrivileges, Seccomp seccomp,
                          Map<Rlimit, Rlimit.Value> limits) {
    public static final String DEFAULT_PROFILE = "default";
    public static final String UNCONFINED = "unconfined";

    public Confinement {
        capabilities = capabilities.map(Set::copyOf);
        limits = limits.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(limits));
    }

    public record Seccomp(String source, Optional<SeccompProfile> profile) {
        public static final Seccomp NONE = new Seccomp(UNCONFINED, Optional.empty());
    }

    /**
     * Nothing held back: every capability kept, no no_new_privs, no filter, the kernel's limits.
     * Only for a spec that is never started (a workload's whose policy is gone) and for tests
     * that measure what confinement costs.
     */
    public static final Confinement NONE = new Confinement(Optional.of(Set.of(Capability.values())), false,
            Seccomp.NONE, Map.of());

    /** The capabilities the workload keeps: the listed ones, else runc's 14 for root and none for anyone else. */
    public Set<Capability> kept(boolean root) {
        return capabilities.orElse(root ? Capability.RUNC_DEFAULT : Set.of());
    }

    /** Every limit the stage sets, in the kernel's order: the policy's, else the initial one. */
    public Map<Rlimit, Rlimit.Value> rlimits() {
        Map<Rlimit, Rlimit.Value> all = new EnumMap<>(Rlimit.class);
        for (Rlimit r : Rlimit.values()) {
            Optional<Rlimit.Value> v = Optional.ofNullable(limits.get(r)).or(r::initial);
            v.ifPresent(value -> all.put(r, value));
        }
        return all;
    }

    /** The capabilities in the kernel's order (for argv and hashes that must not depend on set order). */
    public static List<Capability> ordered(Set<Capability> caps) {
        return caps.stream().sorted().toList();
    }
}

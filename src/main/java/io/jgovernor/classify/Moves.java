package io.jgovernor.classify;

import io.jgovernor.model.GroupName;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Why the classifier put each process where it is, for {@code jgovernor why PID}: the group, the
 * policy file and which of its {@code match:} entries held, and when. Written by the classifier's
 * thread at each move, read by control-API requests on others. Bounded: beyond {@link #MAX}
 * processes the oldest move is forgotten (its process is then shown as "not moved by jgovernor",
 * with the group it is in all the same), so a host that forks without end cannot grow the daemon.
 */
public final class Moves {
    static final int MAX = 65_536;

    /**
     * @param entry 1-based, as a person counts the entries of {@code match:}
     * @param rule  the entry's keys as the policy wrote them
     */
    public record Moved(GroupName group, String file, int entry, String rule, Instant at) {
    }

    private final Map<Integer, Moved> byPid;

    public Moves() {
        this(MAX);
    }

    Moves(int max) {
        this.byPid = new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Moved> eldest) {
                return size() > max;
            }
        };
    }

    synchronized void moved(int pid, Moved why) {
        byPid.remove(pid); // moved again: it counts as the newest
        byPid.put(pid, why);
    }

    synchronized void forget(int pid) {
        byPid.remove(pid);
    }

    public synchronized Optional<Moved> of(int pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    synchronized int size() {
        return byPid.size();
    }
}

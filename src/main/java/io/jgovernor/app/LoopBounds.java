package io.jgovernor.app;

import java.time.Duration;

/**
 * How long one item of each loop may take before the loop counts as stuck (live DOWN, no
 * watchdog ping). Waiting for work is never stuck; these bound the work itself, and are far
 * above what a healthy daemon takes (a pass: milliseconds; a /proc scan: well under a second)
 * and at or below the unit's WatchdogSec=60s, so systemd acts on a stuck loop.
 */
final class LoopBounds {
    /**
     * One reconcile pass: reading the changed policies and writing the cgroups. The end-to-end
     * test of a stuck pass shortens it with {@code -Dtest.jgovernor.reconcile-bound-ms}.
     */
    static final Duration RECONCILE = Duration.ofMillis(Long.getLong("test.jgovernor.reconcile-bound-ms", 60_000));
    /**
     * Test hook, set only by the end-to-end test (DaemonIT): the first pass after startup that
     * follows an edit blocks this long, as a pass stuck in the kernel would. 0: never. Outside
     * the {@code jgovernor.} prefix, which Quarkus validates against the configuration mapping.
     */
    static final long TEST_STALL_MILLIS = Long.getLong("test.jgovernor.stall-reconcile-ms", 0);
    /** One batch of inotify events on the policy directory. */
    static final Duration POLICY_WATCH = Duration.ofSeconds(10);
    /** One scan of /proc, or one batch of process events. */
    static final Duration CLASSIFY = Duration.ofSeconds(30);
    /** One batch of OOM notifications (reading counters, spooling the events). */
    static final Duration OOM = Duration.ofSeconds(30);
    /** Preparing one webhook retry (the HTTP exchange itself is asynchronous, bounded by its timeout). */
    static final Duration WEBHOOK = Duration.ofSeconds(10);

    private LoopBounds() {
    }
}

package io.jgovernor.app;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The daemon's configuration keys, as ../shared/spec/daemon.md names them, plus extensions. */
@ConfigMapping(prefix = "jgovernor")
public interface JgovernorConfig {
    @WithDefault("/etc/jgovernor/policies.d")
    Path policyDir();

    Cgroup cgroup();

    @WithDefault("/var/lib/jgovernor")
    Path stateDir();

    /**
     * The daemon's pid, written (atomically) once it starts and removed when it stops, for tools
     * that want a pidfile (systemd does not need one: it knows its main pid).
     */
    @WithDefault("/run/jgovernor/jgovernor.pid")
    Path pidFile();

    Webhook webhook();

    Api api();

    Reconcile reconcile();

    Classify classify();

    Run run();

    /** Workloads of policies with {@code run:}. */
    interface Run {
        /** On SIGTERM, leave the workloads running (the next daemon adopts them) instead of stopping them. */
        @WithDefault("false")
        boolean outliveDaemon();

        /** The exec stage binary; default: next to the app (a checkout's target/), else /usr/lib/jgovernor. */
        Optional<Path> execStage();
    }

    interface Cgroup {
        /** Where the hierarchies are mounted (v1: one directory per controller; v2: the unified tree). */
        @WithDefault("/sys/fs/cgroup")
        Path mount();

        /** Relative: beneath the daemon's own cgroup in each hierarchy (systemd's Delegate=yes); absolute: from the hierarchy root. */
        @WithDefault("jgovernor")
        String root();

        /**
         * On a hybrid host (v1 controllers plus systemd's controller-less unified tree): give every
         * group a directory in the unified tree too and move its processes there, which is where
         * the kernel counts per-group pressure (PSI) for metrics and events.pressure.
         */
        @WithDefault("true")
        boolean hybridUnified();
    }

    interface Webhook {
        /** Receivers of every event (a group's events.oom.webhooks add to them). */
        Optional<List<String>> urls();

        /** The HMAC-SHA256 key for X-Jgovernor-Signature; must not be accessible by group or others. */
        Optional<Path> secretFile();

        /** At most this many undelivered events are kept in the spool; beyond, the oldest are dropped (and counted). */
        @WithDefault("10000")
        int spoolMaxEvents();

        /** How long one request may take (connect, send, answer). */
        @WithDefault("5s")
        Duration timeout();

        /** The first retry waits up to this long (full jitter); each later one up to twice as long ... */
        @WithDefault("250ms")
        Duration backoffInitial();

        /** ... but never more than this. */
        @WithDefault("5m")
        Duration backoffMax();

        /** On SIGTERM, how long requests on the wire may still take; what is left stays in the spool. */
        @WithDefault("2s")
        Duration shutdownGrace();
    }

    interface Api {
        @WithDefault("/run/jgovernor/api.sock")
        Path socket();
    }

    interface Reconcile {
        /** How often a full pass checks every group and repairs drift. */
        @WithDefault("30s")
        Duration interval();

        /** How long the policy directory must stay quiet after an event before a pass runs. */
        @WithDefault("2ms")
        Duration quiet();

        /**
         * How long a policy file must stay away before its groups are removed: a deploy tool that
         * replaces a file by unlink + create (GNU install, rm then cp) leaves it missing for a moment,
         * and that is an edit, not a removal (policy.md). Zero removes at once.
         */
        @WithDefault("1s")
        Duration removalDelay();
    }

    interface Classify {
        /**
         * How often /proc is scanned for processes that match a rule when the kernel's process
         * connector is not available (not root, or in a container's namespaces); with the
         * connector, processes are classified as they start and this is not used.
         */
        @WithDefault("2s")
        Duration scanInterval();

        /**
         * The classifier thread's SCHED_FIFO priority (1-99) while it handles process events, so
         * that it runs the moment a process starts instead of after the busy CPU's current task;
         * 0 keeps the normal scheduler. Scans of /proc always run at normal priority.
         */
        @WithDefault("1")
        int realtimePriority();
    }
}

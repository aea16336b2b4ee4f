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

    Webhook webhook();

    Api api();

    Reconcile reconcile();

    interface Cgroup {
        /** Where the hierarchies are mounted (v1: one directory per controller; v2: the unified tree). */
        @WithDefault("/sys/fs/cgroup")
        Path mount();

        /** Relative: beneath the daemon's own cgroup in each hierarchy (systemd's Delegate=yes); absolute: from the hierarchy root. */
        @WithDefault("jgovernor")
        String root();
    }

    interface Webhook {
        Optional<List<String>> urls();

        Optional<Path> secretFile();
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
        @WithDefault("3ms")
        Duration quiet();
    }
}

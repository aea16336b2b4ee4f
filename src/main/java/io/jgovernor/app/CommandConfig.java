package io.jgovernor.app;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * The daemon's configuration as a subcommand sees it, before (and without) Quarkus: the same
 * precedence as MicroProfile Config gives the daemon: system property, then environment variable
 * ({@code jgovernor.api.socket} -> {@code JGOVERNOR_API_SOCKET}), then the properties files of
 * {@code quarkus.config.locations} (what the packaged launcher passes for
 * /etc/jgovernor/jgovernor.properties), then the default, which must be {@link JgovernorConfig}'s.
 */
final class CommandConfig {
    static final String POLICY_DIR = "jgovernor.policy-dir";
    static final String CGROUP_MOUNT = "jgovernor.cgroup.mount";
    static final String API_SOCKET = "jgovernor.api.socket";
    static final String STATE_DIR = "jgovernor.state-dir";

    private CommandConfig() {
    }

    static Path policyDir() {
        return Path.of(value(POLICY_DIR).orElse("/etc/jgovernor/policies.d"));
    }

    static Path cgroupMount() {
        return Path.of(value(CGROUP_MOUNT).orElse("/sys/fs/cgroup"));
    }

    static Path stateDir() {
        return Path.of(value(STATE_DIR).orElse("/var/lib/jgovernor"));
    }

    static Path socket() {
        return Path.of(value(API_SOCKET).orElse("/run/jgovernor/api.sock"));
    }

    static Optional<String> value(String key) {
        String p = System.getProperty(key);
        if (p != null) {
            return Optional.of(p);
        }
        String env = System.getenv(key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"));
        if (env != null) {
            return Optional.of(env);
        }
        String locations = System.getProperty("quarkus.config.locations", System.getenv("QUARKUS_CONFIG_LOCATIONS"));
        if (locations != null) {
            for (String location : locations.split(",")) {
                Optional<String> v = fromFile(location.strip(), key);
                if (v.isPresent()) {
                    return v;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> fromFile(String location, String key) {
        Path file = Path.of(location.startsWith("file:") ? location.substring("file:".length()) : location);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            props.load(r);
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty(); // the daemon reports a broken file when it starts
        }
        String v = props.getProperty(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
    }
}

package io.jgovernor.app;

import io.jgovernor.policy.PolicyError;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.policy.Validator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code jgovernor validate [DIR|FILE...]}: exit 0 when every policy is valid, 1 otherwise. */
final class ValidateCommand {
    private ValidateCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<Path> targets = new ArrayList<>();
        for (String a : args) {
            targets.add(Path.of(a));
        }
        if (targets.isEmpty()) {
            targets.add(defaultPolicyDir());
        }
        List<PolicyError> errors;
        try {
            errors = new Validator(new PolicyParser(new SysfsHostFacts(Path.of("/sys"), cgroupMount()))).validate(targets);
        } catch (Exception e) {
            err.println("jgovernor validate: " + e.getMessage());
            return 1;
        }
        for (PolicyError e : errors) {
            err.println(e);
        }
        if (errors.isEmpty()) {
            out.println("valid: " + targets.stream().map(Path::toString).reduce((a, b) -> a + " " + b).orElse(""));
            return 0;
        }
        return 1;
    }

    /** jgovernor.cgroup.mount, with the daemon's precedence: it decides whether v2 rules apply. */
    private static Path cgroupMount() {
        String p = System.getProperty("jgovernor.cgroup.mount");
        if (p == null) {
            p = System.getenv("JGOVERNOR_CGROUP_MOUNT");
        }
        return Path.of(p == null ? "/sys/fs/cgroup" : p);
    }

    /** The same precedence as the daemon's config: system property, environment, default. */
    private static Path defaultPolicyDir() {
        String p = System.getProperty("jgovernor.policy-dir");
        if (p == null) {
            p = System.getenv("JGOVERNOR_POLICY_DIR");
        }
        return Path.of(p == null ? "/etc/jgovernor/policies.d" : p);
    }
}

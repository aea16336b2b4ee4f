package io.jgovernor.app;

import io.jgovernor.policy.PolicyDirectory;
import io.jgovernor.policy.PolicyError;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.policy.Validator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code jgovernor validate [--json] [--alone] [--as NAME] [DIR|FILE...]}: exit 0 when every given
 * policy is valid, 1 otherwise, 2 on a usage error. Runs in this process (no daemon, no root):
 * given files are judged together with the configured policy directory, each replacing the live
 * file of its name, unless {@code --alone}; with no argument the policy directory itself is judged.
 */
final class ValidateCommand {
    static final Options.Command COMMAND = new Options.Command("validate", "[DIR|FILE...]", 0, -1,
            "Checks policy files as the daemon would: every problem as file:line:col: message. A given file\n"
                    + "is judged together with the live policy directory (jgovernor.policy-dir): it replaces the\n"
                    + "live file of the same name, and a group another live file defines, or a parent that exists\n"
                    + "nowhere, is an error. With no argument: the live policy directory itself.\n"
                    + "Exit 0: all valid; 1: some invalid; 2: usage error.",
            List.of(Options.JSON,
                    Options.Option.flag("alone", "judge the given files on their own, without the live directory"),
                    Options.Option.valued("as", "NAME", "judge the one given FILE as if it were the live file NAME"
                            + " (a deploy tool's temporary copy)")));

    private ValidateCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(COMMAND, args);
            if (o.has("as")) {
                check(o);
            }
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        if (o.help()) {
            out.println(COMMAND.help());
            return 0;
        }
        Path live = CommandConfig.policyDir();
        List<Path> targets = new ArrayList<>();
        o.operands().forEach(a -> targets.add(Path.of(a)));
        List<PolicyError> errors;
        try {
            Validator validator = new Validator(new PolicyParser(new SysfsHostFacts(Path.of("/sys"), CommandConfig.cgroupMount(),
                    CommandConfig.stateDir())));
            if (targets.isEmpty()) {
                errors = validator.validate(List.of(live));
            } else if (o.has("alone")) {
                errors = validator.validate(targets);
            } else {
                errors = validator.validateWith(live, given(targets, o.value("as").orElse(null)));
            }
        } catch (IOException e) {
            err.println("jgovernor validate: cannot read the live policy directory " + live + ": " + e.getMessage()
                    + " (--alone judges the files on their own)");
            return 1;
        } catch (Exception e) {
            err.println("jgovernor validate: " + e.getMessage());
            return 1;
        }
        if (o.has("json")) {
            JsonArray list = new JsonArray();
            for (PolicyError e : errors) {
                list.add(new JsonObject().put("file", e.file().toString()).put("line", e.line())
                        .put("column", e.column()).put("message", e.message()));
            }
            out.println(new JsonObject().put("valid", errors.isEmpty()).put("errors", list).encode());
            return errors.isEmpty() ? 0 : 1;
        }
        for (PolicyError e : errors) {
            err.println(e);
        }
        if (errors.isEmpty()) {
            List<Path> shown = targets.isEmpty() ? List.of(live) : targets;
            out.println("valid: " + String.join(" ", shown.stream().map(Path::toString).toList())
                    + (o.value("as").map(n -> " (as " + live.resolve(n) + ")").orElse("")));
            return 0;
        }
        return 1;
    }

    private static void check(Options o) throws Options.UsageException {
        String name = o.value("as").orElseThrow();
        if (o.has("alone")) {
            throw new Options.UsageException("--as judges a file as part of the live directory; it cannot go with --alone");
        }
        if (o.operands().size() != 1 || Files.isDirectory(Path.of(o.operands().getFirst()))) {
            throw new Options.UsageException("--as NAME needs exactly one FILE");
        }
        if (name.contains("/") || !PolicyDirectory.isPolicyName(name)) {
            throw new Options.UsageException("--as " + name + ": not a policy file name (NAME.yaml or NAME.yml,"
                    + " no directory, not hidden)");
        }
    }

    /** Each FILE as itself (or as {@code as}), each DIR's policy files by their names. */
    private static List<Validator.Given> given(List<Path> targets, String as) {
        List<Validator.Given> out = new ArrayList<>();
        for (Path t : targets) {
            if (Files.isDirectory(t)) {
                try {
                    for (PolicyDirectory.Candidate c : new PolicyDirectory(t).list()) {
                        out.add(new Validator.Given(c.file(), c.file().getFileName().toString()));
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read directory " + t + ": " + e.getMessage(), e);
                }
            } else {
                out.add(new Validator.Given(t, as != null ? as : t.getFileName().toString()));
            }
        }
        return out;
    }
}

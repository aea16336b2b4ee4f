package io.jgovernor.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * An operator's tool (scdoc, groff, bash, shellcheck, promtool, ansible-playbook) run the way the
 * operator runs it, from the checkout, with its exit status and both outputs. A tool that is not
 * installed fails the test with what installs it: bin/test runs bin/setup first, so a missing tool
 * is a broken setup, never a reason to skip.
 */
final class Tool {
    /** The checkout: Maven runs the tests there. */
    static final Path REPO = Path.of("").toAbsolutePath();

    record Result(int exit, String out, String err) {
        String both() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Tool() {
    }

    /** The tool's path on PATH, or a failed test naming the Debian package that has it. */
    static String path(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        fail(name + " is not installed: bin/setup installs Debian's " + debianPackage + " package");
        return name;
    }

    static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        return run(env, List.of(command));
    }

    /** Runs in the checkout, stdin empty; outputs go through files so neither pipe can fill up. */
    static Result run(Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jgovernor-tool-", ".out");
        Path err = Files.createTempFile("jgovernor-tool-", ".err");
        try {
            ProcessBuilder b = new ProcessBuilder(new ArrayList<>(command)).directory(REPO.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            b.environment().putAll(env);
            Process p = b.start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                fail(String.join(" ", command) + " did not finish in 5 minutes");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

package io.jgovernor.packaging;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * packaging/bash-completion/jgovernor as bash runs it: sourced into a plain bash (no
 * bash-completion library), COMP_WORDS and COMP_CWORD set as readline sets them, the function
 * called, COMPREPLY read back. Group names come from the policy directory here (no daemon answers
 * on the socket); CompletionIT takes them from a running daemon.
 */
class BashCompletionTest {
    @TempDir
    Path tmp;
    private Path policies;

    @BeforeEach
    void policies() throws Exception {
        policies = Files.createDirectories(tmp.resolve("policies.d"));
        Files.writeString(policies.resolve("10-web.yaml"), "# the web tier\nname: web\ncpu:\n  shares: 512\n");
        Files.writeString(policies.resolve("20-batch.yml"), "name: \"batch\"\n---\nname: batch/low\npids:\n  max: 8\n");
        Files.writeString(policies.resolve("web.yaml.rpmnew"), "name: ignored\n");
    }

    private List<String> complete(String... words) throws Exception {
        return Completion.complete(tmp, Map.of("JGOVERNOR_POLICY_DIR", policies.toString(),
                "JGOVERNOR_API_SOCKET", tmp.resolve("no-daemon.sock").toString(),
                "JGOVERNOR_CONFIG", tmp.resolve("no.properties").toString()), words);
    }

    @Test
    void commandsAndGlobalOptions() throws Exception {
        assertEquals(List.of("exec", "freeze", "help", "plan", "reload", "status", "thaw", "top", "tree", "validate",
                "volume", "why"), complete("jgovernor", ""));
        assertEquals(List.of("thaw", "top", "tree"), complete("jgovernor", "t"));
        assertEquals(List.of("--help", "--version"), complete("jgovernor", "--"));
        assertEquals(List.of("-Djgovernor.policy-dir="), complete("jgovernor", "-Djgovernor.po"));
        // a -D property before the command does not hide the command
        assertEquals(List.of("--alone", "--as", "--help", "--json"),
                complete("jgovernor", "-Djgovernor.policy-dir=/x", "validate", "--"));
    }

    @Test
    void optionsPerCommand() throws Exception {
        assertEquals(List.of("--alone", "--as", "--help", "--json"), complete("jgovernor", "validate", "--"));
        assertEquals(List.of("--help", "--json", "--socket"), complete("jgovernor", "status", "--"));
        assertEquals(List.of("--help", "--json"), complete("jgovernor", "plan", "--"));
        assertEquals(List.of("--help"), complete("jgovernor", "reload", "-"));
        assertEquals(List.of("ls", "rm"), complete("jgovernor", "volume", ""));
        assertEquals(List.of("--help", "--socket"), complete("jgovernor", "exec", "--"));
        assertEquals(List.of("--help", "--json", "--socket"), complete("jgovernor", "volume", "--"));
    }

    @Test
    void groupNamesFromThePolicyDirectoryWhenNoDaemonAnswers() throws Exception {
        assertEquals(List.of("batch", "batch/low", "web"), complete("jgovernor", "freeze", ""));
        assertEquals(List.of("batch", "batch/low"), complete("jgovernor", "thaw", "ba"));
        assertEquals(List.of("web"), complete("jgovernor", "exec", "w"));
        // one group only: the second word of freeze is not a group
        assertEquals(List.of(), complete("jgovernor", "freeze", "web", ""));
        // after exec GROUP [--] comes a program
        assertEquals(List.of("bash"), complete("jgovernor", "exec", "web", "--", "bas").stream().filter("bash"::equals).distinct().toList());
    }

    @Test
    void thePolicyDirectoryFromThePropertiesFileWithoutTheEnvironment() throws Exception {
        Path props = tmp.resolve("jgovernor.properties");
        Files.writeString(props, "# test\njgovernor.policy-dir=" + policies + "\n");
        assertEquals(List.of("batch", "batch/low", "web"), Completion.complete(tmp, Map.of("JGOVERNOR_CONFIG", props.toString(),
                "JGOVERNOR_API_SOCKET", tmp.resolve("no-daemon.sock").toString()), "jgovernor", "freeze", ""));
    }

    @Test
    void policyFilesForPlanAndValidate() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Files.writeString(work.resolve("new.yaml"), "name: new\n");
        Files.writeString(work.resolve("old.yml"), "name: old\n");
        Files.writeString(work.resolve("notes.txt"), "not a policy\n");
        Files.createDirectories(work.resolve("nested"));
        Map<String, String> env = Map.of("JGOVERNOR_POLICY_DIR", policies.toString());
        assertEquals(List.of("nested", "new.yaml", "old.yml"), Completion.complete(work, env, "jgovernor", "plan", ""));
        assertEquals(List.of("nested", "new.yaml"), Completion.complete(work, env, "jgovernor", "validate", "--alone", "ne"));
    }

    @Test
    void optionValuesBothAsSeparateWordAndAfterEquals() throws Exception {
        // --as NAME: a file name of the live policy directory (not the .rpmnew)
        assertEquals(List.of("10-web.yaml", "20-batch.yml"), complete("jgovernor", "validate", "--as", ""));
        assertEquals(List.of("10-web.yaml"), complete("jgovernor", "validate", "--as", "1"));
        // bash splits --as=1 into "--as" "=" "1" (COMP_WORDBREAKS has "=")
        assertEquals(List.of("10-web.yaml", "20-batch.yml"), complete("jgovernor", "validate", "--as", "=", ""));
        assertEquals(List.of("20-batch.yml"), complete("jgovernor", "validate", "--as", "=", "2"));
        // and a COMP_WORDBREAKS without "=" hands the whole word over
        assertEquals(List.of("--as=10-web.yaml"), complete("jgovernor", "validate", "--as=1"));
        // the word after --as NAME is a file to judge again
        Files.writeString(tmp.resolve("candidate.yaml"), "name: web\n");
        assertEquals(List.of("candidate.yaml"), complete("jgovernor", "validate", "--as", "10-web.yaml", "ca"));
        Files.writeString(tmp.resolve("api.sock.txt"), "");
        assertEquals(List.of("api.sock.txt"), complete("jgovernor", "status", "--socket", "api"));
    }

    @Test
    void pidsForWhy() throws Exception {
        String self = Long.toString(ProcessHandle.current().pid());
        assertEquals(List.of(self), complete("jgovernor", "why", self).stream().filter(self::equals).toList());
    }

    @Test
    void shellcheckFindsNothing() throws Exception {
        Tool.Result r = Tool.run(Map.of(), Tool.path("shellcheck", "shellcheck"), "-s", "bash", Completion.SCRIPT.toString());
        assertEquals(0, r.exit(), r.both());
    }
}

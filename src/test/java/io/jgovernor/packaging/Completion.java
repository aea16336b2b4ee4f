package io.jgovernor.packaging;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** packaging/bash-completion/jgovernor run as readline runs it, for BashCompletionTest and CompletionIT. */
public final class Completion {
    public static final Path SCRIPT = Tool.REPO.resolve("packaging/bash-completion/jgovernor");

    private Completion() {
    }

    /**
     * COMPREPLY, sorted, after completing the last of {@code words} (the word being typed, maybe
     * ""): the script sourced into a plain bash (no bash-completion library), COMP_WORDS and
     * COMP_CWORD set, the function called in {@code cwd} with {@code env} added.
     */
    public static List<String> complete(Path cwd, Map<String, String> env, String... words) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Tool.path("bash", "bash"), "--norc", "--noprofile", "-c",
                "cd \"$CWD\" && source \"$1\" && shift && COMP_WORDS=(\"$@\") && COMP_CWORD=$(($# - 1)) && _jgovernor"
                        + " && printf '%s\\n' \"${COMPREPLY[@]}\"",
                "bash", SCRIPT.toString()));
        cmd.addAll(List.of(words));
        Map<String, String> e = new HashMap<>(env);
        e.put("CWD", cwd.toString());
        Tool.Result r = Tool.run(e, cmd);
        assertEquals(0, r.exit(), r.both());
        assertEquals("", r.err(), "the completion wrote to stderr (it would land in the operator's prompt)");
        return r.out().lines().filter(l -> !l.isEmpty()).sorted().toList();
    }
}

package io.jgovernor.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer over the parser and the cross-file rules. In a plain build (regression mode) it runs
 * the seeds in PolicyParserFuzzTestInputs/parseNeverThrows (the example policies and the hostile
 * corpus); with JAZZER_FUZZ=1 it mutates them for 60 s (bin/test). A finding is a crash file:
 * it goes into the seed directory, so that every later build runs it again.
 */
class PolicyParserFuzzTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/fuzz.yaml");
    private static final PolicyParser PARSER = new PolicyParser(FakeHost.HOST);

    @FuzzTest(maxDuration = "60s")
    void parseNeverThrows(byte[] input) {
        check(new String(input, StandardCharsets.UTF_8));
    }

    /**
     * What a Java exception's text looks like in a message. A message may quote the file, and
     * the file may hold these words (the fuzzer's first finding was "max:Exception 128"), so a
     * word counts only when the file does not hold it.
     */
    private static final java.util.List<String> EXCEPTION_WORDS =
            java.util.List.of("Exception", "Error:", "java.", "For input string", "\tat ");

    static void check(String content) {
        for (PolicyError e : checked(content)) {
            for (String word : EXCEPTION_WORDS) {
                assertFalse(e.message().contains(word) && !content.contains(word),
                        () -> "a Java exception in " + Nodes.clip(e.message(), 300));
            }
        }
    }

    /** What any text must give: Ok, or a rejection whose every error is located and short. */
    static List<PolicyError> checked(String content) {
        ParseResult result;
        try {
            result = PARSER.parse(FILE, content);
        } catch (Throwable e) {
            throw new AssertionError("parse threw " + e, e);
        }
        switch (result) {
            case ParseResult.Ok ok -> {
                List<PolicyError> errors = CrossFile.resolve(List.of(new CrossFile.Input(FILE, List.of(),
                        ok.policies()))).stream().flatMap(o -> o.errors().stream()).toList();
                errors.forEach(PolicyParserFuzzTest::checkError);
                return errors;
            }
            case ParseResult.Rejected rejected -> {
                rejected.errors().forEach(PolicyParserFuzzTest::checkError);
                return rejected.errors();
            }
        }
    }

    static void checkError(PolicyError e) {
        String m = e.message();
        assertTrue(e.file().equals(FILE) && e.line() >= 1 && e.column() >= 1, e.toString());
        assertTrue(m.length() <= Nodes.MESSAGE_MAX + 3, () -> "message of " + m.length() + " characters");
        assertTrue(m.chars().noneMatch(c -> c < 0x20), () -> "a control character in " + Nodes.clip(m, 200));
    }
}

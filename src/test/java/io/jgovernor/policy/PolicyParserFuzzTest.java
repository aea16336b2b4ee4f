package io.jgovernor.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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

    /** What any text must give: Ok, or a rejection whose every error is located and short. */
    static void check(String content) {
        ParseResult result;
        try {
            result = PARSER.parse(FILE, content);
        } catch (Throwable e) {
            throw new AssertionError("parse threw " + e, e);
        }
        switch (result) {
            case ParseResult.Ok ok -> {
                List<CrossFile.Outcome> outcomes =
                        CrossFile.resolve(List.of(new CrossFile.Input(FILE, List.of(), ok.policies())));
                outcomes.forEach(o -> o.errors().forEach(PolicyParserFuzzTest::checkError));
            }
            case ParseResult.Rejected rejected -> rejected.errors().forEach(PolicyParserFuzzTest::checkError);
            default -> fail("neither Ok nor Rejected: " + result);
        }
    }

    static void checkError(PolicyError e) {
        String m = e.message();
        assertTrue(e.file().equals(FILE) && e.line() >= 1 && e.column() >= 1, e.toString());
        assertTrue(m.length() <= Nodes.MESSAGE_MAX + 3, () -> "message of " + m.length() + " characters");
        assertFalse(m.contains("Exception") || m.contains("\tat "), () -> "a Java exception in " + m);
        assertTrue(m.chars().noneMatch(c -> c < 0x20), () -> "a control character in " + Nodes.clip(m, 200));
    }
}

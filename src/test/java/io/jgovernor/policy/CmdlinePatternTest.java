package io.jgovernor.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** match[].cmdline is RE2: the constructs that need backtracking are located errors, named. */
class CmdlinePatternTest {
    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("name: web\nmatch:\n  - cmdline: '(a)\\1'\n", "3:14: match[0].cmdline: backreferences are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: '(?<n>a)\\k<n>'\n", "3:14: match[0].cmdline: backreferences are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: 'java(?= -jar)'\n", "3:14: match[0].cmdline: lookahead and lookbehind are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: 'java(?!x)'\n", "3:14: match[0].cmdline: lookahead and lookbehind are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: '(?<=-D)foo'\n", "3:14: match[0].cmdline: lookahead and lookbehind are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: '(?<!x)foo'\n", "3:14: match[0].cmdline: lookahead and lookbehind are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: 'a*+b'\n", "3:14: match[0].cmdline: possessive quantifiers (*+, ++, ?+, {n}+) and repeated repetitions are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: '(?>ab|a)c'\n", "3:14: match[0].cmdline: atomic groups are not supported (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - comm: java\n    cmdline: '\\p{Alpha}x'\n", "4:14: match[0].cmdline: not a valid RE2 pattern: invalid character class range: `\\p{Alpha}` at character 1 (RE2 syntax, linear time)"),
                Arguments.of("name: web\nmatch:\n  - cmdline: 'x{1001}'\n", "3:14: match[0].cmdline: not a valid RE2 pattern: invalid repeat count: `{1001}` at character 2 (RE2 syntax, linear time)"));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void whatRe2CannotExpressIsALocatedErrorNamingTheConstruct(String yaml, String expected) {
        assertEquals(List.of(PolicyParserTest.WEB + ":" + expected), PolicyParserTest.errors(yaml));
    }

    @Test
    void anEscapedBackslashBeforeADigitOrKIsNoBackreference() {
        assertTrue(CmdlinePattern.compile("C:\\\\1") instanceof CmdlinePattern.Compiled);
        assertTrue(CmdlinePattern.compile("--level=[1-9] \\\\k") instanceof CmdlinePattern.Compiled);
    }

    @Test
    void aLongPatternIsQuotedShort() {
        String reason = ((CmdlinePattern.Refused) CmdlinePattern.compile("(" + "a".repeat(5000))).reason();
        assertTrue(reason.length() < 200, reason);
        assertFalse(reason.contains("a".repeat(100)), reason);
    }
}

package io.jgovernor.policy;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * A {@code match[].cmdline} pattern, compiled with RE2/J. A command line is written by whoever
 * starts the process, any local user: a backtracking engine lets one such line cost the
 * classifier seconds of CPU or overflow its stack. RE2 matches in time linear in the input and
 * never recurses, at the price of the constructs that need backtracking, which are refused here
 * with their name rather than RE2's terse parser text.
 */
final class CmdlinePattern {
    private static final String WHY = " (RE2 syntax, linear time)";
    /** An error quotes at most this much of the pattern: a rule may be long, a message should not be. */
    private static final int QUOTE_MAX = 40;

    /** The compiled pattern, or a reason (without location) why RE2 cannot express it. */
    sealed interface Result {
    }

    record Compiled(Pattern pattern) implements Result {
    }

    record Refused(String reason) implements Result {
    }

    private CmdlinePattern() {
    }

    static Result compile(String text) {
        try {
            return new Compiled(Pattern.compile(text));
        } catch (PatternSyntaxException e) {
            return new Refused(reason(text, e) + WHY);
        }
    }

    private static String reason(String text, PatternSyntaxException e) {
        if (containsBackreference(text)) {
            return "backreferences are not supported";
        }
        if (text.contains("(?=") || text.contains("(?!") || text.contains("(?<=") || text.contains("(?<!")) {
            return "lookahead and lookbehind are not supported";
        }
        if (text.contains("(?>")) {
            return "atomic groups are not supported";
        }
        String description = e.getDescription();
        if ("invalid nested repetition operator".equals(description)) {
            return "possessive quantifiers (*+, ++, ?+, {n}+) and repeated repetitions are not supported";
        }
        return "not a valid RE2 pattern: " + description + quote(e.getPattern(), text);
    }

    /** {@code \1}-{@code \9} or {@code \k<name>} outside a character class, not counting an escaped backslash. */
    private static boolean containsBackreference(String text) {
        boolean inClass = false;
        for (int i = 0; i < text.length() - 1; i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                char next = text.charAt(i + 1);
                if (!inClass && ((next >= '1' && next <= '9') || next == 'k')) {
                    return true;
                }
                i++;
            } else if (c == '[') {
                inClass = true;
            } else if (c == ']') {
                inClass = false;
            }
        }
        return false;
    }

    private static String quote(String fragment, String text) {
        if (fragment == null || fragment.isEmpty()) {
            return "";
        }
        String shown = fragment.length() > QUOTE_MAX ? fragment.substring(0, QUOTE_MAX) + "..." : fragment;
        int at = text.indexOf(fragment);
        return ": `" + shown + "`" + (at >= 0 ? " at character " + (at + 1) : "");
    }
}

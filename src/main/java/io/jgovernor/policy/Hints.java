package io.jgovernor.policy;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean" suggestions for keys and enumerated values a person mistyped. */
final class Hints {
    private Hints() {
    }

    /**
     * The closest candidate: equal ignoring case, or at most two edits away (a swap of two
     * neighbours counts as one edit, since "memroy" is the typo people make). Ties go to the
     * candidate listed first.
     */
    static Optional<String> closest(String typed, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int d = candidate.toLowerCase(Locale.ROOT).equals(typed.toLowerCase(Locale.ROOT))
                    ? 0 : distance(typed, candidate);
            if (d <= 2 && d < bestDistance && d < candidate.length()) { // two edits to "io" is a guess, not a hint
                best = candidate;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** " (did you mean "x"?)" or nothing. */
    static String suffix(String typed, Collection<String> candidates) {
        return closest(typed, candidates).map(c -> " (did you mean \"" + c + "\"?)").orElse("");
    }

    /** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}

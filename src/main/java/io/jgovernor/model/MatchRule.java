package io.jgovernor.model;

import java.util.Optional;
import com.google.re2j.Pattern;

/**
 * One entry of a policy's match list: every key present must hold for a process to match.
 * {@code cmdline} is an RE2 pattern: it meets command lines any local user writes, so it must
 * match in linear time.
 */
public record MatchRule(Optional<String> comm, Optional<String> exe, Optional<Pattern> cmdline,
                        Optional<String> user) {
}

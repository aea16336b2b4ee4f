package io.jgovernor.model;

import java.util.Optional;
import java.util.regex.Pattern;

/** One entry of a policy's match list: every key present must hold for a process to match. */
public record MatchRule(Optional<String> comm, Optional<String> exe, Optional<Pattern> cmdline,
                        Optional<String> user) {
}

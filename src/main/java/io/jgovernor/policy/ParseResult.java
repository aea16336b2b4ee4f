package io.jgovernor.policy;

import java.util.List;

/** The outcome of parsing one file: every policy in it, or every problem found in it. */
public sealed interface ParseResult {
    record Ok(List<ParsedPolicy> policies) implements ParseResult {
        public Ok {
            policies = List.copyOf(policies);
        }
    }

    record Rejected(List<PolicyError> errors) implements ParseResult {
        public Rejected {
            if (errors.isEmpty()) {
                throw new IllegalArgumentException("a rejected file needs at least one error");
            }
            errors = List.copyOf(errors);
        }
    }
}

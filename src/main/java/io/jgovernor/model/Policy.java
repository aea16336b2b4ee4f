package io.jgovernor.model;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/** One process group as a policy file describes it, validated. */
public record Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                     Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks) {
    public Policy {
        match = List.copyOf(match);
        oomWebhooks = List.copyOf(oomWebhooks);
    }
}

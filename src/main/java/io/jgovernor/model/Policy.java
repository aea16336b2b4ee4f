package io.jgovernor.model;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * One process group as a policy file describes it, validated.
 *
 * @param pressureTriggers {@code events.pressure}: PSI triggers whose firings become webhooks
 */
public record Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                     Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks,
                     List<Pressure.Trigger> pressureTriggers) {
    public Policy {
        match = List.copyOf(match);
        oomWebhooks = List.copyOf(oomWebhooks);
        pressureTriggers = List.copyOf(pressureTriggers);
    }

    /** Without pressure triggers. */
    public Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                  Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks) {
        this(name, description, match, run, resources, oomWebhooks, List.of());
    }
}

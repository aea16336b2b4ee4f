package io.jgovernor.model;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * One process group as a policy file describes it, validated. {@code process}: the knobs every
 * process that joins the group gets (by a rule; a workload gets them in its {@link RunSpec}).
 *
 * @param pressureTriggers {@code events.pressure}: PSI triggers whose firings become webhooks
 */
public record Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                     Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks,
                     Optional<ProcessKnobs> process, List<Pressure.Trigger> pressureTriggers) {
    public Policy {
        match = List.copyOf(match);
        oomWebhooks = List.copyOf(oomWebhooks);
        pressureTriggers = List.copyOf(pressureTriggers);
    }

    /** Without pressure triggers. */
    public Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                  Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks, Optional<ProcessKnobs> process) {
        this(name, description, match, run, resources, oomWebhooks, process, List.of());
    }

    /** Without {@code process:} and pressure triggers. */
    public Policy(GroupName name, Optional<String> description, List<MatchRule> match,
                  Optional<RunSpec> run, Resources resources, List<URI> oomWebhooks) {
        this(name, description, match, run, resources, oomWebhooks, Optional.empty(), List.of());
    }
}

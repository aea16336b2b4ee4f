package io.jgovernor.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.Map;
import java.util.function.Supplier;

/** {@code jgovernor_pressure_events_total{group,resource,stall}}: events.pressure triggers that fired. */
public final class PressureEventsCollector implements MultiCollector {
    /** One trigger's line: the group, "cpu"|"memory"|"io", "some"|"full". */
    public record Firing(String group, String resource, String stall) {
    }

    private final Supplier<Map<Firing, Long>> counts;

    public PressureEventsCollector(Supplier<Map<Firing, Long>> counts) {
        this.counts = counts;
    }

    @Override
    public MetricSnapshots collect() {
        var c = GroupCollector.counter("jgovernor_pressure_events", null,
                "Pressure triggers (events.pressure) that fired since the daemon started, each one io.jgovernor.pressure "
                        + "webhook event; at most one per window per trigger");
        try {
            counts.get().forEach((f, n) -> c.dataPoint(GroupCollector.c(
                    Labels.of("group", f.group(), "resource", f.resource(), "stall", f.stall()), n)));
        } catch (RuntimeException e) {
            // nothing to show this time; the family is still there
        }
        return MetricSnapshots.of(c.build());
    }
}

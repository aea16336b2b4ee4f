package io.jgovernor.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.function.LongSupplier;
import java.util.function.Supplier;

import static io.jgovernor.metrics.GroupCollector.c;
import static io.jgovernor.metrics.GroupCollector.counter;
import static io.jgovernor.metrics.GroupCollector.g;
import static io.jgovernor.metrics.GroupCollector.gauge;

/** The classifier's counters (match rules), read at scrape time. Never throws. */
public final class ClassifyCollector implements MultiCollector {
    private final LongSupplier classified;
    private final LongSupplier lostEvents;
    private final LongSupplier errors;
    private final Supplier<String> mode;

    /** @param mode "connector" or "scan": how new processes are found */
    public ClassifyCollector(LongSupplier classified, LongSupplier lostEvents, LongSupplier errors, Supplier<String> mode) {
        this.classified = classified;
        this.lostEvents = lostEvents;
        this.errors = errors;
        this.mode = mode;
    }

    @Override
    public MetricSnapshots collect() {
        var moved = counter("jgovernor_classified_processes", null,
                "Processes moved into a group because a match rule holds for them");
        moved.dataPoint(c(Labels.EMPTY, safe(classified)));
        var lost = counter("jgovernor_classify_lost_events", null,
                "Times the kernel dropped process events (socket buffer full); each is followed by a /proc scan");
        lost.dataPoint(c(Labels.EMPTY, safe(lostEvents)));
        var failed = counter("jgovernor_classify_errors", null,
                "Moves of a matching process the kernel refused (each is logged)");
        failed.dataPoint(c(Labels.EMPTY, safe(errors)));
        var how = gauge("jgovernor_classify_mode", null,
                "How new processes are found: the kernel's process connector, or periodic /proc scans");
        String m;
        try {
            m = mode.get();
        } catch (RuntimeException e) {
            m = "";
        }
        for (String option : new String[]{"connector", "scan"}) {
            how.dataPoint(g(Labels.of("mode", option), option.equals(m) ? 1 : 0));
        }
        return MetricSnapshots.of(moved.build(), lost.build(), failed.build(), how.build());
    }

    private static long safe(LongSupplier s) {
        try {
            return s.getAsLong();
        } catch (RuntimeException e) {
            return 0;
        }
    }
}

package io.jgovernor.metrics;

import io.jgovernor.policy.CatalogState;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import static io.jgovernor.metrics.GroupCollector.c;
import static io.jgovernor.metrics.GroupCollector.counter;
import static io.jgovernor.metrics.GroupCollector.g;
import static io.jgovernor.metrics.GroupCollector.gauge;

/** The daemon's own counters, read at scrape time from where they are kept. Never throws. */
public final class DaemonCollector implements MultiCollector {
    private final Supplier<CatalogState> catalog;
    private final LongSupplier reconcileErrors;
    private final LongSupplier driftCorrections;
    private final EventCounters events;

    /**
     * @param catalog the policy files as the last pass saw them; null before the first pass
     */
    public DaemonCollector(Supplier<CatalogState> catalog, LongSupplier reconcileErrors, LongSupplier driftCorrections,
                           EventCounters events) {
        this.catalog = catalog;
        this.reconcileErrors = reconcileErrors;
        this.driftCorrections = driftCorrections;
        this.events = events;
    }

    @Override
    public MetricSnapshots collect() {
        long valid = 0;
        long invalid = 0;
        try {
            CatalogState c = catalog.get();
            if (c != null) {
                valid = c.validCount();
                invalid = c.invalidCount();
            }
        } catch (RuntimeException e) {
            // reported as zeros; the catalog is plain data, this does not happen
        }
        var policies = gauge("jgovernor_policies", null,
                "Policy files in the policy directory by state (an invalid file keeps its last good version applied)");
        policies.dataPoint(g(Labels.of("state", "valid"), valid));
        policies.dataPoint(g(Labels.of("state", "invalid"), invalid));

        var errors = counter("jgovernor_reconcile_errors", null,
                "Reconcile steps the kernel refused (each is logged with group, file, value and errno)");
        errors.dataPoint(c(Labels.EMPTY, safe(reconcileErrors)));
        var drift = counter("jgovernor_drift_corrections", null,
                "cgroup values changed outside jgovernor and put back by a full pass");
        drift.dataPoint(c(Labels.EMPTY, safe(driftCorrections)));

        var deliveries = counter("jgovernor_webhook_deliveries", null, "Webhook delivery attempts by result");
        Map<String, Long> byResult;
        try {
            byResult = new TreeMap<>(events.webhookDeliveries());
        } catch (RuntimeException e) {
            byResult = Map.of();
        }
        byResult.forEach((result, n) -> deliveries.dataPoint(c(Labels.of("result", result), n)));
        var queue = gauge("jgovernor_webhook_queue_depth", null, "Events waiting in the spool for webhook delivery");
        long depth;
        try {
            depth = events.webhookQueueDepth();
        } catch (RuntimeException e) {
            depth = 0;
        }
        queue.dataPoint(g(Labels.EMPTY, depth));
        return MetricSnapshots.of(policies.build(), errors.build(), drift.build(), deliveries.build(), queue.build());
    }

    private static long safe(LongSupplier s) {
        try {
            return s.getAsLong();
        } catch (RuntimeException e) {
            return 0;
        }
    }
}

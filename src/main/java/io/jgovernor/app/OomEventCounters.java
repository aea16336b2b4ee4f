package io.jgovernor.app;

import io.jgovernor.events.DeliveryStats;
import io.jgovernor.events.OomStats;
import io.jgovernor.metrics.EventCounters;
import io.jgovernor.model.GroupName;

import java.util.Map;
import java.util.function.LongSupplier;

/** The OOM event counters as the metrics read them at scrape time. */
final class OomEventCounters implements EventCounters {
    private final OomStats oom;
    private final DeliveryStats deliveries;
    private final LongSupplier queueDepth;

    OomEventCounters(OomStats oom, DeliveryStats deliveries, LongSupplier queueDepth) {
        this.oom = oom;
        this.deliveries = deliveries;
        this.queueDepth = queueDepth;
    }

    @Override
    public long oomEvents(GroupName group) {
        return oom.of(group.value()).events();
    }

    /** success: a receiver answered 2xx; failure: an attempt that will be retried; dropped: given up (spool full). */
    @Override
    public Map<String, Long> webhookDeliveries() {
        return Map.of("success", deliveries.success(), "failure", deliveries.failure(), "dropped", deliveries.dropped());
    }

    @Override
    public long webhookQueueDepth() {
        return queueDepth.getAsLong();
    }
}

package io.jgovernor.metrics;

import io.jgovernor.model.GroupName;

import java.util.Map;

/**
 * Counters kept by the OOM event and webhook side of the daemon, read at scrape time. Until that
 * side is wired in, {@link #NONE} reports zeros so that every series exists from the start (an
 * absent counter that later appears hides its first increase from {@code increase()}).
 */
public interface EventCounters {
    /** OOM notifications the daemon has seen for group {@code group} since it started. */
    long oomEvents(GroupName group);

    /** Webhook deliveries since start by result (the {@code result} label's values), e.g. success, failure. */
    Map<String, Long> webhookDeliveries();

    /** Events waiting in the spool for delivery. */
    long webhookQueueDepth();

    EventCounters NONE = new EventCounters() {
        private static final Map<String, Long> ZERO = Map.of("success", 0L, "failure", 0L);

        @Override
        public long oomEvents(GroupName group) {
            return 0;
        }

        @Override
        public Map<String, Long> webhookDeliveries() {
            return ZERO;
        }

        @Override
        public long webhookQueueDepth() {
            return 0;
        }
    };
}

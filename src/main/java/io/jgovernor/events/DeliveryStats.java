package io.jgovernor.events;

import java.util.concurrent.atomic.LongAdder;

/**
 * Webhook delivery counters for {@code jgovernor_webhook_deliveries_total{result}}: one
 * {@code success} or {@code failure} per attempt at one receiver, one {@code dropped} per event the
 * full spool gave up (or that went to corrupt/). The queue depth is the spool's.
 */
public final class DeliveryStats {
    final LongAdder success = new LongAdder();
    final LongAdder failure = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder corrupt = new LongAdder();

    public long success() {
        return success.sum();
    }

    public long failure() {
        return failure.sum();
    }

    /** Events dropped undelivered because the spool was full. */
    public long dropped() {
        return dropped.sum();
    }

    /** Spool files found unreadable at startup and moved to spool/corrupt/. */
    public long corrupt() {
        return corrupt.sum();
    }
}

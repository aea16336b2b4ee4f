package io.jgovernor.events;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * An event the daemon sends to webhooks as a CloudEvents 1.0 structured JSON document, kept in
 * the {@link Spool} until delivered: an {@link OomEvent} or a {@link PressureEvent}. Its {@code id}
 * is fixed when it is made, the same on every attempt and across restarts.
 */
public sealed interface Event permits OomEvent, PressureEvent {
    UUID id();

    Instant time();

    /** The policy's group name. */
    String group();

    /** The document as sent (and signed). */
    String toCloudEvent();

    /**
     * Reads back a document {@link #toCloudEvent()} wrote, by its {@code type}.
     *
     * @throws IllegalArgumentException when it is no event jgovernor sends
     */
    static Event fromCloudEvent(String json) {
        Object parsed = JsonText.parse(json);
        Object type = parsed instanceof Map<?, ?> root ? root.get("type") : null;
        if (PressureEvent.TYPE.equals(type)) {
            return PressureEvent.fromCloudEvent(json);
        }
        return OomEvent.fromCloudEvent(json);
    }
}

package io.jgovernor.events;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The last events seen, newest last, for the status API. */
public final class OomHistory {
    public static final int DEFAULT_SIZE = 100;

    private final int size;
    private final ArrayDeque<OomEvent> events;

    public OomHistory(int size) {
        this.size = size;
        this.events = new ArrayDeque<>(size);
    }

    synchronized void add(OomEvent e) {
        if (events.size() == size) {
            events.removeFirst();
        }
        events.addLast(e);
    }

    public synchronized List<OomEvent> recent() {
        return new ArrayList<>(events);
    }
}

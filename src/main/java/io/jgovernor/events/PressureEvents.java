package io.jgovernor.events;

import io.jgovernor.cgroup.Psi;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Pressure;
import io.jgovernor.sys.ErrnoException;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The {@code events.pressure} side of the daemon: keeps the kernel's PSI triggers equal to the
 * policies ({@link #follow}: new ones registered, changed ones registered again, removed ones
 * closed) and turns each firing into an {@code io.jgovernor.pressure} CloudEvent, spooled and sent
 * to the daemon-wide webhooks as OOM events are. Notify only: nothing is killed or throttled
 * because of pressure; what to do is the receiver's choice.
 */
public final class PressureEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PressureEvents.class.getName());

    /** One trigger of one group, where it is registered. */
    public record Watch(GroupName group, Path dir, String cgroupPath, Pressure.Trigger trigger) {
    }

    /** A trigger by group and its place in events.pressure's identity (resource, stall, threshold, window). */
    public record Key(GroupName group, Pressure.Trigger trigger) {
        @Override
        public String toString() {
            return group.value() + " " + trigger.kernelText() + " on " + trigger.resource().file();
        }
    }

    /** Firings by group, resource and stall: {@code jgovernor_pressure_events_total}. */
    public record Count(String group, String resource, String stall) {
    }

    private final String host;
    private final List<URI> webhooks;
    private final Spool spool;
    private final WebhookSender sender;
    private final Executor durability;
    private final PressureTriggers<Key> triggers;
    private final Map<Key, Watch> watches = new ConcurrentHashMap<>();
    private final Map<Count, LongAdder> counts = new ConcurrentHashMap<>();
    private final Set<Key> failedOnce = ConcurrentHashMap.newKeySet();

    /**
     * @param triggers builds the kernel side, given the listener to call on each firing
     */
    public PressureEvents(String host, List<URI> webhooks, Spool spool, WebhookSender sender, Executor durability,
                          Function<PressureTriggers.Listener<Key>, PressureTriggers<Key>> triggers) {
        this.host = host;
        this.webhooks = List.copyOf(webhooks);
        this.spool = spool;
        this.sender = sender;
        this.durability = durability;
        this.triggers = triggers.apply(this::fired);
    }

    /**
     * Holds exactly {@code wanted} from now on. A trigger whose directory is not there yet (a
     * group made in this pass on another hierarchy first) or was refused is tried again on the
     * next call, its failure logged once.
     */
    public void follow(Collection<Watch> wanted) {
        Map<Key, Watch> next = new HashMap<>();
        for (Watch w : wanted) {
            next.put(new Key(w.group(), w.trigger()), w);
        }
        Map<Key, Path> registered = triggers.registered();
        for (Key k : new HashSet<>(registered.keySet())) {
            Watch w = next.get(k);
            if (w == null || !w.dir().equals(registered.get(k))) {
                triggers.unregister(k);
                watches.remove(k);
            }
        }
        watches.keySet().retainAll(next.keySet());
        for (var e : next.entrySet()) {
            Key k = e.getKey();
            Watch w = e.getValue();
            watches.put(k, w);
            if (registered.containsKey(k) && w.dir().equals(registered.get(k))) {
                continue;
            }
            try {
                triggers.register(k, w.dir(), w.trigger());
                if (failedOnce.remove(k)) {
                    LOG.log(System.Logger.Level.INFO, "pressure trigger " + k + " registered now");
                }
            } catch (ErrnoException ex) {
                if (failedOnce.add(k)) {
                    LOG.log(System.Logger.Level.WARNING, "pressure trigger " + k + " not registered: "
                            + PressureTriggers.why(ex, w.trigger()) + "; tried again on each pass");
                }
            }
        }
        failedOnce.retainAll(next.keySet());
    }

    /** On the triggers' thread: read the total now, spool and send, count; the log line last. */
    private void fired(Key key, Path dir, Pressure.Trigger t) {
        Watch w = watches.get(key);
        if (w == null) {
            return;
        }
        Instant time = Instant.now();
        double total = -1;
        try {
            Psi psi = Psi.parse(Files.readString(dir.resolve(t.resource().file()), StandardCharsets.US_ASCII));
            total = psi.micros(t.stall()).orElse(0) / 1e6;
        } catch (IOException | RuntimeException e) {
            // the directory went meanwhile: the event still says that the trigger fired
        }
        PressureEvent event = new PressureEvent(UUID.randomUUID(), time, host, key.group().value(), w.cgroupPath(),
                t.resource().word(), t.stall().word(), t.thresholdPercent(), t.windowMicros() / 1e6,
                Math.max(0, total));
        counts.computeIfAbsent(new Count(event.group(), event.resource(), event.stall()), c -> new LongAdder())
                .increment();
        Spool.Entry entry = spool.prepare(event, webhooks);
        sender.submit(entry);
        durability.execute(() -> {
            try {
                spool.persist(entry);
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.ERROR, "event " + event.id() + " cannot be written to the spool "
                        + spool.dir() + " (" + ex.getMessage() + "); delivering it from memory only");
            }
        });
        LOG.log(System.Logger.Level.INFO, "pressure in group " + key.group() + ": " + t.resource().word() + " "
                + t.stall().word() + " stall reached " + t.thresholdPercent() + "% of " + t.windowMicros() / 1000
                + " ms (total " + total + " s); event " + event.id()
                + (webhooks.isEmpty() ? " (no webhooks configured)" : " to " + webhooks.size() + " webhooks"));
    }

    /** Firings since the daemon started. */
    public Map<Count, Long> counts() {
        Map<Count, Long> out = new HashMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** The triggers the kernel holds now. */
    public Set<Key> registered() {
        return triggers.registered().keySet();
    }

    @Override
    public void close() {
        triggers.close();
    }
}

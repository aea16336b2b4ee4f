package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.model.GroupName;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OOM notifications in, webhook deliveries out: follows the watched groups after each reconcile
 * pass, turns each notification into an {@link OomEvent} read at once from the kernel, counts it,
 * remembers it, spools it durably and hands it to the sender.
 */
public final class OomEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OomEvents.class.getName());
    /** A process list this long is enough to act on; the document stays small. */
    private static final int MAX_PROCESSES = 1000;
    /**
     * The kernel notifies when the group enters OOM (v1: the eventfd; v2: memory.events "oom"),
     * just before it picks and kills a victim; if
     * the kill count has not moved yet when read, it is read again for up to this long.
     */
    private static final long KILL_SETTLE_NANOS = Duration.ofMillis(20).toNanos();

    /**
     * A group to watch: its memory cgroup directory, the kernel's name for it, and its own webhooks
     * ({@code events.oom.webhooks}), which add to the daemon-wide ones.
     */
    public record Watch(GroupName group, Path memoryDir, String cgroupPath, List<URI> webhooks) {
        public Watch {
            webhooks = List.copyOf(webhooks);
        }
    }

    /** Makes the source, given the listener it must call. */
    @FunctionalInterface
    public interface SourceFactory {
        OomSource open(OomSource.Listener listener) throws IOException;
    }

    private final CgroupFiles files;
    private final OomFiles oomFiles;
    private final String host;
    private final List<URI> daemonWebhooks;
    private final Spool spool;
    private final WebhookSender sender;
    private final OomStats stats;
    private final OomHistory history;
    private final OomSource source;
    private final Map<GroupName, Watch> watches = new ConcurrentHashMap<>();
    private final Map<GroupName, Long> lastKills = new ConcurrentHashMap<>();
    private final Set<GroupName> failedOnce = ConcurrentHashMap.newKeySet();

    public OomEvents(CgroupFiles files, OomFiles oomFiles, String host, List<URI> daemonWebhooks, Spool spool,
                     WebhookSender sender, OomStats stats, OomHistory history, SourceFactory sourceFactory)
            throws IOException {
        this.files = files;
        this.oomFiles = oomFiles;
        this.host = host;
        this.daemonWebhooks = List.copyOf(daemonWebhooks);
        this.spool = spool;
        this.sender = sender;
        this.stats = stats;
        this.history = history;
        warmUp();
        this.source = sourceFactory.open(this::notified);
    }

    /**
     * The first event must not pay for class loading and seeding the UUID generator's SecureRandom
     * (about 200 ms measured on a fresh JVM): pay for it now, at startup.
     */
    private void warmUp() {
        OomEvent e = new OomEvent(UUID.randomUUID(), Instant.now(), host, "warm-up", "/", 0, 0, 0,
                List.of(new OomEvent.Process(1, "init")));
        OomEvent.fromCloudEvent(e.toCloudEvent());
        stats.snapshot();
    }

    /** This machine's name for events, from /proc/sys/kernel/hostname (no DNS involved). */
    public static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("localhost");
        }
    }

    /** Sends again what the spool kept from an earlier run (with the ids they had). */
    public int replaySpool() throws IOException {
        List<Spool.Entry> pending = spool.load();
        for (Spool.Entry e : pending) {
            sender.submit(e);
        }
        return pending.size();
    }

    /**
     * Watches exactly {@code wanted} from now on: new groups are registered, gone ones
     * unregistered. A group whose directory is not there yet is tried again on the next call.
     */
    public void follow(Collection<Watch> wanted) {
        Map<GroupName, Watch> next = new HashMap<>();
        for (Watch w : wanted) {
            next.put(w.group(), w);
        }
        Map<GroupName, Path> registered = source.registered();
        for (GroupName g : registered.keySet()) {
            if (!next.containsKey(g)) {
                source.unregister(g);
                watches.remove(g);
                lastKills.remove(g);
            }
        }
        for (Watch w : next.values()) {
            watches.put(w.group(), w); // webhooks may have changed
            if (w.memoryDir().normalize().equals(registered.get(w.group()))) {
                continue;
            }
            // the count so far is the baseline: kills before the daemon watched are not this event's
            lastKills.put(w.group(), readKills(w.memoryDir()).orElse(0L));
            try {
                source.register(w.group(), w.memoryDir());
                if (failedOnce.remove(w.group())) {
                    LOG.log(System.Logger.Level.INFO, "group " + w.group() + ": watched for OOM again");
                }
            } catch (IOException e) {
                if (failedOnce.add(w.group())) {
                    LOG.log(System.Logger.Level.WARNING, "group " + w.group() + ": cannot watch for OOM (" + e.getMessage()
                            + "); tried again after the next reconcile pass");
                }
            }
        }
        watches.keySet().retainAll(next.keySet());
    }

    /** On the source's thread: read everything now, while the group is still in the state of the OOM. */
    private void notified(GroupName group, Path dir) {
        Instant time = Instant.now();
        long t0 = System.nanoTime();
        Watch w = watches.get(group);
        if (w == null) {
            return;
        }
        long limit = oomFiles.limit(dir);
        long usage = oomFiles.usage(dir);
        List<OomEvent.Process> processes = processes(dir);
        long before = lastKills.getOrDefault(group, 0L);
        long kills = readKills(dir).orElse(before);
        if (kills == before && !oomFiles.killDisabled(dir)) {
            long end = System.nanoTime() + KILL_SETTLE_NANOS;
            while (kills == before && System.nanoTime() < end) {
                Thread.onSpinWait();
                kills = readKills(dir).orElse(before);
            }
        }
        lastKills.put(group, kills);
        long t1 = System.nanoTime();
        OomEvent event = new OomEvent(UUID.randomUUID(), time, host, group.value(), w.cgroupPath(),
                Math.max(0, kills - before), limit, usage, processes);
        stats.record(event.group(), event.oomKills());
        history.add(event);
        List<URI> receivers = receivers(w);
        Spool.Entry entry;
        try {
            entry = spool.add(event, receivers);
        } catch (IOException e) {
            // better delivered without a safety net than not at all
            LOG.log(System.Logger.Level.ERROR, "event " + event.id() + " cannot be written to the spool " + spool.dir()
                    + " (" + e.getMessage() + "); delivering it from memory only, a restart loses it");
            entry = new Spool.Entry("", event, receivers, false);
        }
        long t2 = System.nanoTime();
        sender.submit(entry);
        long t3 = System.nanoTime();
        // logged after the event is on its way: the log line is not on the latency path
        LOG.log(System.Logger.Level.INFO, "OOM in group " + group + ": " + event.oomKills() + " killed, usage " + usage
                + " of limit " + limit + ", " + processes.size() + " processes left; event " + event.id()
                + (receivers.isEmpty() ? " (no webhooks configured)" : " to " + receivers.size() + " webhooks")
                + String.format(" (read %.1f ms, spooled %.1f ms, sent %.1f ms)", (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (t3 - t2) / 1e6));
    }

    private List<URI> receivers(Watch w) {
        Set<URI> all = new LinkedHashSet<>(daemonWebhooks);
        all.addAll(w.webhooks());
        return new ArrayList<>(all);
    }

    private Optional<Long> readKills(Path dir) {
        return oomFiles.kills(dir);
    }

    private List<OomEvent.Process> processes(Path dir) {
        List<OomEvent.Process> out = new ArrayList<>();
        try {
            for (int pid : files.procs(dir)) {
                if (out.size() >= MAX_PROCESSES) {
                    break;
                }
                try {
                    byte[] comm = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "comm"));
                    int n = comm.length;
                    if (n > 0 && comm[n - 1] == '\n') {
                        n--;
                    }
                    out.add(new OomEvent.Process(pid, new String(comm, 0, n, StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    // exited between the two reads
                }
            }
        } catch (CgroupException e) {
            // the group went away
        }
        return out;
    }

    public OomStats stats() {
        return stats;
    }

    public OomHistory history() {
        return history;
    }

    public Spool spool() {
        return spool;
    }

    /** Stops watching, then gives deliveries on the wire {@code grace}; undelivered events stay spooled. */
    public void close(Duration grace) {
        source.close();
        sender.close(grace);
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}

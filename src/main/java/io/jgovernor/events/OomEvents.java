package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.OomFiles;
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
 *
 * <p>Nothing is lost while the daemon is down: the kill count of each group is kept in
 * {@link KillCounts} when an event is spooled, and the first time a group is watched after a start
 * its kernel counter is compared with it. Kills the counter shows beyond it happened while no
 * daemon watched; they are sent as one event per group carrying their number, with
 * {@code whileDown: true}. Its id is derived from the host, the group, the directory and the
 * counter value, so a start that dies before it kept the new count sends the very same event again
 * (skipped if the spool still holds it), which receivers de-duplicate by id.
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
     * ({@code events.oom.webhooks}), which add to the daemon-wide ones. {@code killGroup}: the
     * policy's {@code memory.oomGroup}; where the kernel cannot do it (v1, see
     * {@link OomFiles#kernelKillsGroup}) the daemon kills the group's other processes when an OOM
     * kill happened in it.
     */
    public record Watch(GroupName group, Path memoryDir, String cgroupPath, List<URI> webhooks, boolean killGroup) {
        public Watch {
            webhooks = List.copyOf(webhooks);
        }

        public Watch(GroupName group, Path memoryDir, String cgroupPath, List<URI> webhooks) {
            this(group, memoryDir, cgroupPath, webhooks, false);
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
    private final KillCounts counts;
    /** The directory key of each watched group (KillCounts.dirKey), worked out when registered. */
    private final Map<GroupName, String> dirKeys = new ConcurrentHashMap<>();
    /** Groups whose kill count was compared with the kept one in this run (once per group per run). */
    private final Set<GroupName> caughtUp = ConcurrentHashMap.newKeySet();
    private final Set<GroupName> countFailedOnce = ConcurrentHashMap.newKeySet();
    /** Told of each group with new OOM kills, on the source's thread (workload supervision). */
    private volatile java.util.function.Consumer<GroupName> onKills = g -> { };
    /**
     * Writes each event's spool file and then its kill count, in order, off the notification's
     * path: one platform thread, as fsync blocks it.
     */
    private final java.util.concurrent.ExecutorService durability = java.util.concurrent.Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("jgovernor-spool").daemon(true).factory());

    public OomEvents(CgroupFiles files, OomFiles oomFiles, String host, List<URI> daemonWebhooks, Spool spool,
                     WebhookSender sender, OomStats stats, OomHistory history, SourceFactory sourceFactory)
            throws IOException {
        this(files, oomFiles, host, daemonWebhooks, spool, sender, stats, history, KillCounts.inMemory(), sourceFactory);
    }

    /** @param counts the kill counts an earlier run kept, and where this one keeps them */
    public OomEvents(CgroupFiles files, OomFiles oomFiles, String host, List<URI> daemonWebhooks, Spool spool,
                     WebhookSender sender, OomStats stats, OomHistory history, KillCounts counts,
                     SourceFactory sourceFactory) throws IOException {
        this.counts = counts;
        this.files = files;
        this.oomFiles = oomFiles;
        this.host = host;
        this.daemonWebhooks = List.copyOf(daemonWebhooks);
        this.spool = spool;
        this.sender = sender;
        this.stats = stats;
        this.history = history;
        sender.expect(this.daemonWebhooks);
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
            sender.expect(w.webhooks());
        }
        Map<GroupName, Path> registered = source.registered();
        for (GroupName g : registered.keySet()) {
            if (!next.containsKey(g)) {
                source.unregister(g);
                watches.remove(g);
                lastKills.remove(g);
                dirKeys.remove(g);
                counts.forget(g);
            }
        }
        Map<GroupName, KillCounts.Seen> keep = new HashMap<>();
        for (Watch w : next.values()) {
            watches.put(w.group(), w); // webhooks may have changed
            if (w.memoryDir().normalize().equals(registered.get(w.group()))) {
                continue;
            }
            // the count so far is the baseline: kills before the daemon watched are not this event's,
            // but those a previous run did not see are sent, once, as kills while it was down
            Optional<Long> counter = readKills(w.memoryDir());
            long kills = counter.orElse(0L);
            lastKills.put(w.group(), kills);
            Optional<String> key = KillCounts.dirKey(w.memoryDir());
            key.ifPresent(k -> dirKeys.put(w.group(), k));
            if (key.isPresent() && counter.isPresent()) {
                if (caughtUp.add(w.group())) {
                    catchUp(w, key.get(), kills);
                }
                keep.put(w.group(), new KillCounts.Seen(key.get(), kills));
            }
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
        keepCounts(keep);
    }

    /**
     * The first look at a group in this run: the kernel's counter against the count the last run
     * kept. Nothing kept: a group never watched, its earlier kills are nobody's news. Another
     * directory (made again, or a reboot): it counted from 0. A lower counter in the same directory
     * cannot happen; it only resets the baseline.
     */
    private void catchUp(Watch w, String key, long kills) {
        Optional<KillCounts.Seen> kept = counts.get(w.group());
        if (kept.isEmpty()) {
            return;
        }
        long before = kept.get().dirKey().equals(key) ? kept.get().kills() : 0;
        if (kills <= before) {
            return;
        }
        UUID id = UUID.nameUUIDFromBytes(("jgovernor oom while down " + host + " " + w.group().value() + " " + key + " "
                + kills).getBytes(StandardCharsets.UTF_8));
        if (spool.entries().stream().anyMatch(e -> e.event().id().equals(id))) {
            LOG.log(System.Logger.Level.INFO, "group " + w.group() + ": the event for " + (kills - before)
                    + " OOM kills while the daemon was down is still in the spool (" + id + "); sent from there");
            return;
        }
        Path dir = w.memoryDir();
        OomEvent event = new OomEvent(id, Instant.now(), host, w.group().value(), w.cgroupPath(), kills - before,
                oomFiles.limit(files, dir), oomFiles.usage(files, dir), processes(dir), true);
        stats.record(event.group(), event.oomKills());
        history.add(event);
        List<URI> receivers = receivers(w);
        Spool.Entry entry = spoolOrMemory(event, receivers);
        sender.submit(entry);
        LOG.log(System.Logger.Level.INFO, "OOM kills while the daemon was down in group " + w.group() + ": "
                + event.oomKills() + " (the kernel counts " + kills + ", " + before + " were reported before); event "
                + event.id() + (receivers.isEmpty() ? " (no webhooks configured)" : " to " + receivers.size() + " webhooks"));
    }

    /** After the events are spooled: a crash in between sends them again (same ids), never loses them. */
    private void keepCounts(Map<GroupName, KillCounts.Seen> keep) {
        try {
            counts.putAll(keep);
            countFailedOnce.removeAll(keep.keySet());
        } catch (IOException e) {
            if (countFailedOnce.addAll(keep.keySet())) {
                LOG.log(System.Logger.Level.WARNING, "cannot keep the OOM kill counts of " + keep.keySet() + " ("
                        + e.getMessage() + "); after a restart their kills may be reported again");
            }
        }
    }

    private Spool.Entry spoolOrMemory(OomEvent event, List<URI> receivers) {
        Spool.Entry e = spool.prepare(event, receivers);
        persistOrWarn(e);
        return e;
    }

    private void persistOrWarn(Spool.Entry e) {
        try {
            spool.persist(e);
        } catch (IOException | RuntimeException ex) {
            // better delivered without a safety net than not at all
            LOG.log(System.Logger.Level.ERROR, "event " + e.event().id() + " cannot be written to the spool " + spool.dir()
                    + " (" + ex.getMessage() + "); delivering it from memory only, a restart loses it");
        }
    }

    /** On the source's thread: read everything now, while the group is still in the state of the OOM. */
    private void notified(GroupName group, Path dir) {
        Instant time = Instant.now();
        long t0 = System.nanoTime();
        Watch w = watches.get(group);
        if (w == null) {
            return;
        }
        long limit = oomFiles.limit(files, dir);
        long usage = oomFiles.usage(files, dir);
        List<OomEvent.Process> processes = processes(dir);
        long before = lastKills.getOrDefault(group, 0L);
        long kills = readKills(dir).orElse(before);
        if (kills == before && !oomFiles.killDisabled(files, dir)) {
            long end = System.nanoTime() + KILL_SETTLE_NANOS;
            while (kills == before && System.nanoTime() < end) {
                Thread.onSpinWait();
                kills = readKills(dir).orElse(before);
            }
        }
        lastKills.put(group, kills);
        if (kills > before) {
            if (w.killGroup() && !oomFiles.kernelKillsGroup()) {
                killRest(group, dir);
            }
            onKills.accept(group);
        }
        long t1 = System.nanoTime();
        OomEvent event = new OomEvent(UUID.randomUUID(), time, host, group.value(), w.cgroupPath(),
                Math.max(0, kills - before), limit, usage, processes);
        stats.record(event.group(), event.oomKills());
        history.add(event);
        List<URI> receivers = receivers(w);
        // Sent first, made durable meanwhile (issue 18: the spool's two fsyncs and the count's
        // were most of the latency). The count is kept only after the spool file is durable, so
        // a crash at any point reports the kills again at the next start, never loses them: before
        // the spool write as kills while the daemon was down (the kernel's counter is ahead of the
        // kept count), after it from the spool. A receiver may then get them twice: at least once.
        Spool.Entry entry = spool.prepare(event, receivers);
        long t2 = System.nanoTime();
        sender.submit(entry);
        long t3 = System.nanoTime();
        String key = dirKeys.get(group);
        Map<GroupName, KillCounts.Seen> seen = key != null && kills != before
                ? Map.of(group, new KillCounts.Seen(key, kills)) : Map.of();
        durability.execute(() -> {
            persistOrWarn(entry);
            keepCounts(seen);
        });
        // logged after the event is on its way: the log line is not on the latency path
        LOG.log(System.Logger.Level.INFO, "OOM in group " + group + ": " + event.oomKills() + " killed, usage " + usage
                + " of limit " + limit + ", " + processes.size() + " processes left; event " + event.id()
                + (receivers.isEmpty() ? " (no webhooks configured)" : " to " + receivers.size() + " webhooks")
                + String.format(" (read %.1f ms, prepared %.1f ms, sent %.1f ms)", (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (t3 - t2) / 1e6));
    }

    private List<URI> receivers(Watch w) {
        Set<URI> all = new LinkedHashSet<>(daemonWebhooks);
        all.addAll(w.webhooks());
        return new ArrayList<>(all);
    }

    private Optional<Long> readKills(Path dir) {
        return oomFiles.kills(files, dir);
    }

    /** How many times the group is listed and killed again: a process may fork while it is killed. */
    private static final int KILL_ROUNDS = 20;

    /**
     * v1's stand-in for memory.oom.group: the kernel killed one process, the daemon kills the rest,
     * so a service is not left half alive (a worker gone, its master waiting on it). SIGKILL from
     * cgroup.procs, listed again until it is empty: a pid read here could be reused before the
     * kill only if its process exited and 4 million pids came round in between.
     */
    private void killRest(GroupName group, Path dir) {
        int killed = 0;
        for (int round = 0; round < KILL_ROUNDS; round++) {
            List<Integer> pids;
            try {
                pids = files.procs(dir);
            } catch (CgroupException e) {
                return; // the group went away
            }
            if (pids.isEmpty()) {
                break;
            }
            for (int pid : pids) {
                if (ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    killed++;
                }
            }
            Thread.onSpinWait();
        }
        int n = killed;
        LOG.log(System.Logger.Level.WARNING, () -> "group " + group + ": OOM kill with memory.oomGroup: killed the"
                + " group's other " + n + " processes, as memory.oom.group does on cgroup v2");
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

    /** Who is told of new OOM kills in a group as they happen (not of kills while the daemon was down). */
    public void onKills(java.util.function.Consumer<GroupName> listener) {
        this.onKills = listener;
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

    /**
     * Stops watching, writes what is still being made durable, then gives deliveries on the wire
     * {@code grace}; undelivered events stay spooled.
     */
    public void close(Duration grace) {
        source.close();
        durability.shutdown();
        try {
            if (!durability.awaitTermination(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "events still being written to the spool at stop: the next start"
                        + " reports their kills again from the kernel's counters");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.close(grace);
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}

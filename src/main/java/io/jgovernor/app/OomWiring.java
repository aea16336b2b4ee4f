package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.events.Backoff;
import io.jgovernor.events.DeliveryStats;
import io.jgovernor.events.KillCounts;
import io.jgovernor.events.OomEvents;
import io.jgovernor.events.OomHistory;
import io.jgovernor.events.OomStats;
import io.jgovernor.events.PressureEvents;
import io.jgovernor.events.PressureTriggers;
import io.jgovernor.metrics.PressureEventsCollector;
import io.jgovernor.events.Signer;
import io.jgovernor.events.Spool;
import io.jgovernor.events.V1OomSource;
import io.jgovernor.events.V2OomSource;
import io.jgovernor.events.WebhookSender;
import io.jgovernor.metrics.EventCounters;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.sys.LoopHealth;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The OOM side of the daemon: spool, sender and watcher built from the config, and their counters. */
final class OomWiring {
    private static final Logger LOG = Logger.getLogger(OomWiring.class);

    private final OomStats stats = new OomStats();
    private final OomHistory history = new OomHistory(OomHistory.DEFAULT_SIZE);
    private final DeliveryStats deliveries = new DeliveryStats();
    private final EventCounters counters = new OomEventCounters(stats, deliveries, this::queueDepth);
    private volatile OomEvents events;
    /** events.pressure: the PSI triggers, sharing the spool and the sender with the OOM events. */
    private volatile PressureEvents pressure;
    /** Watches by group, kept between passes: paths are worked out once per group, not per pass. */
    private final java.util.Map<io.jgovernor.model.GroupName, OomEvents.Watch> watchCache = new java.util.HashMap<>();

    /**
     * Builds the spool, the sender and the watcher, before the first pass (which registers the
     * groups); whatever an earlier run left undelivered is sent again now.
     */
    void start(JgovernorConfig config, CgroupFiles files, Backend backend, LoopHealth health) throws IOException {
        List<URI> urls = new ArrayList<>();
        for (String u : config.webhook().urls().orElse(List.of())) {
            if (!u.isBlank()) {
                urls.add(webhookUrl(u.strip()));
            }
        }
        Optional<Signer> signer = Optional.empty();
        if (config.webhook().secretFile().isPresent()) {
            signer = Optional.of(Signer.fromFile(config.webhook().secretFile().get()));
        }
        Spool spool = new Spool(config.stateDir().resolve("spool"), config.webhook().spoolMaxEvents(), deliveries);
        WebhookSender sender = new WebhookSender(spool, signer,
                new Backoff(config.webhook().backoffInitial(), config.webhook().backoffMax()),
                config.webhook().timeout(), deliveries);
        sender.health(health.register("webhook", LoopBounds.WEBHOOK));
        LoopHealth.Loop oomLoop = health.register("oom", LoopBounds.OOM);
        // the memory controller says how the kernel tells of an OOM (v1: an eventfd per group on
        // memory.oom_control; v2: inotify on memory.events)
        OomFiles oom = backend.oomFiles();
        OomEvents e = new OomEvents(files, oom, OomEvents.hostname(),
                urls, spool, sender, stats, history, KillCounts.load(config.stateDir().resolve("oom-kills")),
                listener -> switch (oom.notice()) {
                    case EVENTFD -> new V1OomSource(files, oom, listener, oomLoop);
                    case INOTIFY -> new V2OomSource(oom, listener, oomLoop);
                });
        LoopHealth.Loop pressureLoop = health.register("pressure", LoopBounds.OOM);
        java.util.concurrent.ExecutorService durability = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("jgovernor-pressure-spool").daemon(true).unstarted(r));
        pressure = new PressureEvents(OomEvents.hostname(), urls, spool, sender, durability, listener -> {
            try {
                return new PressureTriggers<>(listener, pressureLoop);
            } catch (io.jgovernor.sys.ErrnoException ex) {
                throw new java.io.UncheckedIOException(new IOException("pressure triggers: " + ex.getMessage(), ex));
            }
        });
        int replayed = e.replaySpool();
        // %s, not %d: a %d loads the locale's number symbols, tens of ms on the way to READY
        LOG.infof("OOM events: %s daemon-wide webhooks%s, spool %s%s", urls.size(),
                signer.isPresent() ? " (signed)" : "", spool.dir(),
                replayed > 0 ? " (" + replayed + " undelivered events from before, sending again)" : "");
        events = e;
    }

    static URI webhookUrl(String u) throws IOException {
        try {
            URI uri = new URI(u);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new IOException("jgovernor.webhook.urls: \"" + u + "\" is not an http:// or https:// URL with a host");
    }

    /**
     * Every group with a memory section is watched for OOM, in the memory hierarchy. A full pass
     * always hands the list to the events side, which also retries registrations that failed
     * (a directory not made yet, one made again); a partial pass skips an unchanged list.
     */
    void follow(CatalogState catalog, Backend backend, boolean fullPass) {
        OomEvents e = events;
        CgroupLayout layout = backend.layout();
        Optional<Hierarchy> memory = backend.hierarchyOf("memory");
        if (e == null || memory.isEmpty()) {
            return;
        }
        List<OomEvents.Watch> watches = new ArrayList<>();
        for (Policy p : catalog.desired().values()) {
            if (p.resources().memory().isPresent()) {
                OomEvents.Watch w = watchCache.get(p.name());
                boolean killGroup = p.resources().memory().get().killsGroupOnOom();
                if (w == null || !w.webhooks().equals(p.oomWebhooks()) || w.killGroup() != killGroup) {
                    Path dir = layout.groupDir(memory.get(), p.name());
                    w = new OomEvents.Watch(p.name(), dir, memory.get().cgroupPath(dir), p.oomWebhooks(), killGroup);
                    watchCache.put(p.name(), w);
                }
                watches.add(w);
            }
        }
        watchCache.keySet().retainAll(catalog.desired().keySet());
        // Unchanged groups give the very same Watch objects: an unchanged list needs no follow.
        if (fullPass || !sameElements(watches, lastWatches)) {
            e.follow(watches);
            lastWatches = watches;
        }
    }

    private List<OomEvents.Watch> lastWatches = List.of();

    /**
     * Every events.pressure trigger, on the group's cgroup2 directory: v2's one directory, or a
     * hybrid host's unified-tree directory (jgovernor.cgroup.hybrid-unified). Without such a
     * directory (a v1-only host, or hybrid-unified off) the triggers cannot be registered: the
     * events side logs why, once.
     */
    void followPressure(CatalogState catalog, CgroupLayout layout) {
        PressureEvents p = pressure;
        Optional<Hierarchy> unified = layout.pressureTree();
        if (p == null || unified.isEmpty()) {
            return;
        }
        List<PressureEvents.Watch> watches = new ArrayList<>();
        for (Policy policy : catalog.desired().values()) {
            if (policy.pressureTriggers().isEmpty()) {
                continue;
            }
            Path dir = layout.groupDir(unified.get(), policy.name());
            String cgroup = unified.get().cgroupPath(dir);
            for (var t : policy.pressureTriggers()) {
                watches.add(new PressureEvents.Watch(policy.name(), dir, cgroup, t));
            }
        }
        p.follow(watches);
    }

    /** Pressure triggers that fired, by group, resource and stall. */
    java.util.Map<PressureEventsCollector.Firing, Long> pressureCounts() {
        PressureEvents p = pressure;
        java.util.Map<PressureEventsCollector.Firing, Long> out = new java.util.HashMap<>();
        if (p != null) {
            p.counts().forEach((c, n) -> out.put(new PressureEventsCollector.Firing(c.group(), c.resource(), c.stall()), n));
        }
        return out;
    }

    private static boolean sameElements(List<OomEvents.Watch> a, List<OomEvents.Watch> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** Who hears of new OOM kills per group (the workloads: a workload whose group had one has failed). */
    void onKills(java.util.function.Consumer<io.jgovernor.model.GroupName> listener) {
        OomEvents e = events;
        if (e != null) {
            e.onKills(listener);
        }
    }

    /** Undelivered events stay in the spool and are sent by the next start. */
    void close(JgovernorConfig config) {
        PressureEvents p = pressure;
        if (p != null) {
            p.close();
        }
        OomEvents e = events;
        if (e != null) {
            e.close(config.webhook().shutdownGrace());
        }
    }

    /** Events (and deliveries) still owed: the webhook queue depth. */
    long queueDepth() {
        OomEvents e = events;
        return e == null ? 0 : e.spool().pendingDeliveries();
    }

    EventCounters counters() {
        return counters;
    }

    OomStats stats() {
        return stats;
    }

    OomHistory history() {
        return history;
    }

    DeliveryStats deliveries() {
        return deliveries;
    }
}

package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.events.Backoff;
import io.jgovernor.events.DeliveryStats;
import io.jgovernor.events.OomEvents;
import io.jgovernor.events.OomHistory;
import io.jgovernor.events.OomStats;
import io.jgovernor.events.Signer;
import io.jgovernor.events.Spool;
import io.jgovernor.events.V1OomSource;
import io.jgovernor.events.WebhookSender;
import io.jgovernor.model.Policy;
import io.jgovernor.metrics.DaemonCollector;
import io.jgovernor.metrics.EventCounters;
import io.jgovernor.metrics.GroupCollector;
import io.jgovernor.metrics.GroupStats;
import io.jgovernor.metrics.Metrics;
import io.jgovernor.metrics.StatFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyCatalog;
import io.jgovernor.policy.PolicyError;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.PolicyWatcher;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.reconcile.ReconcileLoop;
import io.jgovernor.reconcile.Reconciler;
import io.jgovernor.reconcile.Report;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Wires the daemon together at startup and takes it apart on SIGTERM. */
@ApplicationScoped
public class Daemon {
    private static final Logger LOG = Logger.getLogger(Daemon.class);

    private final JgovernorConfig config;
    private ReconcileLoop loop;
    private PolicyWatcher watcher;
    private OomEvents oomEvents;
    private CgroupLayout layout;
    private final OomStats oomStats = new OomStats();
    private final OomHistory oomHistory = new OomHistory(OomHistory.DEFAULT_SIZE);
    private final DeliveryStats deliveryStats = new DeliveryStats();
    private volatile boolean ready;
    private volatile CatalogState lastCatalog;
    private volatile Report lastReport;
    private volatile String policyDirProblem;
    private volatile Reconciler reconciler;
    private volatile GroupStats groupStats;
    private volatile Metrics metrics;
    /** The OOM/webhook side's counters; zeros until that side is wired in. */
    private final EventCounters events = new OomEventCounters(oomStats, deliveryStats, this::webhookQueueDepth);
    private Set<String> loggedErrors = Set.of();

    public Daemon(JgovernorConfig config) {
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        try {
            start();
        } catch (Exception e) {
            LOG.errorf("jgovernor cannot start: %s", e.getMessage());
            Quarkus.asyncExit(1);
        }
    }

    private void start() throws IOException {
        CgroupFiles files = new CgroupFiles();
        layout = CgroupLayout.detect(config.cgroup().mount(), config.cgroup().root(), files);
        if (layout.mode() == CgroupMode.UNIFIED) {
            throw new IOException("cgroup v2 (the unified hierarchy) is mounted at " + config.cgroup().mount()
                    + "; this version of jgovernor governs cgroup v1 only (v2 support is on the way)");
        }
        LOG.infof("cgroup %s: %s", layout.mode() == CgroupMode.HYBRID ? "hybrid (v1 controllers used; the unified tree has none)" : "v1",
                layout);
        Path policyDir = config.policyDir();
        Path accepted = config.stateDir().resolve("accepted");
        Files.createDirectories(accepted);
        oomEvents = startOomEvents(files);
        PolicyCatalog catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts()), policyDir, accepted);
        Reconciler reconciler = new Reconciler(layout, files, name -> V1Controllers.forName(name).orElse(null));
        this.reconciler = reconciler;
        groupStats = GroupStats.of(StatFiles.of(files), layout);
        metrics = new Metrics(new GroupCollector(this::groups, groupStats, events),
                new DaemonCollector(this::lastCatalog, reconciler::errorsTotal, reconciler::driftCorrectionsTotal, events),
                true);
        loop = new ReconcileLoop(catalog, reconciler, config.reconcile().interval(), config.reconcile().quiet(),
                new ReconcileLoop.Listener() {
                    @Override
                    public void passed(CatalogState catalog, Report report) {
                        onPass(catalog, report);
                    }

                    @Override
                    public void policyDirUnreadable(IOException e) {
                        policyDirProblem = policyDir + ": " + e.getMessage();
                        ready = false;
                    }
                });
        // Watch before the first pass reads the directory: a file changed in between would
        // otherwise wait for the periodic pass. An event that arrives early costs one extra pass.
        watcher = new PolicyWatcher(policyDir, loop::policiesChanged);
        watcher.start();
        if (!loop.firstPass()) {
            LOG.errorf("policy directory %s cannot be read; nothing is applied until it can", policyDir);
        }
        loop.start();
        // SIGTERM is a requested stop, not a failure: exit 0 after the shutdown observers ran, so
        // systemd records a clean stop (the JVM's own handler would exit with 143).
        Signal.handle(new Signal("TERM"), s -> Quarkus.asyncExit(0));
        Signal.handle(new Signal("HUP"), s -> {
            LOG.info("SIGHUP: re-reading every policy");
            loop.reloadAll();
        });
        CatalogState c = lastCatalog;
        LOG.infof("jgovernor ready: %d groups from %s (%d files valid, %d invalid)",
                c == null ? 0 : c.desired().size(), policyDir, c == null ? 0 : c.validCount(), c == null ? 0 : c.invalidCount());
    }

    /**
     * The spool, the sender and the OOM watcher, before the first pass (which registers the groups);
     * whatever an earlier run left undelivered is sent again now.
     */
    private OomEvents startOomEvents(CgroupFiles files) throws IOException {
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
        Spool spool = new Spool(config.stateDir().resolve("spool"), config.webhook().spoolMaxEvents(), deliveryStats);
        WebhookSender sender = new WebhookSender(spool, signer,
                new Backoff(config.webhook().backoffInitial(), config.webhook().backoffMax()),
                config.webhook().timeout(), deliveryStats);
        OomEvents events = new OomEvents(files, OomEvents.hostname(), urls, spool, sender, oomStats, oomHistory,
                listener -> new V1OomSource(files, listener));
        int replayed = events.replaySpool();
        LOG.infof("OOM events: %d daemon-wide webhooks%s, spool %s%s", urls.size(),
                signer.isPresent() ? " (signed)" : "", spool.dir(),
                replayed > 0 ? " (" + replayed + " undelivered events from before, sending again)" : "");
        return events;
    }

    private static URI webhookUrl(String u) throws IOException {
        try {
            URI uri = new URI(u);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (java.net.URISyntaxException e) {
            // reported below
        }
        throw new IOException("jgovernor.webhook.urls: \"" + u + "\" is not an http:// or https:// URL with a host");
    }

    /** Every group with a memory section is watched for OOM, in the memory hierarchy. */
    private void followOom(CatalogState catalog) {
        Optional<Hierarchy> memory = layout.hierarchy("memory");
        if (oomEvents == null || memory.isEmpty()) {
            return;
        }
        List<OomEvents.Watch> watches = new ArrayList<>();
        for (Policy p : catalog.desired().values()) {
            if (p.resources().memory().isPresent()) {
                java.nio.file.Path dir = layout.groupDir(memory.get(), p.name());
                watches.add(new OomEvents.Watch(p.name(), dir, memory.get().cgroupPath(dir), p.oomWebhooks()));
            }
        }
        oomEvents.follow(watches);
    }

    private void onPass(CatalogState catalog, Report report) {
        followOom(catalog);
        // Rejections are logged once when they appear, not on every periodic pass.
        Set<String> now = new HashSet<>();
        for (PolicyError e : catalog.errors()) {
            String line = e.toString();
            now.add(line);
            if (!loggedErrors.contains(line)) {
                LOG.errorf("policy rejected: %s", line);
            }
        }
        loggedErrors = now;
        lastCatalog = catalog;
        lastReport = report;
        Metrics m = metrics;
        if (m != null) {
            m.passed(report);
        }
        policyDirProblem = null;
        ready = true;
    }

    void onStop(@Observes ShutdownEvent event) {
        // cgroups are left in place: the processes in them keep their limits while the daemon is away.
        if (watcher != null) {
            watcher.close();
        }
        if (loop != null) {
            loop.close();
        }
        if (oomEvents != null) {
            // undelivered events stay in the spool and are sent by the next start
            oomEvents.close(config.webhook().shutdownGrace());
        }
        LOG.info("jgovernor stopped; cgroups left in place");
    }

    /** The groups the policies define now; empty before the first pass. */
    private java.util.Collection<GroupName> groups() {
        CatalogState c = lastCatalog;
        return c == null ? Set.of() : c.desired().keySet();
    }

    /** Null until startup has found the cgroup layout. */
    public Metrics metrics() {
        return metrics;
    }

    /** Null until startup has found the cgroup layout. */
    public GroupStats groupStats() {
        return groupStats;
    }

    /** The first error of each group whose last pass failed, by group label. */
    public Map<String, String> groupErrors() {
        Reconciler r = reconciler;
        return r == null ? Map.of() : r.groupErrors();
    }

    public long passes() {
        Reconciler r = reconciler;
        return r == null ? 0 : r.passes();
    }

    /** Why the policy directory cannot be read now, or null when it can. */
    public String policyDirProblem() {
        return policyDirProblem;
    }

    public EventCounters events() {
        return events;
    }

    public boolean ready() {
        return ready;
    }

    public CatalogState lastCatalog() {
        return lastCatalog;
    }

    public Report lastReport() {
        return lastReport;
    }

    public OomStats oomStats() {
        return oomStats;
    }

    public OomHistory oomHistory() {
        return oomHistory;
    }

    public DeliveryStats deliveryStats() {
        return deliveryStats;
    }

    /** Events (and deliveries) still owed: the webhook queue depth. */
    public long webhookQueueDepth() {
        OomEvents e = oomEvents;
        return e == null ? 0 : e.spool().pendingDeliveries();
    }
}

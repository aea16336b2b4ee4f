package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.classify.Classifier;
import io.jgovernor.metrics.ClassifyCollector;
import io.jgovernor.cgroup.Backend;
import io.jgovernor.metrics.DaemonCollector;
import io.jgovernor.metrics.GroupCollector;
import io.jgovernor.metrics.GroupStats;
import io.jgovernor.metrics.PressureStats;
import io.jgovernor.metrics.LoopCollector;
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
import io.jgovernor.metrics.WorkloadCollector;
import io.jgovernor.spawn.ExecStage;
import io.jgovernor.spawn.Workloads;
import io.jgovernor.sys.Accounts;
import io.jgovernor.sys.LoopHealth;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Wires the daemon together at startup and takes it apart on SIGTERM. */
@ApplicationScoped
public class Daemon {
    private static final Logger LOG = Logger.getLogger(Daemon.class);

    private final JgovernorConfig config;
    private final Systemd systemd = Systemd.fromEnvironment();
    private final OomWiring oom = new OomWiring();
    /** Every loop's liveness: /q/health/live, the watchdog and the loop metrics read it. */
    private final LoopHealth health = new LoopHealth();
    private Thread watchdogThread;
    private volatile boolean stopping;
    private CgroupLayout layout;
    private Backend backend;
    private ReconcileLoop loop;
    private PolicyWatcher watcher;
    private volatile boolean ready;
    private volatile boolean reloading;
    private volatile CatalogState lastCatalog;
    private volatile Report lastReport;
    private volatile String policyDirProblem;
    private volatile Reconciler reconciler;
    private volatile GroupStats groupStats;
    private volatile Metrics metrics;
    private volatile Classifier classifier;
    private volatile Workloads workloads;
    private volatile CgroupFiles files;
    private volatile PolicyParser parser;
    private volatile FreezeControl freezeControl;
    private Set<String> loggedErrors = Set.of();
    private PidFile pidFile;

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
        pidFile = PidFile.write(config.pidFile());
        CgroupFiles files = new CgroupFiles();
        this.files = files;
        layout = CgroupLayout.detect(config.cgroup().mount(), config.cgroup().root(), files);
        if (config.cgroup().hybridUnified()) {
            layout = layout.withUnifiedGroups();
        }
        Backend backend = Backend.of(layout, files);
        this.backend = backend;
        LOG.infof("backend: %s", backend.description());
        // v2: out of the delegated cgroup into a leaf before the first pass enables controllers there
        backend.enterLeaf(files, ProcessHandle.current().pid()).ifPresent(leaf ->
                LOG.infof("cgroup v2: moved the daemon into leaf %s, so that %s can enable controllers for its children",
                        leaf, leaf.getParent()));
        backend.othersInOwnCgroup(files).ifPresent(others ->
                LOG.warnf("cgroup v2: processes %s share the daemon's cgroup %s, so the kernel will refuse to enable "
                    + "controllers there (EBUSY) and groups get no limits; run jgovernor as a unit of its own with "
                    + "Delegate=yes (see packaging/systemd), or set an absolute jgovernor.cgroup.root",
                    others.getValue(), others.getKey()));
        Path policyDir = config.policyDir();
        Path accepted = config.stateDir().resolve("accepted");
        Files.createDirectories(accepted);
        oom.start(config, files, backend, health);
        PolicyParser parser = new PolicyParser(new SysfsHostFacts(Path.of("/sys"), config.cgroup().mount(), backend::cgroupV2,
                config.stateDir()));
        this.parser = parser;
        PolicyCatalog catalog = new PolicyCatalog(parser, policyDir, accepted, config.reconcile().removalDelay());
        Reconciler reconciler = new Reconciler(backend, files);
        this.reconciler = reconciler;
        // run-time freezes (jgovernor freeze) are applied again from the first pass on, until thawed
        reconciler.runtimeFreezes(io.jgovernor.reconcile.RuntimeFreezes.load(config.stateDir().resolve("frozen")));
        freezeControl = new FreezeControl(this::lastCatalog, reconciler, backend.freezing(), files);
        groupStats = GroupStats.of(StatFiles.of(files), backend);
        metrics = new Metrics(new GroupCollector(this::groups, groupStats, oom.counters(),
                        PressureStats.of(StatFiles.of(files), layout)),
                new DaemonCollector(this::lastCatalog, reconciler::errorsTotal, reconciler::driftCorrectionsTotal,
                        oom.counters()),
                true);
        Workloads workloads = new Workloads(config.run().execStage().map(ExecStage::new).orElseGet(ExecStage::locate),
                reconciler, files, Accounts.host(),
                config.stateDir().resolve("workloads"));
        workloads.health(health);
        workloads.beforeSignal(freezeControl::thawForStop);
        workloads.frozen(freezeControl::frozen);
        this.workloads = workloads;
        oom.onKills(workloads::oomKilled);
        reconciler.keepOccupied(workloads::holds);
        metrics.register(new WorkloadCollector(workloads));
        metrics.register(new LoopCollector(health::statuses));
        metrics.register(new io.jgovernor.metrics.PressureEventsCollector(oom::pressureCounts));
        loop = new ReconcileLoop(catalog, reconciler, config.reconcile().interval(), config.reconcile().quiet(),
                new ReconcileLoop.Listener() {
                    @Override
                    public void passed(CatalogState catalog, Report report) {
                        onPass(catalog, report);
                    }

                    @Override
                    public void beforePass(CatalogState catalog) {
                        if (LoopBounds.TEST_STALL_MILLIS > 0 && ready && !testStalled) {
                            testStalled = true;
                            stallForTest();
                        }
                        workloads.stopVanished(catalog.desired());
                    }

                    @Override
                    public void policyDirUnreadable(IOException e) {
                        policyDirProblem = policyDir + ": " + e.getMessage();
                        ready = false;
                        systemd.status("policy directory unreadable: " + policyDirProblem);
                    }

                });
        loop.health(health.register("reconcile", LoopBounds.RECONCILE));
        // Watch before the first pass reads the directory: a file changed in between would
        // otherwise wait for the periodic pass. An event that arrives early costs one extra pass.
        watcher = new PolicyWatcher(policyDir, loop::policiesChanged);
        watcher.health(health.register("policy-watch", LoopBounds.POLICY_WATCH));
        watcher.start();
        if (!loop.firstPass()) {
            LOG.errorf("policy directory %s cannot be read; nothing is applied until it can", policyDir);
        }
        startClassifier(files, reconciler);
        loop.start();
        systemd.watchdog().ifPresent(this::startWatchdog);
        // SIGTERM is a requested stop, not a failure: exit 0 after the shutdown observers ran, so
        // systemd records a clean stop (the JVM's own handler would exit with 143).
        Signal.handle(new Signal("TERM"), s -> Quarkus.asyncExit(0));
        Signal.handle(new Signal("HUP"), s -> reload("SIGHUP"));
        // READY=1 after the first full pass, also when the policy directory could not be read:
        // the daemon is up and says why nothing is applied (STATUS=, the ready health check).
        systemd.ready(statusLine());
        LOG.infof("jgovernor ready: %s", statusLine());
        // Startup (policy parsing, the first pass over every group, class initialisation) leaves
        // the old generation grown well past what stays live: with 1000 groups 45 MiB committed
        // for 12 MiB of live objects. One full collection after READY compacts it, and the serial
        // collector then gives back what -XX:MaxHeapFreeRatio says is too much, so the resident
        // memory is what the daemon keeps, not what it needed once (issue 18).
        System.gc();
    }

    /**
     * What SIGHUP and {@code jgovernor reload} do: re-read every policy and run a full pass; the
     * future has that pass's report, which is also logged when it completes.
     */
    java.util.concurrent.CompletableFuture<Report> reload(String why) {
        LOG.infof("%s: re-reading every policy", why);
        reloading = true;
        systemd.reloading();
        return loop.reloadAll().whenComplete((report, e) -> {
            if (e != null) {
                LOG.errorf("%s: reload failed: %s", why, e.getMessage());
            } else {
                LOG.infof("%s: reload done: %s; %s", why, report, statusLine());
            }
        });
    }

    /** After the first pass, so the groups' directories exist. */
    private void startClassifier(CgroupFiles files, Reconciler reconciler) throws IOException {
        // Workloads the daemon started (their stage and every descendant) are never reclassified.
        Classifier c = new Classifier(layout, files, reconciler, workloads, config.classify().scanInterval(), true,
                config.classify().realtimePriority());
        c.health(health.register("classify", LoopBounds.CLASSIFY));
        c.start();
        metrics.register(new ClassifyCollector(c::classifiedTotal, c::lostEventsTotal, c::errorsTotal,
                () -> c.mode() == null ? "" : c.mode().name().toLowerCase(java.util.Locale.ROOT)));
        classifier = c;
        CatalogState first = lastCatalog;
        if (first != null) {
            c.catalogPassed(first, true);
        }
    }

    /** The test hook (test.jgovernor.stall-reconcile-ms) stalls one pass only. */
    private boolean testStalled;

    private static void stallForTest() {
        LOG.warnf("test hook test.jgovernor.stall-reconcile-ms: this pass blocks for %d ms", LoopBounds.TEST_STALL_MILLIS);
        try {
            Thread.sleep(LoopBounds.TEST_STALL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * WATCHDOG=1 only while every loop is live: a dead or stuck loop (reconcile, watcher,
     * classifier, OOM, webhook, any workload's supervisor) lets systemd's WatchdogSec= run out,
     * and systemd restarts the daemon if the loop does not come back in time.
     */
    private void startWatchdog(java.time.Duration every) {
        watchdogThread = Thread.ofPlatform().name("jgovernor-watchdog").daemon(true).start(() -> {
            Map<String, String> reported = Map.of();
            while (!stopping) {
                Map<String, String> problems = health.problems();
                if (problems.isEmpty()) {
                    systemd.watchdogPing();
                } else if (!problems.keySet().equals(reported.keySet())) {
                    LOG.errorf("not feeding the systemd watchdog: %s", problems);
                }
                reported = problems;
                try {
                    Thread.sleep(every);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    private void onPass(CatalogState catalog, Report report) {
        Classifier c = classifier;
        if (c != null) {
            c.catalogPassed(catalog, report.full());
        }
        oom.follow(catalog, backend, report.full());
        oom.followPressure(catalog, layout);
        workloads.sync(catalog.desired());
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
        if (reloading && report.full()) {
            reloading = false;
            systemd.ready(statusLine());
        } else {
            systemd.status(statusLine());
        }
    }

    /** One line for STATUS= and the log: what is applied and what is wrong. */
    private String statusLine() {
        Reconciler r = reconciler;
        return statusLine(lastCatalog, policyDirProblem, config.policyDir(), r == null ? Map.of() : r.groupErrors());
    }

    /** @param groupErrors the reconciler's first error of each group its last pass over it failed on */
    static String statusLine(CatalogState c, String policyDirProblem, Path policyDir, Map<String, String> groupErrors) {
        if (c == null) {
            return policyDirProblem == null ? "starting" : "policy directory unreadable: " + policyDirProblem;
        }
        int failing = groupErrors.size();
        return c.desired().size() + " groups from " + policyDir + "; " + c.validCount() + " files valid, "
                + c.invalidCount() + " invalid" + (failing > 0 ? "; " + failing + " groups with errors" : "");
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
        systemd.stopping();
        Thread dog = watchdogThread;
        if (dog != null) {
            dog.interrupt();
        }
        // cgroups are left in place: the processes in them keep their limits while the daemon is away.
        if (watcher != null) {
            watcher.close();
        }
        if (loop != null) {
            loop.close();
        }
        if (classifier != null) {
            classifier.close();
        }
        // Workloads the daemon started stop with it (daemon.md) unless configured to outlive it;
        // after the loop, so none starts again.
        Workloads w = workloads;
        if (w != null && !config.run().outliveDaemon()) {
            w.stopAll();
        } else if (w != null) {
            LOG.infof("leaving %d workloads running (jgovernor.run.outlive-daemon=true)", w.status().size());
        }
        oom.close(config);
        if (pidFile != null) {
            pidFile.remove();
        }
        LOG.info("jgovernor stopped; cgroups left in place");
    }

    /** The groups the policies define now; empty before the first pass. */
    private Collection<GroupName> groups() {
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

    /** Null until the first pass is done. */
    public Classifier classifier() {
        return classifier;
    }

    public boolean ready() {
        return ready;
    }

    public CatalogState lastCatalog() {
        return lastCatalog;
    }

    /** Null until startup; also the classifier's test of "a workload's process, leave it". */
    public Workloads workloads() {
        return workloads;
    }

    /** The loops that are dead or stuck now, by name, with why; empty: all live. */
    public Map<String, String> loopProblems() {
        return health.problems();
    }

    public Report lastReport() {
        return lastReport;
    }

    /** Null until startup has found it. */
    public CgroupLayout layout() {
        return layout;
    }

    /** Null until startup. */
    public Reconciler reconciler() {
        return reconciler;
    }

    /** Null until startup. */
    public CgroupFiles files() {
        return files;
    }

    /** Null until startup: {@code jgovernor freeze} and {@code thaw}. */
    FreezeControl freezeControl() {
        return freezeControl;
    }

    /** Null until startup: the parser the catalog uses, with the same host facts. */
    public PolicyParser parser() {
        return parser;
    }
}

package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.v1.V1Controllers;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Wires the daemon together at startup and takes it apart on SIGTERM. */
@ApplicationScoped
public class Daemon {
    private static final Logger LOG = Logger.getLogger(Daemon.class);

    private final JgovernorConfig config;
    private ReconcileLoop loop;
    private PolicyWatcher watcher;
    private volatile boolean ready;
    private volatile CatalogState lastCatalog;
    private volatile Report lastReport;
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
        CgroupLayout layout = CgroupLayout.detect(config.cgroup().mount(), config.cgroup().root(), files);
        if (layout.mode() == CgroupMode.UNIFIED) {
            throw new IOException("cgroup v2 (the unified hierarchy) is mounted at " + config.cgroup().mount()
                    + "; this version of jgovernor governs cgroup v1 only (v2 support is on the way)");
        }
        LOG.infof("cgroup %s: %s", layout.mode() == CgroupMode.HYBRID ? "hybrid (v1 controllers used; the unified tree has none)" : "v1",
                layout);
        Path policyDir = config.policyDir();
        Path accepted = config.stateDir().resolve("accepted");
        Files.createDirectories(accepted);
        PolicyCatalog catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts()), policyDir, accepted);
        Reconciler reconciler = new Reconciler(layout, files, name -> V1Controllers.forName(name).orElse(null));
        loop = new ReconcileLoop(catalog, reconciler, config.reconcile().interval(), config.reconcile().quiet(),
                new ReconcileLoop.Listener() {
                    @Override
                    public void passed(CatalogState catalog, Report report) {
                        onPass(catalog, report);
                    }

                    @Override
                    public void policyDirUnreadable(IOException e) {
                        ready = false;
                    }
                });
        if (!loop.firstPass()) {
            LOG.errorf("policy directory %s cannot be read; nothing is applied until it can", policyDir);
        }
        watcher = new PolicyWatcher(policyDir, loop::policiesChanged);
        watcher.start();
        loop.start();
        Signal.handle(new Signal("HUP"), s -> {
            LOG.info("SIGHUP: re-reading every policy");
            loop.reloadAll();
        });
        CatalogState c = lastCatalog;
        LOG.infof("jgovernor ready: %d groups from %s (%d files valid, %d invalid)",
                c == null ? 0 : c.desired().size(), policyDir, c == null ? 0 : c.validCount(), c == null ? 0 : c.invalidCount());
    }

    private void onPass(CatalogState catalog, Report report) {
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
        LOG.info("jgovernor stopped; cgroups left in place");
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
}

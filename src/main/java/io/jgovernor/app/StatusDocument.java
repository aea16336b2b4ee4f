package io.jgovernor.app;

import io.jgovernor.classify.Classifier;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.metrics.GroupStats;
import io.jgovernor.model.GroupName;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyError;
import io.jgovernor.reconcile.ReconcileError;
import io.jgovernor.reconcile.Report;
import io.jgovernor.spawn.WorkloadStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The control API's status: every group with its state and usage (read from the cgroup files
 * now), the policy files with their errors, and the last pass. {@code jgovernor status} prints it.
 *
 * <p>A group's state is {@code error} when the last pass over it failed, {@code last-good} when
 * its policy file is rejected now and the file's last accepted version is applied instead, and
 * {@code applied} otherwise.
 */
final class StatusDocument {
    static final String APPLIED = "applied";
    static final String ERROR = "error";
    static final String LAST_GOOD = "last-good";
    /** Its file is missing; the group goes unless the file is back within the removal delay. */
    static final String REMOVING = "removing";

    private StatusDocument() {
    }

    /** With the classifier (or null): per group, the processes its match rules put there ("classified"). */
    static JsonObject build(boolean ready, CatalogState catalog, Report report, Map<String, String> groupErrors,
                            GroupStats stats, String policyDirProblem, Classifier classifier) {
        Map<GroupName, Long> classified = classifier == null ? Map.of() : classifier.classified();
        JsonObject doc = new JsonObject().put("ready", ready);
        if (policyDirProblem != null) {
            doc.put("policyDirectoryError", policyDirProblem);
        }
        JsonArray groups = new JsonArray();
        JsonArray files = new JsonArray();
        if (catalog != null) {
            Map<GroupName, Path> fileOf = new HashMap<>();
            Set<GroupName> lastGood = new HashSet<>();
            Set<GroupName> removing = new HashSet<>();
            for (CatalogState.FileStatus f : catalog.files()) {
                for (GroupName g : f.groups()) {
                    fileOf.put(g, f.file());
                    if (f.onLastGood()) {
                        lastGood.add(g);
                    }
                    if (f.removing()) {
                        removing.add(g);
                    }
                }
                JsonArray errors = new JsonArray();
                for (PolicyError e : f.errors()) {
                    errors.add(e.toString());
                }
                JsonArray names = new JsonArray();
                f.groups().forEach(g -> names.add(g.value()));
                files.add(new JsonObject().put("file", f.file().toString()).put("valid", f.valid())
                        .put("onLastGood", f.onLastGood()).put("removing", f.removing()).put("groups", names)
                        .put("errors", errors));
            }
            for (GroupName g : catalog.desired().keySet()) {
                String error = groupErrors.get(g.value());
                String state = error != null ? ERROR : removing.contains(g) ? REMOVING
                        : lastGood.contains(g) ? LAST_GOOD : APPLIED;
                JsonObject o = new JsonObject().put("name", g.value()).put("state", state);
                Path file = fileOf.get(g);
                if (file != null) {
                    o.put("file", file.toString());
                }
                if (stats != null) {
                    GroupSample s = stats.read(g);
                    put(o, "processes", s.processes());
                    if (s.cpuUsageNanos().isPresent()) {
                        o.put("cpuSeconds", s.cpuUsageNanos().getAsLong() / 1e9);
                    }
                    if (s.cpuQuotaCores().isPresent()) {
                        o.put("cpuQuotaCores", s.cpuQuotaCores().getAsDouble());
                    }
                    put(o, "memoryUsageBytes", s.memoryUsageBytes());
                    put(o, "memoryLimitBytes", s.memoryLimitBytes());
                    if (s.memoryUnlimited()) {
                        o.put("memoryLimitBytes", "max");
                    }
                    put(o, "oomKills", s.oomKills());
                    put(o, "pidsCurrent", s.pidsCurrent());
                    if (!s.io().isEmpty()) {
                        // summed over devices: what jgovernor top shows as rates
                        o.put("ioReadBytes", s.io().stream().mapToLong(io.jgovernor.cgroup.DeviceIo::readBytes).sum());
                        o.put("ioWriteBytes", s.io().stream().mapToLong(io.jgovernor.cgroup.DeviceIo::writeBytes).sum());
                    }
                }
                if (classifier != null && !catalog.desired().get(g).match().isEmpty()) {
                    o.put("classified", classified.getOrDefault(g, 0L));
                }
                o.put("lastError", error);
                groups.add(o);
            }
        }
        doc.put("groups", groups).put("policies", files);
        if (classifier != null && classifier.mode() != null) {
            doc.put("classify", new JsonObject().put("mode", classifier.mode().name().toLowerCase(java.util.Locale.ROOT))
                    .put("scheduling", classifier.scheduling())
                    .put("classifiedTotal", classifier.classifiedTotal())
                    .put("lostEvents", classifier.lostEventsTotal()).put("errors", classifier.errorsTotal()));
        }
        if (report != null) {
            doc.put("lastPass", pass(report));
        }
        return doc;
    }

    /** One pass's report: the status's lastPass, and what {@code jgovernor reload} answers. */
    static JsonObject pass(Report report) {
        JsonArray errors = new JsonArray();
        for (ReconcileError e : report.errors()) {
            errors.add(e.toString());
        }
        return new JsonObject().put("full", report.full()).put("groups", report.groups())
                .put("created", report.mkdirs()).put("writes", report.writes()).put("removed", report.removals())
                .put("driftCorrections", report.driftCorrections()).put("errors", errors)
                .put("seconds", report.took().toNanos() / 1e9);
    }

    /**
     * Adds each group's workload ({@code run:}) to its entry: {@code state} (starting, running,
     * backoff, exited, failed, stopping, stopped), the host {@code pid} while it runs, {@code restarts},
     * and the last start error and exit status when there are.
     */
    static JsonObject withWorkloads(JsonObject doc, Map<GroupName, WorkloadStatus> workloads) {
        JsonArray groups = doc.getJsonArray("groups");
        for (int i = 0; groups != null && i < groups.size(); i++) {
            JsonObject g = groups.getJsonObject(i);
            WorkloadStatus w = workloads.get(new GroupName(g.getString("name")));
            if (w != null) {
                JsonObject o = new JsonObject().put("state", w.state()).put("restarts", w.restarts());
                if (w.pid() > 0) {
                    o.put("pid", w.pid());
                }
                if (w.lastError() != null) {
                    o.put("lastError", w.lastError());
                }
                if (w.lastExit() != null) {
                    o.put("lastExit", w.lastExit());
                }
                g.put("workload", o);
            }
        }
        return doc;
    }

    private static void put(JsonObject o, String key, OptionalLong v) {
        if (v.isPresent()) {
            o.put(key, v.getAsLong());
        }
    }
}

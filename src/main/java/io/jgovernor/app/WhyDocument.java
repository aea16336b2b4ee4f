package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.ProcCgroup;
import io.jgovernor.classify.Classifier;
import io.jgovernor.classify.Moves;
import io.jgovernor.model.GroupName;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.spawn.WorkloadStatus;
import io.jgovernor.spawn.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The control API's answer to {@code jgovernor why PID}: the group the process is in, read from
 * /proc/PID/cgroup against the daemon's layout (per hierarchy, since on v1 they can differ), and
 * what put it there: the classifier's record of the move (file, match entry, time), or the
 * workload it belongs to; neither when jgovernor did not place it.
 */
final class WhyDocument {
    private WhyDocument() {
    }

    static JsonObject build(int pid, CgroupLayout layout, CatalogState catalog, Classifier classifier,
                            Workloads workloads) {
        JsonObject doc = new JsonObject().put("pid", pid);
        String text;
        try {
            text = Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"));
        } catch (IOException e) {
            return doc.put("exists", false);
        }
        doc.put("exists", true).put("comm", TreeDocument.comm(pid));
        ProcCgroup cg;
        try {
            cg = ProcCgroup.parse(text);
        } catch (IllegalArgumentException e) {
            return doc.put("error", e.getMessage());
        }
        // group -> the hierarchies that have the process in it; "" outside jgovernor's tree
        Map<String, JsonArray> groups = new TreeMap<>();
        JsonObject cgroups = new JsonObject();
        for (Hierarchy h : layout.hierarchies()) {
            Optional<String> path = cg.pathIn(h);
            if (path.isEmpty()) {
                continue;
            }
            cgroups.put(h.name(), path.get());
            String root = h.cgroupPath(layout.rootDir(h));
            String group = path.get().equals(root) ? "(root)"
                    : path.get().startsWith(root + "/") ? path.get().substring(root.length() + 1) : "";
            groups.computeIfAbsent(group, g -> new JsonArray()).add(h.name());
        }
        JsonArray in = new JsonArray();
        groups.forEach((g, hs) -> in.add(new JsonObject().put("group", g.isEmpty() ? null : g).put("hierarchies", hs)));
        doc.put("in", in).put("cgroups", cgroups);
        if (classifier != null) {
            Optional<Moves.Moved> moved = classifier.moves().of(pid);
            moved.ifPresent(m -> doc.put("moved", new JsonObject().put("group", m.group().value())
                    .put("file", fileOf(catalog, m.group()).orElse(m.file())).put("entry", m.entry())
                    .put("rule", m.rule()).put("at", m.at().toString())));
        }
        if (workloads != null) {
            workloadOf(pid, workloads).ifPresent(g -> doc.put("workload", g.value()));
        }
        return doc;
    }

    /** The policy file that defines {@code group} now, as a path. */
    private static Optional<String> fileOf(CatalogState catalog, GroupName group) {
        if (catalog == null) {
            return Optional.empty();
        }
        for (CatalogState.FileStatus f : catalog.files()) {
            if (f.groups().contains(group)) {
                return Optional.of(f.file().toString());
            }
        }
        return Optional.empty();
    }

    /** The group whose workload is {@code pid} or one of its ancestors. */
    private static Optional<GroupName> workloadOf(int pid, Workloads workloads) {
        Map<Long, GroupName> roots = new java.util.HashMap<>();
        for (Map.Entry<GroupName, WorkloadStatus> e : workloads.status().entrySet()) {
            if (e.getValue().pid() > 0) {
                roots.put((long) e.getValue().pid(), e.getKey());
            }
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        for (int depth = 0; h.isPresent() && depth < 64; depth++) {
            GroupName g = roots.get(h.get().pid());
            if (g != null) {
                return Optional.of(g);
            }
            h = h.get().parent();
        }
        return Optional.empty();
    }
}

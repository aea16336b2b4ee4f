package io.jgovernor.app;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.reconcile.Reconciler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The control API's answer to {@code jgovernor tree}: every group of the policies with the
 * processes in its directories (any hierarchy: on v1 a process can sit in a group in some
 * hierarchies only), and those directly in the daemon's root. Each with its comm.
 */
final class TreeDocument {
    private TreeDocument() {
    }

    static JsonObject build(CgroupLayout layout, CatalogState catalog, Reconciler reconciler, CgroupFiles files) {
        JsonArray roots = new JsonArray();
        SortedSet<Integer> rootPids = new TreeSet<>();
        for (Hierarchy h : layout.hierarchies()) {
            Path root = layout.rootDir(h);
            if (Files.isDirectory(root)) {
                roots.add(root.toString());
                rootPids.addAll(procs(files, List.of(root)));
            }
        }
        JsonArray groups = new JsonArray();
        for (GroupName g : catalog.desired().keySet()) {
            groups.add(new JsonObject().put("name", g.value()).put("processes", processes(procs(files, reconciler.of(g)))));
        }
        return new JsonObject().put("root", roots).put("rootProcesses", processes(rootPids)).put("groups", groups);
    }

    private static SortedSet<Integer> procs(CgroupFiles files, List<Path> dirs) {
        SortedSet<Integer> pids = new TreeSet<>();
        for (Path dir : dirs) {
            try {
                pids.addAll(files.procs(dir));
            } catch (CgroupException e) {
                // a directory that went away meanwhile holds no processes
            }
        }
        return pids;
    }

    private static JsonArray processes(SortedSet<Integer> pids) {
        JsonArray out = new JsonArray();
        for (int pid : pids) {
            out.add(new JsonObject().put("pid", pid).put("comm", comm(pid)));
        }
        return out;
    }

    /** /proc/PID/comm without its newline; "?" for a process that is gone. */
    static String comm(int pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "comm")),
                    StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}

package io.jgovernor.spawn;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a group's cgroup holds, read at a daemon start, when records may be missing or wrong: the
 * group's cgroup is the truth, as it is for a systemd unit. Every exec stage in it (recognised by
 * {@link ExecStage#tagOf}), each with its workload (the stage's child: the stage clones it once
 * and waits for it), and the strays: processes that descend from no stage (classified there by
 * match rules, or left by a workload whose stage was killed).
 *
 * @param stages oldest first
 * @param strays by pid
 */
record Census(List<Stage> stages, List<Integer> strays) {
    /** Parents followed up from a process to find a stage above it, as {@link Workloads#test} does. */
    private static final int DEPTH = 64;

    /**
     * @param workload the stage's child, 0 when it has none (it exited and the stage is ending)
     * @param tag      the run spec hash it was started with
     */
    record Stage(int pid, long startTime, String tag, int workload, long workloadStart) {
    }

    static Census of(List<Path> dirs, CgroupFiles files, ExecStage exec) {
        Set<Integer> procs = new TreeSet<>();
        for (Path d : dirs) {
            try {
                procs.addAll(files.procs(d));
            } catch (CgroupException e) {
                // gone: nothing in it
            }
        }
        Map<Integer, Integer> parent = new HashMap<>();
        for (int pid : procs) {
            OptionalLong p = ProcStat.parent(pid);
            if (p.isPresent()) {
                parent.put(pid, (int) p.getAsLong());
            }
        }
        List<Stage> stages = new ArrayList<>();
        for (int pid : parent.keySet()) {
            OptionalLong start = ProcStat.startTime(pid);
            var tag = exec.tagOf(pid);
            if (start.isEmpty() || tag.isEmpty()) {
                continue;
            }
            int child = 0;
            long childStart = 0;
            for (var e : parent.entrySet()) {
                OptionalLong cs = e.getValue() == pid ? ProcStat.startTime(e.getKey()) : OptionalLong.empty();
                if (cs.isPresent()) {
                    child = e.getKey();
                    childStart = cs.getAsLong();
                    break;
                }
            }
            stages.add(new Stage(pid, start.getAsLong(), tag.get(), child, childStart));
        }
        stages.sort(Comparator.comparingLong(Stage::startTime).thenComparingInt(Stage::pid));
        Set<Integer> stagePids = new TreeSet<>();
        stages.forEach(s -> stagePids.add(s.pid()));
        List<Integer> strays = new ArrayList<>();
        for (int pid : parent.keySet()) {
            if (!descends(pid, stagePids)) {
                strays.add(pid);
            }
        }
        strays.sort(null);
        return new Census(List.copyOf(stages), List.copyOf(strays));
    }

    /** True for a stage or a process forked (at any depth) by one. */
    private static boolean descends(int pid, Set<Integer> stages) {
        int p = pid;
        for (int depth = 0; depth < DEPTH && p > 1; depth++) {
            if (stages.contains(p)) {
                return true;
            }
            OptionalLong up = ProcStat.parent(p);
            if (up.isEmpty()) {
                return false;
            }
            p = (int) up.getAsLong();
        }
        return false;
    }
}

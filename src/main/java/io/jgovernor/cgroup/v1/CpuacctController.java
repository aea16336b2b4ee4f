package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * cgroup v1 "cpuacct": accounting only (cpuacct.usage feeds the CPU usage metric). It has nothing
 * to set, but every group gets a directory so that its CPU time is counted.
 */
public final class CpuacctController implements Controller {
    @Override
    public String name() {
        return "cpuacct";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return true;
    }

    @Override
    public List<String> observedFiles() {
        return List.of();
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        return List.of();
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of();
    }

    /** cpuacct.usage (ns, the group and its descendants) and the group's processes: every group has a cpuacct directory. */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        sample.cpuUsageNanos = in.number(dir, "cpuacct.usage");
        String procs = in.text(dir, "cgroup.procs");
        if (procs != null) {
            sample.processes = OptionalLong.of(CgroupText.lines(procs));
        }
    }
}

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.DirectoryOnly;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * cgroup v1 "cpuacct": accounting only (cpuacct.usage feeds the CPU usage metric). It has nothing
 * to set, but every group gets a directory so that its CPU time is counted.
 */
public final class CpuacctController implements DirectoryOnly {
    @Override
    public String name() {
        return "cpuacct";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return true;
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

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.DirectoryOnly;
import io.jgovernor.model.Resources;

/**
 * "perf_event": no files at all. A group's directory in the perf_event hierarchy is what lets
 * {@code perf stat -G GROUP} (and perf_event_open with PERF_FLAG_PID_CGROUP) count the group's
 * processes alone; {@code perfEvent: true} asks for it. cgroup v2 needs nothing: perf_event is
 * implicitly on in every cgroup2 directory, so v2 has no class of its own.
 */
public final class PerfEventController implements DirectoryOnly {
    @Override
    public String name() {
        return "perf_event";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.perfEventDirectory();
    }
}

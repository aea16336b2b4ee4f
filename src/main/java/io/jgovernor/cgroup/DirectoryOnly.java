package io.jgovernor.cgroup;

import io.jgovernor.model.Resources;

import java.util.List;
import java.util.Map;

/**
 * A controller that only needs its groups to have a directory (v1 cpuacct for accounting,
 * perf_event for {@code perf stat -G}, a hybrid host's controller-less unified tree for pressure):
 * it observes, writes and restores nothing.
 */
public interface DirectoryOnly extends Controller {
    @Override
    default List<String> observedFiles() {
        return List.of();
    }

    @Override
    default List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        return List.of();
    }

    @Override
    default Map<String, String> fresh(GroupContext context) {
        return Map.of();
    }
}

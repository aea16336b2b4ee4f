package io.jgovernor.metrics;

import io.jgovernor.spawn.Workloads;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import static io.jgovernor.metrics.GroupCollector.c;
import static io.jgovernor.metrics.GroupCollector.counter;
import static io.jgovernor.metrics.GroupCollector.g;
import static io.jgovernor.metrics.GroupCollector.gauge;

/** Workload supervision: starts, start failures and restarts, and which groups' workloads run now. */
public final class WorkloadCollector implements MultiCollector {
    private final Workloads workloads;

    public WorkloadCollector(Workloads workloads) {
        this.workloads = workloads;
    }

    @Override
    public MetricSnapshots collect() {
        var starts = counter("jgovernor_workload_starts", null, "Workloads started (the command's execve succeeded)");
        starts.dataPoint(c(Labels.EMPTY, workloads.starts()));
        var failures = counter("jgovernor_workload_start_failures", null,
                "Workload starts that failed before the command ran (each is logged with the step and errno)");
        failures.dataPoint(c(Labels.EMPTY, workloads.startFailures()));
        var restarts = counter("jgovernor_workload_restarts", null,
                "Workloads started again after they exited, as their restart policy says");
        restarts.dataPoint(c(Labels.EMPTY, workloads.restarts()));
        var running = gauge("jgovernor_group_workload_running", null, "1 when the group's workload runs now, else 0");
        workloads.status().forEach((group, s) ->
                running.dataPoint(g(Labels.of("group", group.value()), s.state().equals("running") ? 1 : 0)));
        return MetricSnapshots.of(starts.build(), failures.build(), restarts.build(), running.build());
    }
}

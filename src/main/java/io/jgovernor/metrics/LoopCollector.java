package io.jgovernor.metrics;

import io.jgovernor.sys.LoopHealth;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;
import java.util.function.Supplier;

import static io.jgovernor.metrics.GroupCollector.c;
import static io.jgovernor.metrics.GroupCollector.counter;
import static io.jgovernor.metrics.GroupCollector.g;
import static io.jgovernor.metrics.GroupCollector.gauge;

/** Each of the daemon's loops: live or not, how often it died and was restarted, items that failed. Never throws. */
public final class LoopCollector implements MultiCollector {
    private final Supplier<List<LoopHealth.Status>> loops;

    public LoopCollector(Supplier<List<LoopHealth.Status>> loops) {
        this.loops = loops;
    }

    @Override
    public MetricSnapshots collect() {
        List<LoopHealth.Status> now;
        try {
            now = loops.get();
        } catch (RuntimeException e) {
            now = List.of();
        }
        var up = gauge("jgovernor_loop_up", null,
                "1 while the loop is running and not stuck in one item past its bound; 0 makes /q/health/live DOWN");
        var restarts = counter("jgovernor_loop_restarts", null, "Times the loop died and was started again");
        var errors = counter("jgovernor_loop_errors", null,
                "Items (a pass, a process, an event) that failed inside the loop, which went on");
        for (LoopHealth.Status s : now) {
            Labels l = Labels.of("loop", s.loop());
            up.dataPoint(g(l, s.up() ? 1 : 0));
            restarts.dataPoint(c(l, s.restarts()));
            errors.dataPoint(c(l, s.errors()));
        }
        return MetricSnapshots.of(up.build(), restarts.build(), errors.build());
    }
}

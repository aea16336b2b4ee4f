package io.jgovernor.metrics;

import io.jgovernor.cgroup.DeviceIo;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.Psi;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Pressure;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The per-group metrics of {@code daemon.md}, read from the cgroup files while the scrape waits:
 * no background loop, so an idle daemon costs nothing and a scrape is never stale. Every series is
 * labelled {@code group="<policy name>"}. A group or file that cannot be read costs its own series
 * only and counts in {@code jgovernor_scrape_errors_total}; {@link #collect()} never throws.
 */
public final class GroupCollector implements MultiCollector {
    private static final double NANOS = 1e9;

    private final Supplier<? extends Collection<GroupName>> groups;
    private final GroupStats stats;
    private final EventCounters events;
    private final PressureStats pressure;
    private final AtomicLong ownErrors = new AtomicLong();

    /** @param groups the groups the policies define now (read once per scrape) */
    public GroupCollector(Supplier<? extends Collection<GroupName>> groups, GroupStats stats, EventCounters events) {
        this(groups, stats, events, PressureStats.NONE);
    }

    /** @param pressure the groups' and the host's pressure totals (PSI) */
    public GroupCollector(Supplier<? extends Collection<GroupName>> groups, GroupStats stats, EventCounters events,
                          PressureStats pressure) {
        this.groups = groups;
        this.stats = stats;
        this.events = events;
        this.pressure = pressure;
    }

    @Override
    public MetricSnapshots collect() {
        Collection<GroupName> names;
        try {
            names = groups.get();
            if (names == null) {
                names = List.of();
            }
        } catch (RuntimeException e) {
            ownErrors.incrementAndGet();
            names = List.of();
        }
        var cpu = counter("jgovernor_group_cpu_usage_seconds", Unit.SECONDS,
                "CPU time used by the group's processes and its child groups (cpuacct.usage)");
        var quota = gauge("jgovernor_group_cpu_quota_cores", null,
                "CFS quota in CPUs (cpu.cfs_quota_us / cpu.cfs_period_us); absent without a quota");
        var throttledPeriods = counter("jgovernor_group_cpu_throttled_periods", null,
                "CFS periods in which the group was throttled (cpu.stat nr_throttled)");
        var throttledSeconds = counter("jgovernor_group_cpu_throttled_seconds", Unit.SECONDS,
                "Time the group was throttled (cpu.stat throttled_time)");
        var memUsage = gauge("jgovernor_group_memory_usage_bytes", Unit.BYTES,
                "Memory charged to the group, page cache included (memory.usage_in_bytes)");
        var memLimit = gauge("jgovernor_group_memory_limit_bytes", Unit.BYTES,
                "Memory limit (memory.limit_in_bytes); absent when there is no limit");
        var oomEvents = counter("jgovernor_group_oom_events", null,
                "OOM notifications the daemon has seen for the group since it started");
        var oomKills = counter("jgovernor_group_oom_kills", null,
                "Processes of the group killed by the OOM killer (memory.oom_control oom_kill)");
        var ioRead = counter("jgovernor_group_io_read_bytes", Unit.BYTES,
                "Bytes read from a block device (blkio.throttle.io_service_bytes Read)");
        var ioWrite = counter("jgovernor_group_io_write_bytes", Unit.BYTES,
                "Bytes written to a block device (blkio.throttle.io_service_bytes Write)");
        var pids = gauge("jgovernor_group_pids_current", null, "Tasks (threads) in the group (pids.current)");
        var processes = gauge("jgovernor_group_processes", null, "Processes in the group (cgroup.procs)");

        // the controllers' own series (GroupSample.Series), by metric name, in the order first seen
        java.util.Map<String, Object> own = new java.util.LinkedHashMap<>();
        PressureSeries groupPressure = new PressureSeries("jgovernor_group_pressure_",
                "of the group's processes (its cgroup2 directory's %s.pressure %s total)");
        for (GroupName g : names) {
            GroupSample s;
            try {
                s = stats.read(g);
            } catch (RuntimeException e) {
                ownErrors.incrementAndGet();
                continue;
            }
            Labels l = Labels.of("group", g.value());
            s.cpuUsageNanos().ifPresent(v -> cpu.dataPoint(c(l, v / NANOS)));
            s.cpuQuotaCores().ifPresent(v -> quota.dataPoint(g(l, v)));
            s.throttledPeriods().ifPresent(v -> throttledPeriods.dataPoint(c(l, v)));
            s.throttledNanos().ifPresent(v -> throttledSeconds.dataPoint(c(l, v / NANOS)));
            s.memoryUsageBytes().ifPresent(v -> memUsage.dataPoint(g(l, v)));
            s.memoryLimitBytes().ifPresent(v -> memLimit.dataPoint(g(l, v)));
            s.oomKills().ifPresent(v -> oomKills.dataPoint(c(l, v)));
            long oom;
            try {
                oom = events.oomEvents(g);
            } catch (RuntimeException e) {
                ownErrors.incrementAndGet();
                oom = -1;
            }
            if (oom >= 0) {
                oomEvents.dataPoint(c(l, oom));
            }
            for (DeviceIo d : s.io()) {
                Labels dl = Labels.of("device", d.device(), "group", g.value());
                ioRead.dataPoint(c(dl, d.readBytes()));
                ioWrite.dataPoint(c(dl, d.writeBytes()));
            }
            s.pidsCurrent().ifPresent(v -> pids.dataPoint(g(l, v)));
            s.processes().ifPresent(v -> processes.dataPoint(g(l, v)));
            for (GroupSample.Series x : s.series()) {
                Labels xl = l;
                for (var e : x.labels().entrySet()) {
                    xl = xl.add(e.getKey(), e.getValue());
                }
                Object b = own.computeIfAbsent(x.metric(), m -> x.counter()
                        ? counter(m, x.unit() == null ? null : new Unit(x.unit()), x.help())
                        : gauge(m, x.unit() == null ? null : new Unit(x.unit()), x.help()));
                if (b instanceof CounterSnapshot.Builder cb) {
                    cb.dataPoint(c(xl, x.value()));
                } else if (b instanceof GaugeSnapshot.Builder gb) {
                    gb.dataPoint(g(xl, x.value()));
                }
            }
            try {
                groupPressure.add(l, pressure.group(g));
            } catch (RuntimeException e) {
                ownErrors.incrementAndGet();
            }
        }
        stats.keepOnly(names);
        PressureSeries hostPressure = new PressureSeries("jgovernor_host_pressure_",
                "on the whole host (/proc/pressure/%s %s total)");
        try {
            hostPressure.add(Labels.EMPTY, pressure.host());
        } catch (RuntimeException e) {
            ownErrors.incrementAndGet();
        }
        var errors = counter("jgovernor_scrape_errors", null,
                "cgroup files that could not be read or parsed during scrapes (their series were left out)");
        errors.dataPoint(c(Labels.EMPTY, stats.errors() + pressure.errors() + ownErrors.get()));
        MetricSnapshots.Builder out = MetricSnapshots.builder().metricSnapshot(cpu.build()).metricSnapshot(quota.build())
                .metricSnapshot(throttledPeriods.build()).metricSnapshot(throttledSeconds.build())
                .metricSnapshot(memUsage.build()).metricSnapshot(memLimit.build()).metricSnapshot(oomEvents.build())
                .metricSnapshot(oomKills.build()).metricSnapshot(ioRead.build()).metricSnapshot(ioWrite.build())
                .metricSnapshot(pids.build()).metricSnapshot(processes.build());
        for (Object b : own.values()) {
            out.metricSnapshot(b instanceof CounterSnapshot.Builder cb ? cb.build() : ((GaugeSnapshot.Builder) b).build());
        }
        groupPressure.addTo(out);
        hostPressure.addTo(out);
        return out.metricSnapshot(errors.build()).build();
    }

    /**
     * The six counters {@code PREFIX{cpu,memory,io}_{waiting,stalled}_seconds_total}: PSI's
     * {@code some} total (some task was waiting for the resource) and {@code full} total (every
     * non-idle task was stalled at once), in seconds from the kernel's microseconds.
     */
    private static final class PressureSeries {
        private final CounterSnapshot.Builder[][] builders =
                new CounterSnapshot.Builder[Pressure.Resource.values().length][Pressure.Stall.values().length];

        PressureSeries(String prefix, String source) {
            for (Pressure.Resource r : Pressure.Resource.values()) {
                for (Pressure.Stall st : Pressure.Stall.values()) {
                    String what = st == Pressure.Stall.SOME ? "waiting" : "stalled";
                    String help = (st == Pressure.Stall.SOME
                            ? "Time during which at least one task waited for " + r.word() + " "
                            : "Time during which every non-idle task was stalled on " + r.word() + " at once ")
                            + String.format(source, r.word(), st.word());
                    builders[r.ordinal()][st.ordinal()] = counter(prefix + r.word() + "_" + what + "_seconds",
                            Unit.SECONDS, help);
                }
            }
        }

        void add(Labels labels, java.util.Map<Pressure.Resource, Psi> totals) {
            for (var e : totals.entrySet()) {
                for (Pressure.Stall st : Pressure.Stall.values()) {
                    java.util.OptionalLong micros = e.getValue().micros(st);
                    if (micros.isPresent()) {
                        builders[e.getKey().ordinal()][st.ordinal()].dataPoint(c(labels, micros.getAsLong() / 1e6));
                    }
                }
            }
        }

        void addTo(MetricSnapshots.Builder out) {
            for (CounterSnapshot.Builder[] row : builders) {
                for (CounterSnapshot.Builder b : row) {
                    out.metricSnapshot(b.build());
                }
            }
        }
    }

    static CounterSnapshot.Builder counter(String name, Unit unit, String help) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        return b;
    }

    static GaugeSnapshot.Builder gauge(String name, Unit unit, String help) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        return b;
    }

    static CounterDataPointSnapshot c(Labels labels, double value) {
        return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    static GaugeDataPointSnapshot g(Labels labels, double value) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }
}

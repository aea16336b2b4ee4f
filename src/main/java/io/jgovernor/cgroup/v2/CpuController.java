package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.CpuWeight;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * cgroup v2 "cpu": cpu.weight, CFS bandwidth in one file, cpu.max ("$QUOTA $PERIOD", quota "max"
 * for none), and cpu.idle (the group scheduled as SCHED_IDLE against its siblings; kernel 5.15+).
 */
public final class CpuController implements Controller {
    public static final String WEIGHT = "cpu.weight";
    public static final String MAX = "cpu.max";
    public static final String IDLE = "cpu.idle";

    public static final long DEFAULT_WEIGHT = CpuWeight.DEFAULT_WEIGHT;
    public static final long DEFAULT_PERIOD_US = 100_000;

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.cpu().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(WEIGHT, MAX, IDLE);
    }

    public static long wantedWeight(Resources.Cpu cpu) {
        if (cpu.weight().isPresent()) {
            return cpu.weight().getAsLong();
        }
        if (cpu.shares().isPresent()) {
            return CpuWeight.fromShares(cpu.shares().getAsLong());
        }
        return DEFAULT_WEIGHT;
    }

    /** cpu.max as the kernel prints it: "50000 100000", or "max 100000" without a quota. */
    public static String wantedMax(Resources.Cpu cpu) {
        long period = cpu.period().isPresent() ? cpu.period().get().toNanos() / 1000 : DEFAULT_PERIOD_US;
        if (cpu.quotaPercent().isEmpty()) {
            return Normalize.MAX + " " + period;
        }
        return Math.round(cpu.quotaPercent().getAsDouble() / 100.0 * period) + " " + period;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Cpu> asked = resources.cpu();
        Resources.Cpu cpu = asked.orElse(new Resources.Cpu(OptionalLong.empty(), OptionalLong.empty(),
                java.util.OptionalDouble.empty(), Optional.empty()));
        List<Write> writes = new ArrayList<>(2);
        // cpu.idle first: the kernel refuses cpu.weight (EINVAL) while a group is idle, so a group
        // leaving idle must be out of it before its weight is written, and an idle group's weight
        // (which the kernel shows as the idle weight, not what was written) is left alone.
        // Only where the kernel has the file, or where the policy asks (an older kernel's ENOENT then says why).
        String idleSeen = Normalize.text(observed, IDLE);
        if (idleSeen != null || cpu.idle().isPresent()) {
            String idle = cpu.idle().orElse(false) ? "1" : "0";
            if (!idle.equals(idleSeen == null ? null : idleSeen.strip())) {
                writes.add(new Write(IDLE, idle, Normalize.was(idleSeen), idle));
            }
        }
        String weightSeen = Normalize.text(observed, WEIGHT);
        // A group whose subtree needs no cpu has no cpu files (the parent did not enable the
        // controller): nothing to return to a default. A policy that asks gets its write, and an
        // ENOENT that says why.
        if ((weightSeen != null || asked.isPresent()) && !cpu.idle().orElse(false)) {
            long weight = wantedWeight(cpu);
            if (Normalize.parseLong(weightSeen).orElse(Long.MIN_VALUE) != weight) {
                String shown = cpu.weight().isEmpty() && cpu.shares().isPresent()
                        ? weight + " (from shares " + cpu.shares().getAsLong() + ")" : Long.toString(weight);
                writes.add(new Write(WEIGHT, Long.toString(weight), Normalize.was(weightSeen), shown));
            }
        }
        // One file holds quota and period, so the v1 write-order problem does not exist here.
        String maxSeen = Normalize.text(observed, MAX);
        if (maxSeen != null || asked.isPresent()) {
            String max = wantedMax(cpu);
            if (!max.equals(normalMax(maxSeen))) {
                writes.add(new Write(MAX, max, Normalize.was(maxSeen), max));
            }
        }
        return writes;
    }

    /** "max 100000" and "50000 100000" as they are; anything else (or absent) as null. */
    static String normalMax(String text) {
        if (text == null) {
            return null;
        }
        String[] f = text.strip().split("\\s+");
        if (f.length != 2 || Normalize.parseLong(f[1]).isEmpty()
                || !(f[0].equals(Normalize.MAX) || Normalize.parseLong(f[0]).isPresent())) {
            return null;
        }
        return f[0] + " " + f[1];
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(WEIGHT, DEFAULT_WEIGHT + "\n", MAX, "max " + DEFAULT_PERIOD_US + "\n", IDLE, "0\n");
    }

    /**
     * cpu.stat (usage_usec and throttled_usec, in microseconds where v1 has ns: made ns here),
     * cpu.max's quota in cores, and the group's processes: cpu.stat and cgroup.procs are in every
     * v2 directory, enabled controller or not, as every v1 group has its cpuacct directory.
     */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String stat = in.text(dir, "cpu.stat");
        if (stat != null) {
            sample.cpuUsageNanos = nanos(in.keyed(dir, "cpu.stat", stat, "usage_usec"));
            sample.throttledPeriods = in.keyed(dir, "cpu.stat", stat, "nr_throttled");
            sample.throttledNanos = nanos(in.keyed(dir, "cpu.stat", stat, "throttled_usec"));
        }
        String max = in.text(dir, MAX);
        if (max != null) {
            String[] f = max.strip().split("\\s+");
            if (f.length == 2 && !f[0].equals(Normalize.MAX)) {
                OptionalLong q = in.parse(dir, MAX, f[0], false);
                OptionalLong p = in.parse(dir, MAX, f[1], false);
                if (q.isPresent() && p.isPresent() && p.getAsLong() > 0) {
                    sample.cpuQuotaCores = OptionalDouble.of((double) q.getAsLong() / p.getAsLong());
                }
            } else if (f.length != 2) {
                in.failed(dir, MAX, "expected \"QUOTA PERIOD\", got \"" + max.strip() + "\"");
            }
        }
        String procs = in.text(dir, "cgroup.procs");
        if (procs != null) {
            sample.processes = OptionalLong.of(CgroupText.lines(procs));
        }
    }

    private static OptionalLong nanos(OptionalLong usec) {
        return usec.isPresent() ? OptionalLong.of(usec.getAsLong() * 1000) : usec;
    }
}

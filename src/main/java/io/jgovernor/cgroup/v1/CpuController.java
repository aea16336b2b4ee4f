package io.jgovernor.cgroup.v1;

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
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** cgroup v1 "cpu": cpu.shares and CFS bandwidth (cpu.cfs_period_us, cpu.cfs_quota_us). */
public final class CpuController implements Controller {
    public static final String SHARES = "cpu.shares";
    public static final String CFS_PERIOD_US = "cpu.cfs_period_us";
    public static final String CFS_QUOTA_US = "cpu.cfs_quota_us";

    public static final long DEFAULT_SHARES = CpuWeight.DEFAULT_SHARES;
    public static final long MIN_SHARES = CpuWeight.MIN_SHARES;
    public static final long MAX_SHARES = CpuWeight.MAX_SHARES;
    public static final long DEFAULT_PERIOD_US = 100_000;
    /** "No quota": what the kernel reads back for an unlimited group. */
    public static final long UNLIMITED_QUOTA = -1;

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
        return List.of(SHARES, CFS_PERIOD_US, CFS_QUOTA_US);
    }

    /**
     * The cpu.shares a policy wants. The kernel clamps writes to 2..262144 and reads back the
     * clamped value, so the wanted value is clamped the same way to compare equal. A v2 weight is
     * converted by {@link CpuWeight}.
     */
    public static long wantedShares(Resources.Cpu cpu) {
        long shares;
        if (cpu.shares().isPresent()) {
            shares = cpu.shares().getAsLong();
        } else if (cpu.weight().isPresent()) {
            shares = CpuWeight.toShares(cpu.weight().getAsLong());
        } else {
            shares = DEFAULT_SHARES;
        }
        return Math.clamp(shares, MIN_SHARES, MAX_SHARES);
    }

    public static long wantedPeriodMicros(Resources.Cpu cpu) {
        return cpu.period().isPresent() ? cpu.period().get().toNanos() / 1000 : DEFAULT_PERIOD_US;
    }

    /** round(percent/100 × period); -1 (unlimited) without a quota. */
    public static long wantedQuotaMicros(Resources.Cpu cpu) {
        if (cpu.quotaPercent().isEmpty()) {
            return UNLIMITED_QUOTA;
        }
        return Math.round(cpu.quotaPercent().getAsDouble() / 100.0 * wantedPeriodMicros(cpu));
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Resources.Cpu cpu = resources.cpu().orElse(new Resources.Cpu(OptionalLong.empty(), OptionalLong.empty(),
                java.util.OptionalDouble.empty(), java.util.Optional.empty()));
        List<Write> writes = new ArrayList<>(3);
        long shares = wantedShares(cpu);
        long period = wantedPeriodMicros(cpu);
        long quota = wantedQuotaMicros(cpu);

        String sharesSeen = Normalize.text(observed, SHARES);
        if (Normalize.parseLong(sharesSeen).orElse(Long.MIN_VALUE) != shares) {
            writes.add(new Write(SHARES, Long.toString(shares), Normalize.was(sharesSeen), Long.toString(shares)));
        }

        // Period before quota. The quota is microseconds per period, and the kernel validates
        // each write against the other file's current value (quota >= 1ms, and the quota/period
        // ratio against the parent's bandwidth). Writing the period first means that when the
        // quota is written the kernel checks the final pair, the one the policy asked for,
        // and a refused quota is reported against the value the operator wrote.
        String periodSeen = Normalize.text(observed, CFS_PERIOD_US);
        if (Normalize.parseLong(periodSeen).orElse(Long.MIN_VALUE) != period) {
            writes.add(new Write(CFS_PERIOD_US, Long.toString(period), Normalize.was(periodSeen), Long.toString(period)));
        }
        String quotaSeen = Normalize.text(observed, CFS_QUOTA_US);
        OptionalLong quotaParsed = Normalize.parseLong(quotaSeen);
        // any negative quota means unlimited; the kernel prints it as -1
        long quotaNow = quotaParsed.isPresent() && quotaParsed.getAsLong() < 0 ? UNLIMITED_QUOTA
                : quotaParsed.orElse(Long.MIN_VALUE);
        if (quotaNow != quota) {
            writes.add(new Write(CFS_QUOTA_US, Long.toString(quota), Normalize.was(quotaSeen), Long.toString(quota)));
        }
        return writes;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(SHARES, DEFAULT_SHARES + "\n", CFS_PERIOD_US, DEFAULT_PERIOD_US + "\n",
                CFS_QUOTA_US, UNLIMITED_QUOTA + "\n");
    }

    /** cpu.stat's throttling counters (ns), and the quota in cores when there is one. */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String stat = in.text(dir, "cpu.stat");
        if (stat == null) {
            return;
        }
        sample.throttledPeriods = in.keyed(dir, "cpu.stat", stat, "nr_throttled");
        sample.throttledNanos = in.keyed(dir, "cpu.stat", stat, "throttled_time");
        String q = in.text(dir, CFS_QUOTA_US);
        String p = q == null ? null : in.text(dir, CFS_PERIOD_US);
        if (q != null && p != null) {
            OptionalLong quota = in.parse(dir, CFS_QUOTA_US, q, true);
            OptionalLong period = in.parse(dir, CFS_PERIOD_US, p, false);
            if (quota.isPresent() && period.isPresent() && quota.getAsLong() > 0 && period.getAsLong() > 0) {
                sample.cpuQuotaCores = OptionalDouble.of((double) quota.getAsLong() / period.getAsLong());
            }
        }
    }
}

package io.jgovernor.cgroup;

/**
 * The one conversion between v1 {@code cpu.shares} and v2 {@code cpu.weight}, both ways, as
 * systemd converts them (policy.md): weight = shares × 100 / 1024 and shares = weight × 1024 /
 * 100, clamped to the kernel's ranges, so the defaults meet (shares 1024 is weight 100) and a
 * converted group keeps its standing against an unmanaged sibling at the default. The kernel's
 * own linear map of range ends (1 + (shares − 2) × 9999 / 262142, runc's formula before 1.2)
 * made shares 1024 weight 39, below every default sibling.
 */
public final class CpuWeight {
    public static final long DEFAULT_SHARES = 1024;
    public static final long MIN_SHARES = 2;
    public static final long MAX_SHARES = 262144;
    public static final long DEFAULT_WEIGHT = 100;
    public static final long MIN_WEIGHT = 1;
    public static final long MAX_WEIGHT = 10000;

    private CpuWeight() {
    }

    public static long fromShares(long shares) {
        return Math.clamp(shares * DEFAULT_WEIGHT / DEFAULT_SHARES, MIN_WEIGHT, MAX_WEIGHT);
    }

    public static long toShares(long weight) {
        return Math.clamp(weight * DEFAULT_SHARES / DEFAULT_WEIGHT, MIN_SHARES, MAX_SHARES);
    }
}

package io.jgovernor.model;

import java.util.BitSet;

/**
 * A set of CPU or memory-node numbers in the kernel's list format ("0-1,3"), as used by
 * cpuset.cpus, cpuset.mems and /sys/devices/system/node/nodeN/cpulist.
 */
public record CpuList(BitSet bits) {
    public CpuList {
        bits = (BitSet) bits.clone();
    }

    /** Parses the kernel list format; an empty or blank string is the empty set. */
    public static CpuList parse(String text) {
        BitSet bits = new BitSet();
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return new CpuList(bits);
        }
        for (String part : trimmed.split(",")) {
            String p = part.strip();
            int dash = p.indexOf('-');
            try {
                if (dash < 0) {
                    bits.set(checked(Integer.parseInt(p)));
                } else {
                    int from = checked(Integer.parseInt(p.substring(0, dash).strip()));
                    int to = checked(Integer.parseInt(p.substring(dash + 1).strip()));
                    if (to < from) {
                        throw new IllegalArgumentException("range \"" + p + "\" runs backwards");
                    }
                    bits.set(from, to + 1);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + text + "\" is not a list like \"0-3,6\"");
            }
        }
        return new CpuList(bits);
    }

    private static int checked(int n) {
        if (n < 0 || n > 8191) {
            throw new IllegalArgumentException(n + " is out of range 0..8191");
        }
        return n;
    }

    public BitSet bits() {
        return (BitSet) bits.clone();
    }

    public boolean isEmpty() {
        return bits.isEmpty();
    }

    public boolean containsAll(CpuList other) {
        BitSet extra = other.bits();
        extra.andNot(bits);
        return extra.isEmpty();
    }

    /** The kernel's canonical list form, e.g. "0-1,3". */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        int i = bits.nextSetBit(0);
        while (i >= 0) {
            int end = bits.nextClearBit(i) - 1;
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(i);
            if (end > i) {
                out.append('-').append(end);
            }
            i = bits.nextSetBit(end + 1);
        }
        return out.toString();
    }
}

package io.jgovernor.metrics;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupLayout;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.cgroup.Psi;
import io.jgovernor.model.Pressure;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads pressure stall information (PSI) totals: a group's from the {@code cpu.pressure},
 * {@code memory.pressure} and {@code io.pressure} of its cgroup2 directory, the host's from
 * {@code /proc/pressure}. Not a controller: the kernel keeps these files in every cgroup2
 * directory, whichever controllers are enabled, so one reader serves v2 and the unified tree of a
 * hybrid host (where a group has pressure files only when the daemon made its directory there and
 * its processes are in it). A file that is absent leaves its resource out; one that cannot be read
 * or parsed is left out and counted in {@link #errors()}. Never throws.
 */
public final class PressureStats {
    /** /proc/pressure: the whole host. */
    public static final Path HOST = Path.of("/proc/pressure");

    private final StatFiles files;
    /** The daemon's root in the cgroup2 tree; null when there is none (a v1-only host). */
    private final Path root;
    private final Path host;
    private final AtomicLong errors = new AtomicLong();

    /** Reads nothing: a collector without pressure series. */
    public static final PressureStats NONE = new PressureStats((dir, file) -> Optional.empty(), null, null);

    /**
     * @param root the daemon's root directory in the cgroup2 tree, null for none
     * @param host where the host's files are ({@link #HOST}), null for none
     */
    public PressureStats(StatFiles files, Path root, Path host) {
        this.files = files;
        this.root = root;
        this.host = host;
    }

    /** Groups' pressure in the layout's cgroup2 tree (v2, or a hybrid host's unified tree). */
    public static PressureStats of(StatFiles files, CgroupLayout layout) {
        Optional<Hierarchy> unified = layout.pressureTree();
        return new PressureStats(files, unified.map(layout::rootDir).orElse(null), HOST);
    }

    /** The group's totals by resource; empty when it has no cgroup2 directory with pressure files. */
    public Map<Pressure.Resource, Psi> group(GroupName group) {
        if (root == null) {
            return Map.of();
        }
        return read(root.resolve(group.value()), true);
    }

    /** The host's totals by resource (/proc/pressure/cpu, memory, io); empty without PSI. */
    public Map<Pressure.Resource, Psi> host() {
        return host == null ? Map.of() : read(host, false);
    }

    /** Files that could not be read or parsed since the daemon started. */
    public long errors() {
        return errors.get();
    }

    private Map<Pressure.Resource, Psi> read(Path dir, boolean cgroup) {
        Map<Pressure.Resource, Psi> out = new EnumMap<>(Pressure.Resource.class);
        for (Pressure.Resource r : Pressure.Resource.values()) {
            String name = cgroup ? r.file() : r.word();
            try {
                Optional<String> text = files.read(dir, name);
                if (text.isEmpty()) {
                    if (cgroup && r == Pressure.Resource.CPU) {
                        return out; // no cpu.pressure: no directory, or PSI is off; skip the other two reads
                    }
                    continue;
                }
                out.put(r, Psi.parse(text.get()));
            } catch (CgroupException | RuntimeException e) {
                // EOPNOTSUPP when PSI is off at boot (psi=0) or for this group (cgroup.pressure 0)
                errors.incrementAndGet();
            }
        }
        return out;
    }
}

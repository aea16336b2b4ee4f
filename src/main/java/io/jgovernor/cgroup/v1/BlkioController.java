package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * cgroup v1 "blkio": the proportional weight and the per-device throttles.
 *
 * <p>Which weight file exists depends on the I/O scheduler the kernel was built with: CFQ
 * (kernels before 5.0) has blkio.weight (10..1000, default 500); BFQ has blkio.bfq.weight
 * (1..1000, default 100, only in non-root groups). The file present in the observed directory
 * decides; {@link #fresh} needs to be told which kind of kernel this is.
 */
public final class BlkioController implements Controller {
    public static final String WEIGHT = "blkio.weight";
    public static final String BFQ_WEIGHT = "blkio.bfq.weight";
    public static final String READ_BPS = "blkio.throttle.read_bps_device";
    public static final String WRITE_BPS = "blkio.throttle.write_bps_device";
    public static final String READ_IOPS = "blkio.throttle.read_iops_device";
    public static final String WRITE_IOPS = "blkio.throttle.write_iops_device";

    public static final int DEFAULT_CFQ_WEIGHT = 500;
    public static final int DEFAULT_BFQ_WEIGHT = 100;

    /** Which proportional-weight file a fresh group of this kernel has. */
    public enum WeightFile {
        CFQ(WEIGHT, DEFAULT_CFQ_WEIGHT), BFQ(BFQ_WEIGHT, DEFAULT_BFQ_WEIGHT), NONE(null, 0);

        final String file;
        final int defaultWeight;

        WeightFile(String file, int defaultWeight) {
            this.file = file;
            this.defaultWeight = defaultWeight;
        }
    }

    private record Throttle(String file, Function<Resources.DeviceLimits, Optional<Limit>> key) {
    }

    private static final List<Throttle> THROTTLES = List.of(
            new Throttle(READ_BPS, Resources.DeviceLimits::readBps),
            new Throttle(WRITE_BPS, Resources.DeviceLimits::writeBps),
            new Throttle(READ_IOPS, Resources.DeviceLimits::readIops),
            new Throttle(WRITE_IOPS, Resources.DeviceLimits::writeIops));

    private final WeightFile freshWeightFile;

    /** A kernel with BFQ (5.0 and later): blkio.bfq.weight. */
    public BlkioController() {
        this(WeightFile.BFQ);
    }

    public BlkioController(WeightFile freshWeightFile) {
        this.freshWeightFile = freshWeightFile;
    }

    /**
     * Fitted to the host from a directory of the blkio hierarchy (the daemon's own): CFQ shows
     * blkio.weight in every group including the root; BFQ shows blkio.bfq.weight only below the
     * root, so its absence there proves nothing: BFQ is taken when the kernel offers it to any
     * block device ({@code /sys/block/DEV/queue/scheduler} lists "bfq", which is when the file
     * exists in groups), and no weight file otherwise (every device on mq-deadline, kyber or none).
     */
    public static BlkioController forHierarchy(CgroupFiles files, Path ownDir) throws CgroupException {
        if (files.read(ownDir, WEIGHT).isPresent()) {
            return new BlkioController(WeightFile.CFQ);
        }
        return new BlkioController(bfqOffered(Path.of("/sys/block")) ? WeightFile.BFQ : WeightFile.NONE);
    }

    /** Whether any block device under {@code sysBlock} can use the BFQ scheduler. */
    static boolean bfqOffered(Path sysBlock) {
        try (java.util.stream.Stream<Path> devices = java.nio.file.Files.list(sysBlock)) {
            return devices.anyMatch(d -> {
                try {
                    return java.util.List.of(java.nio.file.Files.readString(d.resolve("queue/scheduler"))
                            .replace("[", "").replace("]", "").strip().split("\\s+")).contains("bfq");
                } catch (java.io.IOException | RuntimeException e) {
                    return false; // a device without a queue (or gone): it offers nothing
                }
            });
        } catch (java.io.IOException e) {
            return true; // no /sys/block to ask: keep the kernel-5.0-and-later guess
        }
    }

    @Override
    public String name() {
        return "blkio";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.io().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(WEIGHT, BFQ_WEIGHT, READ_BPS, WRITE_BPS, READ_IOPS, WRITE_IOPS);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Io> io = resources.io();
        List<Write> writes = new ArrayList<>();

        WeightFile kind = observed.containsKey(WEIGHT) ? WeightFile.CFQ
                : observed.containsKey(BFQ_WEIGHT) ? WeightFile.BFQ : WeightFile.NONE;
        OptionalInt askedWeight = io.map(Resources.Io::weight).orElse(OptionalInt.empty());
        if (kind == WeightFile.NONE) {
            // Neither file: a policy that asks for a weight gets its write (and a visible ENOENT),
            // one that asks nothing has nothing to return to a default.
            if (askedWeight.isPresent()) {
                String w = Integer.toString(askedWeight.getAsInt());
                writes.add(new Write(BFQ_WEIGHT, w, Normalize.ABSENT, w));
            }
        } else {
            int wanted = askedWeight.orElse(kind.defaultWeight);
            String seen = Normalize.text(observed, kind.file);
            OptionalLong now = Normalize.weight(seen);
            if (now.isEmpty() || now.getAsLong() != wanted) {
                String w = Integer.toString(wanted);
                writes.add(new Write(kind.file, w, now.isPresent() ? Long.toString(now.getAsLong())
                        : Normalize.was(seen), w));
            }
        }

        List<Resources.DeviceLimits> devices = io.map(Resources.Io::devices).orElse(List.of());
        for (Throttle t : THROTTLES) {
            SortedMap<DeviceNumber, Long> wanted = new TreeMap<>();
            for (Resources.DeviceLimits d : devices) {
                Optional<Limit> limit = t.key().apply(d);
                // max, or a 0 (which the kernel takes as "remove the rule"), is no rule at all
                if (limit.isPresent() && limit.get() instanceof Limit.Of of && of.value() > 0) {
                    wanted.put(d.number(), of.value());
                }
            }
            String seenText = observed.get(t.file());
            SortedMap<DeviceNumber, Long> now = rules(seenText);
            if (seenText == null && wanted.isEmpty()) {
                continue;
            }
            TreeSet<DeviceNumber> all = new TreeSet<>(wanted.keySet());
            all.addAll(now.keySet());
            for (DeviceNumber dev : all) {
                Long want = wanted.get(dev);
                Long have = now.get(dev);
                if (want != null && !want.equals(have)) {
                    writes.add(new Write(t.file(), dev + " " + want, seenText == null ? Normalize.ABSENT
                            : dev + " " + (have == null ? "max" : have), dev + " " + want));
                } else if (want == null && have != null) {
                    // one write removes one device's rule; "max" is refused by v1 (EINVAL), 0 is the word
                    writes.add(new Write(t.file(), dev + " 0", dev + " " + have, dev + " max"));
                }
            }
        }
        return writes;
    }

    /** The "MAJ:MIN value" lines of a throttle file. */
    static SortedMap<DeviceNumber, Long> rules(String text) {
        SortedMap<DeviceNumber, Long> out = new TreeMap<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 2) {
                continue;
            }
            try {
                out.put(DeviceNumber.parse(f[0]), Long.parseLong(f[1]));
            } catch (IllegalArgumentException e) {
                // not a rule line; ignored so one odd line cannot stop reconciliation of the rest
            }
        }
        return out;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        Map<String, String> out = new TreeMap<>();
        if (freshWeightFile.file != null) {
            out.put(freshWeightFile.file, freshWeightFile.defaultWeight + "\n");
        }
        for (Throttle t : THROTTLES) {
            out.put(t.file(), "");
        }
        return out;
    }

    /** Bytes read and written per device, from the throttle layer's counters (they count with or without a throttle). */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String text = in.text(dir, "blkio.throttle.io_service_bytes");
        if (text != null) {
            try {
                sample.io = CgroupText.ioServiceBytes(text);
            } catch (IllegalArgumentException e) {
                in.failed(dir, "blkio.throttle.io_service_bytes", e.getMessage());
            }
        }
    }
}

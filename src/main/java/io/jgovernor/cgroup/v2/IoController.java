package io.jgovernor.cgroup.v2;

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
import java.util.LinkedHashMap;
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
 * cgroup v2 "io": the proportional weight and io.max, one line per device
 * ("254:0 rbps=1000000 wbps=max riops=max wiops=100").
 *
 * <p>The weight file depends on the kernel: io.weight (blk-iocost; "default 100" plus per-device
 * lines) or io.bfq.weight (BFQ). The one present in the observed directory is written; io.weight
 * when both are. Both take and show "default N".
 */
public final class IoController implements Controller {
    public static final String WEIGHT = "io.weight";
    public static final String BFQ_WEIGHT = "io.bfq.weight";
    public static final String MAX = "io.max";
    public static final int DEFAULT_WEIGHT = 100;

    /** The io.max keys in the kernel's order, with the policy key each comes from. */
    private static final Map<String, Function<Resources.DeviceLimits, Optional<Limit>>> KEYS = keys();

    private static Map<String, Function<Resources.DeviceLimits, Optional<Limit>>> keys() {
        Map<String, Function<Resources.DeviceLimits, Optional<Limit>>> k = new LinkedHashMap<>();
        k.put("rbps", Resources.DeviceLimits::readBps);
        k.put("wbps", Resources.DeviceLimits::writeBps);
        k.put("riops", Resources.DeviceLimits::readIops);
        k.put("wiops", Resources.DeviceLimits::writeIops);
        return k;
    }

    @Override
    public String name() {
        return "io";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.io().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(WEIGHT, BFQ_WEIGHT, MAX);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Io> io = resources.io();
        List<Write> writes = new ArrayList<>();
        String file = observed.containsKey(WEIGHT) ? WEIGHT : observed.containsKey(BFQ_WEIGHT) ? BFQ_WEIGHT : null;
        OptionalInt asked = io.map(Resources.Io::weight).orElse(OptionalInt.empty());
        if (file == null) {
            if (asked.isPresent()) {
                String w = "default " + asked.getAsInt();
                writes.add(new Write(WEIGHT, w, Normalize.ABSENT, w));
            }
        } else {
            int wanted = asked.orElse(DEFAULT_WEIGHT);
            String seen = Normalize.text(observed, file);
            OptionalLong now = Normalize.weight(seen);
            if (now.isEmpty() || now.getAsLong() != wanted) {
                writes.add(new Write(file, "default " + wanted, now.isPresent() ? "default " + now.getAsLong()
                        : Normalize.was(seen), "default " + wanted));
            }
        }

        String maxSeen = observed.get(MAX);
        SortedMap<DeviceNumber, String> wanted = new TreeMap<>();
        for (Resources.DeviceLimits d : io.map(Resources.Io::devices).orElse(List.of())) {
            String line = line(d);
            if (line != null) {
                wanted.put(d.number(), line);
            }
        }
        if (maxSeen == null && wanted.isEmpty()) {
            return writes;
        }
        SortedMap<DeviceNumber, String> now = rules(maxSeen);
        TreeSet<DeviceNumber> all = new TreeSet<>(wanted.keySet());
        all.addAll(now.keySet());
        for (DeviceNumber dev : all) {
            String want = wanted.get(dev);
            String have = now.get(dev);
            if (want != null && !want.equals(have)) {
                writes.add(new Write(MAX, dev + " " + want, maxSeen == null ? Normalize.ABSENT
                        : dev + " " + (have == null ? NO_RULE : have), dev + " " + want));
            } else if (want == null && have != null) {
                // a rule the policy no longer has is written back to max everywhere, which removes the line
                writes.add(new Write(MAX, dev + " " + NO_RULE, dev + " " + have, dev + " " + NO_RULE));
            }
        }
        return writes;
    }

    private static final String NO_RULE = "rbps=max wbps=max riops=max wiops=max";

    /** "rbps=N wbps=max riops=max wiops=N" for one device; null when every key is max (no rule at all). */
    static String line(Resources.DeviceLimits d) {
        StringBuilder out = new StringBuilder();
        boolean any = false;
        for (var k : KEYS.entrySet()) {
            Optional<Limit> limit = k.getValue().apply(d);
            // as on v1, max or 0 is no limit
            String v = limit.isPresent() && limit.get() instanceof Limit.Of of && of.value() > 0
                    ? Long.toString(of.value()) : Normalize.MAX;
            any |= !v.equals(Normalize.MAX);
            out.append(out.isEmpty() ? "" : " ").append(k.getKey()).append('=').append(v);
        }
        return any ? out.toString() : null;
    }

    /**
     * The lines of io.max by device, each normalized to all four keys in the kernel's order (a
     * kernel that prints fewer keys, or another order, compares equal).
     */
    static SortedMap<DeviceNumber, String> rules(String text) {
        SortedMap<DeviceNumber, String> out = new TreeMap<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 2) {
                continue;
            }
            DeviceNumber dev;
            try {
                dev = DeviceNumber.parse(f[0]);
            } catch (IllegalArgumentException e) {
                continue; // not a rule line: one odd line cannot stop the rest
            }
            Map<String, String> values = new LinkedHashMap<>();
            KEYS.keySet().forEach(k -> values.put(k, Normalize.MAX));
            for (int i = 1; i < f.length; i++) {
                int eq = f[i].indexOf('=');
                if (eq > 0 && values.containsKey(f[i].substring(0, eq))) {
                    values.put(f[i].substring(0, eq), f[i].substring(eq + 1));
                }
            }
            StringBuilder norm = new StringBuilder();
            values.forEach((k, v) -> norm.append(norm.isEmpty() ? "" : " ").append(k).append('=').append(v));
            out.put(dev, norm.toString());
        }
        return out;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(WEIGHT, "default " + DEFAULT_WEIGHT + "\n", BFQ_WEIGHT, "default " + DEFAULT_WEIGHT + "\n",
                MAX, "");
    }

    /** Bytes read and written per device, from io.stat (rbytes, wbytes). */
    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        String text = in.text(dir, "io.stat");
        if (text != null) {
            try {
                sample.io = CgroupText.ioStat(text);
            } catch (IllegalArgumentException e) {
                in.failed(dir, "io.stat", e.getMessage());
            }
        }
    }
}

package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * "net_prio": net_prio.ifpriomap, one line "IFNAME PRIO" per network interface of the host,
 * written one interface per write(2). A new group starts with its parent's priorities (the kernel
 * copies them when the directory is made), so an interface the policy does not name is returned
 * to the parent's value, read in {@link #observe} as v1 devices reads its parent's list. An
 * interface the policy names that the host lacks is still written: the kernel refuses it (ENODEV)
 * and the group shows that error, rather than the key being quietly dropped.
 */
public final class NetPrioController implements Controller {
    public static final String IFPRIOMAP = "net_prio.ifpriomap";
    /** The key under which {@link #observe} puts the parent directory's ifpriomap. */
    static final String PARENT_MAP = "../" + IFPRIOMAP;

    @Override
    public String name() {
        return "net_prio";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.network().map(n -> !n.priorities().isEmpty()).orElse(false);
    }

    @Override
    public List<String> observedFiles() {
        return List.of(IFPRIOMAP);
    }

    @Override
    public Map<String, String> observe(CgroupFiles files, Path dir) throws CgroupException {
        Map<String, String> out = new LinkedHashMap<>(files.readAll(dir, observedFiles()));
        files.read(dir.getParent(), IFPRIOMAP).ifPresent(text -> out.put(PARENT_MAP, text));
        return out;
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        SortedMap<String, Long> wanted = resources.network().map(Resources.Network::priorities).orElse(new TreeMap<>());
        String seenText = Normalize.text(observed, IFPRIOMAP);
        if (seenText == null) {
            // a fresh directory holds its parent's map, which the plan did not read: write what is asked
            List<Write> out = new ArrayList<>();
            wanted.forEach((dev, prio) -> out.add(new Write(IFPRIOMAP, dev + " " + prio, Normalize.ABSENT, dev + " " + prio)));
            return out;
        }
        Map<String, Long> seen = parse(seenText);
        Map<String, Long> parent = parse(Normalize.text(observed, PARENT_MAP));
        TreeMap<String, Long> target = new TreeMap<>();
        seen.keySet().forEach(dev -> target.put(dev, parent.getOrDefault(dev, 0L)));
        target.putAll(wanted);
        List<Write> out = new ArrayList<>();
        target.forEach((dev, prio) -> {
            Long now = seen.get(dev);
            if (!prio.equals(now)) {
                out.add(new Write(IFPRIOMAP, dev + " " + prio, now == null ? dev + " " + Normalize.ABSENT : dev + " " + now,
                        dev + " " + prio));
            }
        });
        return out;
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(); // the parent's map, not read for a new group
    }

    /** "lo 0\neth0 5\n" by interface; a line that is not "NAME NUMBER" is not the kernel's and is skipped. */
    static Map<String, Long> parse(String text) {
        Map<String, Long> out = new LinkedHashMap<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 2) {
                Normalize.parseLong(f[1]).ifPresent(v -> out.put(f[0], v));
            }
        }
        return out;
    }
}

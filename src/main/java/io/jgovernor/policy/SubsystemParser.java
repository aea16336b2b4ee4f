package io.jgovernor.policy;

import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys of the subsystems a container uses beyond the first wave: {@code freezer},
 * {@code hugetlb}, {@code network} (v1 net_cls and net_prio) and {@code perfEvent}. Each parser
 * records located errors in {@link Nodes} and returns null after one; a key this host's cgroups
 * cannot honour (network on v2, a v1 hierarchy that is not mounted) is such an error.
 */
final class SubsystemParser {
    static final List<String> FREEZER_KEYS = List.of("frozen");
    static final List<String> HUGETLB_KEYS = List.of("pageSize", "limit");
    static final List<String> NETWORK_KEYS = List.of("classId", "priorities");
    /** tc's way of writing a class: "MAJOR:MINOR" in hexadecimal, each at most ffff. */
    private static final Pattern TC_CLASS = Pattern.compile("([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})");
    private static final Pattern HEX = Pattern.compile("0[xX]([0-9a-fA-F]{1,8})");
    /** The kernel's interface name rules (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or blank. */
    private static final Pattern INTERFACE = Pattern.compile("[^/:\\s]{1,15}");
    private static final long U32_MAX = 0xffffffffL;
    /** More entries than any host has page sizes (x86: 2, arm64: 4), and few enough to judge quickly. */
    static final int MAX_PAGE_SIZES = 8;
    /** More interfaces than a group's priorities need; each is one write per pass. */
    static final int MAX_INTERFACES = 64;

    private final Nodes n;
    private final HostFacts host;

    SubsystemParser(Nodes n, HostFacts host) {
        this.n = n;
        this.host = host;
    }

    Resources.Freezer freezer(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "freezer", FREEZER_KEYS);
        if (f == null) {
            return null;
        }
        if (!f.containsKey("frozen")) {
            n.error(node, "freezer: missing required key \"frozen\" (true stops the group's processes, false lets"
                    + " them run)");
            return null;
        }
        Node frozen = f.get("frozen").getValueNode();
        Boolean v = n.bool(frozen, "freezer.frozen");
        if (v == null || !available(node, "freezer", "freezer")) {
            return null;
        }
        return new Resources.Freezer(v);
    }

    Resources.Hugetlb hugetlb(Node node) {
        List<Node> entries = n.list(node, "hugetlb");
        if (entries == null || !available(node, "hugetlb", "hugetlb")) {
            return null;
        }
        if (entries.size() > MAX_PAGE_SIZES) {
            n.error(node, "hugetlb: " + entries.size() + " entries; one per huge page size, and no host has more than "
                    + MAX_PAGE_SIZES);
            return null;
        }
        SortedSet<Long> sizes = host.hugePageSizes();
        List<Resources.HugePageLimit> out = new ArrayList<>();
        Map<Long, Integer> seen = new HashMap<>();
        boolean bad = false;
        for (int i = 0; i < entries.size(); i++) {
            String path = "hugetlb[" + i + "]";
            Map<String, NodeTuple> f = n.mapping(entries.get(i), path, HUGETLB_KEYS);
            if (f == null) {
                bad = true;
                continue;
            }
            if (!f.containsKey("pageSize") || !f.containsKey("limit")) {
                n.error(entries.get(i), path + ": needs both pageSize and limit, like {pageSize: 2Mi, limit: 64Mi}");
                bad = true;
                continue;
            }
            Node pageNode = f.get("pageSize").getValueNode();
            Limit page = size(pageNode, path + ".pageSize", false);
            Long pageSize = page instanceof Limit.Of(long p) ? p : null;
            if (pageSize != null && !sizes.isEmpty() && !sizes.contains(pageSize)) {
                n.error(pageNode, path + ".pageSize: " + sizeText(pageSize) + " is not a huge page size of this host;"
                        + " it has " + String.join(", ", sizes.stream().map(SubsystemParser::sizeText).toList())
                        + " (/sys/kernel/mm/hugepages)");
                pageSize = null;
            } else if (pageSize != null && (Long.bitCount(pageSize) != 1 || pageSize < 4096)) {
                n.error(pageNode, path + ".pageSize: " + sizeText(pageSize) + " is no page size; huge pages are a"
                        + " power of two like 2Mi or 1Gi");
                pageSize = null;
            }
            Integer earlier = pageSize == null ? null : seen.putIfAbsent(pageSize, i);
            if (earlier != null) {
                n.error(pageNode, path + ".pageSize: " + sizeText(pageSize) + " pages are already limited in hugetlb["
                        + earlier + "]");
                pageSize = null;
            }
            Node limitNode = f.get("limit").getValueNode();
            Limit limit = size(limitNode, path + ".limit", true);
            if (pageSize == null || limit == null) {
                bad = true;
                continue;
            }
            if (limit instanceof Limit.Of(long bytes) && bytes % pageSize != 0) {
                long down = bytes / pageSize * pageSize;
                n.error(limitNode, path + ".limit: " + sizeText(bytes) + " is not a whole number of " + sizeText(pageSize)
                        + " pages; the kernel would round it down to " + sizeText(down) + ": write that, or "
                        + sizeText(down + pageSize));
                bad = true;
                continue;
            }
            out.add(new Resources.HugePageLimit(pageSize, limit));
        }
        return bad ? null : new Resources.Hugetlb(out);
    }

    Resources.Network network(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "network", NETWORK_KEYS);
        if (f == null) {
            return null;
        }
        if (host.cgroupV2()) {
            n.error(node, "network: this host runs cgroup v2, which has no net_cls or net_prio controller; remove"
                    + " the key and match the group's cgroup path in nftables instead (socket cgroupv2 level N"
                    + " \"PATH\"), or set SO_PRIORITY in the workload");
            return null;
        }
        if (f.isEmpty()) {
            n.error(node, "network: sets nothing; give classId (net_cls) and/or priorities (net_prio)");
            return null;
        }
        OptionalLong classId = OptionalLong.empty();
        boolean bad = false;
        if (f.containsKey("classId")) {
            Node c = f.get("classId").getValueNode();
            Long v = classId(c);
            bad |= v == null || !available(c, "network.classId", "net_cls");
            classId = v == null ? classId : OptionalLong.of(v);
        }
        TreeMap<String, Long> priorities = new TreeMap<>();
        if (f.containsKey("priorities")) {
            Node p = f.get("priorities").getValueNode();
            Map<String, NodeTuple> m = n.mapping(p, "network.priorities", null);
            bad |= m == null || !available(p, "network.priorities", "net_prio");
            if (m != null && m.size() > MAX_INTERFACES) {
                n.error(p, "network.priorities: " + m.size() + " interfaces; at most " + MAX_INTERFACES);
                return null;
            }
            for (Map.Entry<String, NodeTuple> e : m == null ? Map.<String, NodeTuple>of().entrySet() : m.entrySet()) {
                String name = e.getKey();
                if (!INTERFACE.matcher(name).matches() || name.equals(".") || name.equals("..")) {
                    n.error(e.getValue().getKeyNode(), "network.priorities: " + Nodes.quote(Nodes.clip(name, Nodes.QUOTE_MAX))
                            + " is not a network interface name (1 to 15 characters, no '/', ':' or blanks, as"
                            + " `ip link` shows them)");
                    bad = true;
                    continue;
                }
                Long prio = n.integerIn(e.getValue().getValueNode(), "network.priorities." + name, 0, U32_MAX);
                if (prio == null) {
                    bad = true;
                } else {
                    priorities.put(name, prio);
                }
            }
        }
        return bad ? null : new Resources.Network(classId, priorities);
    }

    Boolean perfEvent(Node node) {
        Boolean v = n.bool(node, "perfEvent");
        if (v == null || (v && !available(node, "perfEvent", "perf_event"))) {
            return null;
        }
        return v;
    }

    /** net_cls.classid: a number, "0x..." or tc's "MAJOR:MINOR" (hexadecimal, as `tc class add ... classid 10:1`). */
    private Long classId(Node node) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
            return n.integerIn(node, "network.classId", 0, U32_MAX);
        }
        String text = n.text(node, "network.classId", "a class id like \"0x100001\" or \"10:1\"");
        if (text == null) {
            return null;
        }
        String t = text.strip();
        Matcher tc = TC_CLASS.matcher(t);
        if (tc.matches()) {
            return (Long.parseLong(tc.group(1), 16) << 16) | Long.parseLong(tc.group(2), 16);
        }
        Matcher hex = HEX.matcher(t);
        if (hex.matches()) {
            return Long.parseLong(hex.group(1), 16);
        }
        n.error(node, "network.classId: " + Nodes.quote(Nodes.clip(t, Nodes.QUOTE_MAX)) + " is not a class id; write"
                + " tc's MAJOR:MINOR in hexadecimal (\"10:1\"), the 32-bit number in hexadecimal (\"0x100001\") or"
                + " in decimal (1048577)");
        return null;
    }

    /** Whether this host can govern {@code controller}; records why not at {@code node}. */
    private boolean available(Node node, String path, String controller) {
        Optional<String> problem = host.controllerProblem(controller);
        problem.ifPresent(p -> n.error(node, path + ": " + p));
        return problem.isEmpty();
    }

    private Limit size(Node node, String path, boolean maxAllowed) {
        String text = n.text(node, path, "a size like \"2Mi\"");
        if (text == null) {
            return null;
        }
        try {
            return Units.size(text, maxAllowed);
        } catch (IllegalArgumentException e) {
            n.error(node, path + ": " + e.getMessage());
            return null;
        }
    }

    /** "2Mi", "1Gi", "64Ki", or bytes: how a policy writes the size. */
    static String sizeText(long bytes) {
        String[] suffix = {"Ti", "Gi", "Mi", "Ki"};
        for (int i = 0; i < suffix.length; i++) {
            long unit = 1L << (10 * (4 - i));
            if (bytes != 0 && bytes % unit == 0) {
                return (bytes / unit) + suffix[i];
            }
        }
        return BigInteger.valueOf(bytes) + " bytes";
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.Capability;
import io.jgovernor.model.Confinement;
import io.jgovernor.model.Rlimit;
import io.jgovernor.model.SeccompProfile;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code run:} keys that confine a workload: capabilities, noNewPrivileges, seccomp, limits.
 * A seccomp profile file is read and checked here, at validation, so that a bad profile is an
 * error located in the policy file (and in the profile), not a failed start.
 */
final class ConfinementParser {
    static final List<String> KEYS = List.of("capabilities", "noNewPrivileges", "seccomp", "limits");
    /** Digits of an unsigned 64-bit number, and one more: longer is out of range without converting. */
    private static final int LIMIT_DIGITS_MAX = 21;

    private final Nodes n;
    private final HostFacts host;

    ConfinementParser(Nodes nodes, HostFacts host) {
        this.n = nodes;
        this.host = host;
    }

    /** Null after an error; {@code f} holds the run mapping's keys. */
    Confinement confinement(Map<String, NodeTuple> f) {
        int errorsBefore = n.errorCount();
        Optional<Set<Capability>> caps = Optional.ofNullable(value(f, "capabilities")).map(this::capabilities);
        boolean nnp = true;
        if (value(f, "noNewPrivileges") != null) {
            Boolean b = n.bool(value(f, "noNewPrivileges"), "run.noNewPrivileges");
            nnp = b == null || b;
        }
        Confinement.Seccomp seccomp = value(f, "seccomp") == null
                ? new Confinement.Seccomp(Confinement.DEFAULT_PROFILE, Optional.of(SeccompJson.builtIn()))
                : seccomp(value(f, "seccomp"));
        Map<Rlimit, Rlimit.Value> limits = value(f, "limits") == null ? Map.of() : limits(value(f, "limits"));
        if (n.errorCount() > errorsBefore) {
            return null;
        }
        return new Confinement(caps, nnp, seccomp, limits);
    }

    private static Node value(Map<String, NodeTuple> f, String key) {
        NodeTuple t = f.get(key);
        return t == null ? null : t.getValueNode();
    }

    private Set<Capability> capabilities(Node node) {
        List<Node> items = n.list(node, "run.capabilities");
        if (items == null) {
            return null;
        }
        List<String> names = Arrays.stream(Capability.values()).map(Enum::name).toList();
        Set<Capability> set = EnumSet.noneOf(Capability.class);
        for (int i = 0; i < items.size(); i++) {
            String path = "run.capabilities[" + i + "]";
            String text = n.text(items.get(i), path, "a capability name like CAP_NET_BIND_SERVICE");
            if (text == null) {
                continue;
            }
            Capability cap = names.contains(text) ? Capability.valueOf(text) : null;
            if (cap == null) {
                // "net_bind_service" and "NET_BIND_SERVICE" are the spellings of capsh and of Docker's --cap-add
                String hint = Hints.suffix(text, names);
                String prefixed = "CAP_" + text.toUpperCase(java.util.Locale.ROOT);
                if (hint.isEmpty() && names.contains(prefixed)) {
                    hint = " (did you mean \"" + prefixed + "\"?)";
                }
                n.error(items.get(i), path + ": " + Nodes.quote(text) + " is not a capability (capabilities(7) names them,"
                        + " like CAP_NET_BIND_SERVICE)" + hint);
            } else if (!set.add(cap)) {
                n.error(items.get(i), path + ": " + text + " is listed twice");
            }
        }
        return set;
    }

    private Confinement.Seccomp seccomp(Node node) {
        String text = n.text(node, "run.seccomp", "default, unconfined or the path of a profile file");
        if (text == null) {
            return null;
        }
        if (text.equals(Confinement.DEFAULT_PROFILE)) {
            return new Confinement.Seccomp(text, Optional.of(SeccompJson.builtIn()));
        }
        if (text.equals(Confinement.UNCONFINED)) {
            return Confinement.Seccomp.NONE;
        }
        if (!text.startsWith("/")) {
            n.error(node, "run.seccomp: " + Nodes.quote(text) + " is neither default, unconfined nor an absolute path"
                    + " of a profile file (the OCI seccomp JSON format)"
                    + Hints.suffix(text, List.of(Confinement.DEFAULT_PROFILE, Confinement.UNCONFINED)));
            return null;
        }
        Path file = Path.of(text);
        String json;
        try {
            json = host.readFile(file, SeccompJson.MAX_BYTES);
        } catch (IOException e) {
            n.error(node, "run.seccomp: " + text + ": " + e.getMessage());
            return null;
        }
        try {
            SeccompProfile profile = SeccompJson.parse(json);
            return new Confinement.Seccomp(text, Optional.of(profile));
        } catch (JsonReader.JsonException e) {
            n.error(node, "run.seccomp: " + text + ":" + e.line + ":" + e.column + ": " + e.getMessage());
            return null;
        }
    }

    private Map<Rlimit, Rlimit.Value> limits(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "run.limits", null);
        if (f == null) {
            return null;
        }
        List<String> keys = Arrays.stream(Rlimit.values()).map(r -> r.key).toList();
        Map<Rlimit, Rlimit.Value> limits = new EnumMap<>(Rlimit.class);
        for (Map.Entry<String, NodeTuple> e : f.entrySet()) {
            String name = e.getKey();
            Rlimit r = Arrays.stream(Rlimit.values()).filter(x -> x.key.equals(name)).findFirst().orElse(null);
            if (r == null) {
                n.error(e.getValue().getKeyNode(), "run.limits: " + Nodes.quote(name) + " is not a resource limit (one of "
                        + String.join(", ", keys) + ")" + Hints.suffix(name, keys));
                continue;
            }
            Rlimit.Value v = limit(e.getValue().getValueNode(), "run.limits." + name);
            if (v == null) {
                continue;
            }
            if (Long.compareUnsigned(v.soft(), v.hard()) > 0) {
                n.error(e.getValue().getValueNode(), "run.limits." + name + ": the soft limit "
                        + Rlimit.Value.text(v.soft()) + " is above the hard limit " + Rlimit.Value.text(v.hard())
                        + "; setrlimit(2) refuses that");
            } else if (r == Rlimit.NOFILE && v.hard() == Rlimit.Value.INFINITY) {
                n.error(e.getValue().getValueNode(), "run.limits.nofile: cannot be infinity; the kernel caps open files"
                        + " at fs.nr_open (1048576 by default)");
            } else {
                limits.put(r, v);
            }
        }
        return limits;
    }

    /** "soft:hard" or one value for both; each a decimal number or "infinity". */
    private Rlimit.Value limit(Node node, String path) {
        String text = n.text(node, path, "a limit like 1024:524288, 0 or infinity");
        if (text == null) {
            return null;
        }
        int colon = text.indexOf(':');
        String soft = colon < 0 ? text : text.substring(0, colon);
        String hard = colon < 0 ? text : text.substring(colon + 1);
        Long s = limitValue(soft);
        Long h = limitValue(hard);
        if (s == null || h == null) {
            n.error(node, path + ": " + Nodes.quote(text) + " is not a limit; write one value or soft:hard, each a number"
                    + " or infinity, like 1024:524288");
            return null;
        }
        return new Rlimit.Value(s, h);
    }

    private static Long limitValue(String t) {
        String v = t.strip();
        if (v.equals("infinity") || v.equals("unlimited")) {
            return Rlimit.Value.INFINITY;
        }
        if (v.isEmpty() || v.length() > LIMIT_DIGITS_MAX) {
            return null;
        }
        for (int i = 0; i < v.length(); i++) {
            if (v.charAt(i) < '0' || v.charAt(i) > '9') {
                return null;
            }
        }
        java.math.BigInteger b = new java.math.BigInteger(v);
        // RLIM_INFINITY itself is written "infinity"; a number may go up to one below it
        return b.bitLength() > 64 || b.equals(java.math.BigInteger.ONE.shiftLeft(64).subtract(java.math.BigInteger.ONE))
                ? null : b.longValue();
    }
}

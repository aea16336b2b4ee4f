package io.jgovernor.policy;

import io.jgovernor.model.Confinement;
import io.jgovernor.model.RunSpec;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code run:} section: a workload the daemon starts. Its shape is checked first; then, when
 * the shape is right, what this host can tell in advance: the program exists and is executable
 * (inside the rootfs when there is one), the user and group are known, the rootfs is a directory,
 * every bind mount source exists. What only the start can tell is a logged, counted start failure.
 */
final class RunParser {
    private static final List<String> RUN_KEYS =
            java.util.stream.Stream.concat(Stream.of("command", "user", "group", "workingDir", "env", "restart",
                    "stopTimeout", "isolate"), ConfinementParser.KEYS.stream()).toList();
    private static final List<String> ISOLATE_KEYS =
            List.of("namespaces", "hostname", "rootfs", "layers", "readOnlyRootfs", "mounts", "volumes", "uidMap");
    private static final List<String> VOLUME_KEYS = List.of("name", "target", "readOnly");
    /** A volume's directory name in state-dir/volumes: one plain entry. */
    private static final Pattern VOLUME_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    /** run.user values that are root: with them a user namespace maps root inside to root outside. */
    private static final Set<String> ROOT = Set.of("root", "0");
    /** As many layers as the exec stage takes (MAX_ITEMS in stage.h). */
    private static final int MAX_LAYERS = 64;
    private static final List<String> MOUNT_KEYS = List.of("source", "target", "readOnly");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** RFC 1123 labels; the kernel allows 64 bytes in a UTS hostname. */
    private static final Pattern HOSTNAME =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");
    private static final int HOSTNAME_MAX = 64;

    private final Nodes n;
    private final HostFacts host;
    /** Where the values checked against the host were written, for located errors. */
    private Node commandNode;
    private Node userNode;
    private Node groupNode;
    private Node rootfsNode;
    private final List<Node> layerNodes = new ArrayList<>();
    private final List<Node> mountSourceNodes = new ArrayList<>();

    RunParser(Nodes nodes, HostFacts host) {
        this.n = nodes;
        this.host = host;
    }

    RunSpec run(Node node) {
        int errorsBefore = n.errorCount();
        Map<String, NodeTuple> f = n.mapping(node, "run", RUN_KEYS);
        if (f == null) {
            return null;
        }
        List<String> command = command(node, value(f, "command"));
        userNode = value(f, "user");
        groupNode = value(f, "group");
        Optional<String> user = Optional.ofNullable(value(f, "user"))
                .map(v -> PolicyParser.userOrId(n, v, "run.user", "user name", "uid"));
        Optional<String> group = Optional.ofNullable(value(f, "group"))
                .map(v -> PolicyParser.userOrId(n, v, "run.group", "group name", "gid"));
        Optional<Path> workingDir = Optional.ofNullable(value(f, "workingDir"))
                .map(v -> PolicyParser.absolute(n, v, "run.workingDir", "the workload starts in this directory"));
        Map<String, String> env = value(f, "env") == null ? Map.of() : env(value(f, "env"));
        RunSpec.Restart restart = value(f, "restart") == null ? RunSpec.Restart.ON_FAILURE : restart(value(f, "restart"));
        Duration stopTimeout = RunSpec.DEFAULT_STOP_TIMEOUT;
        if (value(f, "stopTimeout") != null) {
            stopTimeout = stopTimeout(value(f, "stopTimeout"));
        }
        Optional<RunSpec.Isolation> isolate = Optional.ofNullable(value(f, "isolate")).map(this::isolate);
        Confinement confinement = new ConfinementParser(n, host).confinement(f);
        if (n.errorCount() > errorsBefore) {
            return null;
        }
        RunSpec spec = new RunSpec(command, user, group, workingDir, env, restart, stopTimeout, isolate, confinement);
        checkHost(spec);
        return n.errorCount() > errorsBefore ? null : spec;
    }

    private void checkHost(RunSpec spec) {
        spec.user().filter(u -> !host.userExists(u)).ifPresent(u -> n.error(userNode,
                "run.user: no user " + Nodes.quote(u) + " on this host (/etc/passwd); create it or give a numeric uid"));
        spec.group().filter(g -> !host.groupExists(g)).ifPresent(g -> n.error(groupNode,
                "run.group: no group " + Nodes.quote(g) + " on this host (/etc/group); create it or give a numeric gid"));
        Optional<Path> rootfs = spec.isolate().flatMap(RunSpec.Isolation::rootfs);
        if (rootfs.isPresent()) {
            Optional<String> problem = host.pathProblem(rootfs.get(), HostFacts.PathUse.DIRECTORY);
            problem.ifPresent(p -> n.error(rootfsNode, "run.isolate.rootfs: " + rootfs.get() + " " + p
                    + "; the workload pivots into this directory"));
            if (problem.isEmpty()) {
                Path program = rootfs.get().resolve(spec.command().getFirst().substring(1));
                host.pathProblem(program, HostFacts.PathUse.ENTRY).ifPresent(p -> n.error(commandNode,
                        "run.command[0]: " + spec.command().getFirst() + " " + p + " in the rootfs (" + program + ")"));
            }
        } else if (spec.isolate().map(i -> !i.layers().isEmpty()).orElse(false)) {
            checkLayers(spec);
        } else {
            host.pathProblem(Path.of(spec.command().getFirst()), HostFacts.PathUse.EXECUTABLE).ifPresent(p ->
                    n.error(commandNode, "run.command[0]: " + spec.command().getFirst() + " " + p));
        }
        List<RunSpec.BindMount> mounts = spec.isolate().map(RunSpec.Isolation::mounts).orElse(List.of());
        for (int i = 0; i < mounts.size() && i < mountSourceNodes.size(); i++) {
            Path source = mounts.get(i).source();
            int index = i;
            host.pathProblem(source, HostFacts.PathUse.EXISTS).ifPresent(p -> n.error(mountSourceNodes.get(index),
                    "run.isolate.mounts[" + index + "].source: " + source + " " + p + " on this host"));
        }
    }

    /**
     * Each layer a directory outside the state directory (where the daemon keeps the upper
     * layers: a layer there could be another workload's upper layer, written while it is read);
     * the program in one of them, the topmost that has it winning as in the overlay.
     */
    private void checkLayers(RunSpec spec) {
        List<Path> layers = spec.isolate().orElseThrow().layers();
        boolean usable = true;
        for (int i = 0; i < layers.size() && i < layerNodes.size(); i++) {
            Path layer = layers.get(i);
            String at = "run.isolate.layers[" + i + "]: " + layer + " ";
            Optional<String> problem = host.pathProblem(layer, HostFacts.PathUse.DIRECTORY);
            if (problem.isPresent()) {
                n.error(layerNodes.get(i), at + problem.get() + "; a layer is a directory, read and never written");
                usable = false;
            } else if (host.stateDir().isPresent() && (layer.startsWith(host.stateDir().get())
                    || host.stateDir().get().startsWith(layer))) {
                n.error(layerNodes.get(i), at + "overlaps the daemon's state directory " + host.stateDir().get()
                        + ", where it keeps upper layers and volumes; keep layers elsewhere (like /var/lib/jgovernor-layers)");
                usable = false;
            }
        }
        if (!usable) {
            return;
        }
        String program = spec.command().getFirst().substring(1);
        List<String> problems = new ArrayList<>();
        for (Path layer : layers.reversed()) {
            Optional<String> p = host.pathProblem(layer.resolve(program), HostFacts.PathUse.ENTRY);
            if (p.isEmpty()) {
                return;
            }
            problems.add(layer.resolve(program) + " " + p.get());
        }
        n.error(commandNode, "run.command[0]: " + spec.command().getFirst() + " is in none of the layers ("
                + String.join("; ", problems) + ")");
    }

    private static Node value(Map<String, NodeTuple> f, String key) {
        NodeTuple t = f.get(key);
        return t == null ? null : t.getValueNode();
    }

    private List<String> command(Node run, Node node) {
        if (node == null) {
            n.error(run, "run: missing required key \"command\" (a list like [\"/usr/bin/python3\", \"app.py\"])");
            return null;
        }
        List<Node> items = n.list(node, "run.command");
        if (items == null) {
            return null;
        }
        if (items.isEmpty()) {
            n.error(node, "run.command: must name at least the program to run");
            return null;
        }
        commandNode = items.getFirst();
        List<String> command = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            // an argument may be a script with line breaks; the program's path may not
            String text = i == 0 ? n.text(items.get(i), "run.command[0]", "text")
                    : n.freeText(items.get(i), "run.command[" + i + "]", "text");
            if (text == null) {
                return null;
            }
            command.add(text);
        }
        if (!command.getFirst().startsWith("/")) {
            n.error(items.getFirst(), "run.command[0]: " + Nodes.quote(command.getFirst()) + " is not an absolute path;"
                    + " the command runs without a shell and without a PATH search, so write the full path,"
                    + " like \"/usr/bin/" + command.getFirst() + "\"");
            return null;
        }
        return command;
    }

    private Map<String, String> env(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "run.env", null);
        if (f == null) {
            return null;
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (Map.Entry<String, NodeTuple> e : f.entrySet()) {
            String name = e.getKey();
            Node value = e.getValue().getValueNode();
            if (!ENV_NAME.matcher(name).matches()) {
                n.error(e.getValue().getKeyNode(), "run.env: " + Nodes.quote(name) + " is not a valid environment variable name"
                        + " (letters, digits and _, not starting with a digit)");
                continue;
            }
            if (Nodes.isNull(value)) {
                env.put(name, ""); // "FOO:" alone: set and empty, as in a shell's FOO=
                continue;
            }
            String text = n.freeText(value, "run.env." + name, "a value");
            if (text != null) {
                env.put(name, text);
            }
        }
        return env;
    }

    private RunSpec.Restart restart(Node node) {
        String text = n.text(node, "run.restart", "one of never, on-failure, always");
        if (text == null) {
            return null;
        }
        for (RunSpec.Restart r : RunSpec.Restart.values()) {
            if (r.key.equals(text)) {
                return r;
            }
        }
        List<String> keys = Arrays.stream(RunSpec.Restart.values()).map(r -> r.key).toList();
        n.error(node, "run.restart: " + Nodes.quote(text) + " is not one of never, on-failure, always" + Hints.suffix(text, keys));
        return null;
    }

    private Duration stopTimeout(Node node) {
        String text = n.text(node, "run.stopTimeout", "a duration like \"10s\"");
        if (text == null) {
            return null;
        }
        try {
            Duration d = Units.duration(text);
            if (d.isZero()) {
                n.error(node, "run.stopTimeout: must be more than 0; the workload needs time to stop after SIGTERM");
                return null;
            }
            return d;
        } catch (IllegalArgumentException e) {
            n.error(node, "run.stopTimeout: " + e.getMessage());
            return null;
        }
    }

    private RunSpec.Isolation isolate(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "run.isolate", ISOLATE_KEYS);
        if (f == null) {
            return null;
        }
        Set<RunSpec.Namespace> namespaces = value(f, "namespaces") == null
                ? EnumSet.noneOf(RunSpec.Namespace.class) : namespaces(value(f, "namespaces"));
        Optional<String> hostname = Optional.empty();
        Optional<Path> rootfs = Optional.empty();
        boolean readOnlyRootfs = false;
        List<RunSpec.BindMount> mounts = List.of();
        List<RunSpec.IdMapping> uidMap = List.of();
        if (value(f, "hostname") != null) {
            Node h = value(f, "hostname");
            String text = n.text(h, "run.isolate.hostname", "a hostname");
            if (text != null && (text.length() > HOSTNAME_MAX || !HOSTNAME.matcher(text).matches())) {
                n.error(h, "run.isolate.hostname: " + Nodes.quote(text) + " is not a valid hostname (up to 64 letters, digits,"
                        + " hyphens and dots)");
            } else if (text != null && requires(h, "run.isolate.hostname", namespaces, RunSpec.Namespace.UTS)) {
                hostname = Optional.of(text);
            }
        }
        if (value(f, "rootfs") != null) {
            Node r = value(f, "rootfs");
            rootfsNode = r;
            Path p = PolicyParser.absolute(n, r, "run.isolate.rootfs", "the workload pivots into this directory");
            if (p != null && requires(r, "run.isolate.rootfs", namespaces, RunSpec.Namespace.MOUNT)) {
                rootfs = Optional.of(p);
            }
        }
        List<Path> layers = List.of();
        if (value(f, "layers") != null) {
            Node l = value(f, "layers");
            layers = layers(l);
            if (layers != null && value(f, "rootfs") != null) {
                n.error(l, "run.isolate.layers: give either rootfs or layers, not both (layers are joined into the"
                        + " workload's root by overlayfs; rootfs is a root of one directory)");
                layers = null;
            } else if (layers != null && requires(l, "run.isolate.layers", namespaces, RunSpec.Namespace.MOUNT)
                    && namespaces != null && namespaces.contains(RunSpec.Namespace.USER)
                    && (value(f, "uidMap") != null || (userNode instanceof ScalarNode u && !ROOT.contains(u.getValue())))) {
                n.error(l, "run.isolate.layers: with the user namespace only when root inside is root outside (no"
                        + " run.user but root, no uidMap): overlayfs checks the layers and the upper layer in the state"
                        + " directory with the ids of the namespace's root, which another user cannot reach; remove"
                        + " user from run.isolate.namespaces or use rootfs");
                layers = null;
            }
        }
        List<RunSpec.Volume> volumes = List.of();
        if (value(f, "volumes") != null) {
            Node v = value(f, "volumes");
            volumes = volumes(v);
            if (volumes != null && !volumes.isEmpty()) {
                requires(v, "run.isolate.volumes", namespaces, RunSpec.Namespace.MOUNT);
            }
        }
        if (value(f, "readOnlyRootfs") != null) {
            Node r = value(f, "readOnlyRootfs");
            Boolean b = n.bool(r, "run.isolate.readOnlyRootfs");
            if (Boolean.TRUE.equals(b) && value(f, "rootfs") == null && value(f, "layers") == null) {
                n.error(r, "run.isolate.readOnlyRootfs: needs run.isolate.rootfs or layers; only a root the workload"
                        + " pivots into can be made read-only");
            } else if (b != null) {
                readOnlyRootfs = b;
            }
        }
        if (value(f, "mounts") != null) {
            Node m = value(f, "mounts");
            mounts = mounts(m);
            if (mounts != null && !mounts.isEmpty()) {
                requires(m, "run.isolate.mounts", namespaces, RunSpec.Namespace.MOUNT);
            }
        }
        if (value(f, "uidMap") != null) {
            Node u = value(f, "uidMap");
            uidMap = uidMap(u);
            if (uidMap != null) {
                requires(u, "run.isolate.uidMap", namespaces, RunSpec.Namespace.USER);
            }
        }
        if (namespaces == null || mounts == null || uidMap == null || layers == null || volumes == null) {
            return null;
        }
        return new RunSpec.Isolation(namespaces, hostname, rootfs, readOnlyRootfs, mounts, uidMap, layers, volumes);
    }

    private boolean requires(Node at, String path, Set<RunSpec.Namespace> namespaces, RunSpec.Namespace needed) {
        if (namespaces != null && !namespaces.contains(needed)) {
            n.error(at, path + ": needs the " + needed.key + " namespace; add " + needed.key
                    + " to run.isolate.namespaces");
            return false;
        }
        return true;
    }

    private Set<RunSpec.Namespace> namespaces(Node node) {
        List<Node> items = n.list(node, "run.isolate.namespaces");
        if (items == null) {
            return null;
        }
        List<String> keys = Arrays.stream(RunSpec.Namespace.values()).map(ns -> ns.key).toList();
        Set<RunSpec.Namespace> set = EnumSet.noneOf(RunSpec.Namespace.class);
        boolean bad = false;
        for (int i = 0; i < items.size(); i++) {
            String path = "run.isolate.namespaces[" + i + "]";
            String text = n.text(items.get(i), path, "a namespace name");
            if (text == null) {
                bad = true;
                continue;
            }
            RunSpec.Namespace ns = Arrays.stream(RunSpec.Namespace.values())
                    .filter(x -> x.key.equals(text)).findFirst().orElse(null);
            if (ns == null) {
                n.error(items.get(i), path + ": " + Nodes.quote(text) + " is not one of " + String.join(", ", keys)
                        + Hints.suffix(text, keys));
                bad = true;
            } else if (!set.add(ns)) {
                n.error(items.get(i), path + ": " + Nodes.quote(text) + " is listed twice");
                bad = true;
            }
        }
        return bad ? null : set;
    }

    private List<RunSpec.BindMount> mounts(Node node) {
        List<Node> items = n.list(node, "run.isolate.mounts");
        if (items == null) {
            return null;
        }
        List<RunSpec.BindMount> mounts = new ArrayList<>();
        boolean bad = false;
        for (int i = 0; i < items.size(); i++) {
            String path = "run.isolate.mounts[" + i + "]";
            Map<String, NodeTuple> f = n.mapping(items.get(i), path, MOUNT_KEYS);
            if (f == null) {
                bad = true;
                continue;
            }
            Path source = required(items.get(i), f, "source", path, "the host directory to bind");
            Path target = required(items.get(i), f, "target", path, "the place inside the workload's root");
            if (target != null) {
                target = target(value(f, "target"), target, path + ".target");
            }
            Boolean readOnly = value(f, "readOnly") == null ? Boolean.FALSE : n.bool(value(f, "readOnly"), path + ".readOnly");
            if (source == null || target == null || readOnly == null) {
                bad = true;
            } else {
                mounts.add(new RunSpec.BindMount(source, target, readOnly));
                mountSourceNodes.add(value(f, "source"));
            }
        }
        return bad ? null : mounts;
    }

    /**
     * Absolute directories, bottom first. The exec stage hands them to overlayfs by descriptor,
     * but a comma, colon or backslash in a layer's path is refused all the same: in overlayfs's
     * option string they separate options and layers, and a path with one is a mistake or an
     * attack, never a layer.
     */
    private List<Path> layers(Node node) {
        List<Node> items = n.list(node, "run.isolate.layers");
        if (items == null) {
            return null;
        }
        if (items.isEmpty() || items.size() > MAX_LAYERS) {
            n.error(node, "run.isolate.layers: " + (items.isEmpty() ? "is empty; list at least one directory"
                    : "has " + items.size() + " layers; at most " + MAX_LAYERS));
            return null;
        }
        List<Path> layers = new ArrayList<>();
        boolean bad = false;
        for (int i = 0; i < items.size(); i++) {
            String path = "run.isolate.layers[" + i + "]";
            Path p = PolicyParser.absolute(n, items.get(i), path, "a read-only layer of the workload's root");
            if (p == null) {
                bad = true;
                continue;
            }
            String text = p.toString();
            String why = null;
            for (Path component : p) {
                if (component.toString().equals("..")) {
                    why = "has a \"..\" component; write the layer's own path";
                }
            }
            for (char c : new char[] {',', ':', '\\'}) {
                if (text.indexOf(c) >= 0) {
                    why = "holds " + Nodes.quote(String.valueOf(c)) + ", which separates options or layers in"
                            + " overlayfs's mount options; rename the directory";
                }
            }
            if (why == null && layers.contains(p.normalize())) {
                why = "is listed twice";
            }
            if (why != null) {
                n.error(items.get(i), path + ": " + Nodes.quote(text) + " " + why);
                bad = true;
            } else {
                layers.add(p.normalize());
                layerNodes.add(items.get(i));
            }
        }
        return bad ? null : layers;
    }

    private List<RunSpec.Volume> volumes(Node node) {
        List<Node> items = n.list(node, "run.isolate.volumes");
        if (items == null) {
            return null;
        }
        List<RunSpec.Volume> volumes = new ArrayList<>();
        boolean bad = false;
        for (int i = 0; i < items.size(); i++) {
            String path = "run.isolate.volumes[" + i + "]";
            Map<String, NodeTuple> f = n.mapping(items.get(i), path, VOLUME_KEYS);
            if (f == null) {
                bad = true;
                continue;
            }
            String name = null;
            if (value(f, "name") == null) {
                n.error(items.get(i), path + ": missing required key \"name\" (the volume's name, like data)");
            } else {
                String given = n.text(value(f, "name"), path + ".name", "a volume name");
                if (given != null && !VOLUME_NAME.matcher(given).matches()) {
                    n.error(value(f, "name"), path + ".name: " + Nodes.quote(given) + " is not a volume name (letters,"
                            + " digits, '_', '.', '-', starting with a letter or digit, at most 64)");
                } else if (given != null && volumes.stream().anyMatch(v -> v.name().equals(given))) {
                    n.error(value(f, "name"), path + ".name: " + Nodes.quote(given) + " is listed twice");
                } else {
                    name = given;
                }
            }
            Path target = required(items.get(i), f, "target", path, "the place inside the workload's root");
            if (target != null) {
                target = target(value(f, "target"), target, path + ".target");
            }
            Boolean readOnly = value(f, "readOnly") == null ? Boolean.FALSE : n.bool(value(f, "readOnly"), path + ".readOnly");
            if (name == null || target == null || readOnly == null) {
                bad = true;
            } else {
                volumes.add(new RunSpec.Volume(name, target, readOnly));
            }
        }
        return bad ? null : volumes;
    }

    private static final Path PROC = Path.of("/proc");
    private static final Path SYS = Path.of("/sys");
    private static final Path DEV = Path.of("/dev");

    /**
     * A bind target the stage can resolve inside the root (rootfs.c): no "..", which could only
     * mean a place outside what the path names, and none of the places the stage itself mounts.
     */
    private Path target(Node node, Path target, String path) {
        for (Path component : target) {
            if (component.toString().equals("..")) {
                n.error(node, path + ": " + Nodes.quote(target.toString()) + " has a \"..\" component; a target is a"
                        + " place inside the workload's root, write it without \"..\"");
                return null;
            }
        }
        Path t = target.normalize();
        String why = null;
        if (t.getNameCount() == 0) {
            why = "is the root itself; to give the workload a whole root, use run.isolate.rootfs";
        } else if (t.startsWith(PROC) || t.startsWith(SYS)) {
            why = "is " + (t.getNameCount() > 1 ? "inside " : "") + "/" + t.getName(0) + ", the kernel's own"
                    + " filesystem: the stage mounts it (with its"
                    + " masked and read-only paths), and a bind there would hide it or undo a mask";
        } else if (t.equals(DEV)) {
            why = "is the workload's minimal /dev; bind single devices beneath it (like /dev/fuse) and allow"
                    + " them under devices:";
        }
        if (why != null) {
            n.error(node, path + ": " + Nodes.quote(target.toString()) + " " + why);
            return null;
        }
        return t;
    }

    private Path required(Node entry, Map<String, NodeTuple> f, String key, String path, String why) {
        if (value(f, key) == null) {
            n.error(entry, path + ": missing required key \"" + key + "\" (" + why + ")");
            return null;
        }
        return PolicyParser.absolute(n, value(f, key), path + "." + key, "it names " + why);
    }

    /** Three unsigned decimal numbers, none longer than a 32-bit id can be written (and one more). */
    private static final java.util.regex.Pattern ID_FIELD = java.util.regex.Pattern.compile("\\d{1,11} \\d{1,11} \\d{1,11}");
    /**
     * The kernel adds first + count in 32 bits and refuses a range that wraps (map_write in
     * kernel/user_namespace.c), and 4294967295 is (uid_t) -1, no id: a range ends at most here.
     */
    private static final long ID_LIMIT = 0xFFFF_FFFFL;

    /** "inside outside count" triples, one per line or separated by commas, as in /proc/PID/uid_map. */
    private List<RunSpec.IdMapping> uidMap(Node node) {
        if (!(node instanceof ScalarNode) || Nodes.isNull(node)) {
            n.error(node, "run.isolate.uidMap: expected text like \"0 100000 65536\", got " + Nodes.describe(node));
            return null;
        }
        String text = ((ScalarNode) node).getValue();
        List<RunSpec.IdMapping> map = new ArrayList<>();
        for (String line : text.split("[,\n]")) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.strip().split("[ \t]+");
            if (parts.length != 3 || !ID_FIELD.matcher(String.join(" ", parts)).matches()) {
                n.error(node, "run.isolate.uidMap: " + Nodes.quote(line.strip()) + " is not \"inside outside count\","
                        + " like \"0 100000 65536\"");
                return null;
            }
            // at most 11 digits each (ID_FIELD), so these fit in a long
            long inside = Long.parseLong(parts[0]);
            long outside = Long.parseLong(parts[1]);
            long count = Long.parseLong(parts[2]);
            // the kernel's ids are 32 bits: a range that runs past 4294967295 inside or outside
            // is refused by the write to /proc/PID/uid_map, at the workload's start
            if (count < 1 || inside + count > ID_LIMIT || outside + count > ID_LIMIT) {
                n.error(node, "run.isolate.uidMap: " + Nodes.quote(line.strip()) + ": the count must be at least 1 and"
                        + " inside + count and outside + count at most 4294967295 (the kernel's ids are 32 bits)");
                return null;
            }
            map.add(new RunSpec.IdMapping(inside, outside, count));
        }
        if (map.isEmpty()) {
            n.error(node, "run.isolate.uidMap: holds no mapping; write \"inside outside count\", like \"0 100000 65536\"");
            return null;
        }
        return map;
    }
}

package io.jgovernor.policy;

import io.jgovernor.cgroup.RawFiles;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.model.DeviceRule;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Limit;
import io.jgovernor.model.MatchRule;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Pressure;
import io.jgovernor.model.ProcessKnobs;
import io.jgovernor.model.Resources;
import io.jgovernor.model.RunSpec;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.schema.CoreSchema;

import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.regex.Pattern;

/**
 * Turns the text of one policy file into validated {@link Policy} records, or into every
 * problem the file has, each located at file:line:column. A pure function of the text and the
 * {@link HostFacts}: it reads no files itself, so the same text always gives the same answer
 * on the same host.
 */
public final class PolicyParser {
    static final List<String> TOP_KEYS =
            List.of("name", "description", "match", "run", "cpu", "cpuset", "memory", "io", "pids", "devices",
                    "files", "events", "process", "freezer", "hugetlb", "network", "perfEvent");
    private static final List<String> CPU_KEYS = List.of("shares", "weight", "quota", "period", "idle");
    private static final List<String> CPUSET_KEYS = List.of("cpus", "mems", "numaNode");
    private static final List<String> MEMORY_KEYS = List.of("limit", "swapLimit", "oomKillDisable", "high", "low", "min",
            "oomGroup");
    private static final List<String> IO_KEYS = List.of("weight", "devices");
    private static final List<String> DEVICE_KEYS = List.of("device", "readBps", "writeBps", "readIops", "writeIops");
    private static final List<String> PIDS_KEYS = List.of("max");
    private static final List<String> DEVICES_KEYS = List.of("allow");
    private static final List<String> EVENTS_KEYS = List.of("oom", "pressure");
    private static final List<String> PRESSURE_KEYS = List.of("resource", "stall", "threshold", "window");
    private static final List<String> OOM_KEYS = List.of("webhooks");
    private static final List<String> MATCH_KEYS = List.of("comm", "exe", "cmdline", "user");

    /** The kernel keeps 15 characters of a task's name (TASK_COMM_LEN is 16 with the NUL). */
    static final int COMM_MAX = 15;
    /** 1000 us is the smallest cpu.cfs_quota_us the kernel accepts. */
    private static final long MIN_QUOTA_MICROS = 1000;
    /** A page: the kernel cannot honour a smaller memory limit. */
    private static final long MIN_MEMORY_LIMIT = 4096;
    static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9_.-]*[$]?");
    /** The most errors one file reports; the rest are counted. */
    static final int MAX_ERRORS = 100;
    static final Pattern NUMERIC_ID = Pattern.compile("\\d{1,10}");

    private final HostFacts host;
    private final LoadSettings settings;

    public PolicyParser(HostFacts host) {
        this.host = host;
        // Core schema: YAML 1.2, where "yes" and "on" are strings and only true/false are booleans.
        // Duplicate and non-scalar keys are let through so that Nodes reports them with a location.
        // The code point limit is the file size limit: the daemon never reads a larger file, and
        // a string handed in directly (a test, the fuzzer) is bounded the same way.
        this.settings = LoadSettings.builder().setSchema(new CoreSchema()).setAllowDuplicateKeys(true)
                .setAllowNonScalarKeys(true).setCodePointLimit((int) FileSafety.MAX_FILE_BYTES)
                .setMaxAliasesForCollections(YamlBounds.MAX_ALIASES).build();
    }

    /**
     * Parses every policy document of {@code content}; {@code file} only names where errors are.
     * Never throws: whatever a file holds, and whatever goes wrong below (a library's exception,
     * a stack or heap exhausted), the answer is a rejection of the whole file with a location.
     */
    public ParseResult parse(Path file, String content) {
        try {
            return parseBounded(file, content);
        } catch (StackOverflowError e) {
            return new ParseResult.Rejected(List.of(PolicyError.whole(file,
                    "the file is nested too deeply to read; the file is refused whole")));
        } catch (OutOfMemoryError e) {
            return new ParseResult.Rejected(List.of(PolicyError.whole(file,
                    "the file needs more memory to read than the daemon has; the file is refused whole")));
        } catch (Throwable e) {
            // a bug of ours or of the YAML library: say which, never with a stack trace
            return new ParseResult.Rejected(List.of(PolicyError.whole(file,
                    "the file cannot be read (" + e.getClass().getSimpleName() + "); the file is refused whole")));
        }
    }

    private ParseResult parseBounded(Path file, String content) {
        Nodes nodes = new Nodes(file);
        YamlBounds.check(settings, content, nodes);
        if (nodes.errorCount() > 0) {
            // a tree that breaks the bounds is never composed: composing recurses per level
            return new ParseResult.Rejected(nodes.errors());
        }
        List<ParsedPolicy> policies = new ArrayList<>();
        Map<GroupName, ParsedPolicy> byName = new HashMap<>();
        int documents = 0;
        try {
            for (Node document : new Compose(settings).composeAllFromString(content)) {
                if (Nodes.isNull(document)) {
                    continue; // an empty document between two "---" holds nothing
                }
                documents++;
                ParsedPolicy parsed = new Document(nodes).policy(document);
                if (parsed == null) {
                    continue;
                }
                GroupName name = parsed.policy().name();
                ParsedPolicy earlier = byName.putIfAbsent(name, parsed);
                if (earlier != null) {
                    nodes.errors().add(new PolicyError(file, parsed.nameLine(), parsed.nameColumn(),
                            "group \"" + name + "\" is already defined on line " + earlier.nameLine() + " of this file"));
                    continue;
                }
                policies.add(parsed);
            }
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().isPresent() ? e.getProblemMark() : e.getContextMark();
            String context = e.getContext() == null ? "" : " (" + e.getContext() + ")";
            nodes.error(mark, "YAML syntax error: " + Nodes.clip(e.getProblem() + context, Nodes.QUOTE_MAX * 2));
        } catch (YamlEngineException e) {
            nodes.error(Optional.empty(), "YAML syntax error: " + Nodes.clip(String.valueOf(e.getMessage()),
                    Nodes.QUOTE_MAX * 2));
        }
        if (nodes.errorCount() > 0) {
            // In file order, as a person reads and fixes them.
            List<PolicyError> sorted = new ArrayList<>(nodes.errors());
            sorted.sort(java.util.Comparator.comparingInt(PolicyError::line).thenComparingInt(PolicyError::column));
            if (sorted.size() > MAX_ERRORS) {
                // a file of 20000 broken documents says so once, not 20000 times into the log
                PolicyError next = sorted.get(MAX_ERRORS);
                int more = sorted.size() - MAX_ERRORS;
                sorted = new ArrayList<>(sorted.subList(0, MAX_ERRORS));
                sorted.add(new PolicyError(file, next.line(), next.column(), more + " more errors in this file from"
                        + " here on; fix the ones above first"));
            }
            return new ParseResult.Rejected(sorted);
        }
        if (documents == 0) {
            // An empty file is far more often a truncated write than an intent to remove groups.
            return new ParseResult.Rejected(List.of(PolicyError.whole(file,
                    "file holds no policy; delete the file to remove its groups")));
        }
        return new ParseResult.Ok(policies);
    }

    /** One YAML document: one policy. */
    private final class Document {
        private final Nodes n;
        private final SubsystemParser subsystems;

        Document(Nodes nodes) {
            this.n = nodes;
            this.subsystems = new SubsystemParser(nodes, host);
        }

        ParsedPolicy policy(Node document) {
            int errorsBefore = n.errorCount();
            if (Nodes.isNull(document) || !(document instanceof org.snakeyaml.engine.v2.nodes.MappingNode)) {
                n.error(document, "a policy must be a mapping of keys such as \"name:\", got "
                        + Nodes.describe(document));
                return null;
            }
            Map<String, NodeTuple> f = n.mapping(document, "", TOP_KEYS);
            GroupName name = null;
            Mark nameMark = null;
            if (!f.containsKey("name")) {
                n.error(document, "missing required key \"name\"");
            } else {
                Node value = f.get("name").getValueNode();
                nameMark = value.getStartMark().orElseThrow();
                String text = n.text(value, "name", "a group name");
                if (text != null) {
                    String problem = GroupName.problem(text);
                    if (problem != null) {
                        n.error(value, "name: " + problem);
                    } else {
                        name = new GroupName(text);
                    }
                }
            }
            Optional<String> description = Optional.empty();
            if (f.containsKey("description")) {
                description = Optional.ofNullable(n.freeText(f.get("description").getValueNode(), "description", "text"));
            }
            List<MatchRule> match = f.containsKey("match") ? match(f.get("match").getValueNode()) : List.of();
            Optional<RunSpec> run = f.containsKey("run")
                    ? Optional.ofNullable(new RunParser(n, host).run(f.get("run").getValueNode())) : Optional.empty();
            Resources resources = new Resources(
                    section(f, "cpu", this::cpu), section(f, "cpuset", this::cpuset),
                    section(f, "memory", this::memory), section(f, "io", this::io), section(f, "pids", this::pids),
                    section(f, "devices", this::devices),
                    section(f, "files", this::files).orElse(new java.util.TreeMap<>()),
                    section(f, "freezer", subsystems::freezer), section(f, "hugetlb", subsystems::hugetlb),
                    section(f, "network", subsystems::network), section(f, "perfEvent", subsystems::perfEvent));
            if (!f.containsKey("devices") && run.flatMap(RunSpec::isolate).isPresent()) {
                // Part of what isolation is, and put here rather than applied on the side, so that
                // plans, logs and the reconciler see one device list whichever way it came.
                resources = resources.withDevices(Optional.of(Resources.Devices.ISOLATED));
            }
            List<URI> webhooks = f.containsKey("events") ? events(f.get("events").getValueNode()) : List.of();
            List<Pressure.Trigger> triggers = f.containsKey("events")
                    ? pressureTriggers(f.get("events").getValueNode()) : List.of();
            Optional<ProcessKnobs> process = f.containsKey("process")
                    ? new ProcessParser(n).process(f.get("process").getValueNode()) : Optional.empty();
            if (n.errorCount() > errorsBefore || name == null || process == null) {
                return null;
            }
            // the workload gets the knobs from the exec stage, before its first instruction
            run = run.map(r -> r.withProcess(process));
            return new ParsedPolicy(new Policy(name, description, match, run, resources, webhooks, process, triggers),
                    nameMark.getLine() + 1, nameMark.getColumn() + 1);
        }

        private <T> Optional<T> section(Map<String, NodeTuple> f, String key, java.util.function.Function<Node, T> parser) {
            return f.containsKey(key) ? Optional.ofNullable(parser.apply(f.get(key).getValueNode())) : Optional.empty();
        }

        private Node value(Map<String, NodeTuple> f, String key) {
            NodeTuple t = f.get(key);
            return t == null ? null : t.getValueNode();
        }

        // ---- cpu ----

        Resources.Cpu cpu(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "cpu", CPU_KEYS);
            if (f == null) {
                return null;
            }
            OptionalLong shares = OptionalLong.empty();
            OptionalLong weight = OptionalLong.empty();
            OptionalDouble quota = OptionalDouble.empty();
            Optional<Duration> period = Optional.empty();
            boolean periodBad = false;
            if (value(f, "shares") != null) {
                Long v = n.integerIn(value(f, "shares"), "cpu.shares", 2, 262144);
                shares = v == null ? shares : OptionalLong.of(v);
            }
            if (value(f, "weight") != null) {
                if (value(f, "shares") != null) {
                    n.error(value(f, "weight"), "cpu.weight: set shares (cgroup v1) or weight (cgroup v2), not both;"
                            + " the daemon converts one into the other");
                } else {
                    Long v = n.integerIn(value(f, "weight"), "cpu.weight", 1, 10000);
                    weight = v == null ? weight : OptionalLong.of(v);
                }
            }
            if (value(f, "period") != null) {
                Node p = value(f, "period");
                Duration d = duration(p, "cpu.period");
                if (d == null) {
                    periodBad = true;
                } else if (d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(Duration.ofSeconds(1)) > 0) {
                    n.error(p, "cpu.period: " + Units.format(d) + " is out of range 1ms..1s (the kernel's limits for"
                            + " cpu.cfs_period_us)");
                    periodBad = true;
                } else {
                    period = Optional.of(d);
                }
            }
            if (value(f, "quota") != null) {
                Node q = value(f, "quota");
                String text = n.text(q, "cpu.quota", "a percentage like \"50%\"");
                if (text != null) {
                    try {
                        double percent = Units.percent(text);
                        Duration p = period.orElse(Resources.Cpu.DEFAULT_PERIOD);
                        double micros = percent / 100.0 * (p.toNanos() / 1000.0);
                        if (percent <= 0) {
                            n.error(q, "cpu.quota: must be more than 0%; leave quota out for no limit");
                        } else if (percent > 1_000_000) {
                            n.error(q, "cpu.quota: " + Nodes.clip(text.strip(), Nodes.QUOTE_MAX) + " is more than the largest quota, 1000000%");
                        } else if (!periodBad && micros < MIN_QUOTA_MICROS) {
                            double least = MIN_QUOTA_MICROS * 100.0 / (p.toNanos() / 1000.0);
                            n.error(q, "cpu.quota: " + text.strip() + " of a " + Units.format(p) + " period is "
                                    + Units.format(micros) + "us; the kernel's minimum cpu.cfs_quota_us is 1000us,"
                                    + " so write at least " + Units.format(least) + "%");
                        } else {
                            quota = OptionalDouble.of(percent);
                        }
                    } catch (IllegalArgumentException e) {
                        n.error(q, "cpu.quota: " + e.getMessage());
                    }
                }
            }
            Optional<Boolean> idle = Optional.empty();
            if (value(f, "idle") != null) {
                Boolean v = n.bool(value(f, "idle"), "cpu.idle");
                if (v != null && !host.cgroupV2()) {
                    // v1 has SCHED_IDLE per task only; nothing makes a v1 group idle as a whole
                    n.error(value(f, "idle"), "cpu.idle: this host runs cgroup v1, which has no cpu.idle; remove the"
                            + " key, or use process: {schedPolicy: idle} for the group's processes");
                } else {
                    idle = Optional.ofNullable(v);
                }
            }
            return new Resources.Cpu(shares, weight, quota, period, idle);
        }

        // ---- cpuset ----

        Resources.Cpuset cpuset(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "cpuset", CPUSET_KEYS);
            if (f == null) {
                return null;
            }
            Optional<CpuList> cpus = Optional.empty();
            Optional<CpuList> mems = Optional.empty();
            if (value(f, "cpus") != null) {
                cpus = Optional.ofNullable(cpuList(value(f, "cpus"), "cpuset.cpus", "CPU", this::onlineCpus));
            }
            if (value(f, "mems") != null) {
                mems = Optional.ofNullable(cpuList(value(f, "mems"), "cpuset.mems", "memory node", this::memoryNodes));
            }
            if (value(f, "numaNode") == null) {
                return new Resources.Cpuset(cpus, mems, OptionalInt.empty());
            }
            Node numa = value(f, "numaNode");
            if (value(f, "cpus") != null || value(f, "mems") != null) {
                n.error(numa, "cpuset.numaNode: numaNode sets both cpus and mems; write either numaNode or"
                        + " cpus/mems, not both");
                return null;
            }
            Long id = n.integerIn(numa, "cpuset.numaNode", 0, 8191);
            if (id == null) {
                return null;
            }
            SortedMap<Integer, CpuList> nodes;
            try {
                nodes = host.numaNodes();
            } catch (RuntimeException e) {
                n.error(numa, "cpuset.numaNode: cannot read this host's NUMA nodes: " + e.getMessage());
                return null;
            }
            CpuList nodeCpus = nodes.get(id.intValue());
            if (nodeCpus == null) {
                BitSet existing = new BitSet();
                nodes.keySet().forEach(existing::set);
                n.error(numa, "cpuset.numaNode: NUMA node " + id + " does not exist on this host; nodes are "
                        + new CpuList(existing));
                return null;
            }
            if (nodeCpus.isEmpty()) {
                n.error(numa, "cpuset.numaNode: NUMA node " + id + " has no CPUs; pin cpus and mems explicitly");
                return null;
            }
            BitSet memNode = new BitSet();
            memNode.set(id.intValue());
            // Resolved now, so that later layers never read sysfs for it and see what was validated.
            return new Resources.Cpuset(Optional.of(nodeCpus), Optional.of(new CpuList(memNode)), OptionalInt.of(id.intValue()));
        }

        private CpuList onlineCpus() {
            return host.onlineCpus();
        }

        private CpuList memoryNodes() {
            return host.memoryNodes();
        }

        private CpuList cpuList(Node node, String path, String what, java.util.function.Supplier<CpuList> existing) {
            String text = n.text(node, path, "a list like \"0-3,6\"");
            if (text == null) {
                return null;
            }
            CpuList list;
            try {
                list = CpuList.parse(text);
            } catch (IllegalArgumentException e) {
                n.error(node, path + ": " + e.getMessage());
                return null;
            }
            if (list.isEmpty()) {
                n.error(node, path + ": must name at least one " + what + "; leave the key out to allow all");
                return null;
            }
            CpuList host;
            try {
                host = existing.get();
            } catch (RuntimeException e) {
                n.error(node, path + ": cannot read this host's " + what + "s: " + e.getMessage());
                return null;
            }
            if (!host.containsAll(list)) {
                BitSet missing = list.bits();
                missing.andNot(host.bits());
                boolean one = missing.cardinality() == 1;
                String existingWord = what.equals("CPU") ? "online" : "present";
                n.error(node, path + ": " + what + (one ? " " : "s ") + new CpuList(missing) + (one ? " is" : " are")
                        + " not " + existingWord + " on this host; " + existingWord + " " + what + "s are " + host);
                return null;
            }
            return list;
        }

        // ---- memory ----

        Resources.Memory memory(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "memory", MEMORY_KEYS);
            if (f == null) {
                return null;
            }
            Optional<Limit> limit = Optional.empty();
            Optional<Limit> swap = Optional.empty();
            Optional<Boolean> oomKillDisable = Optional.empty();
            boolean limitBad = false;
            if (value(f, "limit") != null) {
                Node l = value(f, "limit");
                Limit v = size(l, "memory.limit", true);
                if (v instanceof Limit.Of(long bytes) && bytes < MIN_MEMORY_LIMIT) {
                    n.error(l, "memory.limit: " + bytes + " bytes is less than one page (4096 bytes),"
                            + " too little for any process");
                    v = null;
                }
                limit = Optional.ofNullable(v);
                limitBad = v == null;
            }
            if (value(f, "swapLimit") != null) {
                Node s = value(f, "swapLimit");
                Limit v = size(s, "memory.swapLimit", true);
                if (v != null && value(f, "limit") == null) {
                    n.error(s, "memory.swapLimit: needs memory.limit as well; swapLimit counts memory plus swap");
                } else if (v != null && !limitBad && less(v, limit.orElseThrow())) {
                    n.error(s, "memory.swapLimit: " + v + " is less than memory.limit " + limit.orElseThrow()
                            + "; swapLimit counts memory plus swap, so it must be at least the limit");
                } else {
                    swap = Optional.ofNullable(v);
                }
            }
            if (value(f, "oomKillDisable") != null) {
                Boolean v = n.bool(value(f, "oomKillDisable"), "memory.oomKillDisable");
                if (Boolean.TRUE.equals(v) && host.cgroupV2()) {
                    // v1's memory.oom_control has no v2 counterpart; ignoring the key would leave
                    // the operator believing the OOM killer is held off when it is not ("false"
                    // asks for what v2 always does, and stays valid)
                    n.error(value(f, "oomKillDisable"), "memory.oomKillDisable: this host runs cgroup v2, which"
                            + " has no way to disable the OOM killer for a group; remove the key (memory.oom.group"
                            + " and a higher memory.limit are the v2 tools)");
                } else {
                    oomKillDisable = Optional.ofNullable(v);
                }
            }
            Optional<Limit> high = v2Only(f, "high", "memory.high", "the v1 memory controller has no throttle"
                    + " threshold; memory.limit is the only hard line there");
            Optional<Limit> low = Optional.empty();
            if (value(f, "low") != null) {
                // v1: memory.soft_limit_in_bytes, the nearest thing (reclaimed down to it first under
                // global pressure, protected from nothing); README says so
                low = Optional.ofNullable(size(value(f, "low"), "memory.low", true));
            }
            Optional<Limit> min = v2Only(f, "min", "memory.min", "the v1 memory controller cannot protect memory"
                    + " from reclaim; memory.low becomes the v1 soft limit");
            Optional<Boolean> oomGroup = Optional.empty();
            if (value(f, "oomGroup") != null) {
                oomGroup = Optional.ofNullable(n.bool(value(f, "oomGroup"), "memory.oomGroup"));
            }
            return new Resources.Memory(limit, swap, oomKillDisable, high, low, min, oomGroup);
        }

        /** A size key only cgroup v2 has; on v1 a located error saying why. */
        private Optional<Limit> v2Only(Map<String, NodeTuple> f, String key, String path, String why) {
            Node node = value(f, key);
            if (node == null) {
                return Optional.empty();
            }
            Limit v = size(node, path, true);
            if (v != null && !host.cgroupV2()) {
                n.error(node, path + ": this host runs cgroup v1: " + why + "; remove the key");
                return Optional.empty();
            }
            return Optional.ofNullable(v);
        }

        private static boolean less(Limit a, Limit b) {
            if (a instanceof Limit.Max) {
                return false;
            }
            return b instanceof Limit.Max || ((Limit.Of) a).value() < ((Limit.Of) b).value();
        }

        // ---- io ----

        /**
         * Why this host cannot weight I/O, if it cannot: proportional weights need an I/O
         * scheduler that reads them (BFQ: blkio.bfq.weight / io.bfq.weight; CFQ before 5.0:
         * blkio.weight; v2's io.weight with io.cost). A host without any has none of the files,
         * and a write would fail at every pass: refused here, where the operator reads it.
         */
        private Optional<String> weightProblem() {
            List<String> files = host.cgroupV2() ? List.of("io.weight", "io.bfq.weight")
                    : List.of("blkio.weight", "blkio.bfq.weight");
            Optional<String> first = host.cgroupFileProblem(files.get(0));
            Optional<String> second = host.cgroupFileProblem(files.get(1));
            if (first.isEmpty() || second.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of("this host cannot weight I/O: " + second.get() + ", nor " + files.get(0)
                    + " (no block device uses a scheduler that reads weights, such as BFQ: `echo bfq >"
                    + " /sys/block/DEV/queue/scheduler` where the kernel has it); leave io.weight out, io.devices"
                    + " throttles work without it");
        }

        Resources.Io io(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "io", IO_KEYS);
            if (f == null) {
                return null;
            }
            OptionalInt weight = OptionalInt.empty();
            if (value(f, "weight") != null) {
                Long v = n.integerIn(value(f, "weight"), "io.weight", 10, 1000);
                weight = v == null ? weight : OptionalInt.of(v.intValue());
                if (v != null) {
                    weightProblem().ifPresent(why -> n.error(value(f, "weight"), "io.weight: " + why));
                }
            }
            List<Resources.DeviceLimits> devices = new ArrayList<>();
            if (value(f, "devices") != null) {
                List<Node> entries = n.list(value(f, "devices"), "io.devices");
                Map<DeviceNumber, String> seen = new HashMap<>();
                for (int i = 0; entries != null && i < entries.size(); i++) {
                    Resources.DeviceLimits d = device(entries.get(i), "io.devices[" + i + "]", seen);
                    if (d != null) {
                        devices.add(d);
                    }
                }
            }
            return new Resources.Io(weight, devices);
        }

        private Resources.DeviceLimits device(Node node, String path, Map<DeviceNumber, String> seen) {
            Map<String, NodeTuple> f = n.mapping(node, path, DEVICE_KEYS);
            if (f == null) {
                return null;
            }
            Optional<Limit> readBps = limit(f, "readBps", path, true);
            Optional<Limit> writeBps = limit(f, "writeBps", path, true);
            Optional<Limit> readIops = limit(f, "readIops", path, false);
            Optional<Limit> writeIops = limit(f, "writeIops", path, false);
            if (f.keySet().stream().noneMatch(k -> !k.equals("device"))) {
                n.error(node, path + ": sets no limit; give at least one of readBps, writeBps, readIops, writeIops");
            }
            if (value(f, "device") == null) {
                n.error(node, path + ": missing required key \"device\" (a block device path like /dev/vda, or MAJ:MIN)");
                return null;
            }
            Node dev = value(f, "device");
            String text = n.text(dev, path + ".device", "a block device path or MAJ:MIN");
            if (text == null) {
                return null;
            }
            DeviceNumber number;
            try {
                number = host.blockDevice(text);
            } catch (RuntimeException e) {
                n.error(dev, path + ".device: " + e.getMessage());
                return null;
            }
            String earlier = seen.putIfAbsent(number, path);
            if (earlier != null) {
                n.error(dev, path + ".device: " + Nodes.clip(text, Nodes.QUOTE_MAX) + " is device " + number + ", already limited in " + earlier);
                return null;
            }
            return new Resources.DeviceLimits(text, number, readBps, writeBps, readIops, writeIops);
        }

        private Optional<Limit> limit(Map<String, NodeTuple> f, String key, String path, boolean bytes) {
            Node node = value(f, key);
            if (node == null) {
                return Optional.empty();
            }
            String p = path + "." + key;
            Limit v = bytes ? size(node, p, true) : count(node, p);
            if (v instanceof Limit.Of(long x) && x < 1) {
                n.error(node, p + ": must be at least 1; write \"max\" for no limit");
                return Optional.empty();
            }
            return Optional.ofNullable(v);
        }

        // ---- pids ----

        Resources.Pids pids(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "pids", PIDS_KEYS);
            if (f == null) {
                return null;
            }
            Node max = value(f, "max");
            if (max == null) {
                return new Resources.Pids(Optional.empty());
            }
            Limit v = count(max, "pids.max");
            if (v instanceof Limit.Of(long x) && x < 1) {
                n.error(max, "pids.max: must be at least 1; write \"max\" for no limit");
                return null;
            }
            return v == null ? null : new Resources.Pids(Optional.of(v));
        }

        // ---- files (raw) ----

        /** {@code files:}: control file name to the text written into it (see cgroup/RawFiles). */
        SortedMap<String, String> files(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "files", null);
            if (f == null) {
                return null;
            }
            if (f.size() > RawFiles.MAX_FILES) {
                n.error(node, "files: " + f.size() + " files; at most " + RawFiles.MAX_FILES);
                return null;
            }
            SortedMap<String, String> out = new java.util.TreeMap<>();
            boolean bad = false;
            for (Map.Entry<String, NodeTuple> e : f.entrySet()) {
                String name = e.getKey();
                Node key = e.getValue().getKeyNode();
                String path = "files." + Nodes.clip(name, Nodes.QUOTE_MAX);
                Optional<String> problem = RawFiles.nameProblem(name);
                if (problem.isEmpty()) {
                    problem = host.cgroupFileProblem(name);
                }
                if (problem.isPresent()) {
                    n.error(key, "files: " + Nodes.quote(name) + " " + problem.get());
                    bad = true;
                    continue;
                }
                String value = n.text(e.getValue().getValueNode(), path, "the text to write, like \"8:0 target=10\"");
                if (value == null) {
                    bad = true;
                } else if (value.isBlank() || value.length() > RawFiles.MAX_VALUE) {
                    n.error(e.getValue().getValueNode(), path + ": " + (value.isBlank() ? "is empty"
                            : value.length() + " characters; a control file takes at most " + RawFiles.MAX_VALUE)
                            + "; leave the file out to leave it as it is");
                    bad = true;
                } else {
                    out.put(name, value.strip());
                }
            }
            return bad ? null : out;
        }

        // ---- devices ----

        Resources.Devices devices(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "devices", DEVICES_KEYS);
            if (f == null) {
                return null;
            }
            Node allow = value(f, "allow");
            if (allow == null) {
                n.error(node, "devices: missing required key \"allow\" (a list of rules like \"c 1:3 rwm\"; an"
                        + " empty list denies every device)");
                return null;
            }
            List<Node> entries = n.list(allow, "devices.allow");
            if (entries == null) {
                return null;
            }
            if (entries.size() > Resources.Devices.MAX_RULES) {
                n.error(allow, "devices.allow: " + entries.size() + " rules; at most " + Resources.Devices.MAX_RULES
                        + " (wildcards like \"c 136:* rwm\" cover many devices in one rule)");
                return null;
            }
            List<DeviceRule> rules = new ArrayList<>();
            List<Integer> at = new ArrayList<>();
            boolean bad = false;
            for (int i = 0; i < entries.size(); i++) {
                String path = "devices.allow[" + i + "]";
                String text = n.text(entries.get(i), path, "a rule like \"c 1:3 rwm\"");
                if (text == null) {
                    bad = true;
                    continue;
                }
                DeviceRule rule;
                try {
                    rule = DeviceRule.parse(text);
                } catch (IllegalArgumentException e) {
                    n.error(entries.get(i), path + ": " + Nodes.clip(e.getMessage(), Nodes.QUOTE_MAX * 2));
                    bad = true;
                    continue;
                }
                // The kernel keeps one entry per type and numbers and merges the accesses of a
                // second one into it: two rules for the same devices are one rule written twice.
                for (int j = 0; j < rules.size(); j++) {
                    if (rules.get(j).sameDevices(rule)) {
                        n.error(entries.get(i), path + ": " + Nodes.quote(text) + " names the same devices as"
                                + " devices.allow[" + at.get(j) + "] " + Nodes.quote(rules.get(j).toString())
                                + "; write one rule with every access it needs");
                        bad = true;
                        rule = null;
                        break;
                    }
                }
                if (rule != null) {
                    rules.add(rule);
                    at.add(i);
                }
            }
            return bad ? null : new Resources.Devices(rules);
        }

        // ---- events ----

        List<URI> events(Node node) {
            Map<String, NodeTuple> f = n.mapping(node, "events", EVENTS_KEYS);
            if (f == null || value(f, "oom") == null) {
                return List.of();
            }
            Map<String, NodeTuple> oom = n.mapping(value(f, "oom"), "events.oom", OOM_KEYS);
            if (oom == null || value(oom, "webhooks") == null) {
                return List.of();
            }
            List<Node> hooks = n.list(value(oom, "webhooks"), "events.oom.webhooks");
            List<URI> uris = new ArrayList<>();
            for (int i = 0; hooks != null && i < hooks.size(); i++) {
                String path = "events.oom.webhooks[" + i + "]";
                String text = n.text(hooks.get(i), path, "a URL");
                if (text == null) {
                    continue;
                }
                URI uri = webhook(text);
                if (uri == null) {
                    n.error(hooks.get(i), path + ": " + Nodes.quote(text) + " is not an absolute http or https URL with a host,"
                            + " like \"http://127.0.0.1:9000/oom\"");
                } else {
                    uris.add(uri);
                }
            }
            return uris;
        }

        /**
         * events.pressure: each entry a PSI trigger the kernel checks for the group. The bounds are
         * the kernel's (kernel/sched/psi.c): a window of 500ms to 10s, a stall time of at least
         * 1us and at most the window; out of them its write fails with EINVAL, so they are refused
         * here where the operator can see which entry.
         */
        List<Pressure.Trigger> pressureTriggers(Node node) {
            if (!(node instanceof org.snakeyaml.engine.v2.nodes.MappingNode map)) {
                return List.of(); // events() said what is wrong
            }
            Node list = null;
            for (NodeTuple t : map.getValue()) {
                if (t.getKeyNode() instanceof org.snakeyaml.engine.v2.nodes.ScalarNode k && k.getValue().equals("pressure")) {
                    list = t.getValueNode();
                }
            }
            if (list == null) {
                return List.of();
            }
            if (!host.pressureFiles()) {
                n.error(list, "events.pressure: this host has no per-group pressure files (PSI needs cgroup v2, or a "
                        + "hybrid host's unified tree at <mount>/unified, and a kernel with PSI on: /proc/pressure)");
                return List.of();
            }
            List<Node> entries = n.list(list, "events.pressure");
            List<Pressure.Trigger> out = new ArrayList<>();
            for (int i = 0; entries != null && i < entries.size(); i++) {
                String path = "events.pressure[" + i + "]";
                Pressure.Trigger t = pressureTrigger(entries.get(i), path);
                if (t == null) {
                    continue;
                }
                int same = out.indexOf(t);
                if (same >= 0) {
                    n.error(entries.get(i), path + ": the same trigger as events.pressure[" + same + "]");
                    continue;
                }
                out.add(t);
            }
            return out;
        }

        private Pressure.Trigger pressureTrigger(Node node, String path) {
            Map<String, NodeTuple> f = n.mapping(node, path, PRESSURE_KEYS);
            if (f == null) {
                return null;
            }
            boolean bad = false;
            for (String required : List.of("resource", "threshold", "window")) {
                if (value(f, required) == null) {
                    n.error(node, path + ": " + required + " is required (like {resource: memory, stall: some, "
                            + "threshold: 10%, window: 1s})");
                    bad = true;
                }
            }
            if (bad) {
                return null;
            }
            Pressure.Resource resource = word(value(f, "resource"), path + ".resource", Pressure.Resource.values());
            Pressure.Stall stall = value(f, "stall") == null ? Pressure.Stall.SOME
                    : word(value(f, "stall"), path + ".stall", Pressure.Stall.values());
            Duration window = null;
            Node w = value(f, "window");
            String wt = n.text(w, path + ".window", "a duration like \"1s\"");
            if (wt != null) {
                try {
                    Duration d = Units.duration(wt);
                    if (d.compareTo(Pressure.MIN_WINDOW) < 0 || d.compareTo(Pressure.MAX_WINDOW) > 0) {
                        n.error(w, path + ".window: " + Nodes.clip(wt.strip(), Nodes.QUOTE_MAX)
                                + " is outside the kernel's trigger windows, 500ms to 10s");
                    } else if (d.toNanos() % 1000 != 0) {
                        n.error(w, path + ".window: " + Nodes.clip(wt.strip(), Nodes.QUOTE_MAX)
                                + " is not a whole number of microseconds, the kernel's unit");
                    } else {
                        window = d;
                    }
                } catch (IllegalArgumentException e) {
                    n.error(w, path + ".window: " + e.getMessage());
                }
            }
            Double threshold = null;
            Node th = value(f, "threshold");
            String tt = n.text(th, path + ".threshold", "a percentage of the window like \"10%\"");
            if (tt != null) {
                try {
                    double percent = Units.percent(tt);
                    if (percent <= 0 || percent > 100) {
                        n.error(th, path + ".threshold: " + Nodes.clip(tt.strip(), Nodes.QUOTE_MAX)
                                + " is not a share of the window; write more than 0% and at most 100%");
                    } else if (window != null && percent / 100.0 * (window.toNanos() / 1000.0) < 1) {
                        n.error(th, path + ".threshold: " + tt.strip() + " of " + Units.format(window)
                                + " is less than 1us, the kernel's least stall time");
                    } else {
                        threshold = percent;
                    }
                } catch (IllegalArgumentException e) {
                    n.error(th, path + ".threshold: " + e.getMessage());
                }
            }
            if (resource == null || stall == null || window == null || threshold == null) {
                return null;
            }
            return new Pressure.Trigger(resource, stall, threshold, window);
        }

        /** One of {@code values} by its lower-case word, or a located error listing them. */
        private <E extends Enum<E>> E word(Node node, String path, E[] values) {
            List<String> words = new ArrayList<>();
            for (E v : values) {
                words.add(v.name().toLowerCase(java.util.Locale.ROOT));
            }
            String text = n.text(node, path, String.join(" | ", words));
            if (text == null) {
                return null;
            }
            int i = words.indexOf(text.strip());
            if (i < 0) {
                n.error(node, path + ": " + Nodes.quote(text) + " is not one of " + String.join(", ", words)
                        + Hints.suffix(text.strip(), words));
                return null;
            }
            return values[i];
        }

        private static URI webhook(String text) {
            try {
                URI uri = new URI(text.strip());
                boolean http = "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
                return http && !uri.isOpaque() && uri.getHost() != null ? uri : null;
            } catch (URISyntaxException e) {
                return null;
            }
        }

        // ---- match ----

        List<MatchRule> match(Node node) {
            List<Node> entries = n.list(node, "match");
            List<MatchRule> rules = new ArrayList<>();
            for (int i = 0; entries != null && i < entries.size(); i++) {
                MatchRule rule = matchRule(entries.get(i), "match[" + i + "]");
                if (rule != null) {
                    rules.add(rule);
                }
            }
            return rules;
        }

        private MatchRule matchRule(Node node, String path) {
            Map<String, NodeTuple> f = n.mapping(node, path, MATCH_KEYS);
            if (f == null) {
                return null;
            }
            if (f.isEmpty()) {
                if (Nodes.isNull(node) || ((org.snakeyaml.engine.v2.nodes.MappingNode) node).getValue().isEmpty()) {
                    n.error(node, path + ": an entry needs at least one of comm, exe, cmdline, user;"
                            + " an empty entry would match every process");
                }
                return null;
            }
            Optional<String> comm = Optional.empty();
            Optional<String> exe = Optional.empty();
            Optional<com.google.re2j.Pattern> cmdline = Optional.empty();
            Optional<String> user = Optional.empty();
            if (value(f, "comm") != null) {
                Node c = value(f, "comm");
                String text = n.text(c, path + ".comm", "a process name");
                if (text != null && (text.isEmpty() || text.length() > COMM_MAX)) {
                    n.error(c, path + ".comm: " + Nodes.quote(text) + " is " + text.length() + " characters; the kernel keeps"
                            + " 1 to 15 characters of a process name in /proc/PID/comm, so it could never match");
                } else {
                    comm = Optional.ofNullable(text);
                }
            }
            if (value(f, "exe") != null) {
                exe = Optional.ofNullable(absolute(value(f, "exe"), path + ".exe",
                        "exe is compared with the resolved /proc/PID/exe")).map(Path::toString);
            }
            if (value(f, "cmdline") != null) {
                Node c = value(f, "cmdline");
                String text = n.text(c, path + ".cmdline", "an RE2 regular expression");
                if (text != null) {
                    switch (CmdlinePattern.compile(text)) {
                        case CmdlinePattern.Compiled ok -> cmdline = Optional.of(ok.pattern());
                        case CmdlinePattern.Refused no -> n.error(c, path + ".cmdline: " + no.reason());
                    }
                }
            }
            if (value(f, "user") != null) {
                Node u = value(f, "user");
                user = Optional.ofNullable(userOrId(u, path + ".user", "user name", "uid"));
                if (user.isPresent() && !host.userExists(user.get())) {
                    // a rule for a user this host lacks could never match: as an unknown CPU or device
                    n.error(u, path + ".user: no user " + Nodes.quote(user.get()) + " on this host (/etc/passwd);"
                            + " create it or give a numeric uid");
                    user = Optional.empty();
                }
            }
            return new MatchRule(comm, exe, cmdline, user);
        }

        // ---- shared value readers ----

        private Duration duration(Node node, String path) {
            String text = n.text(node, path, "a duration like \"100ms\"");
            if (text == null) {
                return null;
            }
            try {
                return Units.duration(text);
            } catch (IllegalArgumentException e) {
                n.error(node, path + ": " + e.getMessage());
                return null;
            }
        }

        private Limit size(Node node, String path, boolean maxAllowed) {
            String text = n.text(node, path, "a size like \"256Mi\"");
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

        /** A positive count, or "max". */
        private Limit count(Node node, String path) {
            if (node instanceof org.snakeyaml.engine.v2.nodes.ScalarNode s && s.getValue().equals("max")) {
                return Limit.MAX;
            }
            if (!(node instanceof org.snakeyaml.engine.v2.nodes.ScalarNode s && s.getTag().equals(
                    org.snakeyaml.engine.v2.nodes.Tag.INT))) {
                n.error(node, path + ": expected an integer or \"max\", got " + Nodes.describe(node));
                return null;
            }
            BigInteger v = n.integer(node, path);
            if (v == null) {
                return null;
            }
            if (v.signum() < 0 || v.bitLength() > 63) {
                n.error(node, path + ": " + v + " is out of range 1.." + Long.MAX_VALUE);
                return null;
            }
            return Limit.of(v.longValue());
        }

        private Path absolute(Node node, String path, String why) {
            return PolicyParser.absolute(n, node, path, why);
        }

        private String userOrId(Node node, String path, String nameWord, String idWord) {
            return PolicyParser.userOrId(n, node, path, nameWord, idWord);
        }
    }

    /** An absolute path, or null after an error that says {@code why} it must be absolute. */
    static Path absolute(Nodes n, Node node, String path, String why) {
        String text = n.text(node, path, "an absolute path");
        if (text == null) {
            return null;
        }
        if (!text.startsWith("/") || text.indexOf('\0') >= 0) {
            n.error(node, path + ": " + Nodes.quote(text) + " is not an absolute path; " + why);
            return null;
        }
        return Path.of(text);
    }

    /** A user or group: a name as useradd accepts it, or a numeric id. */
    static String userOrId(Nodes n, Node node, String path, String nameWord, String idWord) {
        String text = n.text(node, path, "a " + nameWord + " or a numeric " + idWord);
        if (text == null) {
            return null;
        }
        if (!USER_NAME.matcher(text).matches() && !(NUMERIC_ID.matcher(text).matches()
                && Long.parseLong(text) <= 0xFFFF_FFFEL)) {
            n.error(node, path + ": " + Nodes.quote(text) + " is neither a " + nameWord + " nor a numeric " + idWord);
            return null;
        }
        return text;
    }
}

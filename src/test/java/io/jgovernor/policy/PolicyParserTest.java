package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.model.DeviceRule;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import io.jgovernor.model.RunSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyParserTest {
    static final Path WEB = Path.of("/etc/jgovernor/policies.d/web.yaml");
    private final PolicyParser parser = new PolicyParser(FakeHost.HOST);

    static List<String> errors(String yaml) {
        ParseResult result = new PolicyParser(FakeHost.HOST).parse(WEB, yaml);
        ParseResult.Rejected rejected = assertInstanceOf(ParseResult.Rejected.class, result, "expected errors for:\n" + yaml);
        return rejected.errors().stream().map(PolicyError::toString).toList();
    }

    private Policy only(String yaml) {
        ParseResult result = parser.parse(WEB, yaml);
        if (result instanceof ParseResult.Rejected r) {
            throw new AssertionError("unexpected errors: " + r.errors());
        }
        List<ParsedPolicy> policies = ((ParseResult.Ok) result).policies();
        assertEquals(1, policies.size());
        return policies.getFirst().policy();
    }

    @Test
    void fullExampleUsesEveryKey() throws IOException {
        String yaml;
        try (InputStream in = getClass().getResourceAsStream("/policy/full.yaml")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ParseResult result = parser.parse(WEB, yaml);
        ParseResult.Ok ok = assertInstanceOf(ParseResult.Ok.class, result, result.toString());
        ParsedPolicy parsed = ok.policies().getFirst();
        assertEquals(1, parsed.nameLine());
        assertEquals(7, parsed.nameColumn());
        Policy p = parsed.policy();
        assertEquals(new GroupName("web"), p.name());
        assertEquals(Optional.of("Public web tier"), p.description());

        assertEquals(3, p.match().size());
        assertEquals(Optional.of("nginx"), p.match().get(0).comm());
        assertEquals(Optional.empty(), p.match().get(0).exe());
        assertEquals(Optional.of("/usr/bin/python3.11"), p.match().get(1).exe());
        assertEquals("http\\.server", p.match().get(1).cmdline().orElseThrow().pattern());
        assertEquals(Optional.of("www-data"), p.match().get(1).user());
        assertEquals(Optional.of("33"), p.match().get(2).user());

        RunSpec run = p.run().orElseThrow();
        assertEquals(List.of("/usr/bin/python3", "-m", "http.server", "8080"), run.command());
        assertEquals(Optional.of("nobody"), run.user());
        assertEquals(Optional.of("nogroup"), run.group());
        assertEquals(Optional.of(Path.of("/srv")), run.workingDir());
        assertEquals(Map.of("LANG", "C.UTF-8", "WORKERS", "4", "EMPTY", ""), run.env());
        assertEquals(RunSpec.Restart.ALWAYS, run.restart());
        assertEquals(Duration.ofMillis(1500), run.stopTimeout());
        RunSpec.Isolation iso = run.isolate().orElseThrow();
        assertEquals(Set.of(RunSpec.Namespace.values()), iso.namespaces());
        assertEquals(Optional.of("web-1"), iso.hostname());
        assertEquals(Optional.of(Path.of("/var/lib/jgovernor/rootfs/web")), iso.rootfs());
        assertTrue(iso.readOnlyRootfs());
        assertEquals(List.of(new RunSpec.BindMount(Path.of("/srv/data"), Path.of("/data"), false),
                new RunSpec.BindMount(Path.of("/etc/ssl"), Path.of("/etc/ssl"), true)), iso.mounts());
        assertEquals(List.of(new RunSpec.IdMapping(0, 100000, 65536), new RunSpec.IdMapping(65536, 1000, 1)),
                iso.uidMap());

        Resources r = p.resources();
        Resources.Cpu cpu = r.cpu().orElseThrow();
        assertEquals(OptionalLong.of(512), cpu.shares());
        assertEquals(OptionalLong.empty(), cpu.weight());
        assertEquals(50.0, cpu.quotaPercent().orElseThrow());
        assertEquals(Optional.of(Duration.ofMillis(100)), cpu.period());
        Resources.Cpuset cpuset = r.cpuset().orElseThrow();
        assertEquals(Optional.of(CpuList.parse("0-1,3")), cpuset.cpus());
        assertEquals(Optional.of(CpuList.parse("0")), cpuset.mems());
        assertEquals(OptionalInt.empty(), cpuset.numaNode());
        Resources.Memory mem = r.memory().orElseThrow();
        assertEquals(Optional.of(Limit.of(268435456L)), mem.limit());
        assertEquals(Optional.of(Limit.of(536870912L)), mem.swapLimit());
        assertEquals(Optional.of(false), mem.oomKillDisable());
        Resources.Io io = r.io().orElseThrow();
        assertEquals(OptionalInt.of(500), io.weight());
        assertEquals(List.of(new Resources.DeviceLimits("/dev/vda", new DeviceNumber(253, 0),
                Optional.of(Limit.of(10L << 20)), Optional.of(Limit.of(5L << 20)), Optional.of(Limit.of(1000)),
                Optional.of(Limit.MAX))), io.devices());
        assertEquals(Optional.of(new Resources.Pids(Optional.of(Limit.of(128)))), r.pids());
        assertEquals(List.of("c 1:3 rwm", "b 8:* r", "a 136:* rw"),
                r.devices().orElseThrow().allow().stream().map(DeviceRule::toString).toList());
        assertEquals(List.of(URI.create("http://127.0.0.1:9000/oom"), URI.create("https://hooks.example.com/x?y=1")),
                p.oomWebhooks());
    }

    @Test
    void deviceRulesAreReadAsDevicesAllowTakesThem() {
        List<DeviceRule> rules = only("name: web\ndevices:\n  allow: [\"c 1:3 rwm\", \" b  8:*  r \", \"c *:* m\"]\n")
                .resources().devices().orElseThrow().allow();
        assertEquals(new DeviceRule('c', 1, 3, Set.of(DeviceRule.Access.READ, DeviceRule.Access.WRITE,
                DeviceRule.Access.MKNOD)), rules.get(0));
        assertEquals(new DeviceRule('b', 8, DeviceRule.ANY, Set.of(DeviceRule.Access.READ)), rules.get(1));
        assertEquals("c *:* m", rules.get(2).toString());
        assertEquals("mwr order is the kernel's: c 1:3 rwm", "mwr order is the kernel's: "
                + DeviceRule.parse("c 1:3 mwr"));
        // an empty list denies every device
        assertEquals(List.of(), only("name: web\ndevices: {allow: []}\n").resources().devices().orElseThrow().allow());
    }

    @Test
    void anIsolatedWorkloadGetsTheMinimalDeviceListUnlessThePolicyHasOne() {
        String isolated = "name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [pid]}\n";
        Resources.Devices implicit = only(isolated).resources().devices().orElseThrow();
        assertEquals(Resources.Devices.ISOLATED, implicit);
        assertEquals(List.of("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
                "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m"), implicit.allow().stream().map(DeviceRule::toString).toList());
        assertEquals(List.of("c 1:3 rw"), only(isolated + "devices: {allow: [\"c 1:3 rw\"]}\n").resources()
                .devices().orElseThrow().allow().stream().map(DeviceRule::toString).toList());
        // a workload that is not isolated shares the host's devices, as any process of the group
        assertEquals(Optional.empty(), only("name: web\nrun:\n  command: [/bin/x]\n").resources().devices());
        assertEquals(Optional.empty(), only("name: web\n").resources().devices());
    }

    @Test
    void aDeviceListIsBounded() {
        StringBuilder yaml = new StringBuilder("name: web\ndevices:\n  allow:\n");
        for (int i = 0; i <= Resources.Devices.MAX_RULES; i++) {
            yaml.append("    - \"c 1:").append(i).append(" r\"\n");
        }
        assertEquals(List.of(WEB + ":4:5: devices.allow: 257 rules; at most 256 (wildcards like \"c 136:* rwm\""
                + " cover many devices in one rule)"), errors(yaml.toString()));
    }

    @Test
    void minimalPolicyManagesNothing() {
        Policy p = only("name: batch/low\n");
        assertEquals(new GroupName("batch/low"), p.name());
        assertEquals(Resources.NONE, p.resources());
        assertEquals(Optional.empty(), p.run());
        assertEquals(List.of(), p.match());
        assertEquals(List.of(), p.oomWebhooks());
    }

    @Test
    void nullSectionIsAnEmptySection() {
        Policy p = only("name: web\nmemory:\ncpu:\n");
        assertEquals(Optional.of(new Resources.Memory(Optional.empty(), Optional.empty(), Optional.empty())),
                p.resources().memory());
        assertTrue(p.resources().cpu().isPresent());
        assertEquals(Optional.empty(), p.resources().io());
    }

    @Test
    void numaNodeIsResolvedAgainstTheHost() {
        Resources.Cpuset c = only("name: web\ncpuset: {numaNode: 1}\n").resources().cpuset().orElseThrow();
        assertEquals(Optional.of(CpuList.parse("2-3")), c.cpus());
        assertEquals(Optional.of(CpuList.parse("1")), c.mems());
        assertEquals(OptionalInt.of(1), c.numaNode());
    }

    @Test
    void unitsAndDefaults() {
        Policy p = only("""
                name: web
                cpu: {weight: 100, quota: 12.5%, period: 1s}
                memory: {limit: max, swapLimit: max}
                io: {devices: [{device: "253:0", writeBps: 1G}]}
                pids: {max: max}
                run: {command: [/bin/true], stopTimeout: 2m}
                """);
        Resources.Cpu cpu = p.resources().cpu().orElseThrow();
        assertEquals(OptionalLong.of(100), cpu.weight());
        assertEquals(12.5, cpu.quotaPercent().orElseThrow());
        assertEquals(Duration.ofSeconds(1), cpu.periodOrDefault());
        assertEquals(Optional.of(Limit.MAX), p.resources().memory().orElseThrow().limit());
        assertEquals(Optional.of(Limit.of(1L << 30)), p.resources().io().orElseThrow().devices().getFirst().writeBps());
        assertEquals(new DeviceNumber(253, 0), p.resources().io().orElseThrow().devices().getFirst().number());
        assertEquals(Optional.of(Limit.MAX), p.resources().pids().orElseThrow().max());
        RunSpec run = p.run().orElseThrow();
        assertEquals(RunSpec.Restart.ON_FAILURE, run.restart());
        assertEquals(Duration.ofMinutes(2), run.stopTimeout());
        assertEquals(Optional.empty(), run.isolate());
        assertEquals(Map.of(), run.env());
    }

    @Test
    void mountTargetsAreNormalizedAndMayNameADeviceOrANameLikeProc() {
        Policy p = only("""
                name: web
                run:
                  command: [/bin/true]
                  isolate:
                    namespaces: [mount, cgroup]
                    mounts:
                      - {source: /srv/a, target: /data/./x/}
                      - {source: /dev/fuse, target: /dev/fuse}
                      - {source: /srv/b, target: /procfs}
                """);
        RunSpec.Isolation iso = p.run().orElseThrow().isolate().orElseThrow();
        assertEquals(Set.of(RunSpec.Namespace.MOUNT, RunSpec.Namespace.CGROUP), iso.namespaces());
        assertEquals(List.of(Path.of("/data/x"), Path.of("/dev/fuse"), Path.of("/procfs")),
                iso.mounts().stream().map(RunSpec.BindMount::target).toList());
    }

    @Test
    void sizeSuffixes() {
        assertEquals(Limit.of(512 * 1024), Units.size("512K", false));
        assertEquals(Limit.of(512 * 1024), Units.size("512Ki", false));
        assertEquals(Limit.of(3L << 40), Units.size("3Ti", false));
        assertEquals(Limit.of(1536), Units.size("1.5K", false));
        assertEquals(Limit.of(4096), Units.size("4096", false));
        assertEquals(Duration.ofNanos(500_000), Units.duration("500us"));
        assertEquals(Duration.ofHours(1), Units.duration("1h"));
        assertEquals(250.0, Units.percent("250%"));
    }

    @Test
    void severalPoliciesInOneFile() {
        ParseResult result = parser.parse(WEB, "name: a\n---\nname: b\n---\n");
        List<ParsedPolicy> ps = assertInstanceOf(ParseResult.Ok.class, result).policies();
        assertEquals(List.of("a", "b"), ps.stream().map(x -> x.policy().name().value()).toList());
        assertEquals(3, ps.get(1).nameLine());
        assertEquals(7, ps.get(1).nameColumn());
    }

    @Test
    void yesIsAStringNotABoolean() {
        assertEquals(List.of(WEB + ":2:26: memory.oomKillDisable: expected true or false, got \"yes\""),
                errors("name: web\nmemory: {oomKillDisable: yes}\n"));
        assertEquals(Optional.of("yes"), only("name: web\ndescription: yes\n").description());
    }

    @Test
    void collectsEveryErrorOfAFile() {
        assertEquals(List.of(
                WEB + ":3:1: unknown key \"memroy\" (did you mean \"memory\"?)",
                WEB + ":5:10: cpu.quota: \"150\" is not a percentage; write it like \"150%\"",
                WEB + ":6:11: cpu.period: \"10\" has no unit; write it like \"10s\" (units: us, ms, s, m, h)"),
                errors("""
                        name: web
                        description: x
                        memroy: 1G
                        cpu:
                          quota: 150
                          period: 10
                        """));
    }

    @Test
    void specExamples() {
        assertEquals(List.of(WEB + ":9:10: cpu.quota: \"150\" is not a percentage; write it like \"150%\""),
                errors("""
                        name: web
                        description: Public web tier
                        match:
                          - comm: nginx
                        memory:
                          limit: 256Mi
                        pids: {max: 10}
                        cpu:
                          quota: 150
                        """));
        assertEquals(List.of(WEB + ":3:1: unknown key \"memroy\" (did you mean \"memory\"?)"),
                errors("name: web\ndescription: x\nmemroy:\n  limit: 1G\n"));
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                // YAML itself
                bad("name: web\ncpu: {shares: 2\n", "3:1: YAML syntax error: expected ',' or '}', but got <stream end> (while parsing a flow mapping)"),
                bad("name: web\n  cpu: 1\n", "2:6: YAML syntax error: mapping values are not allowed here"),
                bad("name: web\nname: db\n", "2:1: duplicate key \"name\" (first set on line 1)"),
                bad("name: web\ncpu:\n  shares: 2\n  shares: 4\n", "4:3: cpu: duplicate key \"shares\" (first set on line 3)"),
                bad("name: web\n? [a]\n: 1\n", "2:3: a key must be a plain word, got a list"),
                bad("name: web\n\tcpu: {}\n", "2:1: YAML syntax error: found character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation) (while scanning for the next token)"),
                bad("name: web\nrun: {command: [/bin/x], env: {A: 1, A: 2}}\n", "2:38: run.env: duplicate key \"A\" (first set on line 2)"),
                bad("- name: web\n", "1:1: a policy must be a mapping of keys such as \"name:\", got a list"),
                bad("just text\n", "1:1: a policy must be a mapping of keys such as \"name:\", got \"just text\""),
                bad("", "1:1: file holds no policy; delete the file to remove its groups"),
                bad("# only a comment\n", "1:1: file holds no policy; delete the file to remove its groups"),
                bad("---\n---\n", "1:1: file holds no policy; delete the file to remove its groups"),
                // names
                bad("description: x\n", "1:1: missing required key \"name\""),
                bad("name: ../x\n", "1:7: name: \"../x\" is not a valid group name: each '/'-separated part must match [a-z0-9][a-z0-9_.-]{0,62}"),
                bad("name: /abs\n", "1:7: name: \"/abs\" is not a valid group name: each '/'-separated part must match [a-z0-9][a-z0-9_.-]{0,62}"),
                bad("name: a//b\n", "1:7: name: \"a//b\" is not a valid group name: each '/'-separated part must match [a-z0-9][a-z0-9_.-]{0,62}"),
                bad("name: UPPER\n", "1:7: name: \"UPPER\" is not a valid group name: each '/'-separated part must match [a-z0-9][a-z0-9_.-]{0,62}"),
                bad("name: " + "a".repeat(64) + "\n", "1:7: name: \"" + "a".repeat(64) + "\" is not a valid group name: each '/'-separated part must match [a-z0-9][a-z0-9_.-]{0,62}"),
                bad("name: [web]\n", "1:7: name: expected a group name, got a list"),
                bad("name: web\n---\nname: web\n", "3:7: group \"web\" is already defined on line 1 of this file"),
                // types
                bad("name: web\ncpu: [1]\n", "2:6: cpu: expected a mapping of keys, got a list"),
                bad("name: web\ncpu: {shares: many}\n", "2:15: cpu.shares: expected an integer, got \"many\""),
                bad("name: web\ncpu: {shares: \"512\"}\n", "2:15: cpu.shares: expected an integer, got \"512\""),
                bad("name: web\ncpu: {qouta: 5%}\n", "2:7: cpu: unknown key \"qouta\" (did you mean \"quota\"?)"),
                bad("name: web\nCPU: {}\n", "2:1: unknown key \"CPU\" (did you mean \"cpu\"?)"),
                bad("name: web\nfoo: 1\n", "2:1: unknown key \"foo\""),
                // cpu
                bad("name: web\ncpu: {shares: 1}\n", "2:15: cpu.shares: 1 is out of range 2..262144"),
                bad("name: web\ncpu: {weight: 10001}\n", "2:15: cpu.weight: 10001 is out of range 1..10000"),
                bad("name: web\ncpu: {shares: 100, weight: 10}\n", "2:28: cpu.weight: set shares (cgroup v1) or weight (cgroup v2), not both; the daemon converts one into the other"),
                bad("name: web\ncpu: {quota: 0%}\n", "2:14: cpu.quota: must be more than 0%; leave quota out for no limit"),
                bad("name: web\ncpu: {quota: 0.5%}\n", "2:14: cpu.quota: 0.5% of a 100ms period is 500us; the kernel's minimum cpu.cfs_quota_us is 1000us, so write at least 1%"),
                bad("name: web\ncpu: {quota: 10%, period: 5ms}\n", "2:14: cpu.quota: 10% of a 5ms period is 500us; the kernel's minimum cpu.cfs_quota_us is 1000us, so write at least 20%"),
                bad("name: web\ncpu: {quota: 1000001%}\n", "2:14: cpu.quota: 1000001% is more than the largest quota, 1000000%"),
                bad("name: web\ncpu: {quota: half}\n", "2:14: cpu.quota: \"half\" is not a percentage; write it like \"50%\""),
                bad("name: web\ncpu: {period: 2s}\n", "2:15: cpu.period: 2s is out of range 1ms..1s (the kernel's limits for cpu.cfs_period_us)"),
                bad("name: web\ncpu: {period: 999us}\n", "2:15: cpu.period: 999us is out of range 1ms..1s (the kernel's limits for cpu.cfs_period_us)"),
                bad("name: web\ncpu: {period: 1 fortnight}\n", "2:15: cpu.period: \"1 fortnight\" is not a duration; write a number with us, ms, s, m or h, like \"100ms\""),
                // cpuset
                bad("name: web\ncpuset: {cpus: \"2-9\"}\n", "2:16: cpuset.cpus: CPUs 4-9 are not online on this host; online CPUs are 0-3"),
                bad("name: web\ncpuset: {cpus: 7}\n", "2:16: cpuset.cpus: CPU 7 is not online on this host; online CPUs are 0-3"),
                bad("name: web\ncpuset: {cpus: \"3-1\"}\n", "2:16: cpuset.cpus: range \"3-1\" runs backwards"),
                bad("name: web\ncpuset: {cpus: \"\"}\n", "2:16: cpuset.cpus: must name at least one CPU; leave the key out to allow all"),
                bad("name: web\ncpuset: {mems: 2}\n", "2:16: cpuset.mems: memory node 2 is not present on this host; present memory nodes are 0-1"),
                bad("name: web\ncpuset: {numaNode: 5}\n", "2:20: cpuset.numaNode: NUMA node 5 does not exist on this host; nodes are 0-1"),
                bad("name: web\ncpuset: {cpus: 0, numaNode: 0}\n", "2:29: cpuset.numaNode: numaNode sets both cpus and mems; write either numaNode or cpus/mems, not both"),
                // memory
                bad("name: web\nmemory: {limit: 100}\n", "2:17: memory.limit: 100 bytes is less than one page (4096 bytes), too little for any process"),
                bad("name: web\nmemory: {limit: 256MB}\n", "2:17: memory.limit: \"256MB\" is not a size; write bytes, or a number with K, M, G, T (1024-based) or Ki, Mi, Gi, Ti, like \"256Mi\", or \"max\""),
                bad("name: web\nmemory: {swapLimit: 1G}\n", "2:21: memory.swapLimit: needs memory.limit as well; swapLimit counts memory plus swap"),
                bad("name: web\nmemory: {limit: 1G, swapLimit: 512Mi}\n", "2:32: memory.swapLimit: 536870912 is less than memory.limit 1073741824; swapLimit counts memory plus swap, so it must be at least the limit"),
                bad("name: web\nmemory: {limit: max, swapLimit: 1G}\n", "2:33: memory.swapLimit: 1073741824 is less than memory.limit max; swapLimit counts memory plus swap, so it must be at least the limit"),
                // io
                bad("name: web\nio: {weight: 5}\n", "2:14: io.weight: 5 is out of range 10..1000"),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/nope, readBps: 1M}\n", "4:16: io.devices[0].device: /dev/nope does not exist"),
                bad("name: web\nio:\n  devices:\n    - {device: /etc/hostname, readBps: 1M}\n", "4:16: io.devices[0].device: /etc/hostname is not a block device"),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/vda, readBps: 1M}\n    - {device: \"253:0\", readIops: 5}\n",
                        "5:16: io.devices[1].device: 253:0 is device 253:0, already limited in io.devices[0]"),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/vda}\n", "4:7: io.devices[0]: sets no limit; give at least one of readBps, writeBps, readIops, writeIops"),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/vda, readBps: fast}\n", "4:35: io.devices[0].readBps: \"fast\" is not a size; write bytes, or a number with K, M, G, T (1024-based) or Ki, Mi, Gi, Ti, like \"256Mi\", or \"max\""),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/vda, readIops: 0}\n", "4:36: io.devices[0].readIops: must be at least 1; write \"max\" for no limit"),
                bad("name: web\nio:\n  devices:\n    - {device: /dev/vda, readIops: 1.5}\n", "4:36: io.devices[0].readIops: expected an integer or \"max\", got the number 1.5"),
                bad("name: web\nio:\n  devices:\n    - {readIops: 5}\n", "4:7: io.devices[0]: missing required key \"device\" (a block device path like /dev/vda, or MAJ:MIN)"),
                // pids
                bad("name: web\npids: {max: 0}\n", "2:13: pids.max: must be at least 1; write \"max\" for no limit"),
                bad("name: web\npids: {max: unlimited}\n", "2:13: pids.max: expected an integer or \"max\", got \"unlimited\""),
                // events
                bad("name: web\nevents: {oom: {webhooks: [\"ftp://x/y\"]}}\n", "2:27: events.oom.webhooks[0]: \"ftp://x/y\" is not an absolute http or https URL with a host, like \"http://127.0.0.1:9000/oom\""),
                bad("name: web\nevents: {oom: {webhooks: [\"/oom\"]}}\n", "2:27: events.oom.webhooks[0]: \"/oom\" is not an absolute http or https URL with a host, like \"http://127.0.0.1:9000/oom\""),
                bad("name: web\nevents: {oom: {webhook: []}}\n", "2:16: events.oom: unknown key \"webhook\" (did you mean \"webhooks\"?)"),
                // match
                bad("name: web\nmatch:\n  - {}\n", "3:5: match[0]: an entry needs at least one of comm, exe, cmdline, user; an empty entry would match every process"),
                bad("name: web\nmatch:\n  - comm: a-very-long-process-name\n", "3:11: match[0].comm: \"a-very-long-process-name\" is 24 characters; the kernel keeps 1 to 15 characters of a process name in /proc/PID/comm, so it could never match"),
                bad("name: web\nmatch:\n  - exe: python3\n", "3:10: match[0].exe: \"python3\" is not an absolute path; exe is compared with the resolved /proc/PID/exe"),
                bad("name: web\nmatch:\n  - comm: java\n  - cmdline: 'foo(bar'\n", "4:14: match[1].cmdline: not a valid RE2 pattern: missing closing ): `foo(bar` at character 1 (RE2 syntax, linear time)"),
                bad("name: web\nmatch:\n  - user: Www\n", "3:11: match[0].user: \"Www\" is neither a user name nor a numeric uid"),
                bad("name: web\nmatch:\n  - cmd: java\n", "3:5: match[0]: unknown key \"cmd\" (did you mean \"comm\"?)"),
                bad("name: web\nmatch: {comm: java}\n", "2:8: match: expected a list, got a mapping"),
                // run
                bad("name: web\nrun: {user: nobody}\n", "2:6: run: missing required key \"command\" (a list like [\"/usr/bin/python3\", \"app.py\"])"),
                bad("name: web\nrun: {command: []}\n", "2:16: run.command: must name at least the program to run"),
                bad("name: web\nrun: {command: \"/bin/sh -c x\"}\n", "2:16: run.command: expected a list, got \"/bin/sh -c x\""),
                bad("name: web\nrun: {command: [python3, app.py]}\n", "2:17: run.command[0]: \"python3\" is not an absolute path; the command runs without a shell and without a PATH search, so write the full path, like \"/usr/bin/python3\""),
                bad("name: web\nrun: {command: [/bin/x], workingDir: srv}\n", "2:38: run.workingDir: \"srv\" is not an absolute path; the workload starts in this directory"),
                bad("name: web\nrun: {command: [/bin/x], group: \"Wheel Group\"}\n", "2:33: run.group: \"Wheel Group\" is neither a group name nor a numeric gid"),
                bad("name: web\nrun: {command: [/bin/x], env: {1FOO: x}}\n", "2:32: run.env: \"1FOO\" is not a valid environment variable name (letters, digits and _, not starting with a digit)"),
                bad("name: web\nrun: {command: [/bin/x], env: {A: [1]}}\n", "2:35: run.env.A: expected a value, got a list"),
                bad("name: web\nrun: {command: [/bin/x], restart: on_failure}\n", "2:35: run.restart: \"on_failure\" is not one of never, on-failure, always (did you mean \"on-failure\"?)"),
                bad("name: web\nrun: {command: [/bin/x], stopTimeout: 0s}\n", "2:39: run.stopTimeout: must be more than 0; the workload needs time to stop after SIGTERM"),
                bad("name: web\nrun: {command: [/bin/x], stopTimeout: 10}\n", "2:39: run.stopTimeout: \"10\" has no unit; write it like \"10s\" (units: us, ms, s, m, h)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [pid, mnt]}\n", "4:31: run.isolate.namespaces[1]: \"mnt\" is not one of pid, mount, uts, ipc, net, user, cgroup (did you mean \"mount\"?)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [pid, pid]}\n", "4:31: run.isolate.namespaces[1]: \"pid\" is listed twice"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {hostname: web-1}\n", "4:23: run.isolate.hostname: needs the uts namespace; add uts to run.isolate.namespaces"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [uts], hostname: web_1}\n", "4:42: run.isolate.hostname: \"web_1\" is not a valid hostname (up to 64 letters, digits, hyphens and dots)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {rootfs: /r}\n", "4:21: run.isolate.rootfs: needs the mount namespace; add mount to run.isolate.namespaces"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], rootfs: r}\n", "4:42: run.isolate.rootfs: \"r\" is not an absolute path; the workload pivots into this directory"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], readOnlyRootfs: true}\n", "4:50: run.isolate.readOnlyRootfs: needs run.isolate.rootfs or layers; only a root the workload pivots into can be made read-only"),
                // layers: OR rootfs, plain absolute directories overlayfs can take, not with a user namespace (yet)
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], rootfs: /r, layers: [/a]}\n", "4:54: run.isolate.layers: give either rootfs or layers, not both (layers are joined into the workload's root by overlayfs; rootfs is a root of one directory)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {layers: [/a]}\n", "4:21: run.isolate.layers: needs the mount namespace; add mount to run.isolate.namespaces"),
                                bad("name: web\nrun:\n  command: [/bin/x]\n  user: nobody\n  isolate: {namespaces: [mount, user], layers: [/a]}\n", "5:48: run.isolate.layers: with the user namespace only when root inside is root outside (no run.user but root, no uidMap): overlayfs checks the layers and the upper layer in the state directory with the ids of the namespace's root, which another user cannot reach; remove user from run.isolate.namespaces or use rootfs"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount, user], layers: [/a], uidMap: \"0 1000 1\"}\n", "4:48: run.isolate.layers: with the user namespace only when root inside is root outside (no run.user but root, no uidMap): overlayfs checks the layers and the upper layer in the state directory with the ids of the namespace's root, which another user cannot reach; remove user from run.isolate.namespaces or use rootfs"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: []}\n", "4:42: run.isolate.layers: is empty; list at least one directory"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: [a]}\n", "4:43: run.isolate.layers[0]: \"a\" is not an absolute path; a read-only layer of the workload's root"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: [/a, \"/b:/c\"]}\n", "4:47: run.isolate.layers[1]: \"/b:/c\" holds \":\", which separates options or layers in overlayfs's mount options; rename the directory"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: [\"/a,upperdir=/etc\"]}\n", "4:43: run.isolate.layers[0]: \"/a,upperdir=/etc\" holds \",\", which separates options or layers in overlayfs's mount options; rename the directory"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: [/a/../etc]}\n", "4:43: run.isolate.layers[0]: \"/a/../etc\" has a \"..\" component; write the layer's own path"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], layers: [/a, /a/]}\n", "4:47: run.isolate.layers[1]: \"/a\" is listed twice"),
                // volumes: a plain name, a target like a mount's
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {volumes: [{name: d, target: /d}]}\n", "4:22: run.isolate.volumes: needs the mount namespace; add mount to run.isolate.namespaces"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], volumes: [{name: ../etc, target: /d}]}\n", "4:51: run.isolate.volumes[0].name: \"../etc\" is not a volume name (letters, digits, '_', '.', '-', starting with a letter or digit, at most 64)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], volumes: [{name: d, target: /d}, {name: d, target: /e}]}\n", "4:74: run.isolate.volumes[1].name: \"d\" is listed twice"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], volumes: [{name: d}]}\n", "4:44: run.isolate.volumes[0]: missing required key \"target\" (the place inside the workload's root)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], volumes: [{name: d, target: /proc}]}\n", "4:62: run.isolate.volumes[0].target: \"/proc\" is /proc, the kernel's own filesystem: the stage mounts it (with its masked and read-only paths), and a bind there would hide it or undo a mask"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {mounts: [{source: /a, target: /b}]}\n", "4:21: run.isolate.mounts: needs the mount namespace; add mount to run.isolate.namespaces"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], mounts: [{source: a, target: /b}]}\n", "4:52: run.isolate.mounts[0].source: \"a\" is not an absolute path; it names the host directory to bind"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [mount], mounts: [{source: /a}]}\n", "4:43: run.isolate.mounts[0]: missing required key \"target\" (the place inside the workload's root)"),
                // targets stay inside the root (rootfs.c resolves them there); the stage's own mounts are not targets
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /data/../etc}]\n", "6:35: run.isolate.mounts[0].target: \"/data/../etc\" has a \"..\" component; a target is a place inside the workload's root, write it without \"..\""),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /b}, {source: /a, target: ..}]\n", "6:61: run.isolate.mounts[1].target: \"..\" is not an absolute path; it names the place inside the workload's root"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /..}]\n", "6:35: run.isolate.mounts[0].target: \"/..\" has a \"..\" component; a target is a place inside the workload's root, write it without \"..\""),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /./}]\n", "6:35: run.isolate.mounts[0].target: \"/.\" is the root itself; to give the workload a whole root, use run.isolate.rootfs"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /proc/sys}]\n", "6:35: run.isolate.mounts[0].target: \"/proc/sys\" is inside /proc, the kernel's own filesystem: the stage mounts it (with its masked and read-only paths), and a bind there would hide it or undo a mask"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /sys}]\n", "6:35: run.isolate.mounts[0].target: \"/sys\" is /sys, the kernel's own filesystem: the stage mounts it (with its masked and read-only paths), and a bind there would hide it or undo a mask"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    mounts: [{source: /a, target: /dev}]\n", "6:35: run.isolate.mounts[0].target: \"/dev\" is the workload's minimal /dev; bind single devices beneath it (like /dev/fuse) and allow them under devices:"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {uidMap: \"0 1000 1\"}\n", "4:21: run.isolate.uidMap: needs the user namespace; add user to run.isolate.namespaces"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [user], uidMap: \"0 1000\"}\n", "4:41: run.isolate.uidMap: \"0 1000\" is not \"inside outside count\", like \"0 100000 65536\""),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [user], uidMap: \"0 1000 0\"}\n", "4:41: run.isolate.uidMap: \"0 1000 0\": the count must be at least 1 and inside + count and outside + count at most 4294967295 (the kernel's ids are 32 bits)"),
                bad("name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [user], uidMap: \"0 -5 1\"}\n", "4:41: run.isolate.uidMap: \"0 -5 1\" is not \"inside outside count\", like \"0 100000 65536\""),
                // devices
                bad("name: web\ndevices: {}\n", "2:10: devices: missing required key \"allow\" (a list of rules like \"c 1:3 rwm\"; an empty list denies every device)"),
                bad("name: web\ndevices: {allow: \"c 1:3 r\"}\n", "2:18: devices.allow: expected a list, got \"c 1:3 r\""),
                bad("name: web\ndevices: {allow: [\"x 1:3 r\"]}\n", "2:19: devices.allow[0]: device type \"x\" is not a (any), b (block) or c (character)"),
                bad("name: web\ndevices: {allow: [\"c 1:3 r\", \"c 1 r\"]}\n", "2:30: devices.allow[1]: \"1\" is not MAJOR:MINOR, like 1:3 or 136:*"),
                bad("name: web\ndevices: {allow: [\"c 4096:0 r\"]}\n", "2:19: devices.allow[0]: major 4096 is out of range 0..4095 (the kernel's dev_t)"),
                bad("name: web\ndevices: {allow: [\"c 1:-3 r\"]}\n", "2:19: devices.allow[0]: minor \"-3\" is not a number or \"*\""),
                bad("name: web\ndevices: {allow: [\"c 1:3 rx\"]}\n", "2:19: devices.allow[0]: access \"rx\" has 'x'; access is made of r (read), w (write) and m (mknod)"),
                bad("name: web\ndevices: {allow: [\"c 1:3 rr\"]}\n", "2:19: devices.allow[0]: access \"rr\" names 'r' twice"),
                bad("name: web\ndevices: {allow: [\"c 1:3\"]}\n", "2:19: devices.allow[0]: \"c 1:3\" is not TYPE MAJOR:MINOR ACCESS, like \"c 1:3 rwm\""),
                bad("name: web\ndevices:\n  allow:\n    - c 1:3 r\n    - a 1:3 w\n", "5:7: devices.allow[1]: \"a 1:3 w\" names the same devices as devices.allow[0] \"c 1:3 r\"; write one rule with every access it needs"));
    }

    private static Arguments bad(String yaml, String expected) {
        return Arguments.of(yaml, WEB + ":" + expected);
    }

    @ParameterizedTest
    @MethodSource("badInputs")
    void badInputIsLocated(String yaml, String expected) {
        assertEquals(List.of(expected), errors(yaml));
    }

    @Test
    void layersAndVolumesParseBottomFirst() {
        RunSpec.Isolation iso = only("""
                name: web
                run:
                  command: [/bin/x]
                  isolate:
                    namespaces: [mount]
                    layers: [/srv/base, /srv/app]
                    readOnlyRootfs: true
                    volumes: [{name: data, target: /data}, {name: cache.1, target: /c, readOnly: true}]
                """).run().orElseThrow().isolate().orElseThrow();
        assertEquals(List.of(Path.of("/srv/base"), Path.of("/srv/app")), iso.layers());
        assertTrue(iso.readOnlyRootfs());
        assertEquals(List.of(new RunSpec.Volume("data", Path.of("/data"), false),
                new RunSpec.Volume("cache.1", Path.of("/c"), true)), iso.volumes());
        assertTrue(iso.hasRoot());
        // a user namespace where root inside is root outside: overlayfs reaches the state directory
        assertEquals(List.of(Path.of("/a")), only("name: web\nrun:\n  command: [/bin/x]\n  user: root\n"
                + "  isolate: {namespaces: [mount, user], layers: [/a]}\n").run().orElseThrow().isolate().orElseThrow().layers());
    }

    @Test
    void aLayerMustBeADirectoryOutsideTheStateDirectoryAndHoldTheProgram() {
        HostFacts host = new FakeHost.Like() {
            @Override
            public Optional<Path> stateDir() {
                return Optional.of(Path.of("/var/lib/jgovernor"));
            }

            @Override
            public Optional<String> pathProblem(Path path, PathUse use) {
                return path.startsWith("/missing") ? Optional.of("does not exist")
                        : path.equals(Path.of("/srv/app/bin/x")) || path.equals(Path.of("/srv/base/bin/x"))
                        ? Optional.of("does not exist") : Optional.empty();
            }
        };
        String yaml = "name: web\nrun:\n  command: [/bin/x]\n  isolate:\n    namespaces: [mount]\n    layers: [%s]\n";
        assertEquals(List.of(WEB + ":6:14: run.isolate.layers[0]: /missing does not exist; a layer is a directory, read and never written"),
                errors(new PolicyParser(host), yaml.formatted("/missing")));
        assertEquals(List.of(WEB + ":6:14: run.isolate.layers[0]: /var/lib/jgovernor/layers/web/upper overlaps the daemon's"
                        + " state directory /var/lib/jgovernor, where it keeps upper layers and volumes; keep layers elsewhere"
                        + " (like /var/lib/jgovernor-layers)"),
                errors(new PolicyParser(host), yaml.formatted("/var/lib/jgovernor/layers/web/upper")));
        assertEquals(List.of(WEB + ":6:14: run.isolate.layers[0]: /var/lib overlaps the daemon's state directory"
                        + " /var/lib/jgovernor, where it keeps upper layers and volumes; keep layers elsewhere (like"
                        + " /var/lib/jgovernor-layers)"),
                errors(new PolicyParser(host), yaml.formatted("/var/lib")));
        assertEquals(List.of(WEB + ":3:13: run.command[0]: /bin/x is in none of the layers (/srv/app/bin/x does not exist;"
                        + " /srv/base/bin/x does not exist)"),
                errors(new PolicyParser(host), yaml.formatted("/srv/base, /srv/app")));
        assertEquals(List.of(), errors(new PolicyParser(host), yaml.formatted("/srv/base, /srv/other")),
                "the program in one layer is enough");
    }

    private static List<String> errors(PolicyParser p, String yaml) {
        ParseResult r = p.parse(WEB, yaml);
        return r instanceof ParseResult.Rejected rejected
                ? rejected.errors().stream().map(PolicyError::toString).toList() : List.of();
    }

    @Test
    void oomKillDisableOnCgroupV2IsALocatedError() {
        HostFacts v2 = new FakeHost.Like() {
            @Override
            public boolean cgroupV2() {
                return true;
            }
        };
        ParseResult r = new PolicyParser(v2).parse(WEB, "name: web\nmemory:\n  limit: 64Mi\n  oomKillDisable: true\n");
        ParseResult.Rejected rejected = assertInstanceOf(ParseResult.Rejected.class, r);
        assertEquals(1, rejected.errors().size());
        String e = rejected.errors().getFirst().toString();
        assertTrue(e.startsWith(WEB + ":4:19: memory.oomKillDisable: this host runs cgroup v2"), e);
        // false asks for what v2 always does: valid there too
        assertInstanceOf(ParseResult.Ok.class, new PolicyParser(v2).parse(WEB,
                "name: web\nmemory:\n  limit: 64Mi\n  oomKillDisable: false\n"));
        // and on v1 true stays valid
        assertInstanceOf(ParseResult.Ok.class, parser.parse(WEB, "name: web\nmemory:\n  limit: 64Mi\n  oomKillDisable: true\n"));
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.Limit;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** memory.high/low/min/oomGroup, cpu.idle and files: on a v1 and on a v2 host. */
class SecondWaveKeysTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/web.yaml");

    /** FakeHost's CPUs and devices, cgroup v2 or not, and one file this host's kernel lacks. */
    private static HostFacts host(boolean v2) {
        return new FakeHost.Like() {
            @Override
            public boolean cgroupV2() {
                return v2;
            }

            @Override
            public Optional<String> cgroupFileProblem(String name) {
                return name.equals("io.latency") && !v2 ? Optional.of("no cgroup v1 hierarchy of controller \"io\" is mounted")
                        : Optional.empty();
            }
        };
    }

    private static Policy ok(boolean v2, String yaml) {
        ParseResult r = new PolicyParser(host(v2)).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Ok.class, r, () -> r.toString()).policies().getFirst().policy();
    }

    private static List<String> errors(boolean v2, String yaml) {
        ParseResult r = new PolicyParser(host(v2)).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Rejected.class, r).errors().stream().map(Object::toString).toList();
    }

    @Test
    void v2MemoryAndCpuKeysParse() {
        Policy p = ok(true, "name: web\nmemory:\n  high: 200Mi\n  low: 64Mi\n  min: 32Mi\n  oomGroup: true\ncpu:\n  idle: true\n");
        Resources.Memory m = p.resources().memory().orElseThrow();
        assertEquals(Optional.of(Limit.of(200L << 20)), m.high());
        assertEquals(Optional.of(Limit.of(64L << 20)), m.low());
        assertEquals(Optional.of(Limit.of(32L << 20)), m.min());
        assertTrue(m.killsGroupOnOom());
        assertEquals(Optional.of(true), p.resources().cpu().orElseThrow().idle());
    }

    @Test
    void v1RefusesWhatItCannotHonourAtItsLineAndKeepsLowAndOomGroup() {
        List<String> e = errors(false, "name: web\nmemory:\n  high: 200Mi\n  min: 32Mi\ncpu:\n  idle: true\n");
        assertEquals(3, e.size(), e.toString());
        assertTrue(e.get(0).startsWith(FILE + ":3:9: memory.high: this host runs cgroup v1"), e.get(0));
        assertTrue(e.get(1).startsWith(FILE + ":4:8: memory.min: this host runs cgroup v1"), e.get(1));
        assertTrue(e.get(2).startsWith(FILE + ":6:9: cpu.idle: this host runs cgroup v1"), e.get(2));
        Policy p = ok(false, "name: web\nmemory:\n  low: 64Mi\n  oomGroup: true\n");
        assertEquals(Optional.of(Limit.of(64L << 20)), p.resources().memory().orElseThrow().low());
    }

    @Test
    void rawFilesAreWrittenAsGivenAndBadOnesAreLocated() {
        Policy p = ok(true, "name: web\nfiles:\n  io.latency: \"8:0 target=10\"\n  memory.swappiness: 10\n");
        assertEquals(Map.of("io.latency", "8:0 target=10", "memory.swappiness", "10"), p.resources().files());
        assertEquals(Map.of("io.latency", "8:0 target=10"), p.resources().filesOf("io"));
        assertEquals(Map.of(), p.resources().filesOf("i"));

        List<String> e = errors(false, "name: web\nfiles:\n  io.latency: \"8:0 target=10\"\n  memory.limit_in_bytes: 1\n"
                + "  cgroup.procs: 1\n  ../etc/passwd: x\n  memory.swappiness: \"\"\n");
        assertEquals(5, e.size(), e.toString());
        assertTrue(e.get(0).startsWith(FILE + ":3:3: files: \"io.latency\" no cgroup v1 hierarchy"), e.get(0));
        assertTrue(e.get(1).contains("\"memory.limit_in_bytes\" is managed by a policy key"), e.get(1));
        assertTrue(e.get(2).contains("\"cgroup.procs\" is part of the cgroup tree's structure"), e.get(2));
        assertTrue(e.get(3).contains("is not a cgroup control file name"), e.get(3));
        assertTrue(e.get(4).startsWith(FILE + ":7:22: files.memory.swappiness: is empty"), e.get(4));
    }
}

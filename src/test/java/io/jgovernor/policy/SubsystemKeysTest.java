package io.jgovernor.policy;

import io.jgovernor.model.Limit;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** freezer, hugetlb, network and perfEvent: what they parse to, and each bad value at its place. */
class SubsystemKeysTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/web.yaml");
    private static final long MB2 = 2L << 20;

    /** FakeHost's CPUs; cgroup v2 or not; 2 MB and 1 GB pages; no perf_event hierarchy mounted on v1. */
    private static HostFacts host(boolean v2) {
        return new FakeHost.Like() {
            @Override
            public boolean cgroupV2() {
                return v2;
            }

            @Override
            public SortedSet<Long> hugePageSizes() {
                return new TreeSet<>(List.of(MB2, 1L << 30));
            }

            @Override
            public Optional<String> controllerProblem(String controller) {
                return controller.equals("perf_event") && !v2
                        ? Optional.of("no cgroup v1 hierarchy of controller \"perf_event\" is mounted on this host")
                        : Optional.empty();
            }
        };
    }

    private static Resources ok(boolean v2, String yaml) {
        ParseResult r = new PolicyParser(host(v2)).parse(FILE, "name: web\n" + yaml);
        Policy p = assertInstanceOf(ParseResult.Ok.class, r, r::toString).policies().getFirst().policy();
        return p.resources();
    }

    private static List<String> errors(boolean v2, String yaml) {
        ParseResult r = new PolicyParser(host(v2)).parse(FILE, "name: web\n" + yaml);
        return assertInstanceOf(ParseResult.Rejected.class, r, r::toString).errors().stream()
                .map(e -> e.toString().substring(FILE.toString().length() + 1)).toList();
    }

    @Test
    void freezer() {
        assertEquals(Optional.of(new Resources.Freezer(true)), ok(false, "freezer: {frozen: true}\n").freezer());
        assertEquals(Optional.of(new Resources.Freezer(false)), ok(true, "freezer:\n  frozen: false\n").freezer());
        assertEquals(Optional.empty(), ok(true, "pids: {max: 5}\n").freezer());
        assertEquals(List.of("2:10: freezer: missing required key \"frozen\" (true stops the group's processes, false"
                + " lets them run)"), errors(false, "freezer: {}\n"));
        assertEquals("2:11: freezer: unknown key \"froze\" (did you mean \"frozen\"?)",
                errors(false, "freezer: {froze: true}\n").getLast());
    }

    @Test
    void hugetlb() {
        Resources r = ok(true, "hugetlb:\n  - {pageSize: 2Mi, limit: 64Mi}\n  - {pageSize: 1Gi, limit: max}\n");
        assertEquals(List.of(new Resources.HugePageLimit(MB2, Limit.of(64L << 20)),
                new Resources.HugePageLimit(1L << 30, Limit.MAX)), r.hugetlb().orElseThrow().limits());
        assertEquals(Optional.of(Limit.of(64L << 20)), r.hugetlb().orElseThrow().limitFor(MB2));
        assertEquals(List.of(), ok(false, "hugetlb: []\n").hugetlb().orElseThrow().limits());
        assertEquals(List.of(
                        "3:16: hugetlb[0].pageSize: 4Mi is not a huge page size of this host; it has 2Mi, 1Gi"
                                + " (/sys/kernel/mm/hugepages)",
                        "4:28: hugetlb[1].limit: 65Mi is not a whole number of 2Mi pages; the kernel would round it down"
                                + " to 64Mi: write that, or 66Mi",
                        "5:16: hugetlb[2].pageSize: 2Mi pages are already limited in hugetlb[1]",
                        "6:5: hugetlb[3]: needs both pageSize and limit, like {pageSize: 2Mi, limit: 64Mi}"),
                errors(false, "hugetlb:\n  - {pageSize: 4Mi, limit: 64Mi}\n  - {pageSize: 2Mi, limit: 65Mi}\n"
                        + "  - {pageSize: 2Mi, limit: 2Mi}\n  - {limit: 2Mi}\n"));
        assertEquals(List.of("2:10: hugetlb: expected a list, got a mapping"), errors(false, "hugetlb: {pageSize: 2Mi}\n"));
    }

    @Test
    void hugetlbOnAHostThatCannotTellItsSizesTakesPowersOfTwo() {
        ParseResult r = new PolicyParser(FakeHost.HOST).parse(FILE, "name: web\nhugetlb:\n  - {pageSize: 3Mi, limit: 3Mi}\n");
        assertEquals(List.of(FILE + ":3:16: hugetlb[0].pageSize: 3Mi is no page size; huge pages are a power of two"
                + " like 2Mi or 1Gi"), ((ParseResult.Rejected) r).errors().stream().map(Object::toString).toList());
    }

    @Test
    void network() {
        Resources r = ok(false, "network:\n  classId: \"0x100001\"\n  priorities: {eth0: 5, lo: 0}\n");
        assertEquals(OptionalLong.of(0x100001), r.network().orElseThrow().classId());
        assertEquals(Map.of("eth0", 5L, "lo", 0L), r.network().orElseThrow().priorities());
        assertEquals(OptionalLong.of(0x100001), ok(false, "network: {classId: \"10:1\"}\n").network().orElseThrow().classId());
        assertEquals(OptionalLong.of(1048577), ok(false, "network: {classId: 1048577}\n").network().orElseThrow().classId());
        assertEquals(OptionalLong.of(0x100001), ok(false, "network: {classId: 0x100001}\n").network().orElseThrow().classId());
        assertEquals(List.of("2:10: network: this host runs cgroup v2, which has no net_cls or net_prio controller;"
                + " remove the key and match the group's cgroup path in nftables instead (socket cgroupv2 level N"
                + " \"PATH\"), or set SO_PRIORITY in the workload"), errors(true, "network: {classId: \"10:1\"}\n"));
        assertEquals(List.of("2:10: network: sets nothing; give classId (net_cls) and/or priorities (net_prio)"),
                errors(false, "network: {}\n"));
        assertEquals(List.of("2:20: network.classId: 4294967296 is out of range 0..4294967295",
                        "2:52: network.priorities.eth0: -1 is out of range 0..4294967295"),
                errors(false, "network: {classId: 0x100000000, priorities: {eth0: -1}}\n"));
        assertTrue(errors(false, "network: {classId: \"10:1:2\"}\n").getFirst().startsWith("2:20: network.classId:"
                + " \"10:1:2\" is not a class id"));
    }

    @Test
    void perfEvent() {
        assertEquals(Optional.of(true), ok(true, "perfEvent: true\n").perfEvent());
        assertTrue(ok(true, "perfEvent: true\n").perfEventDirectory());
        assertEquals(Optional.of(false), ok(false, "perfEvent: false\n").perfEvent());
        assertEquals(List.of("2:12: perfEvent: no cgroup v1 hierarchy of controller \"perf_event\" is mounted on this host"),
                errors(false, "perfEvent: true\n"));
        assertEquals(List.of("2:12: perfEvent: expected true or false, got the number 1"), errors(false, "perfEvent: 1\n"));
    }
}

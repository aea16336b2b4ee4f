package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.jgovernor.testing.TestResources.cpu;
import static io.jgovernor.testing.TestResources.cpuFull;
import static io.jgovernor.testing.TestResources.cpuset;
import static io.jgovernor.testing.TestResources.device;
import static io.jgovernor.testing.TestResources.devices;
import static io.jgovernor.testing.TestResources.io;
import static io.jgovernor.testing.TestResources.memory;
import static io.jgovernor.testing.TestResources.pids;
import static io.jgovernor.testing.TestResources.shares;
import static io.jgovernor.testing.TestResources.weight;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** reconcile() of every v1 controller against observed text as the kernel prints it. */
class ControllerUnitTest {
    static final GroupContext CTX = new GroupContext("web", CpuList.parse("0-3"), CpuList.parse("0"));
    static final long MiB = 1024 * 1024;

    static List<String> files(List<Write> writes) {
        return writes.stream().map(Write::file).toList();
    }

    static List<String> values(List<Write> writes) {
        return writes.stream().map(w -> w.file() + "=" + w.value()).toList();
    }

    /** Applies writes the way a kernel that stores values verbatim would. */
    static Map<String, String> apply(Map<String, String> observed, List<Write> writes) {
        Map<String, String> out = new HashMap<>(observed);
        writes.forEach(w -> out.put(w.file(), w.value() + "\n"));
        return out;
    }

    // ---- cpu ----

    @Test
    void cpuFreshNeedsNothingForNoPolicy() {
        CpuController c = new CpuController();
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, c.fresh(CTX)));
    }

    @Test
    void cpuWritesPeriodBeforeQuota() {
        CpuController c = new CpuController();
        List<Write> w = c.reconcile(cpu(cpuFull(512, 50, Duration.ofMillis(50))), CTX, c.fresh(CTX));
        assertEquals(List.of("cpu.shares=512", "cpu.cfs_period_us=50000", "cpu.cfs_quota_us=25000"), values(w));
        assertEquals(List.of(), c.reconcile(cpu(cpuFull(512, 50, Duration.ofMillis(50))), CTX, apply(c.fresh(CTX), w)));
    }

    @Test
    void cpuQuotaRoundsAndDefaultsThePeriod() {
        CpuController c = new CpuController();
        List<Write> w = c.reconcile(cpu(cpuFull(1024, 250.0004, null)), CTX, c.fresh(CTX));
        assertEquals(List.of("cpu.cfs_quota_us=250000"), values(w));
        assertEquals("-1", w.getFirst().was());
    }

    @Test
    void cpuWeightConvertsAsSystemdDoes() {
        CpuController c = new CpuController();
        assertEquals(List.of("cpu.shares=512"), values(c.reconcile(cpu(weight(50)), CTX, c.fresh(CTX))));
        assertEquals(List.of("cpu.shares=102400"), values(c.reconcile(cpu(weight(10000)), CTX, c.fresh(CTX))));
        // 1 * 1024 / 100 = 10
        assertEquals(List.of("cpu.shares=10"), values(c.reconcile(cpu(weight(1)), CTX, c.fresh(CTX))));
    }

    @Test
    void cpuSharesAreClampedLikeTheKernel() {
        CpuController c = new CpuController();
        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.put("cpu.shares", "262144\n");
        assertEquals(List.of(), c.reconcile(cpu(shares(1_000_000)), CTX, seen));
        seen.put("cpu.shares", "2\n");
        assertEquals(List.of(), c.reconcile(cpu(shares(1)), CTX, seen));
    }

    @Test
    void cpuReturnsToDefaultsWhenThePolicyDropsKeys() {
        CpuController c = new CpuController();
        Map<String, String> seen = Map.of("cpu.shares", "512\n", "cpu.cfs_period_us", "50000\n", "cpu.cfs_quota_us", "25000\n");
        List<Write> w = c.reconcile(Resources.NONE, CTX, seen);
        assertEquals(List.of("cpu.shares=1024", "cpu.cfs_period_us=100000", "cpu.cfs_quota_us=-1"), values(w));
        assertEquals("25000", w.get(2).was());
    }

    // ---- cpuset ----

    @Test
    void cpusetFillsFromTheParentAndNormalizesLists() {
        CpusetController c = new CpusetController();
        List<Write> w = c.reconcile(Resources.NONE, CTX, c.fresh(CTX));
        assertEquals(List.of("cpuset.mems=0", "cpuset.cpus=0-3"), values(w));
        assertEquals(List.of(), c.reconcile(cpuset("0,1,2,3", null), CTX,
                Map.of("cpuset.cpus", "0-3\n", "cpuset.mems", "0\n")));
        assertEquals(List.of(), c.reconcile(cpuset("0-1", "0"), CTX, Map.of("cpuset.cpus", "0,1\n", "cpuset.mems", "0\n")));
        assertEquals(List.of("cpuset.cpus=1,3"), values(c.reconcile(cpuset("3,1", null), CTX,
                Map.of("cpuset.cpus", "0-3\n", "cpuset.mems", "0\n"))));
    }

    // ---- memory ----

    @Test
    void memoryComparesAfterPageRounding() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.put("memory.limit_in_bytes", "268435456\n");
        assertEquals(List.of(), c.reconcile(memory(Limit.of(256 * MiB), null, null), CTX, seen));

        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, c.fresh(CTX)));
        assertEquals("9223372036854771712\n", c.fresh(CTX).get("memory.limit_in_bytes"));

        List<Write> w = c.reconcile(memory(Limit.of(1_000_000), null, null), CTX, c.fresh(CTX));
        assertEquals(List.of("memory.limit_in_bytes=1000000"), values(w));
        assertEquals("max", w.getFirst().was());
        assertEquals("999424", w.getFirst().wanted());
        seen = new HashMap<>(c.fresh(CTX));
        seen.put("memory.limit_in_bytes", "999424\n");
        assertEquals(List.of(), c.reconcile(memory(Limit.of(1_000_000), null, null), CTX, seen));
    }

    @Test
    void memoryMaxWritesMinusOne() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.put("memory.limit_in_bytes", "268435456\n");
        assertEquals(List.of("memory.limit_in_bytes=-1"), values(c.reconcile(memory(Limit.MAX, null, null), CTX, seen)));
    }

    @Test
    void memswIsRaisedFirstWhenTheLimitGoesUp() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> seen = Map.of("memory.limit_in_bytes", "268435456\n",
                "memory.memsw.limit_in_bytes", "536870912\n", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        List<Write> up = c.reconcile(memory(Limit.of(1024 * MiB), Limit.of(2048 * MiB), null), CTX, seen);
        assertEquals(List.of("memory.memsw.limit_in_bytes=2147483648", "memory.limit_in_bytes=1073741824"), values(up));
        List<Write> down = c.reconcile(memory(Limit.of(64 * MiB), Limit.of(128 * MiB), null), CTX, seen);
        assertEquals(List.of("memory.limit_in_bytes=67108864", "memory.memsw.limit_in_bytes=134217728"), values(down));
        // no limit any more: memsw (back to max) first, then the limit
        List<Write> none = c.reconcile(Resources.NONE, CTX, seen);
        assertEquals(List.of("memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"), values(none));
    }

    @Test
    void memswAbsentIsSkippedUnlessAsked() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.remove("memory.memsw.limit_in_bytes");
        assertEquals(List.of("memory.limit_in_bytes=1048576"),
                values(c.reconcile(memory(Limit.of(MiB), null, null), CTX, seen)));
        List<Write> w = c.reconcile(memory(Limit.of(MiB), Limit.of(2 * MiB), null), CTX, seen);
        assertTrue(files(w).contains("memory.memsw.limit_in_bytes"), w.toString());
        assertEquals("absent", w.stream().filter(x -> x.file().equals("memory.memsw.limit_in_bytes")).findFirst().orElseThrow().was());
    }

    @Test
    void oomControlReadsItsOwnLine() {
        MemoryController c = new MemoryController(4096);
        List<Write> w = c.reconcile(memory(null, null, true), CTX, c.fresh(CTX));
        assertEquals(List.of("memory.oom_control=1"), values(w));
        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.put("memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 3\n");
        assertEquals(List.of(), c.reconcile(memory(null, null, true), CTX, seen));
        assertEquals(List.of("memory.oom_control=0"), values(c.reconcile(Resources.NONE, CTX, seen)));
    }

    // ---- blkio ----

    @Test
    void blkioUsesBfqWeightWhenThatIsTheFilePresent() {
        BlkioController c = new BlkioController();
        Map<String, String> fresh = c.fresh(CTX);
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, fresh));
        assertEquals(List.of("blkio.bfq.weight=200"), values(c.reconcile(io(200), CTX, fresh)));
        Map<String, String> seen = new HashMap<>(fresh);
        seen.put("blkio.bfq.weight", "default 200\n");
        assertEquals(List.of(), c.reconcile(io(200), CTX, seen));
        assertEquals(List.of("blkio.bfq.weight=100"), values(c.reconcile(Resources.NONE, CTX, seen)));
    }

    @Test
    void blkioUsesCfqWeightWhenPresent() {
        BlkioController c = new BlkioController(BlkioController.WeightFile.CFQ);
        Map<String, String> fresh = c.fresh(CTX);
        assertEquals("500\n", fresh.get("blkio.weight"));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, fresh));
        assertEquals(List.of("blkio.weight=800"), values(c.reconcile(io(800), CTX, fresh)));
    }

    @Test
    void blkioThrottlesPerDevice() {
        BlkioController c = new BlkioController();
        Resources want = io(null, device("254:0", Limit.of(10 * MiB), Limit.of(5 * MiB), Limit.of(1000), Limit.MAX),
                device("7:0", null, null, null, Limit.of(500)));
        List<Write> w = c.reconcile(want, CTX, c.fresh(CTX));
        assertEquals(List.of("blkio.throttle.read_bps_device=254:0 10485760",
                "blkio.throttle.write_bps_device=254:0 5242880",
                "blkio.throttle.read_iops_device=254:0 1000",
                "blkio.throttle.write_iops_device=7:0 500"), values(w));

        Map<String, String> seen = new HashMap<>(c.fresh(CTX));
        seen.put("blkio.throttle.read_bps_device", "254:0 10485760\n");
        seen.put("blkio.throttle.write_bps_device", "254:0 5242880\n");
        seen.put("blkio.throttle.read_iops_device", "254:0 1000\n");
        seen.put("blkio.throttle.write_iops_device", "7:0 500\n254:0 77\n");
        // the 254:0 write_iops rule is not wanted (max): removed with 0
        assertEquals(List.of("blkio.throttle.write_iops_device=254:0 0"), values(c.reconcile(want, CTX, seen)));
        seen.put("blkio.throttle.write_iops_device", "7:0 500\n");
        assertEquals(List.of(), c.reconcile(want, CTX, seen));
        // a policy without io removes every rule
        assertEquals(List.of("blkio.throttle.read_bps_device=254:0 0", "blkio.throttle.write_bps_device=254:0 0",
                "blkio.throttle.read_iops_device=254:0 0", "blkio.throttle.write_iops_device=7:0 0"),
                values(c.reconcile(Resources.NONE, CTX, seen)));
    }

    // ---- pids ----

    @Test
    void pidsMax() {
        PidsController c = new PidsController();
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, c.fresh(CTX)));
        assertEquals(List.of("pids.max=128"), values(c.reconcile(pids(Limit.of(128)), CTX, c.fresh(CTX))));
        assertEquals(List.of(), c.reconcile(pids(Limit.of(128)), CTX, Map.of("pids.max", "128\n")));
        assertEquals(List.of("pids.max=max"), values(c.reconcile(Resources.NONE, CTX, Map.of("pids.max", "128\n"))));
    }

    // ---- devices ----

    /** devices.list of a deny-all group as this host's kernel printed it (6.18, the rules below written in order). */
    static final String LIST = "c 1:3 rwm\nc 136:* rwm\nb *:* m\nc 5:2 rwm\n";

    @Test
    void devicesOnAFreshGroupDenyAllThenAllowEachRule() {
        DevicesController c = new DevicesController();
        assertEquals(List.of("devices.deny=a", "devices.allow=c 1:3 rwm", "devices.allow=b 8:* r"),
                values(c.reconcile(devices("c 1:3 rwm", "b 8:* r"), CTX, c.fresh(CTX))));
        // from the kernel's allow-all too, and a list that denies everything is one write
        assertEquals(List.of("devices.deny=a"),
                values(c.reconcile(devices(), CTX, Map.of("devices.list", "a *:* rwm\n"))));
    }

    @Test
    void devicesListThatMatchesInAnyOrderNeedsNoWrite() {
        DevicesController c = new DevicesController();
        assertEquals(List.of(), c.reconcile(devices("c 5:2 rwm", "b *:* m", "c 1:3 rwm", "c 136:* rwm"), CTX,
                Map.of("devices.list", LIST)));
        assertEquals(List.of(), c.reconcile(devices(), CTX, Map.of("devices.list", "")));
    }

    @Test
    void devicesEditIsADiffDeniesFirstAndNeverAFullDeny() {
        DevicesController c = new DevicesController();
        List<Write> w = c.reconcile(devices("c 1:3 r", "c 136:* rwm", "c 1:5 rwm", "b *:* m"), CTX,
                Map.of("devices.list", LIST));
        // 1:5 comes first; then 1:3 loses w and m, 5:2 goes; 136:* and b *:* m are left alone
        assertEquals(List.of("devices.allow=c 1:5 rwm", "devices.deny=c 1:3 wm", "devices.deny=c 5:2 rwm"), values(w));
        assertEquals("c 1:3 rwm", w.get(1).was());
        assertEquals("c 1:3 r", w.get(1).wanted());
        assertEquals("(none)", w.get(2).wanted());
        // an access added to a rule that stays is an allow of the whole rule (the kernel merges it)
        assertEquals(List.of("devices.allow=c 1:3 rwm"),
                values(c.reconcile(devices("c 1:3 rwm"), CTX, Map.of("devices.list", "c 1:3 r\n"))));
    }

    @Test
    void devicesRuleOfTypeAIsABlockAndACharacterRule() {
        DevicesController c = new DevicesController();
        // anything written that begins with "a" switches the behaviour, so "a" is never a rule
        assertEquals(List.of("devices.deny=a", "devices.allow=b 1:3 r", "devices.allow=c 1:3 r"),
                values(c.reconcile(devices("a 1:3 r"), CTX, Map.of("devices.list", "a *:* rwm\n"))));
        assertEquals(List.of(), c.reconcile(devices("a *:* rwm"), CTX,
                Map.of("devices.list", "b *:* rwm\nc *:* rwm\n")));
    }

    @Test
    void devicesLeftOutReturnToTheParentsList() {
        DevicesController c = new DevicesController();
        // the parent allows all: so do the wildcards of a list ("a" to devices.allow fails with children)
        assertEquals(List.of("devices.allow=b *:* rwm", "devices.allow=c *:* rwm", "devices.deny=c 1:3 rwm",
                "devices.deny=c 136:* rwm", "devices.deny=c 5:2 rwm"), values(c.reconcile(Resources.NONE, CTX,
                Map.of("devices.list", LIST, DevicesController.PARENT_LIST, "a *:* rwm\n"))));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of("devices.list", "c *:* rwm\nb *:* rwm\n",
                DevicesController.PARENT_LIST, "a *:* rwm\n")));
        // the parent has a list: the group's becomes that list, by a diff
        assertEquals(List.of("devices.deny=b *:* m", "devices.deny=c 5:2 rwm"), values(c.reconcile(Resources.NONE,
                CTX, Map.of("devices.list", LIST, DevicesController.PARENT_LIST, "c 1:3 rwm\nc 136:* rwm\n"))));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX,
                Map.of("devices.list", "a *:* rwm\n", DevicesController.PARENT_LIST, "a *:* rwm\n")));
        // a fresh directory already has its parent's list
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, c.fresh(CTX)));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of(DevicesController.PARENT_LIST, "c 1:3 r\n")));
    }

    // ---- all ----

    @Test
    void registry() {
        assertEquals(List.of("cpuset", "cpu", "cpuacct", "memory", "blkio", "pids", "devices", "freezer", "hugetlb",
                        "net_cls", "net_prio", "perf_event"), V1Controllers.all().stream().map(Controller::name).toList());
        assertTrue(V1Controllers.forName("cpuacct").orElseThrow().usedBy(Resources.NONE));
        assertTrue(V1Controllers.forName("rdma").isEmpty());
        for (Controller c : V1Controllers.all()) {
            assertTrue(c.observedFiles().containsAll(c.fresh(CTX).keySet()), c.name());
        }
    }
}

package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CpuWeight;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.Fixtures;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.OptionalLong;
import java.util.Optional;
import java.util.Map;

import static io.jgovernor.testing.TestResources.cpu;
import static io.jgovernor.testing.TestResources.cpuFull;
import static io.jgovernor.testing.TestResources.cpuset;
import static io.jgovernor.testing.TestResources.device;
import static io.jgovernor.testing.TestResources.io;
import static io.jgovernor.testing.TestResources.memory;
import static io.jgovernor.testing.TestResources.pids;
import static io.jgovernor.testing.TestResources.shares;
import static io.jgovernor.testing.TestResources.weight;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** reconcile() of every v2 controller against text captured from a 6.1 kernel (src/test/resources/cgroup/v2). */
class V2ControllerUnitTest {
    static final GroupContext CTX = new GroupContext("web", CpuList.parse(""), CpuList.parse(""));
    static final long MiB = 1024 * 1024;

    static String v2(String name) {
        return Fixtures.text("v2/" + name);
    }

    static List<String> values(List<Write> writes) {
        return writes.stream().map(w -> w.file() + "=" + w.value()).toList();
    }

    /** What the kernel reads back after the writes, for the files these tests use. */
    static Map<String, String> apply(Map<String, String> observed, List<Write> writes) {
        Map<String, String> out = new HashMap<>(observed);
        for (Write w : writes) {
            String v = w.value();
            if (w.file().equals(IoController.MAX)) {
                v = v.replace("rbps=max wbps=max riops=max wiops=max", "").strip();
                out.put(w.file(), v.contains("=") ? v + "\n" : "");
            } else {
                out.put(w.file(), v.strip() + "\n");
            }
        }
        return out;
    }

    static void idempotent(Controller c, Resources r, Map<String, String> start) {
        Map<String, String> after = apply(start, c.reconcile(r, CTX, start));
        assertEquals(List.of(), c.reconcile(r, CTX, after), "a second pass must find nothing to do");
    }

    // ---- cpu ----

    @Test
    void sharesAndWeightConvertAsSystemdDoesBothWays() {
        // policy.md: weight = shares * 100 / 1024, shares = weight * 1024 / 100, clamped
        assertEquals(100, CpuWeight.fromShares(1024), "the defaults meet");
        assertEquals(1024, CpuWeight.toShares(100));
        assertEquals(50, CpuWeight.fromShares(512));
        assertEquals(1, CpuWeight.fromShares(2), "clamped to the weight's minimum");
        assertEquals(10000, CpuWeight.fromShares(262144), "clamped to the weight's maximum");
        assertEquals(2, CpuWeight.toShares(0));
        assertEquals(102400, CpuWeight.toShares(10000));
        assertEquals(262144, CpuWeight.toShares(50000));
    }

    @Test
    void cpuFromSharesShowsTheConvertedWeightAndWritesCpuMaxAsQuotaAndPeriod() {
        CpuController c = new CpuController();
        Map<String, String> fresh = Map.of(CpuController.WEIGHT, v2("io.weight-fresh").replace("default ", ""),
                CpuController.MAX, v2("cpu.max-fresh"), CpuController.IDLE, "0\n");
        assertEquals(fresh, c.fresh(CTX));
        List<Write> w = c.reconcile(cpu(cpuFull(512, 50, Duration.ofMillis(100))), CTX, fresh);
        assertEquals(List.of("cpu.weight=50", "cpu.max=50000 100000"), values(w));
        assertEquals("50 (from shares 512)", w.get(0).wanted(), "plans and logs show the converted value");
        assertEquals("50000 100000", v2("cpu.max-half").strip(), "the kernel prints cpu.max as written");
        idempotent(c, cpu(cpuFull(512, 50, Duration.ofMillis(100))), fresh);
    }

    @Test
    void cpuWeightIsWrittenAsItIsAndNoQuotaIsMax() {
        CpuController c = new CpuController();
        Map<String, String> half = Map.of(CpuController.WEIGHT, "100\n", CpuController.MAX, v2("cpu.max-half"));
        assertEquals(List.of("cpu.weight=250", "cpu.max=max 100000"), values(c.reconcile(cpu(weight(250)), CTX, half)));
    }

    @Test
    void anIdleGroupsWeightIsLeftAloneAndLeavingIdleComesBeforeTheWeight() {
        CpuController c = new CpuController();
        Resources idle = cpu(new Resources.Cpu(OptionalLong.empty(), OptionalLong.empty(), java.util.OptionalDouble.empty(),
                Optional.empty(), Optional.of(true)));
        // seen in the VM (kernel 6.1): an idle group's cpu.weight does not read as written, and a
        // write to it is EINVAL; it must not be "repaired" on every pass
        Map<String, String> idleNow = Map.of(CpuController.WEIGHT, "0\n", CpuController.MAX, "max 100000\n",
                CpuController.IDLE, "1\n");
        assertEquals(List.of(), values(c.reconcile(idle, CTX, idleNow)));
        Map<String, String> fresh = Map.of(CpuController.WEIGHT, "100\n", CpuController.MAX, "max 100000\n",
                CpuController.IDLE, "0\n");
        assertEquals(List.of("cpu.idle=1"), values(c.reconcile(idle, CTX, fresh)));
        assertEquals(List.of("cpu.idle=0", "cpu.weight=250"), values(c.reconcile(cpu(weight(250)), CTX, idleNow)));
    }

    @Test
    void cpuNotUsedAndNotEnabledWritesNothingButAskedWritesAnyway() {
        CpuController c = new CpuController();
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of()));
        // asked while the parent did not enable cpu: the write is planned and fails visibly (ENOENT)
        assertEquals(List.of("cpu.weight=100", "cpu.max=max 100000"), values(c.reconcile(cpu(shares(1024)), CTX, Map.of())));
    }

    @Test
    void cpuDriftBackToDefaultsWhenThePolicyDropsTheSection() {
        CpuController c = new CpuController();
        Map<String, String> set = Map.of(CpuController.WEIGHT, "20\n", CpuController.MAX, v2("cpu.max-half"));
        assertEquals(List.of("cpu.weight=100", "cpu.max=max 100000"), values(c.reconcile(Resources.NONE, CTX, set)));
    }

    // ---- cpuset ----

    @Test
    void cpusetEmptyMeansTheParentsAndAnAbsentKeyGoesBackToEmpty() {
        CpusetController c = new CpusetController();
        Map<String, String> fresh = c.fresh(CTX);
        assertEquals(List.of("cpuset.cpus=1"), values(c.reconcile(cpuset("1", null), CTX, fresh)));
        Map<String, String> set = Map.of(CpusetController.CPUS, "0-1\n", CpusetController.MEMS, "0\n");
        List<Write> w = c.reconcile(cpuset("0,1", null), CTX, set);
        assertEquals(List.of("cpuset.mems=\n"), values(w), "0,1 is 0-1; mems not asked goes back to empty");
        assertEquals("", w.get(0).wanted());
        idempotent(c, cpuset("0-1", "0"), fresh);
    }

    // ---- memory ----

    @Test
    void memoryMaxComparedAfterPageRoundingAndSwapIsSwapLimitMinusLimit() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> fresh = c.fresh(CTX);
        List<Write> w = c.reconcile(memory(Limit.of(64 * MiB), Limit.of(96 * MiB), null), CTX, fresh);
        assertEquals(List.of("memory.max=" + 64 * MiB, "memory.swap.max=" + 32 * MiB), values(w));
        // the kernel read back 999424 for 1000000 (captured): equal after normalizing
        assertEquals(List.of(), c.reconcile(memory(Limit.of(1_000_000), null, null), CTX,
                Map.of(MemoryController.MAX, "999424\n", MemoryController.SWAP_MAX, "max\n")));
    }

    @Test
    void memoryWithoutSwapAccountingWritesNoSwapUnlessAsked() {
        MemoryController c = new MemoryController(4096);
        Map<String, String> noSwap = Map.of(MemoryController.MAX, "max\n");
        assertEquals(List.of("memory.max=" + 64 * MiB), values(c.reconcile(memory(Limit.of(64 * MiB), null, null), CTX, noSwap)));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of()), "not enabled, not asked: nothing");
        assertEquals(List.of("memory.max=max"), values(c.reconcile(Resources.NONE, CTX,
                Map.of(MemoryController.MAX, "67108864\n"))), "a dropped section goes back to max");
    }

    // ---- io ----

    @Test
    void ioWeightIsDefaultNAndIoMaxOneLinePerDevice() {
        IoController c = new IoController();
        Map<String, String> fresh = Map.of(IoController.WEIGHT, v2("io.weight-fresh"), IoController.MAX, "");
        Resources r = io(300, device("254:0", Limit.of(1_000_000), null, null, Limit.of(100)));
        List<Write> w = c.reconcile(r, CTX, fresh);
        assertEquals(List.of("io.weight=default 300", "io.max=254:0 rbps=1000000 wbps=max riops=max wiops=100"), values(w));
        // the kernel prints the line as the policy wants it (captured): nothing to do
        assertEquals(List.of(), c.reconcile(r, CTX, Map.of(IoController.WEIGHT, "default 300\n",
                IoController.MAX, v2("io.max-vda"))));
        idempotent(c, r, fresh);
    }

    @Test
    void aRemovedIoRuleIsWrittenBackAsMax() {
        IoController c = new IoController();
        List<Write> w = c.reconcile(io(null), CTX, Map.of(IoController.WEIGHT, "default 100\n",
                IoController.MAX, v2("io.max-vda")));
        assertEquals(List.of("io.max=254:0 rbps=max wbps=max riops=max wiops=max"), values(w));
    }

    @Test
    void ioBfqWeightWhereThatIsTheFileThatExists() {
        IoController c = new IoController();
        List<Write> w = c.reconcile(io(500), CTX, Map.of(IoController.BFQ_WEIGHT, "default 100\n"));
        assertEquals(List.of("io.bfq.weight=default 500"), values(w));
    }

    // ---- pids ----

    @Test
    void pidsMax() {
        io.jgovernor.cgroup.v1.PidsController c = new io.jgovernor.cgroup.v1.PidsController();
        assertEquals(List.of("pids.max=32"), values(c.reconcile(pids(Limit.of(32)), CTX, c.fresh(CTX))));
        assertEquals(List.of("pids.max=max"), values(c.reconcile(Resources.NONE, CTX, Map.of(io.jgovernor.cgroup.v1.PidsController.MAX, "32\n"))));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of()));
    }

    @Test
    void everyControllerNeedsNothingOnAFreshGroupForNoPolicy() {
        for (Controller c : V2Controllers.all()) {
            assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, c.fresh(CTX)), c.name());
            assertTrue(V2Controllers.NAMES.contains(c.name()), c.name());
        }
    }

    // ---- subtree_control ----

    @Test
    void subtreeControlEnablesWhatIsMissingAndInOwnedDirectoriesDisablesTheRest() {
        Write w = SubtreeControl.reconcile(java.util.Set.of("memory", "cpu"), "memory pids\n", true);
        assertEquals("+cpu -pids", w.value());
        assertEquals("memory pids", w.was());
        assertEquals("cpu memory", w.wanted());
        Write add = SubtreeControl.reconcile(java.util.Set.of("memory", "cpu"), "memory pids\n", false);
        assertEquals("+cpu", add.value(), "above the root only adds");
        assertEquals(null, SubtreeControl.reconcile(java.util.Set.of("pids"), "memory pids", false));
        assertEquals(null, SubtreeControl.reconcile(java.util.Set.of(), "", true));
    }
}

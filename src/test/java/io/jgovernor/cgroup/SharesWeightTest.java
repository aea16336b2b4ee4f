package io.jgovernor.cgroup;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Resources;
import io.jgovernor.testing.TestPolicies;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * policy.md / issue 14: {@code shares: 1024} is cpu.weight 100 on v2 and {@code weight: 100} is
 * cpu.shares 1024 on v1, by systemd's formula both ways (weight = shares × 100 / 1024, shares =
 * weight × 1024 / 100, clamped), through the policy and the controller as the daemon plans them.
 * The kernel side of v1 is ReconcilerKernelTest#weightIsWrittenAsSharesOnV1.
 */
class SharesWeightTest {
    private static final GroupContext CTX = new GroupContext("web", CpuList.parse("0-1"), CpuList.parse("0"));

    private static Resources cpu(String section) {
        return TestPolicies.parse(Path.of("t.yaml"), "name: web\ncpu: " + section + "\n")
                .get(new GroupName("web")).resources();
    }

    private static Map<String, Write> byFile(List<Write> writes) {
        return writes.stream().collect(java.util.stream.Collectors.toMap(Write::file, w -> w));
    }

    @Test
    void sharesBecomeCpuWeightOnV2() {
        Controller v2 = new io.jgovernor.cgroup.v2.CpuController();
        Map<String, String> seen = Map.of("cpu.weight", "39\n", "cpu.max", "max 100000\n", "cpu.idle", "0\n");
        // 39 is what runc's old linear formula made of 1024, below every default sibling's 100
        assertEquals("100", byFile(v2.reconcile(cpu("{shares: 1024}"), CTX, seen)).get("cpu.weight").value());
        assertEquals("50", byFile(v2.reconcile(cpu("{shares: 512}"), CTX, seen)).get("cpu.weight").value());
        assertEquals("1", byFile(v2.reconcile(cpu("{shares: 2}"), CTX, seen)).get("cpu.weight").value(),
                "clamped to the weight's minimum");
        assertEquals("10000", byFile(v2.reconcile(cpu("{shares: 262144}"), CTX, seen)).get("cpu.weight").value(),
                "clamped to the weight's maximum");
        Map<String, String> atDefault = Map.of("cpu.weight", "100\n", "cpu.max", "max 100000\n", "cpu.idle", "0\n");
        assertEquals(List.of(), v2.reconcile(cpu("{shares: 1024}"), CTX, atDefault), "shares 1024 is the default weight");
    }

    @Test
    void weightBecomesCpuSharesOnV1() {
        Controller v1 = new io.jgovernor.cgroup.v1.CpuController();
        Map<String, String> seen = Map.of("cpu.shares", "512\n", "cpu.cfs_period_us", "100000\n",
                "cpu.cfs_quota_us", "-1\n");
        assertEquals("1024", byFile(v1.reconcile(cpu("{weight: 100}"), CTX, seen)).get("cpu.shares").value());
        assertEquals("2560", byFile(v1.reconcile(cpu("{weight: 250}"), CTX, seen)).get("cpu.shares").value());
        assertEquals("10", byFile(v1.reconcile(cpu("{weight: 1}"), CTX, seen)).get("cpu.shares").value());
        assertEquals("102400", byFile(v1.reconcile(cpu("{weight: 10000}"), CTX, seen)).get("cpu.shares").value());
        Map<String, String> atDefault = Map.of("cpu.shares", "1024\n", "cpu.cfs_period_us", "100000\n",
                "cpu.cfs_quota_us", "-1\n");
        assertEquals(List.of(), v1.reconcile(cpu("{weight: 100}"), CTX, atDefault), "weight 100 is the default shares");
    }

    /** Integer division both ways (as systemd's): a round trip loses at most one weight step, never more. */
    @Test
    void aRoundTripLosesAtMostOneWeightStep() {
        for (long w = CpuWeight.MIN_WEIGHT; w <= CpuWeight.MAX_WEIGHT; w++) {
            long back = CpuWeight.fromShares(CpuWeight.toShares(w));
            org.junit.jupiter.api.Assertions.assertTrue(back == w || back == w - 1 || w == 1 && back == 1,
                    "weight " + w + " came back as " + back);
        }
        assertEquals(100, CpuWeight.fromShares(CpuWeight.toShares(100)), "the defaults meet exactly");
    }
}

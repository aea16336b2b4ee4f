package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Freezing;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.ParsedPolicy;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * freezer with real processes, on both versions: this host's v1 freezer hierarchy, and its cgroup2
 * tree (/sys/fs/cgroup/unified on this hybrid host, taken as a UNIFIED layout, where cgroup.freeze
 * needs no controller) through the v2 backend. A process that counts into a file stops counting
 * when its group is frozen and counts on when thawed; 50 freeze/thaw rounds while the group forks
 * all end frozen or thawed, none half done.
 */
class FreezerKernelTest {
    private static final String GROUP = "fz";

    private static Backend backend(TestCgroups cg) {
        try {
            return Backend.of(cg.layout(), cg.files());
        } catch (io.jgovernor.cgroup.CgroupException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KernelGroups v1() {
        TestCgroups cg = TestCgroups.create();
        return new KernelGroups(cg, backend(cg));
    }

    private static KernelGroups v2() {
        TestCgroups cg = TestCgroups.create(V2DevicesKernelTest.cgroup2Mount());
        assertEquals(CgroupMode.UNIFIED, cg.layout().mode());
        return new KernelGroups(cg, backend(cg));
    }

    /** The policies parsed against the facts of the tree {@code k} governs (v1 here, or the cgroup2 tree). */
    static Report apply(KernelGroups k, String yaml) {
        Path mount = k.cgroups.layout().mode() == CgroupMode.UNIFIED ? k.cgroups.layout().mount() : Path.of("/sys/fs/cgroup");
        ParseResult r = new PolicyParser(new SysfsHostFacts(Path.of("/sys"), mount)).parse(Path.of("test.yaml"), yaml);
        SortedMap<GroupName, Policy> policies = new TreeMap<>();
        for (ParsedPolicy p : assertInstanceOf(ParseResult.Ok.class, r, r::toString).policies()) {
            policies.put(p.policy().name(), p.policy());
        }
        Report report = k.reconciler.reconcileAll(policies);
        assertEquals(List.of(), report.errors(), "reconcile errors");
        return report;
    }

    /** A shell in the group that appends 1, 2, 3... to {@code counter} (appended: a freeze mid-write loses nothing), one every 10 ms; {@code forks} adds a child per round. */
    private static Process counting(KernelGroups k, Path counter, boolean forks) throws IOException {
        Process p = k.shell("read x; i=0; while :; do i=$((i+1)); echo $i >> " + counter + "; "
                + (forks ? "/bin/true & /bin/true & wait; " : "") + "sleep 0.01; done");
        k.join(p.pid(), GROUP);
        KernelGroups.go(p);
        return p;
    }

    /** The group's jgovernor_group_frozen as a scrape reads it. */
    private static double frozenMetric(KernelGroups k) {
        io.jgovernor.metrics.GroupStats stats = io.jgovernor.metrics.GroupStats.of(
                io.jgovernor.metrics.StatFiles.of(k.cgroups.files()), backend(k.cgroups));
        return stats.read(new GroupName(GROUP)).series().stream().filter(x -> x.metric().equals("jgovernor_group_frozen"))
                .findFirst().orElseThrow().value();
    }

    /** The last whole line of the counter file. */
    private static long count(Path counter) throws IOException, InterruptedException {
        for (int i = 0; i < 100; i++) {
            String text = Files.exists(counter) ? Files.readString(counter) : "";
            int end = text.lastIndexOf('\n');
            if (end > 0) {
                int start = text.lastIndexOf('\n', end - 1) + 1;
                return Long.parseLong(text.substring(start, end));
            }
            Thread.sleep(10); // nothing written yet
        }
        fail(counter + " stays empty");
        return -1;
    }

    /** Waits (bounded) for the counter to pass {@code above}. */
    private static void awaitCounting(Path counter, long above) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (count(counter) <= above) {
            if (System.nanoTime() > deadline) {
                fail("the process does not run: its counter stays at " + count(counter));
            }
            Thread.sleep(10);
        }
    }

    private static void assertStill(Path counter) throws IOException, InterruptedException {
        long before = count(counter);
        Thread.sleep(300);
        assertEquals(before, count(counter), "a frozen process went on counting");
    }

    private void frozenProcessDoesNotRunAndRunsWhenThawed(KernelGroups k, String stateFile, String frozenText)
            throws Exception {
        apply(k, "name: fz\nfreezer: {frozen: false}\n");
        Path counter = Files.createTempFile("jgovernor-freezer", ".count");
        try {
            counting(k, counter, false);
            awaitCounting(counter, 3);
            assertEquals(1, apply(k, "name: fz\nfreezer: {frozen: true}\n").writes());
            assertTrue(k.read("freezer", GROUP, stateFile).contains(frozenText), k.read("freezer", GROUP, stateFile));
            assertStill(counter);
            assertEquals(1.0, frozenMetric(k), "jgovernor_group_frozen");
            assertEquals(0, apply(k, "name: fz\nfreezer: {frozen: true}\n").writes(), "converged");
            assertStill(counter);
            // drift: someone thaws the group behind the daemon's back; the next pass freezes it again
            Path dir = k.dir("freezer", GROUP);
            k.cgroups.files().write(dir, stateFile.equals("cgroup.events") ? "cgroup.freeze" : "freezer.state",
                    stateFile.equals("cgroup.events") ? "0" : "THAWED");
            awaitCounting(counter, count(counter) + 2);
            Report repaired = apply(k, "name: fz\nfreezer: {frozen: true}\n");
            assertEquals(1, repaired.driftCorrections(), repaired.toString());
            assertStill(counter);
            long at = count(counter);
            assertEquals(1, apply(k, "name: fz\nfreezer: {frozen: false}\n").writes());
            awaitCounting(counter, at + 3);
            assertEquals(0.0, frozenMetric(k), "jgovernor_group_frozen");
            assertEquals(0, apply(k, "name: fz\nfreezer: {frozen: false}\n").writes(), "converged");
        } finally {
            Files.deleteIfExists(counter);
        }
    }

    private void fiftyRoundsWhileForking(KernelGroups k, Freezing freezing) throws Exception {
        apply(k, "name: fz\nfreezer: {frozen: false}\n");
        Path dir = k.dir("freezer", GROUP);
        Path counter = Files.createTempFile("jgovernor-freezer", ".count");
        try {
            counting(k, counter, true);
            counting(k, counter.resolveSibling(counter.getFileName() + ".2"), true);
            awaitCounting(counter, 3);
            for (int round = 0; round < 50; round++) {
                freezing.freeze(k.cgroups.files(), dir);
                assertEquals(java.util.Optional.of(true), freezing.frozen(k.cgroups.files(), dir), "round " + round);
                if (round % 10 == 0) {
                    assertStill(counter);
                }
                freezing.thaw(k.cgroups.files(), dir);
                assertEquals(java.util.Optional.of(false), freezing.frozen(k.cgroups.files(), dir), "round " + round);
            }
            long at = count(counter);
            awaitCounting(counter, at + 3);
            // the policy still says thawed, and the kernel agrees: nothing to repair
            assertEquals(0, apply(k, "name: fz\nfreezer: {frozen: false}\n").writes());
        } finally {
            Files.deleteIfExists(counter);
            Files.deleteIfExists(counter.resolveSibling(counter.getFileName() + ".2"));
        }
    }

    @Test
    void v1FrozenProcessDoesNotRunAndRunsAgainWhenThawed() throws Exception {
        try (KernelGroups k = v1()) {
            frozenProcessDoesNotRunAndRunsWhenThawed(k, "freezer.state", "FROZEN");
        }
    }

    @Test
    void v1FiftyFreezeThawRoundsWhileTheGroupForksNoneHalfDone() throws Exception {
        try (KernelGroups k = v1()) {
            fiftyRoundsWhileForking(k, new io.jgovernor.cgroup.v1.FreezerController());
        }
    }

    @Test
    void v2FrozenProcessDoesNotRunAndRunsAgainWhenThawed() throws Exception {
        try (KernelGroups k = v2()) {
            frozenProcessDoesNotRunAndRunsWhenThawed(k, "cgroup.events", "frozen 1");
        }
    }

    @Test
    void v2FiftyFreezeThawRoundsWhileTheGroupForksNoneHalfDone() throws Exception {
        try (KernelGroups k = v2()) {
            fiftyRoundsWhileForking(k, backend(k.cgroups).freezing());
        }
    }
}

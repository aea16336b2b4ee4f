package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.NetClsController;
import io.jgovernor.cgroup.v1.NetPrioController;
import io.jgovernor.cgroup.v1.PerfEventController;
import io.jgovernor.cgroup.v2.SubtreeControl;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;

import static io.jgovernor.testing.TestResources.frozen;
import static io.jgovernor.testing.TestResources.hugetlb;
import static io.jgovernor.testing.TestResources.network;
import static io.jgovernor.testing.TestResources.perfEvent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * reconcile() and the counters of freezer, hugetlb, net_cls, net_prio and perf_event on both
 * versions, against text as the kernel prints it (6.x: freezer.state, cgroup.events,
 * hugetlb.2MB.*, net_prio.ifpriomap).
 */
class SubsystemControllerTest {
    private static final GroupContext CTX = new GroupContext("web", CpuList.parse("0"), CpuList.parse("0"));
    private static final long MB2 = 2L << 20;
    private static final long GB1 = 1L << 30;
    private static final Set<Long> SIZES = Set.of(MB2, GB1);

    private static List<String> values(List<Write> writes) {
        return writes.stream().map(w -> w.file() + "=" + w.value()).toList();
    }

    /** The series a controller reads from these file texts, as "metric{labels} value". */
    private static List<String> stats(Controller c, Map<String, String> texts) {
        GroupSample.Builder b = new GroupSample.Builder(new io.jgovernor.model.GroupName("web"));
        c.readStats(new StatReader() {
            @Override
            public String text(java.nio.file.Path dir, String file) {
                return texts.get(file);
            }

            @Override
            public void failed(java.nio.file.Path dir, String file, String message) {
                throw new AssertionError(file + ": " + message);
            }
        }, java.nio.file.Path.of("/x"), b);
        return b.build().series().stream().map(x -> x.metric() + new TreeMap<>(x.labels()).toString().replace("{", "{")
                .replace("}", "}") + " " + x.value()).toList();
    }

    // ---- freezer ----

    @Test
    void v1FreezerComparesTheGroupsOwnWishNotAnAncestorsFreeze() {
        var c = new io.jgovernor.cgroup.v1.FreezerController();
        assertEquals(List.of(), c.reconcile(frozen(false), CTX, c.fresh(CTX)));
        assertEquals(List.of("freezer.state=FROZEN"), values(c.reconcile(frozen(true), CTX, c.fresh(CTX))));
        assertEquals(List.of(), c.reconcile(frozen(true), CTX,
                Map.of("freezer.state", "FROZEN\n", "freezer.self_freezing", "1\n")));
        // frozen by its parent only: nothing of its own to undo
        assertEquals(List.of(), c.reconcile(frozen(false), CTX,
                Map.of("freezer.state", "FROZEN\n", "freezer.self_freezing", "0\n")));
        // the key removed: back to THAWED, the kernel's default
        assertEquals(List.of("freezer.state=THAWED"), values(c.reconcile(Resources.NONE, CTX,
                Map.of("freezer.state", "FROZEN\n", "freezer.self_freezing", "1\n"))));
        // a freeze left half done (FREEZING) is finished
        assertEquals(List.of("freezer.state=FROZEN"), values(c.reconcile(frozen(true), CTX,
                Map.of("freezer.state", "FREEZING\n", "freezer.self_freezing", "1\n"))));
        // no directory yet: nothing to compare
        assertEquals(List.of(), c.reconcile(frozen(true), CTX, Map.of()));
        assertEquals(java.util.Optional.of(true), c.frozen(Map.of("freezer.state", "FROZEN\n")));
        assertEquals(List.of("jgovernor_group_frozen{} 1.0"), stats(c, Map.of("freezer.state", "FROZEN\n")));
        assertEquals(List.of(), stats(c, Map.of()));
        assertEquals(java.util.Optional.of(false), c.frozen(Map.of("freezer.state", "FREEZING\n")));
        assertTrue(c.frozen(Map.of()).isEmpty());
    }

    @Test
    void v2FreezerWritesCgroupFreezeAndReadsFrozenFromEvents() {
        var c = new io.jgovernor.cgroup.v2.FreezerController();
        assertEquals(List.of(), c.reconcile(frozen(false), CTX, c.fresh(CTX)));
        assertEquals(List.of("cgroup.freeze=1"), values(c.reconcile(frozen(true), CTX, c.fresh(CTX))));
        assertEquals(List.of("cgroup.freeze=0"), values(c.reconcile(Resources.NONE, CTX, Map.of("cgroup.freeze", "1\n"))));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of()));
        assertEquals(java.util.Optional.of(true), c.frozen(Map.of("cgroup.events", "populated 1\nfrozen 1\n")));
        assertEquals(List.of("jgovernor_group_frozen{} 0.0"), stats(c, Map.of("cgroup.events", "populated 1\nfrozen 0\n")));
        assertEquals(java.util.Optional.of(false), c.frozen(Map.of("cgroup.events", "populated 0\nfrozen 0\n")));
        assertTrue(c.frozen(Map.of("cgroup.events", "populated 1\n")).isEmpty());
    }

    @Test
    void freezerIsNeverWrittenToSubtreeControl() {
        Write w = SubtreeControl.reconcile(new TreeSet<>(Set.of("freezer", "devices", "hugetlb")), "", true);
        assertEquals("+hugetlb", w.value());
        assertNull(SubtreeControl.reconcile(Set.of("freezer"), "", true));
    }

    // ---- hugetlb ----

    @Test
    void v1HugetlbWritesLimitAndRsvdAndReadsTheKernelsNoLimit() {
        var c = new io.jgovernor.cgroup.v1.HugetlbController(new TreeSet<>(SIZES), true);
        assertEquals(List.of("hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes",
                "hugetlb.1GB.limit_in_bytes", "hugetlb.1GB.rsvd.limit_in_bytes"), c.observedFiles());
        // what a fresh 6.x group reads: PAGE_COUNTER_MAX rounded down to whole huge pages
        Map<String, String> fresh = Map.of("hugetlb.2MB.limit_in_bytes", "9223372036852678656\n",
                "hugetlb.2MB.rsvd.limit_in_bytes", "9223372036852678656\n",
                "hugetlb.1GB.limit_in_bytes", "9223372035781033984\n",
                "hugetlb.1GB.rsvd.limit_in_bytes", "9223372035781033984\n");
        assertEquals(List.of(), c.reconcile(hugetlb(), CTX, fresh));
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, fresh));
        assertEquals(List.of(), c.reconcile(hugetlb(), CTX, c.fresh(CTX)));
        assertEquals(List.of("hugetlb.2MB.limit_in_bytes=67108864", "hugetlb.2MB.rsvd.limit_in_bytes=67108864"),
                values(c.reconcile(hugetlb(MB2, 64L << 20), CTX, fresh)));
        // a kernel before 5.7 has no rsvd files: only the limit
        Map<String, String> old = Map.of("hugetlb.2MB.limit_in_bytes", "67108864\n",
                "hugetlb.1GB.limit_in_bytes", "9223372035781033984\n");
        var before57 = new io.jgovernor.cgroup.v1.HugetlbController(new TreeSet<>(SIZES), false);
        assertEquals(List.of(), before57.reconcile(hugetlb(MB2, 64L << 20), CTX, old));
        assertEquals(List.of("hugetlb.2MB.limit_in_bytes=-1"), values(before57.reconcile(hugetlb(), CTX, old)));
        // a fresh group whose files the plan could not see yet: both written
        assertEquals(List.of("hugetlb.2MB.limit_in_bytes=2097152", "hugetlb.2MB.rsvd.limit_in_bytes=2097152"),
                values(c.reconcile(hugetlb(MB2, MB2), CTX, Map.of())));
        assertEquals(List.of("jgovernor_group_hugetlb_usage_bytes{pagesize=2MB} 4194304.0",
                        "jgovernor_group_hugetlb_failcnt{pagesize=2MB} 3.0"),
                stats(c, Map.of("hugetlb.2MB.usage_in_bytes", "4194304\n", "hugetlb.2MB.failcnt", "3\n")));
    }

    @Test
    void v2HugetlbWritesMaxAndRsvdMax() {
        var c = new io.jgovernor.cgroup.v2.HugetlbController(new TreeSet<>(Set.of(MB2)), true);
        assertEquals(List.of(), c.reconcile(hugetlb(), CTX, c.fresh(CTX)));
        assertEquals(List.of("hugetlb.2MB.max=67108864", "hugetlb.2MB.rsvd.max=67108864"),
                values(c.reconcile(hugetlb(MB2, 64L << 20), CTX, c.fresh(CTX))));
        assertEquals(List.of("hugetlb.2MB.max=max", "hugetlb.2MB.rsvd.max=max"), values(c.reconcile(Resources.NONE, CTX,
                Map.of("hugetlb.2MB.max", "67108864\n", "hugetlb.2MB.rsvd.max", "67108864\n"))));
        // a group never written reads PAGE_COUNTER_MAX in bytes, not "max" (6.18): the same
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of("hugetlb.2MB.max", "9223372036854771712\n",
                "hugetlb.2MB.rsvd.max", "9223372036854771712\n")));
        // hugetlb not enabled for this directory and nothing asks: no files, no writes
        assertEquals(List.of(), c.reconcile(Resources.NONE, CTX, Map.of()));
        assertEquals(List.of("jgovernor_group_hugetlb_usage_bytes{pagesize=2MB} 2097152.0",
                        "jgovernor_group_hugetlb_failcnt{pagesize=2MB} 7.0"),
                stats(c, Map.of("hugetlb.2MB.current", "2097152\n", "hugetlb.2MB.events", "max 7\n")));
        assertEquals(List.of(), stats(c, Map.of()));
    }

    @Test
    void reservationLimitsCameWithFiveSeven() {
        assertTrue(HugePages.hasReservations("6.18.44-fc-v1272"));
        assertTrue(HugePages.hasReservations("5.7.0"));
        assertFalse(HugePages.hasReservations("5.4.0-150-generic"));
        assertFalse(HugePages.hasReservations("4.19.0"));
    }

    @Test
    void pageSizesAreNamedAsTheKernelNamesThem() {
        assertEquals("2MB", HugePages.fileName(MB2));
        assertEquals("1GB", HugePages.fileName(GB1));
        assertEquals("64KB", HugePages.fileName(64L << 10));
        assertEquals("32MB", HugePages.fileName(32L << 20));
    }

    // ---- net_cls, net_prio, perf_event ----

    @Test
    void netClsWritesTheClassIdInDecimal() {
        var c = new NetClsController();
        assertEquals(List.of("net_cls.classid=1048577"), values(c.reconcile(network(0x100001L, Map.of()), CTX, c.fresh(CTX))));
        assertEquals(List.of(), c.reconcile(network(0x100001L, Map.of()), CTX, Map.of("net_cls.classid", "1048577\n")));
        assertEquals(List.of("net_cls.classid=0"), values(c.reconcile(Resources.NONE, CTX, Map.of("net_cls.classid", "1048577\n"))));
        assertFalse(c.usedBy(network(null, Map.of("eth0", 5L))));
    }

    @Test
    void netPrioWritesOneInterfacePerWriteAndReturnsOthersToTheParents() {
        var c = new NetPrioController();
        String seen = "lo 0\neth0 0\neth1 3\n";
        String parent = "lo 0\neth0 0\neth1 0\n";
        assertEquals(List.of("net_prio.ifpriomap=eth0 5", "net_prio.ifpriomap=eth1 0"), values(c.reconcile(
                network(null, Map.of("eth0", 5L)), CTX, Map.of("net_prio.ifpriomap", seen, "../net_prio.ifpriomap", parent))));
        assertEquals(List.of(), c.reconcile(network(null, Map.of("eth1", 3L)), CTX,
                Map.of("net_prio.ifpriomap", seen, "../net_prio.ifpriomap", parent)));
        // an interface the host lacks is written, for the kernel to refuse where the operator sees it
        assertEquals(List.of("net_prio.ifpriomap=wg0 1"), values(c.reconcile(network(null, Map.of("wg0", 1L)), CTX,
                Map.of("net_prio.ifpriomap", parent, "../net_prio.ifpriomap", parent))));
        // a new group: what is asked, onto the parent's map it copied
        assertEquals(List.of("net_prio.ifpriomap=eth0 5"), values(c.reconcile(network(null, Map.of("eth0", 5L)), CTX,
                c.fresh(CTX))));
    }

    @Test
    void perfEventIsADirectoryOnly() {
        var c = new PerfEventController();
        assertTrue(c.usedBy(perfEvent(true)));
        assertFalse(c.usedBy(perfEvent(false)));
        assertFalse(c.usedBy(Resources.NONE));
        assertEquals(List.of(), c.reconcile(perfEvent(true), CTX, Map.of()));
    }
}

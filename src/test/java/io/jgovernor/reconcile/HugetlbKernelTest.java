package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.Hierarchy;
import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * v2 hugetlb with a real process, on this host's cgroup2 tree (where this hybrid host has its
 * hugetlb controller) through the v2 backend: hugetlb.2MB.max and .rsvd.max hold the policy's
 * limit, and a process in the group cannot map more 2 MB pages than the limit (mmap fails, the
 * rsvd limit's doing) while the same mapping outside the group succeeds.
 *
 * <p>The host's huge page pool is empty here; the test lends it 4 pages (8 MiB) through
 * /proc/sys/vm/nr_hugepages and gives them back. Enabling hugetlb for the test root is one
 * "+hugetlb" in the daemon's own cgroup's subtree_control (the cgroup2 root here): taken back
 * after the test when it was not there before.
 */
class HugetlbKernelTest {
    private static final Path NR_HUGEPAGES = Path.of("/proc/sys/vm/nr_hugepages");
    private static final String MAP = "import mmap,sys\n"
            + "n=int(sys.argv[1])<<21\n"
            + "try:\n"
            + "  m=mmap.mmap(-1,n,flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS|0x40000)\n" // MAP_HUGETLB
            + "  m[0:1]=b'x'; m[n-1:n]=b'x'; print('mapped')\n"
            + "except OSError as e:\n"
            + "  print('refused', e.errno)\n";

    /** Runs the mapping of {@code pages} huge pages in {@code group} (null: outside any) and says what happened. */
    private static String map(KernelGroups k, String group, int pages) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "read x; exec python3 -c \"$0\" " + pages, MAP)
                .redirectErrorStream(true).start();
        k.cgroups.register(p.toHandle());
        if (group != null) {
            k.join(p.pid(), group);
        }
        KernelGroups.go(p);
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out;
    }

    @Test
    void maxAndRsvdMaxHoldTheLimitAndAProcessCannotMapPastIt() throws Exception {
        TestCgroups cg = TestCgroups.create(V2DevicesKernelTest.cgroup2Mount());
        Hierarchy h = cg.layout().unified().orElseThrow();
        Path own = h.ownDir();
        String enabledBefore = Files.readString(own.resolve("cgroup.subtree_control"));
        String poolBefore = Files.readString(NR_HUGEPAGES).strip();
        try (KernelGroups k = new KernelGroups(cg, Backend.of(cg.layout(), cg.files()))) {
            assertEquals(CgroupMode.UNIFIED, cg.layout().mode());
            assertTrue(h.has("hugetlb"), "this host's cgroup2 tree offers no hugetlb: " + h.controllers());
            String limited = "name: huge\nhugetlb:\n  - {pageSize: 2Mi, limit: 2Mi}\n";
            Report first = FreezerKernelTest.apply(k, limited);
            assertTrue(first.writes() >= 2, first.toString());
            assertEquals("2097152", k.read("hugetlb", "huge", "hugetlb.2MB.max"));
            boolean rsvd = Files.exists(k.dir("hugetlb", "huge").resolve("hugetlb.2MB.rsvd.max"));
            if (rsvd) {
                assertEquals("2097152", k.read("hugetlb", "huge", "hugetlb.2MB.rsvd.max"));
            }
            assertEquals(0, FreezerKernelTest.apply(k, limited).writes(), "converged");

            if (Long.parseLong(poolBefore) < 4) {
                Files.writeString(NR_HUGEPAGES, "4");
            }
            assertEquals("mapped", map(k, null, 2), "the control: two pages outside the group");
            assertEquals("mapped", map(k, "huge", 1));
            // over the limit: with rsvd.max the mmap itself is refused (ENOMEM); without, the touch is a SIGBUS
            String over = map(k, "huge", 2);
            assertTrue(rsvd ? over.equals("refused 12") : !over.contains("mapped"), over);

            FreezerKernelTest.apply(k, "name: huge\nhugetlb:\n  - {pageSize: 2Mi, limit: 4Mi}\n");
            assertEquals("4194304", k.read("hugetlb", "huge", "hugetlb.2MB.max"));
            assertEquals("mapped", map(k, "huge", 2));

            // hugetlb: [] takes the limits away: max, the kernel's default
            FreezerKernelTest.apply(k, "name: huge\nhugetlb: []\n");
            assertEquals("max", k.read("hugetlb", "huge", "hugetlb.2MB.max"));
        } finally {
            Files.writeString(NR_HUGEPAGES, poolBefore);
            if (!enabledBefore.contains("hugetlb")) {
                try {
                    cg.files().write(own, "cgroup.subtree_control", "-hugetlb");
                } catch (IOException e) {
                    // another cgroup beneath still enables it: it stays, as it was needed
                }
            }
        }
        assertEquals(new GroupName("huge").value(), "huge");
    }
}

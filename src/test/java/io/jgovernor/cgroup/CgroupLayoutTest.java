package io.jgovernor.cgroup;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CgroupLayoutTest {
    private static final Path MOUNT = Path.of("/sys/fs/cgroup");

    private static Function<Path, Optional<String>> controllers(Map<String, String> byPath) {
        return p -> Optional.ofNullable(byPath.get(p.toString()));
    }

    private static CgroupLayout layout(String name, String root, Map<String, String> controllers) {
        return CgroupLayout.of(Fixtures.text("mountinfo-" + name + ".txt"), Fixtures.text("cgroup-" + name + ".txt"),
                MOUNT, root, controllers(controllers));
    }

    @Test
    void thisHostIsHybridWithSeparateCpuAndCpuacct() {
        CgroupLayout l = layout("hybrid-host", "jgovernor", Map.of("/sys/fs/cgroup/unified", "hugetlb\n"));
        // hugetlb on the cgroup2 tree keeps this host HYBRID: it is not a tree the daemon governs
        assertEquals(CgroupMode.HYBRID, l.mode());
        assertEquals(List.of("blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"),
                l.hierarchies().stream().map(Hierarchy::name).toList());
        Hierarchy memory = l.hierarchy("memory").orElseThrow();
        assertEquals(Path.of("/sys/fs/cgroup/memory/process_api/1c66468984b134c29cc742760f0b8796"), memory.ownDir());
        assertEquals(Path.of("/sys/fs/cgroup/memory/process_api/1c66468984b134c29cc742760f0b8796/jgovernor"),
                l.rootDir(memory));
        assertEquals(Path.of("/sys/fs/cgroup/cpu/jgovernor/batch/low"),
                l.groupDir(l.hierarchy("cpu").orElseThrow(), new GroupName("batch/low")));
        assertEquals(Path.of("/sys/fs/cgroup/unified"), l.unified().orElseThrow().mountPoint());
    }

    @Test
    void aHybridHostsUnifiedTreeJoinsTheHierarchiesOnlyWhenAsked() {
        CgroupLayout l = layout("hybrid-host", "jgovernor", Map.of("/sys/fs/cgroup/unified", "hugetlb\n"));
        CgroupLayout u = l.withUnifiedGroups();
        assertEquals(List.of("blkio", "cgroup2", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"),
                u.hierarchies().stream().map(Hierarchy::name).toList());
        Hierarchy unified = u.unified().orElseThrow();
        assertTrue(unified.isUnified() && !unified.hasControllers(), "a tree that only holds processes");
        assertEquals(unified.ownDir().resolve("jgovernor/web"), u.groupDir(unified, new GroupName("web")));
        assertTrue(u.groupDir(unified, new GroupName("web")).startsWith(unified.ownDir()), "beneath its own cgroup only");
        assertEquals(8, l.hierarchies().size(), "the layout itself is unchanged");
        assertEquals(u, u.withUnifiedGroups());
        CgroupLayout v1 = layout("rhel7", "jgovernor", Map.of());
        assertEquals(v1, v1.withUnifiedGroups(), "no unified tree: nothing to add");
    }

    @Test
    void aCgroup2WithManagedControllersIsNotHybrid() {
        CgroupLayout l = layout("hybrid-host", "jgovernor", Map.of("/sys/fs/cgroup/unified", "memory pids\n"));
        assertEquals(CgroupMode.V1, l.mode());
    }

    @Test
    void rhelCoMountedCpuCpuacctAppearsOnce() {
        CgroupLayout l = layout("rhel7", "jgovernor", Map.of());
        assertEquals(CgroupMode.V1, l.mode());
        assertEquals(List.of("blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
                        "net_cls,net_prio", "perf_event", "pids"),
                l.hierarchies().stream().map(Hierarchy::name).toList());
        Hierarchy cpu = l.hierarchy("cpu").orElseThrow();
        assertEquals(cpu, l.hierarchy("cpuacct").orElseThrow());
        assertEquals(Set.of("cpu", "cpuacct"), cpu.controllers());
        assertEquals(Path.of("/sys/fs/cgroup/cpu,cpuacct/system.slice/jgovernor.service/jgovernor/web"),
                l.groupDir(cpu, new GroupName("web")));
        // the daemon's cpuset cgroup is the root there
        assertEquals(Path.of("/sys/fs/cgroup/cpuset/jgovernor"), l.rootDir(l.hierarchy("cpuset").orElseThrow()));
    }

    @Test
    void absoluteRootStartsAtTheHierarchyRoot() {
        CgroupLayout l = layout("rhel7", "/jgovernor", Map.of());
        assertEquals(Path.of("/sys/fs/cgroup/memory/jgovernor/web"),
                l.groupDir(l.hierarchy("memory").orElseThrow(), new GroupName("web")));
    }

    @Test
    void pureV2() {
        // cgroup.controllers as the Debian 12 VM's root lists it
        CgroupLayout l = layout("unified", "jgovernor",
                Map.of("/sys/fs/cgroup", Fixtures.text("v2/cgroup.controllers-root")));
        assertEquals(CgroupMode.UNIFIED, l.mode());
        Hierarchy h = l.unified().orElseThrow();
        // the one cgroup2 hierarchy takes the role of the v1 hierarchies, with the v2 controllers jgovernor manages
        assertEquals(List.of(h), l.hierarchies());
        assertTrue(h.isUnified());
        // devices and freezer are in no cgroup.controllers: BPF programs attach to, and cgroup.freeze is
        // in, every cgroup2 directory
        assertEquals(java.util.Set.of("cpu", "cpuset", "io", "memory", "pids", "devices", "freezer", "hugetlb"),
                h.controllers());
        assertEquals(h, l.hierarchy("memory").orElseThrow());
        assertTrue(l.hierarchy("blkio").isEmpty());
        assertEquals(Path.of("/sys/fs/cgroup/system.slice/jgovernor.service/jgovernor/web"),
                l.groupDir(h, new GroupName("web")));
    }

    @Test
    void containerWhoseMountRootIsNotSlash() {
        CgroupLayout l = layout("container", "jgovernor", Map.of());
        assertEquals(CgroupMode.V1, l.mode());
        // own path /docker/<id> minus mount root /docker/<id>: the mount point itself
        assertEquals(Path.of("/sys/fs/cgroup/cpu,cpuacct/jgovernor"), l.rootDir(l.hierarchy("cpu").orElseThrow()));
        assertEquals(Path.of("/sys/fs/cgroup/memory/app/jgovernor"), l.rootDir(l.hierarchy("memory").orElseThrow()));
    }

    @Test
    void anOwnCgroupOutsideTheMountedRootIsAClearError() {
        String cgroup = Fixtures.text("cgroup-container.txt").replace("9:memory:/docker/4c6a9e1b2f0d/app", "9:memory:/elsewhere");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CgroupLayout.of(
                Fixtures.text("mountinfo-container.txt"), cgroup, MOUNT, "jgovernor", p -> Optional.empty()));
        assertTrue(e.getMessage().contains("/elsewhere") && e.getMessage().contains("not beneath"), e.getMessage());
    }

    @Test
    void refusesRootsThatEscape() {
        for (String bad : List.of("..", "../x", "jgovernor/../../x", "/..", "a/./b", "", "/", "a//b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layout("rhel7", bad, Map.of()), bad);
            assertTrue(e.getMessage().startsWith("jgovernor.cgroup.root"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layout("rhel7", "../etc", Map.of()));
        assertEquals("jgovernor.cgroup.root \"../etc\" must stay inside the cgroup hierarchy: \"..\" is not allowed",
                e.getMessage());
    }

    @Test
    void aDifferentMountRoot() {
        String mounts = Fixtures.text("mountinfo-rhel7.txt").replace("/sys/fs/cgroup", "/run/cg");
        CgroupLayout l = CgroupLayout.of(mounts, Fixtures.text("cgroup-rhel7.txt"), Path.of("/run/cg"), "jg",
                p -> Optional.empty());
        assertEquals(Path.of("/run/cg/pids/system.slice/jgovernor.service/jg"), l.rootDir(l.hierarchy("pids").orElseThrow()));
        // and nothing is found at the default mount root
        assertThrows(IllegalStateException.class, () -> CgroupLayout.of(mounts, Fixtures.text("cgroup-rhel7.txt"),
                MOUNT, "jg", p -> Optional.empty()));
    }

    @Test
    void thisMachinesRealFiles() throws Exception {
        CgroupLayout l = CgroupLayout.detect(MOUNT, "jgovernor", new CgroupFiles());
        assertTrue(l.mode() == CgroupMode.HYBRID || l.mode() == CgroupMode.V1, l.toString());
        for (String c : List.of("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids")) {
            Hierarchy h = l.hierarchy(c).orElseThrow(() -> new AssertionError(c + " missing: " + l));
            assertTrue(Files.isDirectory(h.ownDir()), h.ownDir() + " is this process's cgroup and must exist");
            assertTrue(Files.exists(h.ownDir().resolve("cgroup.procs")));
            assertEquals(h.ownDir().resolve("jgovernor"), l.rootDir(h));
        }
    }
}

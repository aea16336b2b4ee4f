package io.jgovernor.reconcile;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.cgroup.v2.DeviceProgram;
import io.jgovernor.model.DeviceRule;
import io.jgovernor.sys.Bpf;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The v2 devices controller with real processes, through the whole reconciler: a process in a
 * group opens only what the group's BPF device program allows, an edit replaces the program in
 * its place, and removing {@code devices:} detaches it.
 *
 * <p>Runs on any cgroup2 tree: on a v2 host the one at /sys/fs/cgroup, on a hybrid host (this
 * one) the controller-less /sys/fs/cgroup/unified, where device programs attach and hold all the
 * same (they need no controller), taken as a UNIFIED layout.
 */
class V2DevicesKernelTest {
    private KernelGroups k;

    @BeforeEach
    void setUp() throws Exception {
        k = groups(TestCgroups.create(cgroup2Mount()));
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    static Path cgroup2Mount() {
        Path v2 = Path.of("/sys/fs/cgroup");
        if (Files.exists(v2.resolve("cgroup.controllers"))) {
            return v2;
        }
        Path unified = v2.resolve("unified");
        assertTrue(Files.exists(unified.resolve("cgroup.controllers")), "no cgroup2 tree on this host");
        return unified;
    }

    /** A reconciler with the v2 backend, as the daemon builds it. */
    private static KernelGroups groups(TestCgroups cg) throws Exception {
        assertEquals(CgroupMode.UNIFIED, cg.layout().mode());
        return new KernelGroups(cg, Backend.of(cg.layout(), cg.files()));
    }

    /** What is attached to the group's directory, ours and others. */
    private List<Bpf.ProgInfo> attached(String group) throws ErrnoException {
        return attachedTo(k.dir("devices", group));
    }

    private static List<Bpf.ProgInfo> attachedTo(Path dir) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int dirFd = Libc.openRaw(arena.allocateFrom(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY);
            assertTrue(dirFd >= 0, dir + ": " + dirFd);
            try {
                List<Bpf.ProgInfo> out = new ArrayList<>();
                for (int id : Bpf.progQuery(dirFd, Bpf.CGROUP_DEVICE)) {
                    int fd = Bpf.progGetFdById(id);
                    out.add(Bpf.progInfo(fd));
                    Libc.closeRaw(fd);
                }
                return out;
            } finally {
                Libc.closeRaw(dirFd);
            }
        }
    }

    private static String devices(String... rules) {
        return "name: dev\ndevices:\n  allow: [" + String.join(", ", List.of(rules).stream()
                .map(r -> "\"" + r + "\"").toList()) + "]\n";
    }

    @Test
    void aProcessOpensOnlyTheAllowedNodesThenTheOtherWayRoundAfterAnEditAndAllAfterRemoval() throws Exception {
        try (DeviceOpener outside = new DeviceOpener(k.cgroups)) {
            // the control: the same shell, outside any group of ours
            assertEquals("ok /dev/zero", outside.open("/dev/zero"));
            assertEquals("ok /dev/full", outside.open("/dev/full"));
        }
        assertEquals(1, k.apply(devices("c 1:3 rwm")).writes());
        List<Bpf.ProgInfo> first = attached("dev");
        assertEquals(1, first.size(), first.toString());
        assertEquals(DeviceProgram.NAME, first.getFirst().name());
        assertTrue(DeviceProgram.of(List.of(DeviceRule.parse("c 1:3 rwm"))).hasTag(first.getFirst().tag()),
                first.toString());
        // converged: the next pass finds the program by its tag and does nothing (no drift flapping)
        Report again = k.apply(devices("c 1:3 rwm"));
        assertEquals(0, again.writes());
        assertEquals(0, again.driftCorrections());
        assertEquals(first, attached("dev"));
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "dev");
            assertEquals("ok /dev/null", o.open("/dev/null"));
            DeviceOpener.assertDenied(o.open("/dev/zero"), "/dev/zero");
            DeviceOpener.assertDenied(o.open("/dev/full"), "/dev/full");

            // the other way round: one program in the old one's place (BPF_F_REPLACE), a new id
            assertEquals(1, k.apply(devices("c 1:5 rwm", "c 1:7 r")).writes());
            List<Bpf.ProgInfo> second = attached("dev");
            assertEquals(1, second.size(), second.toString());
            assertNotEquals(first.getFirst().id(), second.getFirst().id());
            DeviceOpener.assertDenied(o.open("/dev/null"), "/dev/null");
            assertEquals("ok /dev/zero", o.open("/dev/zero"));
            assertEquals("ok /dev/full", o.open("/dev/full"));
            assertEquals(0, k.apply(devices("c 1:5 rwm", "c 1:7 r")).writes());

            // no devices: the program is detached, nothing is left, every node opens again
            assertEquals(1, k.apply("name: dev\n").writes());
            assertEquals(List.of(), attached("dev"));
            assertEquals("ok /dev/null", o.open("/dev/null"));
            assertEquals("ok /dev/zero", o.open("/dev/zero"));
            assertEquals(0, k.apply("name: dev\n").writes());
        }
    }

    @Test
    void aRestartedDaemonFindsItsProgramAndNeitherStacksOneNorTouchesAnothersProgram() throws Exception {
        k.apply(devices("c 1:3 rwm"));
        Path dir = k.dir("devices", "dev");
        // someone else's program on the same directory (one that allows everything)
        int foreignFd = Bpf.progLoad(Bpf.PROG_TYPE_CGROUP_DEVICE, Bpf.CGROUP_DEVICE,
                DeviceProgram.of(List.of(DeviceRule.parse("a *:* rwm"))).instructions(), "GPL", "someone_else");
        try (Arena arena = Arena.ofConfined()) {
            int dirFd = Libc.openRaw(arena.allocateFrom(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY);
            Bpf.progAttach(dirFd, foreignFd, Bpf.CGROUP_DEVICE, Bpf.F_ALLOW_MULTI, -1);
            Libc.closeRaw(dirFd);
        } finally {
            Libc.closeRaw(foreignFd); // the attachment keeps it
        }
        assertEquals(2, attached("dev").size());

        // a new reconciler on the same tree, as after a daemon restart: nothing to do
        KernelGroups restarted = new KernelGroups(k.cgroups, Backend.of(k.cgroups.layout(), k.cgroups.files()));
        assertEquals(0, restarted.apply(devices("c 1:3 rwm")).writes());
        // an edit replaces ours, and only ours
        assertEquals(1, restarted.apply(devices("c 1:5 rwm")).writes());
        List<String> names = attached("dev").stream().map(Bpf.ProgInfo::name).sorted().toList();
        assertEquals(List.of(DeviceProgram.NAME, "someone_else"), names);
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "dev");
            assertEquals("ok /dev/zero", o.open("/dev/zero"));
            // every program attached must allow: the foreign one allows all, ours not /dev/null
            DeviceOpener.assertDenied(o.open("/dev/null"), "/dev/null");
        }
        restarted.apply("name: dev\n");
        assertEquals(List.of("someone_else"), attached("dev").stream().map(Bpf.ProgInfo::name).toList());
    }

    @Test
    void aChildGroupOnlyNarrowsItsParentSinceBothProgramsRun() throws Exception {
        k.apply("""
                name: outer
                devices: {allow: ["c 1:3 rwm", "c 1:5 rwm"]}
                ---
                name: outer/inner
                devices: {allow: ["c 1:3 rwm", "c 1:7 rwm"]}
                """);
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "outer/inner");
            assertEquals("ok /dev/null", o.open("/dev/null"));
            DeviceOpener.assertDenied(o.open("/dev/zero"), "/dev/zero"); // the parent's only
            DeviceOpener.assertDenied(o.open("/dev/full"), "/dev/full"); // the child's only
        }
    }

    @Test
    void anIsolatedWorkloadsGroupGetsTheMinimalList() throws Exception {
        String disk = DeviceOpener.blockDevice(k.cgroups);
        k.apply("name: iso\nrun:\n  command: [/bin/true]\n  isolate: {namespaces: [pid]}\n");
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "iso");
            for (String node : List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")) {
                assertEquals("ok " + node, o.open(node));
            }
            DeviceOpener.assertDenied(o.open(disk), disk);
        }
    }

    @Test
    void aProgramTheVerifierRefusesComesWithWhatItSaid() {
        // "exit" with r0 never set: the verifier refuses to return an unread register
        byte[] exitOnly = {(byte) 0x95, 0, 0, 0, 0, 0, 0, 0};
        Bpf.LoadException e = assertThrows(Bpf.LoadException.class, () -> Bpf.progLoad(Bpf.PROG_TYPE_CGROUP_DEVICE,
                Bpf.CGROUP_DEVICE, exitOnly, DeviceProgram.LICENSE, DeviceProgram.NAME));
        assertTrue(e.verifierLog().contains("R0"), e.verifierLog());
        assertTrue(e.getMessage().contains("EACCES") || e.getMessage().contains("EINVAL"), e.getMessage());
    }

    @Test
    void aRemovedGroupTakesItsProgramWithIt() throws Exception {
        k.apply(devices("c 1:3 rwm"));
        int id = attached("dev").getFirst().id();
        k.apply("name: other\n");
        assertTrue(!Files.exists(k.dir("devices", "dev")));
        // the last reference was the attachment: the kernel freed the program (eventually, by RCU)
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            try {
                Libc.closeRaw(Bpf.progGetFdById(id));
            } catch (ErrnoException gone) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "program " + id + " still loaded after its group went");
            Thread.sleep(50);
        }
    }

}

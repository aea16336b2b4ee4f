package io.jgovernor.reconcile;

import io.jgovernor.model.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The v1 devices controller with real processes: a process in a group opens only the device
 * nodes its policy allows, whatever its own permissions (it runs as root here).
 */
class DevicesKernelTest {
    private KernelGroups k;

    @BeforeEach
    void setUp() {
        k = new KernelGroups();
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    @Test
    void aProcessOpensOnlyTheAllowedNodesAndAnEditAllowsMoreAtOnce() throws Exception {
        String disk = DeviceOpener.blockDevice(k.cgroups);
        try (DeviceOpener outside = new DeviceOpener(k.cgroups)) {
            // the control: the same shell, outside any group of ours
            assertEquals("ok /dev/zero", outside.open("/dev/zero"));
        }
        k.apply("name: dev\ndevices:\n  allow: [\"c 1:3 rwm\"]\n");
        assertEquals("c 1:3 rwm", k.read("devices", "dev", "devices.list"));
        // converged: a second pass reads devices.list and writes nothing
        assertEquals(0, k.apply("name: dev\ndevices:\n  allow: [\"c 1:3 rwm\"]\n").writes());
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "dev");
            assertEquals("ok /dev/null", o.open("/dev/null"));
            DeviceOpener.assertDenied(o.open("/dev/zero"), "/dev/zero");
            DeviceOpener.assertDenied(o.open(disk), disk);

            // an edit adds 1:5 without ever dropping 1:3: one write, no "a" to devices.deny
            Report edit = k.apply("name: dev\ndevices:\n  allow: [\"c 1:3 rwm\", \"c 1:5 r\"]\n");
            assertEquals(1, edit.writes());
            assertEquals("c 1:3 rwm\nc 1:5 r", k.read("devices", "dev", "devices.list"));
            assertEquals("ok /dev/zero", o.open("/dev/zero"));
            assertEquals("ok /dev/null", o.open("/dev/null"));
            DeviceOpener.assertDenied(o.open(disk), disk);

            // and takes it away again
            k.apply("name: dev\ndevices:\n  allow: [\"c 1:3 rwm\"]\n");
            DeviceOpener.assertDenied(o.open("/dev/zero"), "/dev/zero");
        }
    }

    @Test
    void anIsolatedWorkloadsGroupGetsTheMinimalListWhereMknodGrantsNothing() throws Exception {
        String disk = DeviceOpener.blockDevice(k.cgroups);
        k.apply("name: iso\nrun:\n  command: [/bin/true]\n  isolate: {namespaces: [pid]}\n");
        List<String> listed = k.read("devices", "iso", "devices.list").lines().toList();
        assertEquals(Resources.Devices.ISOLATED.allow().stream().map(Object::toString).toList(), listed);
        Path scratch = Files.createTempDirectory("jgovernor-test-devices");
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "iso");
            for (String node : List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")) {
                assertEquals("ok " + node, o.open(node));
            }
            DeviceOpener.assertDenied(o.open(disk), disk);
            // mknod is allowed (as runc allows it), and the node it makes still cannot be opened
            Path copy = scratch.resolve("disk");
            String[] majMin = Files.readString(Path.of("/sys/block", Path.of(disk).getFileName().toString(), "dev"))
                    .strip().split(":");
            Process mknod = new ProcessBuilder("sh", "-c", "read go; exec mknod " + copy + " b " + majMin[0] + " "
                    + majMin[1]).redirectErrorStream(true).start();
            k.cgroups.register(mknod.toHandle());
            k.join(mknod.pid(), "iso");
            KernelGroups.go(mknod);
            String said = new String(mknod.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, mknod.waitFor(), "mknod in the group: " + said);
            DeviceOpener.assertDenied(o.open(copy.toString()), copy.toString());
        } finally {
            Files.deleteIfExists(scratch.resolve("disk"));
            Files.delete(scratch);
        }
    }

    @Test
    void aChildGroupCanOnlyNarrowItsParent() throws Exception {
        String both = """
                name: outer
                devices: {allow: ["c 1:3 rwm", "c 1:5 rwm"]}
                ---
                name: outer/inner
                devices: {allow: ["c 1:3 rwm"]}
                """;
        k.apply(both);
        try (DeviceOpener o = new DeviceOpener(k.cgroups)) {
            k.join(o.process.pid(), "outer/inner");
            assertEquals("ok /dev/null", o.open("/dev/null"));
            DeviceOpener.assertDenied(o.open("/dev/zero"), "/dev/zero");
        }
        // a child asking for what its parent does not allow is refused by the kernel, and said so
        Report wider = k.reconciler.reconcileAll(k.policies(both.replace("[\"c 1:3 rwm\"]", "[\"c 1:3 rwm\", \"c 1:8 r\"]")));
        assertEquals(1, wider.errors().size(), wider.errors().toString());
        assertEquals("outer/inner", wider.errors().getFirst().group());
        assertTrue(wider.errors().getFirst().toString().contains("c 1:8 r"), wider.errors().toString());
        assertEquals("c 1:3 rwm", k.read("devices", "outer/inner", "devices.list"));
        // the parent narrowed: the kernel takes the rule from the child too, and the plan agrees
        k.apply(both.replace("[\"c 1:3 rwm\", \"c 1:5 rwm\"]", "[\"c 1:5 rwm\"]").replace("[\"c 1:3 rwm\"]", "[]"));
        assertEquals("", k.read("devices", "outer/inner", "devices.list"));
        assertEquals(0, k.apply(both.replace("[\"c 1:3 rwm\", \"c 1:5 rwm\"]", "[\"c 1:5 rwm\"]")
                .replace("[\"c 1:3 rwm\"]", "[]")).writes());
    }

    @Test
    void aGroupThatDropsDevicesReturnsToItsParentsList() throws Exception {
        k.apply("name: dev\ndevices: {allow: [\"c 1:3 rwm\"]}\n---\nname: dev/kid\ndevices: {allow: []}\n");
        // dev keeps a devices directory for its child, and without devices: it gets the root's list back
        k.apply("name: dev\n---\nname: dev/kid\ndevices: {allow: []}\n");
        // (the root allows all; the same in a list is its two wildcards: "a" is refused with children)
        assertEquals(List.of("b *:* rwm", "c *:* rwm"), k.read("devices", "dev", "devices.list").lines().sorted().toList());
        assertEquals(0, k.apply("name: dev\n---\nname: dev/kid\ndevices: {allow: []}\n").writes());
        assertEquals("", k.read("devices", "dev/kid", "devices.list"));
    }
}

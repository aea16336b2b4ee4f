package io.jgovernor.cgroup.v2;

import io.jgovernor.model.DeviceRule;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device program's decisions without a kernel: a small interpreter of the eight instructions
 * the program uses runs it on {@code struct bpf_cgroup_dev_ctx} values, so every rule shape
 * (wildcards, "a", split accesses, the v1 merge) is checked here and only loading and attaching
 * are left to V2DevicesKernelTest.
 */
class DeviceProgramTest {
    private static final int BLOCK = 1, CHAR = 2, MKNOD = 1, READ = 2, WRITE = 4;

    @Test
    void anEmptyListDeniesEveryDevice() {
        DeviceProgram p = program();
        assertEquals(0, run(p, CHAR, READ, 1, 3));
        assertEquals(0, run(p, BLOCK, MKNOD, 8, 0));
    }

    @Test
    void aRuleAllowsItsDeviceForItsAccessesOnly() {
        DeviceProgram p = program("c 1:3 rw");
        assertEquals(1, run(p, CHAR, READ, 1, 3));
        assertEquals(1, run(p, CHAR, READ | WRITE, 1, 3));
        assertEquals(0, run(p, CHAR, MKNOD, 1, 3), "mknod is not in rw");
        assertEquals(0, run(p, CHAR, READ, 1, 5), "another minor");
        assertEquals(0, run(p, CHAR, READ, 2, 3), "another major");
        assertEquals(0, run(p, BLOCK, READ, 1, 3), "a block device with the same numbers");
    }

    @Test
    void wildcardsMatchAnyNumberAndAMatchesBothTypes() {
        DeviceProgram p = program("c 136:* rw", "a *:* m");
        assertEquals(1, run(p, CHAR, READ | WRITE, 136, 7));
        assertEquals(0, run(p, CHAR, READ, 137, 7));
        assertEquals(1, run(p, BLOCK, MKNOD, 8, 0));
        assertEquals(1, run(p, CHAR, MKNOD, 250, 9));
        assertEquals(0, run(p, BLOCK, READ, 8, 0), "a *:* m gives mknod, not read");
    }

    @Test
    void accessesOfOneDeviceMergeAsV1KeepsThemButNotAcrossWildcards() {
        // v1's match_exception: one exception must hold every access asked
        DeviceProgram merged = program("c 1:3 r", "c 1:3 w");
        assertEquals(1, run(merged, CHAR, READ | WRITE, 1, 3));
        DeviceProgram apart = program("c 1:* r", "c 1:3 w");
        assertEquals(0, run(apart, CHAR, READ | WRITE, 1, 3));
        assertEquals(1, run(apart, CHAR, READ, 1, 3));
        assertEquals(1, run(apart, CHAR, WRITE, 1, 3));
    }

    @Test
    void theTagIsTheFirstEightBytesOfEitherDigestOfTheInstructions() {
        DeviceProgram p = program("c 1:3 rwm");
        String sha1 = p.tag("SHA-1");
        String sha256 = p.tag("SHA-256");
        assertEquals(16, sha1.length());
        assertTrue(p.hasTag(sha1));
        assertTrue(p.hasTag(sha256.toUpperCase()));
        assertFalse(p.hasTag(program("c 1:5 rwm").tag("SHA-1")), "another program's tag");
        assertEquals(p.instructions().length / 8, p.length());
    }

    @Test
    void theMostRulesAPolicyMayHaveFitTheProgram() {
        String[] rules = new String[io.jgovernor.model.Resources.Devices.MAX_RULES];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = "b " + (i % 4000) + ":" + i + " r";
        }
        DeviceProgram p = program(rules);
        assertEquals(1, run(p, BLOCK, READ, (rules.length - 1) % 4000, rules.length - 1));
        assertEquals(0, run(p, BLOCK, WRITE, 0, 0));
    }

    private static DeviceProgram program(String... rules) {
        return DeviceProgram.of(Arrays.stream(rules).map(DeviceRule::parse).toList());
    }

    /** Runs the program on one device access the way the kernel's interpreter would: r0 is the verdict. */
    private static int run(DeviceProgram p, int type, int access, int major, int minor) {
        int[] ctx = {(access << 16) | type, major, minor};
        long[] r = new long[11];
        ByteBuffer b = ByteBuffer.wrap(p.instructions()).order(ByteOrder.nativeOrder());
        int pc = 0;
        for (int steps = 0; steps < 100_000; steps++) {
            int code = b.get(pc * 8) & 0xFF;
            int regs = b.get(pc * 8 + 1) & 0xFF;
            int dst = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? regs & 0xF : regs >> 4;
            int src = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? regs >> 4 : regs & 0xF;
            short off = b.getShort(pc * 8 + 2);
            int imm = b.getInt(pc * 8 + 4);
            pc++;
            switch (code) {
                case 0x61 -> r[dst] = ctx[off / 4] & 0xFFFFFFFFL;
                case 0x54 -> r[dst] = (r[dst] & imm) & 0xFFFFFFFFL;
                case 0x74 -> r[dst] = (r[dst] & 0xFFFFFFFFL) >>> imm;
                case 0xb4 -> r[dst] = imm & 0xFFFFFFFFL;
                case 0xbc -> r[dst] = r[src] & 0xFFFFFFFFL;
                case 0x55 -> pc += r[dst] != (imm & 0xFFFFFFFFL) ? off : 0;
                case 0x5d -> pc += r[dst] != r[src] ? off : 0;
                case 0x95 -> {
                    return (int) r[0];
                }
                default -> throw new AssertionError("instruction " + Integer.toHexString(code) + " at " + (pc - 1));
            }
        }
        throw new AssertionError("the program did not end");
    }
}

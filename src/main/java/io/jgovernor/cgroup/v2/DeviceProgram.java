package io.jgovernor.cgroup.v2;

import io.jgovernor.model.DeviceRule;
import io.jgovernor.model.Resources;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A device allow list as a BPF_PROG_TYPE_CGROUP_DEVICE program: cgroup v2 has no devices files;
 * the kernel runs the programs attached to a process's cgroup (and its ancestors') at every open
 * and mknod of a device node, and denies unless each returns 1.
 *
 * <p>The program reads {@code struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor;}}
 * (type in the low 16 bits of access_type, access in the high 16) into r2..r5 once, then has one
 * block per rule that jumps to the next block on the first mismatch and returns 1 at its end; the
 * last block returns 0. A wildcard skips its comparison, "rwm" skips the access test. The rules
 * are first made what v1 keeps ({@link #exceptions}), so a list allows the same on both versions. The same
 * shape as runc's devicefilter (learned from opencontainers/cgroups, written anew here).
 */
public final class DeviceProgram {
    /** The name the kernel keeps for the program (BPF_OBJ_NAME_LEN 16): how ours is told from others. */
    public static final String NAME = "jgovernor_dev";
    public static final String LICENSE = "Apache-2.0";

    // BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* of include/uapi/linux/bpf.h
    private static final int DEV_BLOCK = 1;
    private static final int DEV_CHAR = 2;
    private static final int ACC_MKNOD = 1;
    private static final int ACC_READ = 2;
    private static final int ACC_WRITE = 4;

    // opcodes: class | op | source
    private static final int LDX_MEM_W = 0x61;   // BPF_LDX | BPF_MEM | BPF_W
    private static final int ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
    private static final int ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
    private static final int ALU32_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
    private static final int ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
    private static final int JNE_K = 0x55;       // BPF_JMP | BPF_JNE | BPF_K
    private static final int JNE_X = 0x5d;       // BPF_JMP | BPF_JNE | BPF_X
    private static final int EXIT = 0x95;        // BPF_JMP | BPF_EXIT

    private static final int INSN = 8;
    /** The most instructions one rule's block takes: type, access (3), major, minor, return (2). */
    private static final int MAX_BLOCK = 8;
    private static final Set<DeviceRule.Access> ALL = EnumSet.allOf(DeviceRule.Access.class);

    private final byte[] instructions;

    private DeviceProgram(byte[] instructions) {
        this.instructions = instructions;
    }

    /** The program that allows exactly {@code rules} and denies every other device. */
    public static DeviceProgram of(List<DeviceRule> rules) {
        Assembler a = new Assembler();
        a.emit(LDX_MEM_W, 2, 1, 0, 0);
        a.emit(ALU32_AND_K, 2, 0, 0, 0xFFFF);
        a.emit(LDX_MEM_W, 3, 1, 0, 0);
        a.emit(ALU32_RSH_K, 3, 0, 0, 16);
        a.emit(LDX_MEM_W, 4, 1, 4, 0);
        a.emit(LDX_MEM_W, 5, 1, 8, 0);
        for (var e : exceptions(rules).entrySet()) {
            DeviceRule r = e.getKey();
            int access = 0;
            for (DeviceRule.Access x : e.getValue()) {
                access |= switch (x) {
                    case READ -> ACC_READ;
                    case WRITE -> ACC_WRITE;
                    case MKNOD -> ACC_MKNOD;
                };
            }
            // jumps to the next block are patched once the block's length is known; every block
            // has its type test (no "a" is left), so no block is unconditional and none after it
            // unreachable, which the verifier refuses
            List<Integer> jumps = new ArrayList<>();
            jumps.add(a.emit(JNE_K, 2, 0, 0, r.type() == 'b' ? DEV_BLOCK : DEV_CHAR));
            if (access != (ACC_READ | ACC_WRITE | ACC_MKNOD)) {
                // the access asked must be within the rule's: (asked & allowed) == asked
                a.emit(ALU32_MOV_X, 1, 3, 0, 0);
                a.emit(ALU32_AND_K, 1, 0, 0, access);
                jumps.add(a.emit(JNE_X, 1, 3, 0, 0));
            }
            if (r.major() != DeviceRule.ANY) {
                jumps.add(a.emit(JNE_K, 4, 0, 0, r.major()));
            }
            if (r.minor() != DeviceRule.ANY) {
                jumps.add(a.emit(JNE_K, 5, 0, 0, r.minor()));
            }
            a.emit(ALU32_MOV_K, 0, 0, 0, 1);
            a.emit(EXIT, 0, 0, 0, 0);
            int next = a.count();
            for (int j : jumps) {
                a.patchOffset(j, next - j - 1);
            }
        }
        a.emit(ALU32_MOV_K, 0, 0, 0, 0);
        a.emit(EXIT, 0, 0, 0, 0);
        return new DeviceProgram(a.bytes());
    }

    /**
     * The rules as v1's device cgroup keeps them, so that both versions allow the same: an "a"
     * rule is a "b" and a "c" rule, and rules for the same type and numbers are one exception
     * with the accesses of all (v1 merges a second devices.allow write into the first). A request
     * is allowed when one exception has all of its accesses, as in v1's match_exception: "c 1:3 r"
     * and "c 1:3 w" allow an open for reading and writing, "c 1:* r" and "c 1:3 w" do not.
     */
    static Map<DeviceRule, Set<DeviceRule.Access>> exceptions(List<DeviceRule> rules) {
        Map<DeviceRule, Set<DeviceRule.Access>> out = new LinkedHashMap<>();
        for (DeviceRule r : rules) {
            for (char type : r.type() == 'a' ? new char[] {'b', 'c'} : new char[] {r.type()}) {
                DeviceRule key = new DeviceRule(type, r.major(), r.minor(), ALL);
                out.computeIfAbsent(key, k -> EnumSet.noneOf(DeviceRule.Access.class)).addAll(r.access());
            }
        }
        return out;
    }

    /** The instructions as BPF_PROG_LOAD takes them (struct bpf_insn, native byte order). */
    public byte[] instructions() {
        return instructions.clone();
    }

    public int length() {
        return instructions.length / INSN;
    }

    /**
     * Whether {@code kernelTag}, the tag BPF_OBJ_GET_INFO_BY_FD shows for a loaded program
     * (bpf_prog_info.tag, 16 hex digits), is this program's: the first 8 bytes of a digest of the
     * instructions as loaded (kernel/bpf/core.c bpf_prog_calc_tag; only map descriptors, which
     * this program has none of, are zeroed first). The digest was SHA-1 until the kernel moved
     * program hashes to SHA-256 for signed programs; measured: 6.1 (the VM) shows SHA-1's, 6.18
     * (this host) SHA-256's. Either is taken: 64 bits of one of two digests do not collide by chance.
     */
    public boolean hasTag(String kernelTag) {
        return kernelTag.equalsIgnoreCase(tag("SHA-1")) || kernelTag.equalsIgnoreCase(tag("SHA-256"));
    }

    /** The tag by {@code digest}: "SHA-1" or "SHA-256". */
    String tag(String digest) {
        try {
            byte[] hash = MessageDigest.getInstance(digest).digest(instructions);
            return HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(digest + " is part of every JDK", e);
        }
    }

    private static final class Assembler {
        private final ByteBuffer out = ByteBuffer.allocate(INSN * (6 + MAX_BLOCK * 2 * Resources.Devices.MAX_RULES + 2)).order(ByteOrder.nativeOrder());

        /** Appends struct bpf_insn {u8 code; u8 dst:4, src:4; s16 off; s32 imm;}; its index. */
        int emit(int code, int dst, int src, int off, int imm) {
            int index = count();
            out.put((byte) code);
            // the bit-field's order follows the byte order: dst in the low nibble on little-endian
            out.put((byte) (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? (src << 4) | dst : (dst << 4) | src));
            out.putShort((short) off);
            out.putInt(imm);
            return index;
        }

        void patchOffset(int index, int off) {
            out.putShort(index * INSN + 2, (short) off);
        }

        int count() {
            return out.position() / INSN;
        }

        byte[] bytes() {
            byte[] b = new byte[out.position()];
            out.get(0, b);
            return b;
        }
    }
}

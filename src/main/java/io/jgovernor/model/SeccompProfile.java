package io.jgovernor.model;

import java.util.List;

/**
 * A seccomp filter as the OCI runtime spec (and Docker's profile files) describe one: an action
 * for every system call no rule names, the architectures the filter accepts, and rules that give
 * named system calls another action, optionally only when their arguments compare as given.
 */
public record SeccompProfile(Action defaultAction, List<String> architectures, List<Rule> rules) {
    public SeccompProfile {
        architectures = List.copyOf(architectures);
        rules = List.copyOf(rules);
    }

    /** What the filter does with a system call; {@code errno} only for {@link Kind#ERRNO}. */
    public record Action(Kind kind, int errno) {
        public static Action of(Kind kind) {
            return new Action(kind, 0);
        }

        /** The stage's words: "allow", "errno 1", "kill_process" ... */
        public String text() {
            return kind == Kind.ERRNO ? "errno " + errno : kind.word;
        }
    }

    /** The actions a profile may use: the OCI SCMP_ACT_* names the exec stage can carry out alone. */
    public enum Kind {
        ALLOW("SCMP_ACT_ALLOW", "allow"), ERRNO("SCMP_ACT_ERRNO", "errno"), KILL_THREAD("SCMP_ACT_KILL_THREAD", "kill_thread"),
        KILL_PROCESS("SCMP_ACT_KILL_PROCESS", "kill_process"), TRAP("SCMP_ACT_TRAP", "trap"), LOG("SCMP_ACT_LOG", "log");

        public final String oci;
        public final String word;

        Kind(String oci, String word) {
            this.oci = oci;
            this.word = word;
        }
    }

    public record Rule(List<String> names, Action action, List<Arg> args) {
        public Rule {
            names = List.copyOf(names);
            args = List.copyOf(args);
        }
    }

    /**
     * Argument {@code index} (0-5) compared with {@code value}; for MASKED_EQ, (arg &amp; value) ==
     * valueTwo. Both are unsigned 64-bit numbers.
     */
    public record Arg(int index, long value, long valueTwo, Op op) {
    }

    public enum Op {
        NE("SCMP_CMP_NE", "ne"), LT("SCMP_CMP_LT", "lt"), LE("SCMP_CMP_LE", "le"), EQ("SCMP_CMP_EQ", "eq"),
        GE("SCMP_CMP_GE", "ge"), GT("SCMP_CMP_GT", "gt"), MASKED_EQ("SCMP_CMP_MASKED_EQ", "masked_eq");

        public final String oci;
        public final String word;

        Op(String oci, String word) {
            this.oci = oci;
            this.word = word;
        }
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.ProcessKnobs;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code process:} of one policy: nice, ioClass/ioPriority, oomScoreAdj, schedPolicy, each in
 * the kernel's own range, every problem located. An empty {@code process:} sets nothing.
 */
final class ProcessParser {
    static final List<String> PROCESS_KEYS = List.of("nice", "ioClass", "ioPriority", "oomScoreAdj", "schedPolicy");

    private final Nodes n;

    ProcessParser(Nodes nodes) {
        this.n = nodes;
    }

    /** Null after an error; empty when the section sets nothing. */
    Optional<ProcessKnobs> process(Node node) {
        Map<String, NodeTuple> f = n.mapping(node, "process", PROCESS_KEYS);
        if (f == null) {
            return null;
        }
        int errorsBefore = n.errorCount();
        OptionalInt nice = integer(f, "nice", ProcessKnobs.NICE_MIN, ProcessKnobs.NICE_MAX,
                " (the kernel's nice values; a lower one takes CPU from others)");
        OptionalInt oomScoreAdj = integer(f, "oomScoreAdj", ProcessKnobs.OOM_SCORE_ADJ_MIN,
                ProcessKnobs.OOM_SCORE_ADJ_MAX, " (/proc/PID/oom_score_adj: -1000 never OOM-killed, 1000 killed first)");
        Optional<ProcessKnobs.IoClass> ioClass = Optional.empty();
        boolean ioClassBad = false;
        if (value(f, "ioClass") != null) {
            ioClass = Optional.ofNullable(choice(value(f, "ioClass"), "process.ioClass", ProcessKnobs.IoClass.values(),
                    c -> c.key, ""));
            ioClassBad = ioClass.isEmpty();
        }
        OptionalInt ioPriority = OptionalInt.empty();
        Node level = value(f, "ioPriority");
        if (level != null) {
            OptionalInt v = integer(f, "ioPriority", 0, ProcessKnobs.IO_PRIORITY_MAX, " (0 is served first)");
            if (v.isPresent() && !ioClassBad) {
                if (ioClass.isEmpty()) {
                    n.error(level, "process.ioPriority: a level needs ioClass realtime or best-effort beside it"
                            + " (ionice -c 1|2 -n " + v.getAsInt() + ")");
                } else if (!ioClass.get().takesLevel) {
                    n.error(level, "process.ioPriority: ioClass " + ioClass.get().key + " takes no level; remove"
                            + " ioPriority, or use ioClass realtime or best-effort");
                } else {
                    ioPriority = v;
                }
            }
        }
        Optional<ProcessKnobs.SchedPolicy> sched = Optional.empty();
        if (value(f, "schedPolicy") != null) {
            sched = Optional.ofNullable(choice(value(f, "schedPolicy"), "process.schedPolicy",
                    ProcessKnobs.SchedPolicy.values(), p -> p.key,
                    "; the real-time policies (fifo, rr, deadline) are not offered: one busy real-time thread"
                            + " can hold a CPU from everything else"));
        }
        if (n.errorCount() > errorsBefore) {
            return null;
        }
        ProcessKnobs knobs = new ProcessKnobs(nice, ioClass, ioPriority, oomScoreAdj, sched);
        return knobs.isEmpty() ? Optional.empty() : Optional.of(knobs);
    }

    private static Node value(Map<String, NodeTuple> f, String key) {
        NodeTuple t = f.get(key);
        return t == null ? null : t.getValueNode();
    }

    private OptionalInt integer(Map<String, NodeTuple> f, String key, int min, int max, String why) {
        Node node = value(f, key);
        if (node == null) {
            return OptionalInt.empty();
        }
        java.math.BigInteger v = n.integer(node, "process." + key);
        if (v == null) {
            return OptionalInt.empty();
        }
        if (v.compareTo(java.math.BigInteger.valueOf(min)) < 0 || v.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            n.error(node, "process." + key + ": " + v + " is out of range " + min + ".." + max + why);
            return OptionalInt.empty();
        }
        return OptionalInt.of(v.intValue());
    }

    private <E> E choice(Node node, String path, E[] values, java.util.function.Function<E, String> key, String more) {
        List<String> keys = Arrays.stream(values).map(key).toList();
        String text = n.text(node, path, "one of " + String.join(", ", keys));
        if (text == null) {
            return null;
        }
        for (E e : values) {
            if (key.apply(e).equals(text)) {
                return e;
            }
        }
        n.error(node, path + ": " + Nodes.quote(text) + " is not one of "
                + String.join(", ", keys) + Hints.suffix(text, keys) + more);
        return null;
    }
}

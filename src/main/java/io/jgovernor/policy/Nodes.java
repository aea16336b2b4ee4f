package io.jgovernor.policy;

import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads typed values out of a composed YAML tree and records every problem at the node it
 * belongs to. Each reader returns null (or empty) after recording an error, so that the caller
 * can carry on and report the file's other problems too.
 */
final class Nodes {
    private final Path file;
    private final List<PolicyError> errors = new ArrayList<>();

    Nodes(Path file) {
        this.file = file;
    }

    List<PolicyError> errors() {
        return errors;
    }

    int errorCount() {
        return errors.size();
    }

    void error(Node at, String message) {
        error(at.getStartMark(), message);
    }

    void error(Optional<Mark> mark, String message) {
        errors.add(mark.map(m -> new PolicyError(file, m.getLine() + 1, m.getColumn() + 1, message))
                .orElseGet(() -> PolicyError.whole(file, message)));
    }

    /** "cpu.quota: " for a value error, nothing at the top level. */
    static String prefix(String path) {
        return path.isEmpty() ? "" : path + ": ";
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    /** What a node is, in words, for "expected X, got Y" messages. */
    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode s = (ScalarNode) node;
        Tag tag = s.getTag();
        if (tag.equals(Tag.NULL)) {
            return "nothing";
        }
        if (tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) {
            return "the number " + s.getValue();
        }
        if (tag.equals(Tag.BOOL)) {
            return s.getValue();
        }
        return "\"" + s.getValue() + "\"";
    }

    /**
     * The keys of a mapping, checked: keys must be scalars, each key once, and (when
     * {@code allowed} is given) one of the allowed keys, with a hint for a near miss.
     * A null value stands for an empty mapping: "memory:" alone enables the controller.
     * Returns null after recording an error when the node is not a mapping at all.
     */
    Map<String, NodeTuple> mapping(Node node, String path, List<String> allowed) {
        if (isNull(node)) {
            return new LinkedHashMap<>();
        }
        if (!(node instanceof MappingNode map)) {
            error(node, prefix(path) + "expected a mapping of keys, got " + describe(node));
            return null;
        }
        Map<String, NodeTuple> fields = new LinkedHashMap<>();
        for (NodeTuple tuple : map.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode ks) || isNull(keyNode)) {
                error(keyNode, prefix(path) + "a key must be a plain word, got " + describe(keyNode));
                continue;
            }
            String key = ks.getValue();
            if (fields.containsKey(key)) {
                Mark first = fields.get(key).getKeyNode().getStartMark().orElseThrow();
                error(keyNode, prefix(path) + "duplicate key \"" + key + "\" (first set on line "
                        + (first.getLine() + 1) + ")");
                continue;
            }
            if (allowed != null && !allowed.contains(key)) {
                error(keyNode, prefix(path) + "unknown key \"" + key + "\"" + Hints.suffix(key, allowed));
                continue;
            }
            fields.put(key, tuple);
        }
        return fields;
    }

    /** A list; a null value is the empty list. Null after an error. */
    List<Node> list(Node node, String path) {
        if (isNull(node)) {
            return List.of();
        }
        if (!(node instanceof SequenceNode seq)) {
            error(node, prefix(path) + "expected a list, got " + describe(node));
            return null;
        }
        return seq.getValue();
    }

    /**
     * Text for a string-ish field. Numbers and booleans are taken as written ("mems: 0",
     * "cpus: 3"), since YAML typed them only because they looked like numbers.
     */
    String text(Node node, String path, String expected) {
        if (node instanceof ScalarNode s && !isNull(node)) {
            return s.getValue();
        }
        error(node, prefix(path) + "expected " + expected + ", got " + describe(node));
        return null;
    }

    /** An integer (YAML core schema: decimal, 0x.., 0o..). Null after an error. */
    BigInteger integer(Node node, String path) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
            String v = s.getValue();
            boolean negative = v.startsWith("-");
            String digits = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
            BigInteger n = digits.startsWith("0x") ? new BigInteger(digits.substring(2), 16)
                    : digits.startsWith("0o") ? new BigInteger(digits.substring(2), 8)
                    : new BigInteger(digits);
            return negative ? n.negate() : n;
        }
        error(node, prefix(path) + "expected an integer, got " + describe(node));
        return null;
    }

    /** An integer within [min, max]. Null after an error. */
    Long integerIn(Node node, String path, long min, long max) {
        BigInteger n = integer(node, path);
        if (n == null) {
            return null;
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            error(node, prefix(path) + n + " is out of range " + min + ".." + max);
            return null;
        }
        return n.longValue();
    }

    Boolean bool(Node node, String path) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
            return Boolean.parseBoolean(s.getValue().toLowerCase(java.util.Locale.ROOT));
        }
        error(node, prefix(path) + "expected true or false, got " + describe(node));
        return null;
    }
}

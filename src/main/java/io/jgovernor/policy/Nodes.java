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
        String shown = clip(message, MESSAGE_MAX);
        errors.add(mark.map(m -> new PolicyError(file, m.getLine() + 1, m.getColumn() + 1, shown))
                .orElseGet(() -> PolicyError.whole(file, shown)));
    }

    /** The most of a value a message quotes: enough to recognise it, never a whole document. */
    static final int QUOTE_MAX = 80;
    /** A message as a whole stays on one screen line or two, whatever a library put into it. */
    static final int MESSAGE_MAX = 400;

    /**
     * A value as a message shows it: in double quotes, at most {@link #QUOTE_MAX} characters
     * then "...", control characters written as \0, \n, \t or \xNN so that a NUL or an
     * escape sequence in a file never reaches a terminal or a log as itself.
     */
    static String quote(String value) {
        return "\"" + clip(value, QUOTE_MAX) + "\"";
    }

    /** {@code text} with control characters escaped, cut to {@code max} characters plus "...". */
    static String clip(String text, int max) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), max) + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String piece = switch (c) {
                case '\0' -> "\\0";
                case '\n' -> "\\n";
                case '\t' -> "\\t";
                case '\r' -> "\\r";
                default -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)
                        ? String.format("\\x%02x", (int) c) : String.valueOf(c);
            };
            // an escape is several characters: the cut counts what is shown (Jazzer's finding)
            if (b.length() + piece.length() > max) {
                return b.append("...").toString();
            }
            b.append(piece);
        }
        return b.toString();
    }

    /**
     * The first control character of {@code text} that a value of this kind may not hold, or -1.
     * No value may hold a NUL (execve, paths and environment end at one) or an escape sequence;
     * free text (a description, an argument, an environment value) may hold tabs and line breaks.
     */
    static int forbiddenControl(String text, boolean freeText) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
            boolean allowed = c == '\t' || (freeText && (c == '\n' || c == '\r'));
            if (control && !allowed) {
                return i;
            }
        }
        return -1;
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
            return "the number " + clip(s.getValue(), QUOTE_MAX);
        }
        if (tag.equals(Tag.BOOL)) {
            return clip(s.getValue(), QUOTE_MAX);
        }
        return quote(s.getValue());
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
                error(keyNode, prefix(path) + "duplicate key " + quote(key) + " (first set on line "
                        + (first.getLine() + 1) + ")");
                continue;
            }
            if (allowed != null && !allowed.contains(key)) {
                error(keyNode, prefix(path) + "unknown key " + quote(key) + Hints.suffix(key, allowed));
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
        return text(node, path, expected, false);
    }

    /** Like {@link #text(Node, String, String)}, for free text that may hold tabs and line breaks. */
    String freeText(Node node, String path, String expected) {
        return text(node, path, expected, true);
    }

    private String text(Node node, String path, String expected, boolean freeText) {
        if (node instanceof ScalarNode s && !isNull(node)) {
            String v = s.getValue();
            int at = forbiddenControl(v, freeText);
            if (at >= 0) {
                error(node, prefix(path) + String.format("holds the control character U+%04X at character %d of ",
                        (int) v.charAt(at), at + 1) + quote(v) + (v.charAt(at) == 0
                        ? "; a NUL ends a command, path or environment string in the kernel" : ""));
                return null;
            }
            return v;
        }
        error(node, prefix(path) + "expected " + expected + ", got " + describe(node));
        return null;
    }

    /**
     * The most digits an integer may be written with: every limit fits in 64 bits (20 decimal
     * digits); longer is out of range without converting it (a 1 MiB number would take seconds).
     */
    private static final int INTEGER_DIGITS_MAX = 40;

    /** An integer (YAML core schema: decimal, 0x.., 0o..). Null after an error. */
    BigInteger integer(Node node, String path) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
            String v = s.getValue().strip();
            boolean negative = v.startsWith("-");
            String digits = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
            int radix = digits.startsWith("0x") ? 16 : digits.startsWith("0o") ? 8 : 10;
            String body = radix == 10 ? digits : digits.substring(2);
            if (body.length() > INTEGER_DIGITS_MAX) {
                error(node, prefix(path) + "the number " + clip(v, 24) + " (" + v.length()
                        + " characters) is out of range of any limit");
                return null;
            }
            try {
                BigInteger n = new BigInteger(body, radix);
                return negative ? n.negate() : n;
            } catch (NumberFormatException e) {
                // the core schema's patterns should not let this through; the boundary is here
                // so that no NumberFormatException text ever becomes the message
                error(node, prefix(path) + "expected an integer, got " + quote(v));
                return null;
            }
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

package io.jgovernor.policy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a JSON text (RFC 8259) into values that know their line and column, for files a policy
 * names (a seccomp profile): a located error there is a located error in the policy. The project
 * writes JSON (events/JsonText) but read none until now; this is the whole reader, by hand so
 * that its cost is bounded by the text: one pass, no backtracking, nesting at most
 * {@link #MAX_DEPTH}, a duplicate key refused (two readers could take either).
 */
final class JsonReader {
    static final int MAX_DEPTH = 32;

    /** A value and where it starts (1-based line and column). */
    sealed interface Value permits Obj, Arr, Str, Num, Bool, Null {
        int line();

        int column();
    }

    /** Members in file order; each with where its key is. */
    record Obj(Map<String, Member> members, int line, int column) implements Value {
    }

    record Member(String key, int line, int column, Value value) {
    }

    record Arr(List<Value> items, int line, int column) implements Value {
    }

    record Str(String text, int line, int column) implements Value {
    }

    /** The number as written (validated against the JSON grammar). */
    record Num(String text, int line, int column) implements Value {
        /** The integer it writes, or null when it has a fraction or an exponent. */
        BigInteger integer() {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '.' || c == 'e' || c == 'E') {
                    return null;
                }
            }
            return text.length() > 40 ? null : new BigInteger(text);
        }
    }

    record Bool(boolean value, int line, int column) implements Value {
    }

    record Null(int line, int column) implements Value {
    }

    /** A text that is not JSON, or not JSON this reader takes, and where. */
    static final class JsonException extends Exception {
        final int line;
        final int column;

        JsonException(int line, int column, String message) {
            super(message);
            this.line = line;
            this.column = column;
        }
    }

    private final String s;
    private int pos;
    private int line = 1;
    private int lineStart;

    private JsonReader(String text) {
        this.s = text;
    }

    static Value parse(String text) throws JsonException {
        JsonReader r = new JsonReader(text);
        r.space();
        Value v = r.value(0);
        r.space();
        if (r.pos < r.s.length()) {
            throw r.error("text after the end of the JSON value");
        }
        return v;
    }

    private int column() {
        return pos - lineStart + 1;
    }

    private JsonException error(String message) {
        return new JsonException(line, column(), message);
    }

    private void space() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '\n') {
                line++;
                lineStart = pos + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private Value value(int depth) throws JsonException {
        if (pos >= s.length()) {
            throw error("the text ends where a value should be");
        }
        int l = line;
        int c = column();
        char ch = s.charAt(pos);
        switch (ch) {
            case '{':
                return object(depth + 1, l, c);
            case '[':
                return array(depth + 1, l, c);
            case '"':
                return new Str(string(), l, c);
            case 't':
                word("true");
                return new Bool(true, l, c);
            case 'f':
                word("false");
                return new Bool(false, l, c);
            case 'n':
                word("null");
                return new Null(l, c);
            default:
                if (ch == '-' || (ch >= '0' && ch <= '9')) {
                    return new Num(number(), l, c);
                }
                throw error("unexpected " + shown(ch) + " where a value should be");
        }
    }

    private static String shown(char ch) {
        return ch >= 0x20 && ch < 0x7f ? "'" + ch + "'" : String.format("U+%04X", (int) ch);
    }

    private void word(String w) throws JsonException {
        if (!s.startsWith(w, pos)) {
            throw error("unexpected " + shown(s.charAt(pos)) + " where a value should be");
        }
        pos += w.length();
    }

    private Obj object(int depth, int l, int c) throws JsonException {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels; no profile needs more than 4");
        }
        pos++; // {
        Map<String, Member> members = new LinkedHashMap<>();
        space();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return new Obj(members, l, c);
        }
        while (true) {
            space();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error(pos >= s.length() ? "the text ends inside an object" : "expected a key in double quotes");
            }
            int kl = line;
            int kc = column();
            String key = string();
            if (members.containsKey(key)) {
                throw new JsonException(kl, kc, "the key \"" + Nodes.clip(key, 40) + "\" is given twice");
            }
            space();
            expect(':');
            space();
            members.put(key, new Member(key, kl, kc, value(depth)));
            space();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect('}');
            return new Obj(members, l, c);
        }
    }

    private Arr array(int depth, int l, int c) throws JsonException {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels; no profile needs more than 4");
        }
        pos++; // [
        List<Value> items = new ArrayList<>();
        space();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return new Arr(items, l, c);
        }
        while (true) {
            space();
            items.add(value(depth));
            space();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect(']');
            return new Arr(items, l, c);
        }
    }

    private void expect(char ch) throws JsonException {
        if (pos >= s.length()) {
            throw error("the text ends where '" + ch + "' should be");
        }
        if (s.charAt(pos) != ch) {
            throw error("expected '" + ch + "', found " + shown(s.charAt(pos)));
        }
        pos++;
    }

    private String string() throws JsonException {
        pos++; // "
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("the text ends inside a string");
            }
            char ch = s.charAt(pos);
            if (ch == '"') {
                pos++;
                return b.toString();
            }
            if (ch < 0x20) {
                throw error("the control character " + shown(ch) + " inside a string; write it as an escape");
            }
            if (ch != '\\') {
                b.append(ch);
                pos++;
                continue;
            }
            if (pos + 1 >= s.length()) {
                throw error("the text ends inside a string");
            }
            char e = s.charAt(pos + 1);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 6 > s.length()) {
                        throw error("\\u needs four hexadecimal digits");
                    }
                    int v = 0;
                    for (int i = pos + 2; i < pos + 6; i++) {
                        int d = Character.digit(s.charAt(i), 16);
                        if (d < 0) {
                            throw error("\\u needs four hexadecimal digits");
                        }
                        v = v * 16 + d;
                    }
                    b.append((char) v);
                    pos += 4;
                }
                default -> throw error("\\" + shown(e) + " is not a JSON escape");
            }
            pos += 2;
        }
    }

    private String number() throws JsonException {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos < s.length() && s.charAt(pos) == '0') {
            pos++;
        } else if (!digits()) {
            throw error("a number needs digits");
        }
        if (pos < s.length() && s.charAt(pos) == '.') {
            pos++;
            if (!digits()) {
                throw error("a number needs digits after its '.'");
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            if (!digits()) {
                throw error("a number needs digits in its exponent");
            }
        }
        return s.substring(start, pos);
    }

    private boolean digits() {
        int start = pos;
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
            pos++;
        }
        return pos > start;
    }
}

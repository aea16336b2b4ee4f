package io.jgovernor.events;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON jgovernor writes and reads back (events in the spool), by hand: no reflection,
 * nothing generated at run time, so it stays native-image friendly.
 */
final class JsonText {
    private final String s;
    private int i;

    private JsonText(String s) {
        this.s = s;
    }

    /** Appends {@code value} as a JSON string, quotes included. */
    static StringBuilder quote(StringBuilder out, String value) {
        out.append('"');
        for (int k = 0; k < value.length(); k++) {
            char c = value.charAt(k);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // control characters, and the two separators JavaScript treats as line ends
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c) && !pairedAt(value, k)) {
                        out.append(String.format("\\u%04x", (int) (Character.isSurrogate(c) ? '\ufffd' : c)));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /** Whether the surrogate at {@code k} is half of a valid pair (a lone one is not valid UTF-8). */
    private static boolean pairedAt(String v, int k) {
        char c = v.charAt(k);
        if (Character.isHighSurrogate(c)) {
            return k + 1 < v.length() && Character.isLowSurrogate(v.charAt(k + 1));
        }
        return k > 0 && Character.isHighSurrogate(v.charAt(k - 1));
    }

    private static final java.time.format.DateTimeFormatter RFC3339_MILLIS =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    /**
     * The start of a CloudEvents 1.0 structured document of jgovernor's: the context attributes,
     * then {@code "data":{"group":..,"host":..,"cgroup":..}}, left open for the event's own fields.
     */
    static StringBuilder cloudEvent(String type, String host, String group, String cgroup, java.util.UUID id,
                                    java.time.Instant time) {
        StringBuilder j = new StringBuilder(384);
        j.append("{\"specversion\":\"1.0\",\"type\":\"").append(type).append("\",\"source\":");
        quote(j, "jgovernor://" + host + "/" + group);
        j.append(",\"id\":");
        quote(j, id.toString());
        j.append(",\"time\":\"").append(RFC3339_MILLIS.format(time)).append('"');
        j.append(",\"datacontenttype\":\"application/json\",\"data\":{\"group\":");
        quote(j, group);
        j.append(",\"host\":");
        quote(j, host);
        j.append(",\"cgroup\":");
        quote(j, cgroup);
        return j;
    }

    /** The root and data of a document {@link #cloudEvent} began, checked to be of {@code type}. */
    @SuppressWarnings("unchecked")
    static java.util.Map<String, Object>[] cloudEventParts(String json, String type) {
        Object parsed = parse(json);
        if (!(parsed instanceof java.util.Map<?, ?> root) || !"1.0".equals(root.get("specversion"))
                || !type.equals(root.get("type"))) {
            throw new IllegalArgumentException("not a CloudEvents 1.0 " + type + " document");
        }
        return new java.util.Map[]{(java.util.Map<String, Object>) root,
                (java.util.Map<String, Object>) need(root, "data", java.util.Map.class)};
    }

    /** {@code m.get(key)} as a {@code type}, or an exception naming the key. */
    static <T> T need(java.util.Map<?, ?> m, String key, Class<T> type) {
        Object v = m.get(key);
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException("\"" + key + "\" is missing or not a " + type.getSimpleName());
        }
        return type.cast(v);
    }

    /** Maps for objects, Lists for arrays, String, Long (integers) or Double, Boolean, null. */
    static Object parse(String text) {
        JsonText j = new JsonText(text);
        Object v = j.value();
        j.ws();
        if (j.i != j.s.length()) {
            throw j.error("trailing text");
        }
        return v;
    }

    private Object value() {
        ws();
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> number();
        };
    }

    private Map<String, Object> object() {
        Map<String, Object> out = new LinkedHashMap<>();
        i++;
        ws();
        if (peek() == '}') {
            i++;
            return out;
        }
        while (true) {
            ws();
            if (peek() != '"') {
                throw error("expected a key");
            }
            String key = string();
            ws();
            expect(':');
            out.put(key, value());
            ws();
            char c = next();
            if (c == '}') {
                return out;
            }
            if (c != ',') {
                throw error("expected , or }");
            }
        }
    }

    private List<Object> array() {
        List<Object> out = new ArrayList<>();
        i++;
        ws();
        if (peek() == ']') {
            i++;
            return out;
        }
        while (true) {
            out.add(value());
            ws();
            char c = next();
            if (c == ']') {
                return out;
            }
            if (c != ',') {
                throw error("expected , or ]");
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return out.toString();
            }
            if (c < 0x20) {
                throw error("control character in a string");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw error("short \\u escape");
                    }
                    try {
                        out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw error("bad \\u escape");
                    }
                    i += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
    }

    private Object number() {
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        String n = s.substring(start, i);
        if (n.isEmpty()) {
            throw error("unexpected character '" + s.charAt(start) + "'");
        }
        try {
            return n.matches("-?\\d+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
        } catch (NumberFormatException e) {
            throw error("bad number " + n);
        }
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) {
            throw error("expected " + word);
        }
        i += word.length();
        return v;
    }

    private void ws() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }

    private char peek() {
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        return s.charAt(i);
    }

    private char next() {
        char c = peek();
        i++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) {
            throw error("expected " + c);
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("JSON at offset " + i + ": " + what);
    }
}

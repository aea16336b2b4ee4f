package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code jgovernor status [--json] [--socket=PATH]}: asks the running daemon over its control
 * socket (plain JDK: a unix-domain SocketChannel and one HTTP/1.1 GET) and prints a table of
 * groups, or the raw JSON with {@code --json}. Exit 1 when the daemon cannot be reached.
 */
final class StatusCommand {
    private StatusCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        boolean json = false;
        Path socket = defaultSocket();
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (a.startsWith("--socket=")) {
                socket = Path.of(a.substring("--socket=".length()));
            } else {
                err.println("jgovernor status: unknown option \"" + a + "\"\nusage: jgovernor status [--json] [--socket=PATH]");
                return 2;
            }
        }
        String body;
        try {
            body = get(socket, ControlApi.STATUS_PATH);
        } catch (IOException e) {
            err.println("jgovernor status: " + reason(socket, e));
            return 1;
        }
        if (json) {
            out.println(body);
            return 0;
        }
        try {
            printTable(new JsonObject(body), out);
        } catch (DecodeException | ClassCastException e) {
            err.println("jgovernor status: the daemon answered something that is not its status: " + e.getMessage());
            return 1;
        }
        return 0;
    }

    private static String reason(Path socket, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (e instanceof AccessDeniedException || m.contains("Permission denied")) {
            return "cannot open the control socket " + socket + ": permission denied (it is for root; try sudo)";
        }
        if (!Files.exists(socket) || m.contains("Connection refused") || m.contains("No such file")) {
            return "the daemon is not running (nothing answers on " + socket + "; see jgovernor.api.socket)";
        }
        return "cannot talk to the daemon on " + socket + ": " + m;
    }

    /** The same precedence as the daemon's config: system property, environment, default. */
    static Path defaultSocket() {
        String p = System.getProperty("jgovernor.api.socket");
        if (p == null) {
            p = System.getenv("JGOVERNOR_API_SOCKET");
        }
        return Path.of(p == null ? "/run/jgovernor/api.sock" : p);
    }

    /** One HTTP/1.1 GET over the unix socket; the body of a 200 answer. */
    static String get(Path socket, String path) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: jgovernor\r\nAccept: application/json\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.wrap(request);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
            while (ch.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return body(answer.toString(StandardCharsets.UTF_8));
        }
    }

    private static String body(String response) throws IOException {
        int end = response.indexOf("\r\n\r\n");
        if (!response.startsWith("HTTP/1.1 ") || end < 0) {
            throw new IOException("not an HTTP answer");
        }
        String head = response.substring(0, end);
        String body = response.substring(end + 4);
        String statusLine = head.lines().findFirst().orElse("");
        if (!statusLine.startsWith("HTTP/1.1 200")) {
            throw new IOException("the daemon answered " + statusLine.substring(9));
        }
        if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
            StringBuilder out = new StringBuilder();
            int at = 0;
            while (true) {
                int eol = body.indexOf("\r\n", at);
                int size = Integer.parseInt(body.substring(at, eol).split(";")[0].strip(), 16);
                if (size == 0) {
                    break;
                }
                out.append(body, eol + 2, eol + 2 + size);
                at = eol + 2 + size + 2;
            }
            body = out.toString();
        }
        return body;
    }

    static void printTable(JsonObject status, PrintStream out) {
        JsonArray policies = status.getJsonArray("policies", new JsonArray());
        long invalid = policies.stream().filter(p -> !((JsonObject) p).getBoolean("valid", true)).count();
        StringBuilder head = new StringBuilder("jgovernor ").append(status.getBoolean("ready", false) ? "ready" : "NOT READY")
                .append(": ").append(policies.size()).append(" policy files (").append(invalid).append(" invalid)");
        JsonObject pass = status.getJsonObject("lastPass");
        if (pass != null) {
            head.append("; last pass: ").append(pass.getBoolean("full", false) ? "full, " : "partial, ")
                    .append(pass.getInteger("groups", 0)).append(" groups, ")
                    .append(pass.getJsonArray("errors", new JsonArray()).size()).append(" errors, ")
                    .append(String.format(Locale.ROOT, "%.1f ms", pass.getDouble("seconds", 0.0) * 1000));
        }
        out.println(head);
        if (status.getString("policyDirectoryError") != null) {
            out.println("policy directory: " + status.getString("policyDirectoryError"));
        }
        String format = "%-24s %-9s %6s %10s  %-21s %s%n";
        out.printf(format, "GROUP", "STATE", "PROCS", "CPU s", "MEMORY USE / LIMIT", "LAST ERROR");
        for (Object o : status.getJsonArray("groups", new JsonArray())) {
            JsonObject g = (JsonObject) o;
            Object limit = g.getValue("memoryLimitBytes");
            String memory = g.getValue("memoryUsageBytes") == null ? "-"
                    : bytes(g.getLong("memoryUsageBytes")) + " / "
                    + (limit == null ? "-" : limit instanceof Number n ? bytes(n.longValue()) : limit.toString());
            out.printf(format, g.getString("name"), g.getString("state"),
                    g.getValue("processes") == null ? "-" : g.getLong("processes").toString(),
                    g.getValue("cpuSeconds") == null ? "-" : String.format(Locale.ROOT, "%.2f", g.getDouble("cpuSeconds")),
                    memory, g.getString("lastError") == null ? "-" : g.getString("lastError"));
        }
        JsonObject classify = status.getJsonObject("classify");
        if (classify != null) {
            StringBuilder line = new StringBuilder("match rules (").append(classify.getString("mode", "?"));
            if (classify.getString("scheduling") != null) {
                line.append(", thread ").append(classify.getString("scheduling"));
            }
            line.append("): ").append(classify.getLong("classifiedTotal", 0L)).append(" processes classified, ")
                    .append(classify.getLong("lostEvents", 0L)).append(" event losses");
            for (Object o : status.getJsonArray("groups", new JsonArray())) {
                JsonObject g = (JsonObject) o;
                if (g.getValue("classified") != null) {
                    line.append("; ").append(g.getString("name")).append(": ").append(g.getLong("classified")).append(" now");
                }
            }
            out.println(line);
        }
        for (Object o : policies) {
            JsonObject p = (JsonObject) o;
            for (Object e : p.getJsonArray("errors", new JsonArray())) {
                out.println((p.getBoolean("onLastGood", false) ? "rejected (last good version applied): " : "rejected: ") + e);
            }
        }
    }

    /** Binary units as policies write them: 512Ki, 256Mi, 1.5Gi. */
    static String bytes(long n) {
        String[] units = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? Long.toString(n) : (v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f%s", v, units[u])
                : String.format(Locale.ROOT, "%.1f%s", v, units[u]));
    }
}

package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * {@code jgovernor status [--json] [--socket PATH]}: asks the running daemon over its control
 * socket and prints a table of groups, or the raw JSON with {@code --json}. Exit 1 when the daemon
 * cannot be reached.
 */
final class StatusCommand {
    static final Options.Command COMMAND = new Options.Command("status", "", 0, 0,
            "Groups, their state and usage, workloads and OOM kills, from the running daemon (its control\n"
                    + "socket, jgovernor.api.socket; root only). Exit 1 when the daemon cannot be reached.",
            List.of(Options.JSON, Options.SOCKET));

    private StatusCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(COMMAND, args);
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        if (o.help()) {
            out.println(COMMAND.help());
            return 0;
        }
        ControlClient client = ControlClient.of(o);
        String body;
        try {
            body = client.get(ControlApi.STATUS_PATH);
        } catch (IOException e) {
            err.println("jgovernor status: " + client.reason(e));
            return 1;
        }
        if (o.has("json")) {
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

    static void printTable(JsonObject status, PrintStream out) {
        JsonArray policies = status.getJsonArray("policies", new JsonArray());
        long invalid = policies.stream().filter(p -> !((JsonObject) p).getBoolean("valid", true)).count();
        StringBuilder head = new StringBuilder("jgovernor ").append(status.getBoolean("ready", false) ? "ready" : "NOT READY");
        if (status.getValue("pid") != null) {
            head.append(" (pid ").append(status.getLong("pid")).append(')');
        }
        head.append(": ").append(policies.size()).append(" policy files (").append(invalid).append(" invalid)");
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
        String format = "%-24s %-9s %6s %10s  %-21s %4s  %-32s %s%n";
        out.printf(format, "GROUP", "STATE", "PROCS", "CPU s", "MEMORY USE / LIMIT", "OOM", "WORKLOAD", "LAST ERROR");
        for (Object o : status.getJsonArray("groups", new JsonArray())) {
            JsonObject g = (JsonObject) o;
            Object limit = g.getValue("memoryLimitBytes");
            String memory = g.getValue("memoryUsageBytes") == null ? "-"
                    : bytes(g.getLong("memoryUsageBytes")) + " / "
                    + (limit == null ? "-" : limit instanceof Number n ? bytes(n.longValue()) : limit.toString());
            // a frozen group's processes neither run nor exit: that is its state, whatever else holds
            String state = g.getString("frozen") == null ? g.getString("state") : "frozen";
            out.printf(format, g.getString("name"), state,
                    g.getValue("processes") == null ? "-" : g.getLong("processes").toString(),
                    g.getValue("cpuSeconds") == null ? "-" : String.format(Locale.ROOT, "%.2f", g.getDouble("cpuSeconds")),
                    memory, g.getValue("oomKills") == null ? "-" : g.getLong("oomKills").toString(),
                    workload(g.getJsonObject("workload")),
                    g.getString("lastError") == null ? "-" : g.getString("lastError"));
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

    /**
     * A workload in one word and its detail: {@code running (pid 42)}, {@code failed (exit 1)},
     * {@code restarting (3 restarts)} (waiting out its backoff), {@code exited (exit 0)}; {@code -}
     * for a group without {@code run:}. The start error, if any, is in the LAST ERROR column's
     * place only in --json: it can be long.
     */
    static String workload(JsonObject w) {
        if (w == null) {
            return "-";
        }
        String state = w.getString("state", "?");
        long restarts = w.getLong("restarts", 0L);
        Integer exit = w.getInteger("lastExit");
        // as Process.waitFor reports it: 128 + N for a process killed by signal N
        String exitText = exit == null || exit < 0 ? null : "exit " + exit;
        return switch (state) {
            case "running", "starting", "stopping" -> state + (w.getValue("pid") == null ? "" : " (pid " + w.getLong("pid") + ")");
            case "backoff" -> "restarting (" + restarts + (restarts == 1 ? " restart" : " restarts")
                    + (exitText == null ? "" : ", " + exitText) + ")";
            case "failed", "exited", "stopped" -> state + (exitText == null ? "" : " (" + exitText + ")");
            default -> state;
        };
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

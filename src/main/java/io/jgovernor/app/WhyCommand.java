package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code jgovernor why [--json] [--socket PATH] PID}: the group a process is in and what put it
 * there (a match rule of a policy file, or the group's workload), asked of the running daemon,
 * which remembers each move it made. Exit 0 when the process exists, 1 otherwise.
 */
final class WhyCommand {
    static final Options.Command COMMAND = new Options.Command("why", "PID", 1, 1,
            "The group process PID is in (from /proc/PID/cgroup against the daemon's cgroup layout), and\n"
                    + "what put it there: the policy file and match entry that moved it, or the workload it\n"
                    + "belongs to; or that jgovernor did not place it. Exit 0: the process exists; 1: it does\n"
                    + "not, or no daemon to ask.",
            List.of(Options.JSON, Options.SOCKET));

    private WhyCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        int pid;
        try {
            o = Options.parse(COMMAND, args);
            if (o.help()) {
                out.println(COMMAND.help());
                return 0;
            }
            try {
                pid = Integer.parseInt(o.operands().getFirst());
                if (pid <= 0) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new Options.UsageException("not a pid: \"" + o.operands().getFirst() + "\"");
            }
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        ControlClient client = ControlClient.of(o);
        JsonObject doc;
        try {
            doc = new JsonObject(client.get(ControlApi.WHY_PATH + pid));
        } catch (IOException e) {
            err.println("jgovernor why: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor why: the daemon answered something unexpected: " + e.getMessage());
            return 1;
        }
        if (o.has("json")) {
            out.println(doc.encode());
            return doc.getBoolean("exists", false) ? 0 : 1;
        }
        if (!doc.getBoolean("exists", false)) {
            err.println("jgovernor why: no process " + pid);
            return 1;
        }
        out.println(explain(doc));
        return 0;
    }

    private static String hierarchies(JsonObject in) {
        return String.join(", ", in.getJsonArray("hierarchies", new JsonArray()).stream().map(String::valueOf).toList());
    }

    /** A few lines a person reads: where the process is, then why. */
    static String explain(JsonObject doc) {
        StringBuilder s = new StringBuilder();
        s.append(doc.getInteger("pid")).append(" (").append(doc.getString("comm", "?")).append(")");
        // hierarchies a group does not use hold the process outside jgovernor's tree: normal on v1
        List<JsonObject> groups = doc.getJsonArray("in", new JsonArray()).stream().map(JsonObject.class::cast)
                .filter(x -> x.getString("group") != null).toList();
        String only = null;
        if (groups.isEmpty()) {
            s.append(" is in no jgovernor group");
        } else if (groups.size() == 1) {
            only = groups.getFirst().getString("group");
            s.append(" is in group ").append(only).append(" (").append(hierarchies(groups.getFirst())).append(')');
        } else {
            s.append(" is in different groups per hierarchy:");
            for (JsonObject x : groups) {
                s.append("\n  ").append(x.getString("group")).append(": ").append(hierarchies(x));
            }
        }
        JsonObject moved = doc.getJsonObject("moved");
        String workload = doc.getString("workload");
        if (moved != null) {
            s.append("\nmoved into ").append(moved.getString("group")).append(" at ").append(moved.getString("at"))
                    .append(" by match entry ").append(moved.getInteger("entry")).append(" (")
                    .append(moved.getString("rule")).append(") of ").append(moved.getString("file"));
            if (only != null && !only.equals(moved.getString("group"))) {
                s.append("\n(it has left that group since: someone else moved it, or its group's directories changed)");
            }
        } else if (workload != null) {
            s.append("\nstarted by jgovernor as (part of) the workload of group ").append(workload)
                    .append(" (its policy's run:)");
        } else {
            s.append("\nnot placed by jgovernor: no match rule moved it and it is no workload's process");
        }
        return s.toString();
    }
}

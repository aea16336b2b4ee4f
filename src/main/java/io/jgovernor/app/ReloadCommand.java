package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code jgovernor reload [--json] [--socket PATH]}: what SIGHUP does (every policy read again, a
 * full pass), but waits for that pass and prints its summary. Exit 0 when the pass ran without
 * errors, 1 when it had errors or the daemon cannot be asked.
 */
final class ReloadCommand {
    static final Options.Command COMMAND = new Options.Command("reload", "", 0, 0,
            "Makes the running daemon re-read every policy and run a full pass, as SIGHUP does, waits for\n"
                    + "that pass and prints its summary. Exit 0: the pass had no errors; 1: it had some, or no\n"
                    + "daemon to ask.",
            List.of(Options.JSON, Options.SOCKET));

    private ReloadCommand() {
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
        JsonObject report;
        try {
            report = new JsonObject(client.post(ControlApi.RELOAD_PATH, null));
        } catch (IOException e) {
            err.println("jgovernor reload: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor reload: the daemon answered something that is not a report: " + e.getMessage());
            return 1;
        }
        if (o.has("json")) {
            out.println(report.encode());
        } else {
            out.println("reloaded: " + report.getString("summary", "?"));
            report.getJsonArray("errors", new io.vertx.core.json.JsonArray()).forEach(e -> err.println("error: " + e));
        }
        return report.getJsonArray("errors", new io.vertx.core.json.JsonArray()).isEmpty() ? 0 : 1;
    }
}

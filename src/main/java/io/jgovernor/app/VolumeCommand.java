package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code jgovernor volume ls [--json]} and {@code jgovernor volume rm NAME}: the named volumes of
 * state-dir/volumes (run.isolate.volumes), asked of the running daemon, which knows which
 * workloads use each and refuses to remove one in use.
 */
final class VolumeCommand {
    static final Options.Command COMMAND = new Options.Command("volume", "ls | rm NAME", 1, 2,
            "ls: each named volume (state-dir/volumes/NAME): its name, the bytes its files hold, and the\n"
                    + "groups whose policies name it. rm NAME: removes the volume and everything in it; refused\n"
                    + "(exit 1) while a workload that names it is starting, running, restarting or stopping.\n"
                    + "Volumes are made at the first start of a workload that names them and kept when\n"
                    + "policies go.",
            List.of(Options.JSON, Options.SOCKET));

    private VolumeCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(COMMAND, args);
            if (o.help()) {
                out.println(COMMAND.help());
                return 0;
            }
            String verb = o.operands().getFirst();
            if (!(verb.equals("ls") && o.operands().size() == 1) && !(verb.equals("rm") && o.operands().size() == 2)) {
                throw new Options.UsageException(verb.equals("rm") ? "rm needs the volume's NAME"
                        : verb.equals("ls") ? "ls takes no NAME" : "unknown action \"" + verb + "\" (ls or rm)");
            }
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        ControlClient client = ControlClient.of(o);
        try {
            if (o.operands().getFirst().equals("rm")) {
                String name = o.operands().get(1);
                client.post(ControlApi.VOLUME_RM_PATH + "?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8), "{}");
                out.println("removed volume " + name);
                return 0;
            }
            JsonObject doc = new JsonObject(client.get(ControlApi.VOLUMES_PATH));
            if (o.has("json")) {
                out.println(doc.encode());
                return 0;
            }
            out.println(table(doc.getJsonArray("volumes", new JsonArray())));
            return 0;
        } catch (ControlClient.Refused e) {
            err.println("jgovernor volume: " + ControlClient.refusal(e));
            return 1;
        } catch (IOException e) {
            err.println("jgovernor volume: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor volume: the daemon answered something unexpected: " + e.getMessage());
            return 1;
        }
    }

    static String table(JsonArray volumes) {
        StringBuilder s = new StringBuilder(String.format("%-24s %12s  %s", "NAME", "BYTES", "GROUPS"));
        for (Object v : volumes) {
            JsonObject x = (JsonObject) v;
            List<String> groups = x.getJsonArray("groups", new JsonArray()).stream().map(String::valueOf).toList();
            s.append(String.format("%n%-24s %12d  %s", x.getString("name"), x.getLong("bytes", 0L),
                    groups.isEmpty() ? "-" : String.join(",", groups)));
        }
        return s.toString();
    }
}

package io.jgovernor.app;

import io.jgovernor.policy.PolicyDirectory;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code jgovernor plan [--json] [--socket PATH] [DIR|FILE...]}: what the daemon would do if these
 * files were in its policy directory. The files are read here and sent to the daemon, which plans
 * with the reconciler it applies passes with: the daemon's own cgroup layout (the groups live
 * beneath the daemon's cgroup, which this process is not in), its host facts and what its last pass
 * applied. Exit 0: nothing to do; 2: changes; 1: a file is invalid or the daemon cannot be asked.
 */
final class PlanCommand {
    static final int CHANGES = 2;
    static final Options.Command COMMAND = new Options.Command("plan", "[DIR|FILE...]", 0, -1,
            "What the running daemon would do if these files were in its policy directory: each mkdir,\n"
                    + "write (file: old -> new), move and rmdir, per group. A given file replaces the live file of\n"
                    + "the same name; a DIR gives its policy files; no argument: the live directory as it is.\n"
                    + "Changes nothing. Exit 0: nothing to do; 2: changes; 1: invalid, or no daemon to ask.",
            List.of(Options.JSON, Options.SOCKET));

    private PlanCommand() {
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
        JsonArray files = new JsonArray();
        try {
            for (String a : o.operands()) {
                Path p = Path.of(a);
                if (Files.isDirectory(p)) {
                    for (PolicyDirectory.Candidate c : new PolicyDirectory(p).list()) {
                        files.add(file(c.file()));
                    }
                } else {
                    files.add(file(p));
                }
            }
        } catch (IOException e) {
            err.println("jgovernor plan: cannot read " + e.getMessage());
            return 1;
        }
        ControlClient client = ControlClient.of(o);
        JsonObject doc;
        try {
            doc = new JsonObject(client.post(ControlApi.PLAN_PATH, new JsonObject().put("files", files).encode()));
        } catch (IOException e) {
            err.println("jgovernor plan: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor plan: the daemon answered something that is not a plan: " + e.getMessage());
            return 1;
        }
        boolean valid = doc.getBoolean("valid", false);
        JsonArray steps = doc.getJsonArray("steps", new JsonArray());
        if (o.has("json")) {
            out.println(doc.encode());
        } else if (!valid) {
            for (Object e : doc.getJsonArray("errors", new JsonArray())) {
                JsonObject x = (JsonObject) e;
                err.println(x.getString("file") + ":" + x.getInteger("line") + ":" + x.getInteger("column") + ": "
                        + x.getString("message"));
            }
            err.println("nothing planned: the files are invalid");
        } else {
            print(doc, out);
        }
        for (Object u : doc.getJsonArray("unreadable", new JsonArray())) {
            err.println("cannot read, not planned: " + u);
        }
        return !valid ? 1 : steps.isEmpty() ? 0 : CHANGES;
    }

    private static JsonObject file(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return new JsonObject().put("name", abs.getFileName().toString()).put("path", abs.toString())
                    .put("content", Files.readString(abs));
        } catch (IOException e) {
            throw new IOException(abs + ": " + e.getMessage(), e);
        }
    }

    /** Per group, in the order the pass would take the steps. */
    static void print(JsonObject doc, PrintStream out) {
        Map<String, List<String>> byGroup = new LinkedHashMap<>();
        int mkdirs = 0;
        int writes = 0;
        int moves = 0;
        int rmdirs = 0;
        for (Object o : doc.getJsonArray("steps", new JsonArray())) {
            JsonObject s = (JsonObject) o;
            String line = switch (s.getString("op", "?")) {
                case "mkdir" -> {
                    mkdirs++;
                    yield "mkdir " + s.getString("dir");
                }
                case "write" -> {
                    writes++;
                    yield s.getString("file") + ": " + shown(s.getString("old")) + " -> " + shown(s.getString("new"))
                            + "  (" + s.getString("dir") + ")";
                }
                case "move" -> {
                    moves++;
                    yield "move processes of " + s.getString("dir") + " to " + s.getString("to");
                }
                case "rmdir" -> {
                    rmdirs++;
                    yield "rmdir " + s.getString("dir");
                }
                default -> s.encode();
            };
            byGroup.computeIfAbsent(s.getString("group", "?"), g -> new java.util.ArrayList<>()).add(line);
        }
        if (byGroup.isEmpty()) {
            out.println("nothing to do: the cgroups already match the policies (" + doc.getInteger("groups", 0)
                    + " groups)");
            return;
        }
        byGroup.forEach((group, lines) -> {
            out.println(group + ":");
            lines.forEach(l -> out.println("  " + l));
        });
        out.println(byGroup.size() + " groups change: " + mkdirs + " mkdir, " + writes + " write, " + moves
                + " move, " + rmdirs + " rmdir");
    }

    private static String shown(String value) {
        return value == null || value.isBlank() ? "(empty)" : value.strip();
    }
}

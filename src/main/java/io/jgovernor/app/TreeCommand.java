package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code jgovernor tree [--json] [--socket PATH]}: the groups as a tree, each with its processes
 * (pid and comm), as {@code systemd-cgls} draws a slice.
 */
final class TreeCommand {
    static final Options.Command COMMAND = new Options.Command("tree", "", 0, 0,
            "The running daemon's groups as a tree, each with the processes in it (pid and comm), as\n"
                    + "systemd-cgls draws a slice.",
            List.of(Options.JSON, Options.SOCKET));

    private TreeCommand() {
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
        JsonObject doc;
        try {
            doc = new JsonObject(client.get(ControlApi.TREE_PATH));
        } catch (IOException e) {
            err.println("jgovernor tree: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor tree: the daemon answered something unexpected: " + e.getMessage());
            return 1;
        }
        if (o.has("json")) {
            out.println(doc.encode());
        } else {
            out.print(render(doc));
        }
        return 0;
    }

    /** A node: a group (or the root) with its processes and child groups. */
    private static final class Node {
        final String label;
        final List<String> processes = new ArrayList<>();
        final Map<String, Node> children = new TreeMap<>();

        Node(String label) {
            this.label = label;
        }
    }

    static String render(JsonObject doc) {
        JsonArray roots = doc.getJsonArray("root", new JsonArray());
        Node root = new Node("jgovernor" + (roots.isEmpty() ? "" : " (" + roots.getString(0)
                + (roots.size() > 1 ? " and " + (roots.size() - 1) + " more hierarchies" : "") + ")"));
        addProcesses(root, doc.getJsonArray("rootProcesses", new JsonArray()));
        for (Object o : doc.getJsonArray("groups", new JsonArray())) {
            JsonObject g = (JsonObject) o;
            Node at = root;
            for (String part : g.getString("name").split("/")) {
                at = at.children.computeIfAbsent(part, Node::new);
            }
            addProcesses(at, g.getJsonArray("processes", new JsonArray()));
        }
        StringBuilder s = new StringBuilder(root.label).append('\n');
        draw(root, "", s);
        return s.toString();
    }

    private static void addProcesses(Node n, JsonArray processes) {
        for (Object o : processes) {
            JsonObject p = (JsonObject) o;
            n.processes.add(p.getInteger("pid") + " " + p.getString("comm", "?"));
        }
    }

    private static void draw(Node n, String indent, StringBuilder s) {
        List<Object> items = new ArrayList<>(n.processes);
        items.addAll(n.children.values());
        for (int i = 0; i < items.size(); i++) {
            boolean last = i == items.size() - 1;
            Object item = items.get(i);
            s.append(indent).append(last ? "└─" : "├─");
            if (item instanceof Node child) {
                s.append(child.label).append('\n');
                draw(child, indent + (last ? "  " : "│ "), s);
            } else {
                s.append(item).append('\n');
            }
        }
    }
}

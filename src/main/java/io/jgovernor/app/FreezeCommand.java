package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code jgovernor freeze GROUP} and {@code jgovernor thaw GROUP}: asks the running daemon to stop
 * every process of the group (the freezer) until thawed, across daemon restarts; a policy's
 * {@code freezer:} key wins. Exit 0 done, 1 refused (with why) or no daemon, 2 usage.
 */
final class FreezeCommand {
    static final Options.Command FREEZE = new Options.Command("freeze", "GROUP", 1, 1,
            "Freezes GROUP now: every process of it (and of the groups beneath) stops where it is, and the\n"
                    + "command returns once the kernel says all are frozen. The freeze is kept in the state\n"
                    + "directory, so a restarted daemon freezes the group again, until `jgovernor thaw GROUP`.\n"
                    + "A frozen workload is not restarted or counted as failed; stopping it thaws it first.\n"
                    + "Refused (exit 1) for a group no valid policy defines, and for a group whose policy says\n"
                    + "freezer: {frozen: false} (the policy wins).",
            List.of(Options.SOCKET));
    static final Options.Command THAW = new Options.Command("thaw", "GROUP", 1, 1,
            "Thaws GROUP frozen by `jgovernor freeze`: its processes run again, and the freeze is removed\n"
                    + "from the state directory. Refused (exit 1) for a group whose policy says\n"
                    + "freezer: {frozen: true} (the policy wins: edit it) and for an unknown group; a group not\n"
                    + "frozen at run time is left as it is (exit 0).",
            List.of(Options.SOCKET));

    private FreezeCommand() {
    }

    static int freeze(String[] args, PrintStream out, PrintStream err) {
        return run(FREEZE, ControlApi.FREEZE_PATH, args, out, err);
    }

    static int thaw(String[] args, PrintStream out, PrintStream err) {
        return run(THAW, ControlApi.THAW_PATH, args, out, err);
    }

    private static int run(Options.Command command, String path, String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(command, args);
        } catch (Options.UsageException e) {
            return Options.usageError(command, e, err);
        }
        if (o.help()) {
            out.println(command.help());
            return 0;
        }
        String group = o.operands().getFirst();
        ControlClient client = ControlClient.of(o);
        String prefix = "jgovernor " + command.name() + ": ";
        try {
            JsonObject answer = new JsonObject(client.post(path + "?group="
                    + URLEncoder.encode(group, StandardCharsets.UTF_8), "{}"));
            out.println(answer.getString("done", "?"));
            return 0;
        } catch (ControlClient.Refused e) {
            err.println(prefix + ControlClient.refusal(e));
            return 1;
        } catch (IOException e) {
            err.println(prefix + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println(prefix + "the daemon answered something unexpected: " + e.getMessage());
            return 1;
        }
    }
}

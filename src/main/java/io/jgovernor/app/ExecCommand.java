package io.jgovernor.app;

import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code jgovernor exec [--socket PATH] GROUP [--] CMD...}: runs CMD inside the group's running
 * workload. The daemon says how (the exec stage's argv for its workload: pid and start time,
 * cgroups, ids, confinement; the environment; the compiled seccomp program); this process then
 * becomes the exec stage with execve, so the command's stdin, stdout and stderr are the caller's
 * (a terminal passes through), signals sent to this pid reach the command (the stage forwards
 * them), and the exit status is the command's. The stage (join.c) joins the workload's
 * namespaces, root and cgroups and takes no more capabilities than the workload has.
 */
final class ExecCommand {
    static final Options.Command COMMAND = new Options.Command("exec", "GROUP [--] CMD [ARG...]", 1, 1,
            "Runs CMD inside the running workload of GROUP: in its namespaces (pid, mount, uts, ipc, net,\n"
                    + "user, cgroup: those it has), its root, its cgroups, as its user, with its capabilities (never\n"
                    + "more than the workload has), no_new_privs, seccomp filter and limits. CMD is looked up in\n"
                    + "the workload's PATH. stdin, stdout and stderr are this command's; the exit status is CMD's\n"
                    + "(128+N when signal N ended it). 1: no such group or no running workload; 2: usage; 126/127:\n"
                    + "CMD could not be started.",
            List.of(Options.SOCKET));

    private ExecCommand() {
    }

    /** The words before GROUP (options) and GROUP itself, then CMD: options are not looked for in CMD. */
    static int split(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--socket")) {
                i++;
            } else if (a.equals("--")) {
                return i + 1 < args.length ? i + 1 : -1;
            } else if (!a.startsWith("-") || a.equals("-")) {
                return i;
            }
        }
        return -1;
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        int at = split(args);
        String[] head = at < 0 ? args : Arrays.copyOfRange(args, 0, at + 1);
        List<String> command = new ArrayList<>(at < 0 ? List.of() : Arrays.asList(args).subList(at + 1, args.length));
        if (!command.isEmpty() && command.getFirst().equals("--")) {
            command.removeFirst();
        }
        Options o;
        try {
            List<String> words = new ArrayList<>(Arrays.asList(head));
            words.remove("--");
            o = Options.parse(COMMAND, words.toArray(String[]::new));
            if (o.help()) {
                out.println(COMMAND.help());
                return 0;
            }
            if (command.isEmpty()) {
                throw new Options.UsageException("missing CMD: the command to run inside the workload");
            }
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        String group = o.operands().getFirst();
        ControlClient client = ControlClient.of(o);
        JsonObject doc;
        try {
            doc = new JsonObject(client.get(ControlApi.EXEC_PATH + "?group=" + URLEncoder.encode(group, StandardCharsets.UTF_8)));
        } catch (ControlClient.Refused e) {
            err.println("jgovernor exec: " + ControlClient.refusal(e));
            return 1;
        } catch (IOException e) {
            err.println("jgovernor exec: " + client.reason(e));
            return 1;
        } catch (DecodeException e) {
            err.println("jgovernor exec: the daemon answered something unexpected: " + e.getMessage());
            return 1;
        }
        List<String> argv = new ArrayList<>(doc.getJsonArray("argv", new JsonArray()).stream().map(String::valueOf).toList());
        if (argv.isEmpty()) {
            err.println("jgovernor exec: the daemon answered no exec stage");
            return 1;
        }
        List<String> env = new ArrayList<>();
        JsonObject workloadEnv = doc.getJsonObject("env", new JsonObject());
        workloadEnv.forEach(e -> env.add(e.getKey() + "=" + e.getValue()));
        // a terminal's type is the caller's, as docker exec -t gives it
        String term = System.getenv("TERM");
        if (term != null && !workloadEnv.containsKey("TERM")) {
            env.add("TERM=" + term);
        }
        String seccomp = doc.getString("seccomp");
        if (seccomp != null) {
            // on the command line: the stage keeps no inherited descriptor but stdio, and stdin is the caller's
            try {
                argv.add("--seccomp-hex");
                argv.add(java.util.HexFormat.of().formatHex(java.util.Base64.getDecoder().decode(seccomp)));
            } catch (IllegalArgumentException e) {
                err.println("jgovernor exec: the daemon answered a seccomp program that is not base64: " + e.getMessage());
                return 1;
            }
        }
        argv.add("--");
        argv.addAll(command);
        out.flush();
        err.flush();
        ErrnoException failed = Libc.execve(argv.getFirst(), argv, env);
        err.println("jgovernor exec: cannot run the exec stage: " + failed.getMessage());
        return 126;
    }
}

package io.jgovernor.app;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.util.Arrays;

/**
 * {@code jgovernor} runs the daemon in the foreground; {@code jgovernor validate [DIR|FILE...]}
 * checks policy files; {@code jgovernor status [--json]} asks the running daemon over its control
 * socket. Subcommands run before Quarkus starts: they need no HTTP server, no
 * cgroups and no root, and answer in a few hundred milliseconds.
 */
@QuarkusMain
public final class Main {
    private Main() {
    }

    public static void main(String... args) {
        if (args.length > 0) {
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            switch (args[0]) {
                case "validate" -> System.exit(ValidateCommand.run(rest, System.out, System.err));
                case "status" -> System.exit(StatusCommand.run(rest, System.out, System.err));
                case "daemon" -> {
                    Quarkus.run(rest);
                    return;
                }
                case "-h", "--help", "help" -> {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                default -> {
                    System.err.println("jgovernor: unknown command \"" + args[0] + "\"\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        Quarkus.run(args);
    }

    static final String USAGE = """
            usage: jgovernor                      run the daemon in the foreground
                   jgovernor validate [DIR|FILE...]  check policy files (default: the policy directory);
                                                 prints file:line:col: message, exits 1 if any is invalid
                   jgovernor status [--json] [--socket=PATH]
                                                 groups, their state and usage, from the running daemon
                                                 (its control socket, jgovernor.api.socket; root only)""";
}

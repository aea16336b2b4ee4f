package io.jgovernor.app;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Properties;

/**
 * {@code jgovernor} runs the daemon in the foreground; a subcommand does one thing and exits.
 * Subcommands run before Quarkus starts: they need no HTTP server and no cgroups, and answer in
 * a few hundred milliseconds; those that need the running daemon ask it over its control socket.
 */
@QuarkusMain
public final class Main {
    private Main() {
    }

    /** A subcommand: its name, what it does in one line, and its entry point. */
    private record Subcommand(Options.Command spec, Runner runner) {
    }

    @FunctionalInterface
    private interface Runner {
        int run(String[] args, PrintStream out, PrintStream err);
    }

    private static final java.util.List<Subcommand> COMMANDS = java.util.List.of(
            new Subcommand(ValidateCommand.COMMAND, ValidateCommand::run),
            new Subcommand(PlanCommand.COMMAND, PlanCommand::run),
            new Subcommand(StatusCommand.COMMAND, StatusCommand::run),
            new Subcommand(TreeCommand.COMMAND, TreeCommand::run),
            new Subcommand(TopCommand.COMMAND, TopCommand::run),
            new Subcommand(WhyCommand.COMMAND, WhyCommand::run),
            new Subcommand(ReloadCommand.COMMAND, ReloadCommand::run),
            new Subcommand(ExecCommand.COMMAND, ExecCommand::run),
            new Subcommand(VolumeCommand.COMMAND, VolumeCommand::run),
            new Subcommand(FreezeCommand.FREEZE, FreezeCommand::freeze),
            new Subcommand(FreezeCommand.THAW, FreezeCommand::thaw));

    public static void main(String... args) {
        if (args.length > 0) {
            System.exit(run(args, System.out, System.err));
        }
        Quarkus.run(args);
    }

    /** A subcommand's exit status; the daemon ({@code daemon}) runs until it stops. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        for (Subcommand c : COMMANDS) {
            if (c.spec().name().equals(args[0])) {
                return c.runner().run(rest, out, err);
            }
        }
        switch (args[0]) {
            case "daemon" -> {
                Quarkus.run(rest);
                return 0;
            }
            case "-h", "--help", "help" -> {
                out.println(usage());
                return 0;
            }
            case "-V", "--version", "version" -> {
                out.println("jgovernor " + version());
                return 0;
            }
            default -> {
                err.println("jgovernor: unknown command \"" + args[0] + "\"\n" + usage());
                return Options.USAGE_ERROR;
            }
        }
    }

    static String usage() {
        StringBuilder s = new StringBuilder("usage: jgovernor                 run the daemon in the foreground\n");
        for (Subcommand c : COMMANDS) {
            s.append("       ").append(c.spec().synopsis()).append('\n');
        }
        s.append("       jgovernor --version\n       jgovernor COMMAND --help   what COMMAND does, and its options\n")
                .append("Configuration: jgovernor.* keys as -Dkey=value, environment (JGOVERNOR_POLICY_DIR, ...),\n")
                .append("or /etc/jgovernor/jgovernor.properties (the packaged launcher reads it).");
        return s.toString();
    }

    /** The Maven project version, filtered into a resource at build time (no manifest or reflection lookups). */
    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "(unknown version: version.properties missing from the build)";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "(unknown version)");
        } catch (IOException e) {
            return "(unknown version: " + e.getMessage() + ")";
        }
    }
}

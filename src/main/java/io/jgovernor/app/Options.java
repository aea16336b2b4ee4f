package io.jgovernor.app;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one command-line parser of every subcommand: long options as {@code --opt VALUE} or
 * {@code --opt=VALUE}, flags as {@code --flag}, {@code --} ends the options, {@code -h}/{@code --help}
 * prints the command's usage. Anything else that starts with {@code -} is an error (exit 2), so a
 * typo never becomes a file name or a silently ignored option.
 */
final class Options {
    /** Exit status of a usage error, as getopt-style tools use it. */
    static final int USAGE_ERROR = 2;

    /** One option; {@code value} names its argument, or is null for a flag. */
    record Option(String name, String value, String help) {
        static Option flag(String name, String help) {
            return new Option(name, null, help);
        }

        static Option valued(String name, String value, String help) {
            return new Option(name, value, help);
        }
    }

    /** The socket option of every command that asks the running daemon. */
    static final Option SOCKET = Option.valued("socket", "PATH",
            "the daemon's control socket (default: jgovernor.api.socket, /run/jgovernor/api.sock)");
    static final Option JSON = Option.flag("json", "print JSON for scripts instead of text");

    /**
     * What a command accepts: {@code operands} is its synopsis after the options
     * (for example {@code [DIR|FILE...]}); {@code minOperands}/{@code maxOperands} bound their number
     * (-1: no bound).
     */
    record Command(String name, String operands, int minOperands, int maxOperands, String description,
                   List<Option> options) {
        String synopsis() {
            StringBuilder s = new StringBuilder("jgovernor ").append(name);
            for (Option o : options) {
                s.append(" [--").append(o.name()).append(o.value() == null ? "" : " " + o.value()).append(']');
            }
            return operands.isEmpty() ? s.toString() : s.append(' ').append(operands).toString();
        }

        String help() {
            StringBuilder s = new StringBuilder("usage: ").append(synopsis()).append("\n\n").append(description)
                    .append("\n\noptions:\n");
            List<Option> all = new ArrayList<>(options);
            all.add(Option.flag("help", "print this help and exit"));
            for (Option o : all) {
                String left = "  --" + o.name() + (o.value() == null ? "" : " " + o.value());
                s.append(String.format("%-24s %s%n", left, o.help()));
            }
            return s.toString().stripTrailing();
        }
    }

    /** A usage error: the message to print before the synopsis. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, String> values;
    private final List<String> operands;
    private final boolean help;

    private Options(Map<String, String> values, List<String> operands, boolean help) {
        this.values = values;
        this.operands = operands;
        this.help = help;
    }

    static Options parse(Command command, String[] args) throws UsageException {
        Map<String, String> values = new HashMap<>();
        List<String> operands = new ArrayList<>();
        boolean help = false;
        boolean optionsEnded = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (optionsEnded || !a.startsWith("-") || a.equals("-")) {
                operands.add(a);
                continue;
            }
            if (a.equals("--")) {
                optionsEnded = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help")) {
                help = true;
                continue;
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unknown option \"" + a + "\"");
            }
            int eq = a.indexOf('=');
            String name = a.substring(2, eq < 0 ? a.length() : eq);
            Option o = command.options().stream().filter(x -> x.name().equals(name)).findFirst()
                    .orElseThrow(() -> new UsageException("unknown option \"--" + name + "\""));
            String value;
            if (o.value() == null) {
                if (eq >= 0) {
                    throw new UsageException("option --" + name + " takes no value");
                }
                value = "";
            } else if (eq >= 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new UsageException("option --" + name + " needs a value (" + o.value() + ")");
            }
            if (values.containsKey(name)) {
                throw new UsageException("option --" + name + " given twice");
            }
            values.put(name, value);
        }
        if (!help) {
            if (operands.size() < command.minOperands()) {
                throw new UsageException("missing " + command.operands());
            }
            if (command.maxOperands() >= 0 && operands.size() > command.maxOperands()) {
                throw new UsageException("too many arguments: " + String.join(" ", operands));
            }
        }
        return new Options(values, List.copyOf(operands), help);
    }

    /** Prints a usage error and the command's synopsis; returns the exit status for it. */
    static int usageError(Command command, UsageException e, PrintStream err) {
        err.println("jgovernor " + command.name() + ": " + e.getMessage() + "\nusage: " + command.synopsis()
                + "\n(jgovernor " + command.name() + " --help for more)");
        return USAGE_ERROR;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    Optional<String> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    List<String> operands() {
        return operands;
    }

    boolean help() {
        return help;
    }
}

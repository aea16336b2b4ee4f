package io.jgovernor.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code jgovernor top [--delay SECONDS] [--iterations N] [--once] [--socket PATH]}: live usage per
 * group, refreshed, sorted by CPU, as {@code systemd-cgtop} shows it. Each refresh asks the daemon
 * for its status (the metrics' own reader of the cgroup files); rates are the differences between
 * two answers over the time between them.
 */
final class TopCommand {
    static final Options.Command COMMAND = new Options.Command("top", "", 0, 0,
            "Live usage per group of the running daemon, sorted by CPU, refreshed every --delay seconds\n"
                    + "(as systemd-cgtop): tasks, CPU % (100 % = one CPU), memory, I/O read and write per second.\n"
                    + "Runs until interrupted, or for --iterations refreshes; --once is --iterations 1.",
            List.of(Options.Option.valued("delay", "SECONDS", "time between refreshes (default 1; fractions allowed)"),
                    Options.Option.valued("iterations", "N", "stop after N refreshes"),
                    Options.Option.flag("once", "print one refresh and stop (for scripts and tests)"),
                    Options.SOCKET));

    private TopCommand() {
    }

    /** One group's counters at one moment. */
    record Sample(String group, long tasks, double cpuSeconds, Long memory, Long ioRead, Long ioWrite) {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        double delay;
        long iterations;
        try {
            o = Options.parse(COMMAND, args);
            if (o.help()) {
                out.println(COMMAND.help());
                return 0;
            }
            delay = number(o, "delay", "1");
            if (!(delay > 0) || delay > 3600) {
                throw new Options.UsageException("--delay must be more than 0 and at most 3600 seconds");
            }
            if (o.has("once") && o.has("iterations")) {
                throw new Options.UsageException("--once and --iterations together: choose one");
            }
            iterations = o.has("once") ? 1 : (long) number(o, "iterations", "0");
            if (iterations < 0) {
                throw new Options.UsageException("--iterations must not be negative");
            }
        } catch (Options.UsageException e) {
            return Options.usageError(COMMAND, e, err);
        }
        ControlClient client = ControlClient.of(o);
        boolean terminal = System.console() != null && iterations != 1;
        try {
            Map<String, Sample> before = samples(client);
            long t0 = System.nanoTime();
            for (long i = 0; iterations == 0 || i < iterations; i++) {
                Thread.sleep((long) (delay * 1000));
                Map<String, Sample> now = samples(client);
                long t1 = System.nanoTime();
                if (terminal) {
                    out.print("\033[H\033[2J");
                }
                out.print(table(before, now, (t1 - t0) / 1e9));
                out.flush();
                before = now;
                t0 = t1;
            }
        } catch (IOException e) {
            err.println("jgovernor top: " + client.reason(e));
            return 1;
        } catch (DecodeException | ClassCastException e) {
            err.println("jgovernor top: the daemon answered something that is not its status: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static double number(Options o, String name, String otherwise) throws Options.UsageException {
        String v = o.value(name).orElse(otherwise);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new Options.UsageException("--" + name + " " + v + ": not a number");
        }
    }

    private static Map<String, Sample> samples(ControlClient client) throws IOException {
        Map<String, Sample> out = new HashMap<>();
        for (Object x : new JsonObject(client.get(ControlApi.STATUS_PATH)).getJsonArray("groups", new JsonArray())) {
            JsonObject g = (JsonObject) x;
            out.put(g.getString("name"), new Sample(g.getString("name"), g.getLong("processes", 0L),
                    g.getDouble("cpuSeconds", 0.0), g.getLong("memoryUsageBytes"), g.getLong("ioReadBytes"),
                    g.getLong("ioWriteBytes")));
        }
        return out;
    }

    /** The table of one refresh: rates from {@code before} to {@code now} over {@code seconds}. */
    static String table(Map<String, Sample> before, Map<String, Sample> now, double seconds) {
        record Row(Sample s, double cpu, Double read, Double write) {
        }
        List<Row> rows = new ArrayList<>();
        for (Sample s : now.values()) {
            Sample b = before.get(s.group());
            double cpu = b == null ? 0 : Math.max(0, s.cpuSeconds() - b.cpuSeconds()) / seconds * 100;
            rows.add(new Row(s, cpu, rate(b == null ? null : b.ioRead(), s.ioRead(), seconds),
                    rate(b == null ? null : b.ioWrite(), s.ioWrite(), seconds)));
        }
        rows.sort(Comparator.comparingDouble(Row::cpu).reversed().thenComparing(r -> r.s().group()));
        StringBuilder t = new StringBuilder();
        String format = "%-32s %6s %7s %10s %10s %10s%n";
        t.append(String.format(Locale.ROOT, format, "GROUP", "TASKS", "%CPU", "MEMORY", "READ/s", "WRITE/s"));
        for (Row r : rows) {
            t.append(String.format(Locale.ROOT, format, r.s().group(), r.s().tasks(),
                    String.format(Locale.ROOT, "%.1f", r.cpu()),
                    r.s().memory() == null ? "-" : StatusCommand.bytes(r.s().memory()),
                    r.read() == null ? "-" : StatusCommand.bytes(Math.round(r.read())),
                    r.write() == null ? "-" : StatusCommand.bytes(Math.round(r.write()))));
        }
        return t.toString();
    }

    private static Double rate(Long before, Long now, double seconds) {
        if (before == null || now == null) {
            return null;
        }
        return Math.max(0, now - before) / seconds;
    }
}

package io.jgovernor.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** The packaged daemon (target/quarkus-app) run as a real process, its log captured in a file. */
final class DaemonProcess implements AutoCloseable {
    static final Path APP = Path.of(System.getProperty("jgovernor.app", "target/quarkus-app/quarkus-run.jar"));

    private final Process process;
    private final Path log;

    private DaemonProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static DaemonProcess start(Path log, String... properties) throws IOException {
        return start(log, java.util.Map.of(), properties);
    }

    /** With {@code env} added to the daemon's environment (NOTIFY_SOCKET, WATCHDOG_USEC, ...). */
    static DaemonProcess start(Path log, java.util.Map<String, String> env, String... properties) throws IOException {
        int readyLines = Files.exists(log) ? Files.readString(log).split("jgovernor ready", -1).length - 1 : 0;
        List<String> props = new ArrayList<>(List.of(properties));
        if (props.stream().noneMatch(q -> q.startsWith("jgovernor.api.socket="))) {
            // beside the log, in the test's temporary directory, removed with it
            props.add("jgovernor.api.socket=" + log.toAbsolutePath().getParent().resolve("run/api.sock"));
        }
        if (props.stream().noneMatch(q -> q.startsWith("jgovernor.pid-file="))) {
            // never the packaged /run/jgovernor/jgovernor.pid: an installed daemon may own it
            props.add("jgovernor.pid-file=" + log.toAbsolutePath().getParent().resolve("run/jgovernor.pid"));
        }
        ProcessBuilder builder = new ProcessBuilder(command(props, List.of()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process p = builder.start();
        DaemonProcess d = new DaemonProcess(p, log);
        // the log file may hold an earlier run's lines: wait for this run's ready line
        d.awaitLogCount("jgovernor ready", readyLines + 1, Duration.ofSeconds(30));
        return d;
    }

    static List<String> command(List<String> properties, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"));
        // never the packaged default port (10191): a test must not meet an installed daemon, and
        // two test daemons must not meet each other; start() does the same for the socket
        if (properties.stream().noneMatch(p -> p.startsWith("quarkus.http.port="))) {
            cmd.add("-Dquarkus.http.port=0");
        }
        properties.forEach(p -> cmd.add("-D" + p));
        cmd.add("-jar");
        cmd.add(APP.toString());
        cmd.addAll(args);
        return cmd;
    }

    long pid() {
        return process.pid();
    }

    /** The daemon's process, to be killed without the checks of {@link #close()}. */
    Process process() {
        return process;
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    void awaitLog(String text, Duration timeout) throws IOException {
        await(() -> {
            try {
                return log().contains(text);
            } catch (IOException e) {
                return false;
            }
        }, timeout, "log line \"" + text + "\"");
    }

    /** Waits until the log holds {@code count} occurrences of {@code text}. */
    void awaitLogCount(String text, int count, Duration timeout) throws IOException {
        await(() -> {
            try {
                return log().split(java.util.regex.Pattern.quote(text), -1).length - 1 >= count;
            } catch (IOException e) {
                return false;
            }
        }, timeout, count + " log lines \"" + text + "\"");
    }

    void await(BooleanSupplier condition, Duration timeout, String what) throws IOException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (!process.isAlive()) {
                fail("the daemon exited (" + process.exitValue() + ") while waiting for " + what + "; log:\n" + log());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        fail("timed out waiting for " + what + "; log:\n" + log());
    }

    void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the daemon did not exit");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}

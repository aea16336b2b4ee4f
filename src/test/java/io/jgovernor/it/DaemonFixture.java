package io.jgovernor.it;

import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What every end-to-end test of the packaged daemon starts from: a root-owned policy directory
 * the daemon accepts (0755), a state directory and a log path in a temp dir, a throwaway cgroup
 * root, and the daemon stopped and the cgroups removed afterwards, also when the test fails.
 */
abstract class DaemonFixture {
    private static final Pattern RECORD_PID = Pattern.compile("\"pid\": (\\d+)");
    @TempDir
    Path tmp;
    Path policies;
    Path state;
    Path log;
    TestCgroups cgroups;
    DaemonProcess daemon;

    @BeforeEach
    void fixtureUp() throws IOException {
        cgroups = TestCgroups.create();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        policies = Files.createDirectories(tmp.resolve("policies.d"));
        Files.setPosixFilePermissions(policies, PosixFilePermissions.fromString("rwxr-xr-x"));
        state = tmp.resolve("state");
        log = tmp.resolve("daemon.log");
    }

    @AfterEach
    void fixtureDown() throws Exception {
        try {
            if (daemon != null) {
                daemon.close();
            }
        } finally {
            cgroups.close();
        }
    }

    /** What a CLI command did. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    /** Runs the packaged CLI with {@code args}, its output in files of the temp dir (at most 60 s). */
    Result runCli(java.util.List<String> args) throws IOException, InterruptedException {
        Path outFile = Files.createTempFile(tmp, "out", ".txt");
        Path errFile = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(DaemonProcess.command(java.util.List.of("jgovernor.policy-dir=" + policies), args))
                .redirectOutput(outFile.toFile()).redirectError(errFile.toFile()).start();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return new Result(p.waitFor(), Files.readString(outFile), Files.readString(errFile));
    }

    /** A policy file the daemon accepts (0644). */
    void writePolicy(String name, String yaml) throws IOException {
        Path f = policies.resolve(name);
        Files.writeString(f, yaml);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** The pid in {@code group}'s workload record, or 0 while there is none. */
    int recordedPid(String group) {
        try {
            Matcher m = RECORD_PID.matcher(Files.readString(state.resolve("workloads").resolve(group + ".json")));
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}

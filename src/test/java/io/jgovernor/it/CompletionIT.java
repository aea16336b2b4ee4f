package io.jgovernor.it;

import io.jgovernor.packaging.Completion;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bash completion's group names come from the running daemon when its control socket answers:
 * through curl on the socket, and through {@code jgovernor status --json} where there is no curl.
 * The completion is pointed at an empty policy directory, so names can only come from the daemon.
 */
class CompletionIT extends DaemonFixture {
    @Test
    void groupNamesFromTheRunningDaemon() throws Exception {
        Files.writeString(policies.resolve("web.yaml"), "name: web\ncpu:\n  shares: 512\n");
        Files.writeString(policies.resolve("batch.yaml"), "name: batch\n---\nname: batch/low\ncpu:\n  shares: 128\n");
        daemon = DaemonProcess.start(log, "jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root());
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        Path socket = tmp.resolve("run/api.sock");
        Path empty = Files.createDirectories(tmp.resolve("empty.d"));
        Map<String, String> env = Map.of("JGOVERNOR_API_SOCKET", socket.toString(), "JGOVERNOR_POLICY_DIR", empty.toString(),
                "JGOVERNOR_CONFIG", tmp.resolve("no.properties").toString());
        assertEquals(List.of("batch", "batch/low", "web"), Completion.complete(tmp, env, "jgovernor", "freeze", ""));

        // no curl on PATH: the packaged command asks instead (here a launcher of the built app)
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String tool : List.of("tr", "sed", "grep", "timeout", "ls", "tail", "cat")) {
            Files.createSymbolicLink(bin.resolve(tool), Path.of("/usr/bin", tool));
        }
        Path launcher = bin.resolve("jgovernor");
        Files.writeString(launcher, "#!/bin/sh\nexec " + String.join(" ", DaemonProcess.command(List.of(), List.of()))
                + " \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> noCurl = new java.util.HashMap<>(env);
        noCurl.put("PATH", bin.toString());
        assertEquals(List.of("web"), Completion.complete(tmp, noCurl, "jgovernor", "exec", "w"));
    }
}

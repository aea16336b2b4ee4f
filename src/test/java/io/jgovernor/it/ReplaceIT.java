package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * policy.md: "A file that disappears and comes back within 1 s is an edit". Against the packaged
 * daemon, a group with a workload ({@code run:}) and an adopted process ({@code match:}) has its
 * file replaced by each tool's way, several times: no directory is made again (same inode in every
 * hierarchy, memory.max_usage_in_bytes never drops), no process leaves the group, the workload
 * keeps its pid, and each edit is applied. A file that stays away is removed after the delay.
 */
class ReplaceIT extends DaemonFixture {
    private static final Duration SOON = Duration.ofSeconds(15);
    private static final Pattern PID = Pattern.compile("\"pid\": (\\d+)");
    private static final List<String> CONTROLLERS = List.of("memory", "pids", "cpuacct");
    private static final int ROUNDS = 3;

    private Path bin;
    private Path source;

    private DaemonProcess start(String... extra) throws IOException {
        List<String> props = new ArrayList<>(List.of("jgovernor.policy-dir=" + policies,
                "jgovernor.state-dir=" + state, "jgovernor.cgroup.root=" + cgroups.root()));
        props.addAll(List.of(extra));
        if (props.stream().noneMatch(p -> p.startsWith("jgovernor.reconcile.interval="))) {
            props.add("jgovernor.reconcile.interval=2s");
        }
        daemon = DaemonProcess.start(log, props.toArray(String[]::new));
        cgroups.register(ProcessHandle.of(daemon.pid()).orElseThrow());
        return daemon;
    }

    private static String policy(int pidsMax) {
        return "name: svc\nmatch:\n  - comm: jgov-replace\nrun:\n  command: [\"/bin/sleep\", \"3000\"]\n"
                + "memory: {limit: 64Mi}\npids: {max: " + pidsMax + "}\n";
    }

    /** The new content, root-owned and 0644, outside the policy directory (what a deploy copies from). */
    private Path source(int pidsMax) throws IOException {
        Files.writeString(source, policy(pidsMax));
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r--r--"));
        return source;
    }

    private Path dir(String controller) {
        return cgroups.layout().groupDir(cgroups.hierarchy(controller), new GroupName("svc"));
    }

    private Map<String, Object> inodes() throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String c : CONTROLLERS) {
            out.put(c, Files.getAttribute(dir(c), "unix:ino"));
        }
        return out;
    }

    private String read(String controller, String file) {
        try {
            return Files.readString(dir(controller).resolve(file)).strip();
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private int recordedPid() {
        try {
            Matcher m = PID.matcher(Files.readString(state.resolve("workloads").resolve("svc.json")));
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private boolean inGroup(long pid) {
        for (String c : CONTROLLERS) {
            try {
                String where = TestCgroups.cgroupOf(pid, c).orElse("");
                if (!where.endsWith("/" + cgroups.root() + "/svc")) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private static void sh(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-ec", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), script + ": " + out);
    }

    /** Each tool's way of putting new content in place; {@code %s} are the source and the target. */
    private static final Map<String, String> METHODS = new LinkedHashMap<>();

    static {
        // unlink, then create: the name is missing for a moment
        METHODS.put("install", "install -m 0644 -o root -g root %1$s %2$s");
        // truncate and write in place
        METHODS.put("cp over", "cp %1$s %2$s");
        // a temp file in the directory, renamed over
        METHODS.put("sed -i", "sed -i 's/^pids: .*/pids: {max: %3$d}/' %2$s");
        // an editor's temp file and rename
        METHODS.put("editor temp + rename", "cp %1$s %2$s.swp.tmp && mv %2$s.swp.tmp %2$s");
        // an editor that renames the old file away (vim's backup) and writes a new one: missing meanwhile
        METHODS.put("editor backup rename", "mv %2$s %2$s~ && cp %1$s %2$s && rm %2$s~");
        // rsync's temp file .NAME.XXXXXX, renamed over; -I: the edits here keep size and second,
        // which rsync's quick check would take for "unchanged"
        METHODS.put("rsync", "rsync -I %1$s %2$s");
        METHODS.put("rm + create 200 ms later", "rm %2$s && sleep 0.2 && cp %1$s %2$s");
    }

    @Test
    void everyWayOfReplacingTheFileIsAnEditAndARealRemovalWaitsForTheDelay() throws Exception {
        bin = Files.createDirectories(tmp.resolve("bin"));
        Files.copy(Path.of("/bin/sleep"), bin.resolve("jgov-replace"));
        source = tmp.resolve("svc.yaml.new");
        Path target = policies.resolve("svc.yaml");
        Files.copy(source(100), target);
        start();
        daemon.await(() -> recordedPid() > 0, SOON, "the workload's record");
        int workload = recordedPid();
        cgroups.register(ProcessHandle.of(workload).orElseThrow());
        Process adopted = cgroups.start(bin.resolve("jgov-replace").toString(), "300");
        daemon.await(() -> inGroup(adopted.pid()), SOON, "the matching process to be adopted");
        assertTrue(inGroup(workload), "the workload in its group");
        Map<String, Object> inodes = inodes();
        long maxUsage = Long.parseLong(read("memory", "memory.max_usage_in_bytes"));

        int value = 100;
        List<String> done = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (var m : METHODS.entrySet()) {
                int v = ++value;
                sh(String.format(m.getValue(), source(v), target, v));
                daemon.await(() -> read("pids", "pids.max").equals(Integer.toString(v)), SOON,
                        m.getKey() + " (round " + round + ") to be applied: pids.max " + v);
                done.add(m.getKey());
                String what = m.getKey() + " (round " + round + ")";
                assertEquals(inodes, inodes(), what + ": a group directory was made again");
                assertTrue(inGroup(adopted.pid()), what + ": the adopted process left its group");
                assertTrue(inGroup(workload), what + ": the workload left its group");
                assertEquals(workload, recordedPid(), what + ": the workload was restarted");
                assertTrue(ProcessHandle.of(workload).map(ProcessHandle::isAlive).orElse(false), what);
                assertTrue(Long.parseLong(read("memory", "memory.max_usage_in_bytes")) >= maxUsage,
                        what + ": the memory counters were reset");
            }
        }
        // a full pass (every 2 s) after the last edit must not find anything to undo either
        Thread.sleep(2500);
        assertEquals(inodes, inodes());
        assertTrue(inGroup(adopted.pid()) && inGroup(workload));
        String logText = daemon.log();
        assertFalse(logText.contains("stayed away"), logText);
        assertTrue(logText.contains("is back after"), "the unlink + create methods were seen missing");
        assertEquals(ROUNDS * METHODS.size(), done.size());

        // a real removal: kept for the delay, then torn down
        long t0 = System.nanoTime();
        Files.delete(target);
        Thread.sleep(600);
        assertEquals(inodes, inodes(), "removed before the delay");
        assertTrue(inGroup(adopted.pid()));
        daemon.await(() -> !Files.exists(dir("memory")), SOON, "svc to be removed once the file stayed away");
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs >= 1000, "removed after " + tookMs + " ms, before the 1 s delay");
        daemon.await(() -> !ProcessHandle.of(workload).map(ProcessHandle::isAlive).orElse(false), SOON, "the workload stopped");
        assertFalse(inGroup(adopted.pid()));
        daemon.awaitLog("stayed away 1000 ms", SOON);
        System.out.println("replacements: " + done.size() + ", a real rm removed the group after " + tookMs + " ms");
    }

    @Test
    void aFileMissingAtStartIsRemovedAfterTheDelayNotAtOnce() throws Exception {
        source = tmp.resolve("svc.yaml.new");
        Path target = policies.resolve("svc.yaml");
        Files.writeString(target, "name: svc\nmemory: {limit: 64Mi}\npids: {max: 10}\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        start();
        Object inode = Files.getAttribute(dir("pids"), "unix:ino");
        daemon.signal("TERM");
        assertEquals(0, daemon.awaitExit(SOON));
        Files.delete(target);

        // no inotify event will come (the file was gone before), nor a periodic pass in 60 s: only
        // the loop's own wake-up at the deadline can remove the group
        start("jgovernor.reconcile.removal-delay=3s", "jgovernor.reconcile.interval=60s");
        long t0 = System.nanoTime();
        assertEquals(inode, Files.getAttribute(dir("pids"), "unix:ino"), "kept at start: a deploy may be replacing it");
        daemon.await(() -> !Files.exists(dir("pids")), SOON, "svc to be removed after the delay");
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs >= 1500, "removed " + tookMs + " ms after the start, before its 3 s delay");
        assertTrue(tookMs < 10_000, "removed " + tookMs + " ms after the start: not at the deadline");
        assertFalse(Files.exists(state.resolve("accepted").resolve("svc.yaml")), "the accepted copy goes with it");
    }
}

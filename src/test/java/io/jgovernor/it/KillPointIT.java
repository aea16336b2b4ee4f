package io.jgovernor.it;

import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exactly once, whatever happens to the daemon (issue 13): the packaged daemon is SIGKILLed at
 * random points while it starts workloads (0..300 ms after a change that makes it start some:
 * runs edited or workloads killed while it runs, or, on some iterations, during its own boot
 * after changes made while no daemon ran, the records deleted on some), then started again.
 * After each restart every group has exactly one workload (one exec stage in its cgroup, with
 * one child) and no workload process runs outside the groups; after all policies are deleted,
 * none runs anywhere.
 */
class KillPointIT extends DaemonFixture {
    private static final int ITERATIONS = Integer.getInteger("killpoint.iterations", 30);
    private static final int GROUPS = 4;
    private static final Duration SOON = Duration.ofSeconds(20);
    private static final Path STAGE = Path.of("target/jgovernor-exec");
    /** In every workload's argv (and so its stage's): what pgrep finds them by, this run's only. */
    private final String marker = "1" + (100000 + new Random().nextInt(800000)) + ".5";
    private final Random random = new Random(Long.getLong("killpoint.seed", System.nanoTime()));
    private final int[] version = new int[GROUPS];

    private String group(int i) {
        return "kp-" + i;
    }

    private void writePolicy(int i) throws IOException {
        String isolate = i == GROUPS - 1 ? "\n  isolate: {namespaces: [pid, mount]}" : "";
        // With match rules (that match nothing) the group's cgroup is no proof that a process is the
        // workload's: only its stage is, so this group is not helped by stopping strays.
        String match = i == 1 ? "match: [{comm: kp-nothing}]\n" : "";
        Path f = policies.resolve(group(i) + ".yaml");
        Files.writeString(f, """
                name: %s
                %srun:
                  command: ["/bin/sleep", "%s"]
                  env: {VERSION: "%d"}
                  stopTimeout: 1s%s
                """.formatted(group(i), match, marker, version[i], isolate));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private List<String> props() {
        return List.of("jgovernor.policy-dir=" + policies, "jgovernor.state-dir=" + state,
                "jgovernor.cgroup.root=" + cgroups.root(), "jgovernor.reconcile.interval=1s",
                "jgovernor.api.socket=" + tmp.resolve("run/api.sock"));
    }

    /** The daemon started without waiting for it to be ready (to be killed during its boot). */
    private Process spawn() throws IOException {
        return new ProcessBuilder(DaemonProcess.command(props(), List.of())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private Path dir(String group) {
        return cgroups.layout().groupDir(cgroups.hierarchy("cpuacct"), new GroupName(group));
    }

    private List<Integer> procs(String group) {
        try {
            return cgroups.files().procs(dir(group));
        } catch (Exception e) {
            return List.of();
        }
    }

    private static boolean isStage(int pid) {
        try {
            return Files.isSameFile(Path.of("/proc", Integer.toString(pid), "exe"), STAGE);
        } catch (IOException e) {
            return false;
        }
    }

    private static long parent(long pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
    }

    /** Every process whose argv holds the marker: workloads and their stages. */
    private List<Long> marked() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("pgrep", "-f", marker).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        List<Long> pids = new ArrayList<>();
        out.lines().filter(l -> l.matches("\\d+")).forEach(l -> pids.add(Long.parseLong(l)));
        return pids;
    }

    /**
     * Empty when every group holds exactly one stage with exactly one child (its workload), and
     * every marked process is in a group; else what is wrong.
     */
    private String census() throws IOException, InterruptedException {
        StringBuilder wrong = new StringBuilder();
        List<Integer> inGroups = new ArrayList<>();
        for (int i = 0; i < GROUPS; i++) {
            List<Integer> procs = procs(group(i));
            inGroups.addAll(procs);
            List<Integer> stages = procs.stream().filter(KillPointIT::isStage).toList();
            List<Integer> workloads = procs.stream().filter(p -> stages.contains((int) parent(p))).toList();
            if (stages.size() != 1 || workloads.size() != 1 || procs.size() != 2) {
                wrong.append(group(i)).append(": stages ").append(stages).append(", their children ")
                        .append(workloads).append(", all ").append(procs).append("; ");
            }
        }
        for (long pid : marked()) {
            if (!inGroups.contains((int) pid)) {
                wrong.append("workload process ").append(pid).append(" outside every group; ");
            }
        }
        return wrong.toString();
    }

    private void awaitExactlyOnce(String when) throws Exception {
        long end = System.nanoTime() + SOON.toNanos();
        String wrong = census();
        while (!wrong.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(50);
            wrong = census();
        }
        if (!wrong.isEmpty()) {
            fail(when + ": " + wrong + "\nlog:\n" + tail());
        }
    }

    private String tail() throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
    }

    /** A record a killed daemon left in "starting": it died between the record and the stage's report. */
    private int startingRecords() throws IOException {
        Path dir = state.resolve("workloads");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                try {
                    n += Files.readString(p).contains("\"state\": \"starting\"") ? 1 : 0;
                } catch (IOException e) {
                    // replaced meanwhile
                }
            }
        }
        return n;
    }

    /** Changes that make the next daemon (or this one) start workloads: runs edited, workloads killed. */
    private void change() throws Exception {
        for (int i = 0; i < GROUPS; i++) {
            switch (random.nextInt(3)) {
                case 0 -> {
                    version[i]++;
                    writePolicy(i);
                }
                case 1 -> {
                    for (int pid : procs(group(i))) {
                        if (!isStage(pid)) {
                            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                        }
                    }
                }
                default -> {
                }
            }
        }
    }

    private void killDaemon(Process p, Map<String, Integer> points) throws Exception {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        points.merge(startingRecords() > 0 ? "a launch in flight (a record still \"starting\")" : "no launch in flight",
                1, Integer::sum);
    }

    @Test
    void sigkillAtRandomPointsDuringStartsLeavesExactlyOneWorkloadPerGroupAndNoneAfterDelete() throws Exception {
        long t0 = System.nanoTime();
        Map<String, Integer> points = new TreeMap<>();
        int bootKills = 0;
        int recordsDeleted = 0;
        try {
            for (int i = 0; i < GROUPS; i++) {
                writePolicy(i);
            }
            daemon = DaemonProcess.start(log, props().toArray(String[]::new));
            awaitExactlyOnce("first start");
            for (int it = 0; it < ITERATIONS; it++) {
                // 1. a running daemon, killed while it reacts to changes by starting workloads
                change();
                Thread.sleep(random.nextInt(301));
                killDaemon(daemon.process(), points);
                // 2. changes while no daemon runs; on some iterations the records go too
                change();
                if (random.nextInt(3) == 0) {
                    deleteRecords();
                    recordsDeleted++;
                }
                // 3. on some, the next daemon is killed during its boot, once it began to start workloads
                if (random.nextInt(3) == 0) {
                    Process booting = spawn();
                    long end = System.nanoTime() + SOON.toNanos();
                    int ready = readyLines();
                    while (startingRecords() == 0 && readyLines() == ready && booting.isAlive()
                            && System.nanoTime() < end) {
                        Thread.sleep(2);
                    }
                    Thread.sleep(random.nextInt(301));
                    killDaemon(booting, points);
                    bootKills++;
                    if (random.nextBoolean()) {
                        deleteRecords();
                        recordsDeleted++;
                    }
                }
                daemon = DaemonProcess.start(log, props().toArray(String[]::new));
                awaitExactlyOnce("iteration " + it + ", after the restart");
                Thread.sleep(300); // nothing more starts once it settled
                String late = census();
                if (!late.isEmpty()) {
                    fail("iteration " + it + ", 300 ms after it settled: " + late + "\nlog:\n" + tail());
                }
            }
            for (int i = 0; i < GROUPS; i++) {
                Files.delete(policies.resolve(group(i) + ".yaml"));
            }
            daemon.await(() -> {
                try {
                    return marked().isEmpty();
                } catch (Exception e) {
                    return false;
                }
            }, SOON, "no workload process left after every policy was deleted");
            int seconds = (int) Duration.ofNanos(System.nanoTime() - t0).toSeconds();
            String log = daemon.log();
            int secondCopies = log.split("a second copy", -1).length - 1;
            // The test kills workloads, never stages: a workload found without its stage is a bug.
            assertEquals(0, log.split("whose exec stage is gone", -1).length - 1, "workloads found without their stage");
            System.out.println("KillPointIT: " + ITERATIONS + " iterations, " + (ITERATIONS + bootKills)
                    + " SIGKILLs (" + bootKills + " during the daemon's boot), kill points " + points
                    + ", records deleted " + recordsDeleted + " times; duplicates and orphans found: 0; second copies"
                    + " the daemon itself had to stop: " + secondCopies + "; " + seconds + " s");
        } finally {
            // Our workloads and stages, by the pids that carry this run's marker.
            for (long pid : marked()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private int readyLines() throws IOException {
        return Files.readString(log).split("jgovernor ready", -1).length - 1;
    }

    private void deleteRecords() throws IOException {
        Path dir = state.resolve("workloads");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }
}

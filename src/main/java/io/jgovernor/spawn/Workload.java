package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One running workload process: started now through the exec stage, or adopted from a record a
 * previous daemon left. {@link #pid()} is the command's host pid (in a pid namespace, the
 * namespace's PID 1), which the stage reports before the command runs.
 */
final class Workload {
    /** The exit status when the workload was adopted: the daemon is not its parent and cannot know it. */
    static final int UNKNOWN_EXIT = -1;

    private static final System.Logger LOG = System.getLogger("io.jgovernor.workload");

    private final int pid;
    private final long startTime;
    /** The exec stage, which relays output and exits with the command's status; empty when adopted. */
    private final Optional<Process> stage;
    /** The exec stage of an adopted workload, still its parent (reparented itself), when one was found. */
    private final Optional<ProcessHandle> adoptedStage;

    private Workload(int pid, long startTime, Optional<Process> stage, Optional<ProcessHandle> adoptedStage) {
        this.pid = pid;
        this.startTime = startTime;
        this.stage = stage;
        this.adoptedStage = adoptedStage;
    }

    int pid() {
        return pid;
    }

    /** The command's pid and the exec stage's (when there is one). */
    List<Long> pids() {
        if (stage.isPresent()) {
            return List.of((long) pid, stage.get().pid());
        }
        return adoptedStage.map(h -> List.of((long) pid, h.pid())).orElse(List.of((long) pid));
    }

    long startTime() {
        return startTime;
    }

    /** Runs the exec stage and returns once the command runs (its execve succeeded). */
    static Workload launch(ExecStage exec, GroupName group, RunSpec spec, List<Path> groupDirs, Credentials c)
            throws StartFailure {
        return launch(exec, group, spec, groupDirs, c, WorkloadStorage.NONE);
    }

    /** With the group's layers and volumes in {@code storage}. */
    static Workload launch(ExecStage exec, GroupName group, RunSpec spec, List<Path> groupDirs, Credentials c,
                           WorkloadStorage storage) throws StartFailure {
        if (groupDirs.isEmpty()) {
            throw new StartFailure("the group has no cgroup directory yet");
        }
        // The compiled seccomp program goes on the stage's stdin, which it reads whole before
        // anything else and then points at /dev/null for the command; without one stdin is /dev/null.
        Optional<byte[]> filter = exec.program(spec);
        Process p;
        try {
            // The environment is exactly the policy's env: nothing of the daemon's leaks in.
            // posix_spawn, not ProcessBuilder: see PosixSpawnProcess (a whole exec less per start).
            p = PosixSpawnProcess.start(exec.argv(spec, groupDirs, c, WorkloadRecord.hash(spec), group, storage), spec.env(),
                    filter.isPresent());
        } catch (IOException e) {
            throw new StartFailure("cannot run the exec stage " + exec.binary() + ": " + e.getMessage());
        }
        if (filter.isPresent()) {
            try (var in = p.getOutputStream()) {
                in.write(filter.get());
            } catch (IOException e) {
                // The stage ended early (it reports why on its control channel, read below).
            }
        }
        BufferedReader control = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        int pid = -1;
        try {
            for (String line = control.readLine(); ; line = control.readLine()) {
                if (line == null) {
                    throw new StartFailure("the exec stage ended before the command started (exit " + p.waitFor() + ")");
                } else if (line.startsWith("pid ")) {
                    pid = Integer.parseInt(line.substring(4).strip());
                } else if (line.startsWith("error: ")) {
                    p.waitFor();
                    throw new StartFailure(line.substring(7));
                } else if (line.equals("started") && pid > 0) {
                    break;
                }
            }
        } catch (StartFailure e) {
            closeOutput(p);
            throw e;
        } catch (IOException | NumberFormatException e) {
            p.destroyForcibly();
            closeOutput(p);
            throw new StartFailure("the exec stage's report cannot be read: " + e.getMessage());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            closeOutput(p);
            Thread.currentThread().interrupt();
            throw new StartFailure("interrupted while starting");
        }
        // Read by the time "started" arrives: the command has not yet had a chance to exit and
        // be reaped, the stage waits for it.
        long startTime = ProcStat.startTime(pid).orElse(0);
        pump(group, p.getInputStream(), System.Logger.Level.INFO, "");
        pump(group, p.getErrorStream(), System.Logger.Level.WARNING, "exec stage: ");
        return new Workload(pid, startTime, Optional.of(p), Optional.empty());
    }

    /**
     * The stage's output pipes after a failed start: no pump reads them, and a posix_spawn'ed
     * process's pipes stay open until closed (a start that fails on every restart would leak two
     * descriptors each time).
     */
    private static void closeOutput(Process p) {
        for (InputStream in : List.of(p.getInputStream(), p.getErrorStream())) {
            try {
                in.close();
            } catch (IOException e) {
                // nothing more to release
            }
        }
    }

    /** The process a record names, when it still runs (same pid, same start time). */
    static Optional<Workload> adopt(WorkloadRecord r) {
        return r.alive() ? Optional.of(lone(r.pid(), r.startTime())) : Optional.empty();
    }

    /** The workload of a stage found in its group (see {@link Census}); the stage must have a child. */
    static Workload adopt(Census.Stage s) {
        // ProcessHandle keeps the start time it saw: a pid reused meanwhile is never signalled.
        return new Workload(s.workload(), s.workloadStart(), Optional.empty(), ProcessHandle.of(s.pid()));
    }

    /** A process found without its stage (one it was killed from, or a stray). */
    static Workload lone(int pid, long startTime) {
        return new Workload(pid, startTime, Optional.empty(), Optional.empty());
    }

    /**
     * Each line the workload writes, logged with its group; read until the pipe closes by a
     * platform thread. Not a virtual one: a virtual thread blocked in read(2) on a pipe holds its
     * carrier, and the readers of two quiet workloads held both carriers of a 2-CPU host, so
     * nothing else virtual (the stoppers, the daemon's shutdown) ran again (issue 13).
     */
    private static void pump(GroupName group, InputStream in, System.Logger.Level level, String prefix) {
        Thread.ofPlatform().daemon(true).name("workload-output " + group.value()).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    LOG.log(level, "[" + group.value() + "] " + prefix + line);
                }
            } catch (IOException e) {
                // The pipe is closed when the stage exits: nothing more to read.
            }
        });
    }

    boolean alive() {
        return ProcStat.startTime(pid).equals(OptionalLong.of(startTime));
    }

    /** Waits until the command has exited; its status, or {@link #UNKNOWN_EXIT} when adopted. */
    int awaitExit() throws InterruptedException {
        if (stage.isPresent()) {
            int status = stage.get().waitFor();
            if (!alive()) {
                return status;
            }
            // The stage died but the command did not (someone killed the stage): go on watching it.
        }
        while (alive()) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty()) {
                break;
            }
            try {
                h.get().onExit().get(1, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // checked again by alive()
            }
        }
        return UNKNOWN_EXIT;
    }

    /** Waits up to {@code timeout} for the command to exit. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (alive()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(10);
        }
        if (stage.isPresent()) {
            stage.get().waitFor(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
        }
        return true;
    }

    /**
     * Signals the command. SIGTERM goes to the stage too, which forwards it; SIGKILL goes to the
     * command only: the stage then reaps it and exits with its status (killing both at once would
     * leave the command's exit to whoever inherits it). {@link #killStage()} ends a stage that is
     * still there afterwards.
     */
    void signal(boolean kill) {
        ProcessHandle.of(pid).filter(h -> alive()).ifPresent(h -> {
            if (kill) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        });
        if (!kill) {
            stage.ifPresent(Process::destroy);
            adoptedStage.ifPresent(ProcessHandle::destroy);
        }
    }

    void killStage() {
        stage.ifPresent(p -> {
            try {
                if (!p.waitFor(1, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        });
        adoptedStage.ifPresent(h -> {
            try {
                // Not our child: its new parent (init or a subreaper) reaps it, onExit sees that.
                h.onExit().get(1, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                h.destroyForcibly();
            } catch (InterruptedException e) {
                h.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        });
    }
}

package io.jgovernor.spawn;

import io.jgovernor.model.Confinement;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a restarted daemon knows of a group's workload beyond what its cgroup shows ({@link Census}
 * is the truth; this is an optimisation and a memory): {@code state-dir/workloads/<group>.json}
 * with the hash of the run spec it was started with, the workload's host pid and start time (a
 * pid alone may have been reused), and, once a workload that is not restarted ended, its exit.
 * Written before the launch ("starting": pid 0), again once the stage reported the pid
 * ("running"), and on an end that is final ("ended"): {@code restart: never} runs once per
 * version of the run spec, not once per daemon start.
 *
 * @param exit present once the workload ended for good ({@link Workload#UNKNOWN_EXIT} when it
 *             was adopted or ended while no daemon watched)
 */
record WorkloadRecord(GroupName group, int pid, long startTime, String specHash, OptionalInt exit) {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"([^\"]*)\"|-?\\d+|true|false)");

    WorkloadRecord(GroupName group, int pid, long startTime, String specHash) {
        this(group, pid, startTime, specHash, OptionalInt.empty());
    }

    /** Written before a launch: this spec's workload is being started, its pid not known yet. */
    static WorkloadRecord starting(GroupName group, String specHash) {
        return new WorkloadRecord(group, 0, 0, specHash);
    }

    WorkloadRecord ended(int status) {
        return new WorkloadRecord(group, pid, startTime, specHash, OptionalInt.of(status));
    }

    String state() {
        return exit.isPresent() ? "ended" : pid == 0 ? "starting" : "running";
    }

    /** True when this pid still runs the process the record was written for. */
    boolean alive() {
        return pid > 0 && ProcStat.startTime(pid).equals(java.util.OptionalLong.of(startTime));
    }

    static Path file(Path dir, GroupName group) {
        // Group names are [a-z0-9_.-] and '/'; '+' cannot occur in them.
        return dir.resolve(group.value().replace('/', '+') + ".json");
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = file(dir, group);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        String json = "{\"group\": \"" + group.value() + "\", \"state\": \"" + state() + "\", \"pid\": " + pid
                + ", \"startTime\": " + startTime + ", \"spec\": \"" + specHash + "\""
                + (exit.isPresent() ? ", \"ended\": true, \"exit\": " + exit.getAsInt() : "") + "}\n";
        Files.writeString(tmp, json);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Optional<WorkloadRecord> read(Path dir, GroupName group) {
        try {
            String text = Files.readString(file(dir, group));
            Matcher m = FIELD.matcher(text);
            TreeMap<String, String> f = new TreeMap<>();
            while (m.find()) {
                f.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
            }
            OptionalInt exit = "true".equals(f.get("ended")) ? OptionalInt.of(Integer.parseInt(f.get("exit")))
                    : OptionalInt.empty();
            return Optional.of(new WorkloadRecord(group, Integer.parseInt(f.get("pid")),
                    Long.parseLong(f.get("startTime")), java.util.Objects.requireNonNull(f.get("spec")), exit));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static void delete(Path dir, GroupName group) {
        try {
            Files.deleteIfExists(file(dir, group));
        } catch (IOException e) {
            // A stale record is harmless: its pid and start time will not match a live process.
        }
    }

    /**
     * SHA-256 of the spec written out in a fixed order (env sorted, namespaces in declaration
     * order): record and set iteration orders differ between JVM runs, toString() would not do.
     */
    static String hash(RunSpec s) {
        StringBuilder b = new StringBuilder();
        b.append("command=").append(String.join("\0", s.command())).append('\n');
        b.append("user=").append(s.user().orElse("")).append('\n');
        b.append("group=").append(s.group().orElse("")).append('\n');
        b.append("workingDir=").append(s.workingDir().map(Path::toString).orElse("")).append('\n');
        b.append("env=").append(new TreeMap<>(s.env())).append('\n');
        b.append("restart=").append(s.restart().key).append('\n');
        b.append("stopTimeout=").append(s.stopTimeout()).append('\n');
        s.isolate().ifPresent(i -> {
            b.append("namespaces=");
            for (RunSpec.Namespace ns : RunSpec.Namespace.values()) {
                if (i.namespaces().contains(ns)) {
                    b.append(ns.key).append(',');
                }
            }
            b.append("\nhostname=").append(i.hostname().orElse(""))
                    .append("\nrootfs=").append(i.rootfs().map(Path::toString).orElse(""))
                    .append("\nreadOnlyRootfs=").append(i.readOnlyRootfs())
                    .append("\nmounts=").append(i.mounts().stream()
                            .map(m -> m.source() + ":" + m.target() + ":" + m.readOnly()).collect(Collectors.joining(",")))
                    .append("\nuidMap=").append(i.uidMap().stream()
                            .map(m -> m.inside() + " " + m.outside() + " " + m.count()).collect(Collectors.joining(",")));
            // only when given: the hash of every spec without them stays what it was (no restart at an upgrade)
            if (!i.layers().isEmpty()) {
                b.append("\nlayers=").append(i.layers().stream().map(Path::toString).collect(Collectors.joining(":")));
            }
            if (!i.volumes().isEmpty()) {
                b.append("\nvolumes=").append(i.volumes().stream()
                        .map(v -> v.name() + ":" + v.target() + ":" + v.readOnly()).collect(Collectors.joining(",")));
            }
        });
        // Confinement: a changed capability, limit or filter restarts the workload. The filter is
        // hashed as the stage receives it, so an edited profile file counts, once the policy is read again.
        Confinement conf = s.confinement();
        b.append("\ncapabilities=").append(conf.capabilities().map(c -> Confinement.ordered(c).toString()).orElse("default"))
                .append("\nnoNewPrivileges=").append(conf.noNewPrivileges())
                .append("\nlimits=").append(conf.rlimits())
                .append("\nseccomp=").append(conf.seccomp().source()).append('\n')
                .append(conf.seccomp().profile().map(SeccompFilter::lines).orElse(""));
        // only when present: a spec without knobs keeps the hash it had before they existed, so
        // an upgraded daemon adopts the workloads it finds instead of restarting them
        s.process().ifPresent(k -> b.append("\nprocess=").append(k));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(b.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

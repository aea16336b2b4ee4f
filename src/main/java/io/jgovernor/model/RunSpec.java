package io.jgovernor.model;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A workload the daemon starts inside the group. {@code process}: the group's {@code process:}
 * knobs, copied here by the parser, which the exec stage sets before the workload exists (so a
 * change of them restarts the workload, as any change of what the stage is told does).
 */
public record RunSpec(List<String> command, Optional<String> user, Optional<String> group,
                      Optional<Path> workingDir, Map<String, String> env, Restart restart,
                      Duration stopTimeout, Optional<Isolation> isolate, Confinement confinement,
                      Optional<ProcessKnobs> process) {
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

    public RunSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }

    /** Without process knobs. */
    public RunSpec(List<String> command, Optional<String> user, Optional<String> group,
                   Optional<Path> workingDir, Map<String, String> env, Restart restart,
                   Duration stopTimeout, Optional<Isolation> isolate, Confinement confinement) {
        this(command, user, group, workingDir, env, restart, stopTimeout, isolate, confinement, Optional.empty());
    }

    /** The same spec with the group's {@code process:} knobs. */
    public RunSpec withProcess(Optional<ProcessKnobs> knobs) {
        return new RunSpec(command, user, group, workingDir, env, restart, stopTimeout, isolate, confinement, knobs);
    }

    public enum Restart {
        NEVER("never"), ON_FAILURE("on-failure"), ALWAYS("always");

        public final String key;

        Restart(String key) {
            this.key = key;
        }
    }

    public enum Namespace {
        PID("pid"), MOUNT("mount"), UTS("uts"), IPC("ipc"), NET("net"), USER("user"),
        /** The workload's cgroup paths start at its group: /proc/self/cgroup shows "/" inside. */
        CGROUP("cgroup");

        public final String key;

        Namespace(String key) {
            this.key = key;
        }
    }

    /**
     * {@code layers} (bottom first) is the other way to give a root: overlayfs joins them with a
     * writable upper layer in the state directory (none with {@code readOnlyRootfs}).
     */
    public record Isolation(Set<Namespace> namespaces, Optional<String> hostname, Optional<Path> rootfs,
                            boolean readOnlyRootfs, List<BindMount> mounts, List<IdMapping> uidMap,
                            List<Path> layers, List<Volume> volumes) {
        public Isolation {
            namespaces = Set.copyOf(namespaces);
            mounts = List.copyOf(mounts);
            uidMap = List.copyOf(uidMap);
            layers = List.copyOf(layers);
            volumes = List.copyOf(volumes);
        }

        public Isolation(Set<Namespace> namespaces, Optional<String> hostname, Optional<Path> rootfs,
                         boolean readOnlyRootfs, List<BindMount> mounts, List<IdMapping> uidMap) {
            this(namespaces, hostname, rootfs, readOnlyRootfs, mounts, uidMap, List.of(), List.of());
        }

        /** Whether the workload pivots into a root of its own (a rootfs or layers). */
        public boolean hasRoot() {
            return rootfs.isPresent() || !layers.isEmpty();
        }
    }

    /** A named volume: state-dir/volumes/NAME on {@code target}, kept when the policy goes. */
    public record Volume(String name, Path target, boolean readOnly) {
    }

    public record BindMount(Path source, Path target, boolean readOnly) {
    }

    /** One line of /proc/PID/uid_map: ids [inside, inside+count) map to [outside, outside+count). */
    public record IdMapping(long inside, long outside, long count) {
    }
}

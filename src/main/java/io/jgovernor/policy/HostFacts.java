package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;

import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedMap;

/**
 * What validating a policy needs to know about this machine. An interface so that the parser
 * stays a pure function of text plus these facts, and tests can describe any host.
 * Implementations may throw {@link java.io.UncheckedIOException} when the host cannot be read;
 * the parser turns that into a located error.
 */
public interface HostFacts {
    /** CPUs that are online now (cpuset.cpus may only name these). */
    CpuList onlineCpus();

    /** Memory nodes that can hold memory (cpuset.mems may only name these). */
    CpuList memoryNodes();

    /** Each NUMA node with the CPUs it holds. */
    SortedMap<Integer, CpuList> numaNodes();

    /**
     * Resolves a block device given as a path ("/dev/vda") or as "MAJ:MIN".
     *
     * @throws IllegalArgumentException with a sentence a person can act on when the device does
     *                                  not exist or is not a block device
     */
    DeviceNumber blockDevice(String device);

    /** How a {@code run:} section uses a path. */
    enum PathUse {
        /** a program to execve: a regular file with an execute bit */
        EXECUTABLE,
        /** a directory (a rootfs) */
        DIRECTORY,
        /** anything that exists (a bind mount source) */
        EXISTS,
        /** a directory entry, a symbolic link included (a program inside a rootfs, whose links point inside it) */
        ENTRY
    }

    /**
     * Why {@code path} cannot be used as {@code use} says ("does not exist", ...), or empty when
     * it can. The default cannot tell and finds nothing wrong; the workload's start reports it.
     */
    default Optional<String> pathProblem(Path path, PathUse use) {
        return Optional.empty();
    }

    /**
     * The daemon's state directory (upper layers, volumes, records): no layer may be inside it.
     * The default does not know it.
     */
    default Optional<Path> stateDir() {
        return Optional.empty();
    }

    /** Whether a user name is known here (numeric uids always are). The default cannot tell: true. */
    default boolean userExists(String name) {
        return true;
    }

    /** Whether a group name is known here (numeric gids always are). The default cannot tell: true. */
    default boolean groupExists(String name) {
        return true;
    }

    /**
     * Whether groups are governed through cgroup v2 (the unified hierarchy mounted at the cgroup
     * mount root): some v1 keys have no v2 meaning and are then errors.
     */
    default boolean cgroupV2() {
        return false;
    }

    /**
     * Whether groups can have pressure (PSI) files: the kernel has PSI on (/proc/pressure) and
     * groups have a cgroup2 directory (v2, or a hybrid host's unified tree). The default: yes.
     */
    default boolean pressureFiles() {
        return true;
    }

    /**
     * Why this host has no cgroup control file {@code name} for groups (its controller is not
     * there, or the kernel has no such file), or empty when it has. The default cannot tell and
     * finds nothing wrong; the first write reports it.
     */
    default Optional<String> cgroupFileProblem(String name) {
        return Optional.empty();
    }

    /**
     * The text of a small file a policy names (a seccomp profile), read whole: UTF-8, at most
     * {@code maxBytes} (a larger file is refused unread, not cut).
     *
     * @throws java.io.IOException with a sentence a person can act on ("does not exist", ...)
     */
    default String readFile(Path path, int maxBytes) throws java.io.IOException {
        return SmallFiles.read(path, maxBytes);
    }

    /**
     * The huge page sizes this kernel offers, in bytes (/sys/kernel/mm/hugepages/hugepages-*kB).
     * The default cannot tell: empty, and any power of two is taken.
     */
    default java.util.SortedSet<Long> hugePageSizes() {
        return new java.util.TreeSet<>();
    }

    /**
     * Why groups on this host cannot use cgroup controller {@code controller} (by its v1 name:
     * "freezer", "hugetlb", "net_cls", "net_prio", "perf_event"): no v1 hierarchy of it is
     * mounted, or the v2 tree does not offer it. Empty when they can; the default cannot tell.
     */
    default Optional<String> controllerProblem(String controller) {
        return Optional.empty();
    }
}

package io.jgovernor.spawn;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.RunSpec;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What workloads keep in the state directory: {@code layers/GROUP/} (upper/, work/ and merged/ of
 * a workload on layers: its writes, kept across workload and daemon restarts, removed with its
 * policy) and {@code volumes/NAME/} (named volumes, kept until {@code jgovernor volume rm}).
 * Both parents are 0700 root: the workload reaches its directories through mounts, never by
 * these paths. The directories inside are made by the exec stage (engine.c), beneath a
 * descriptor of their parent and without following links; this class only makes the two parents,
 * lists, measures and removes, never following a symbolic link (what a workload wrote is hostile).
 */
public final class WorkloadStorage {
    private static final System.Logger LOG = System.getLogger(WorkloadStorage.class.getName());
    /** No state directory: a spec with layers or volumes cannot start (tests without them). */
    public static final WorkloadStorage NONE = new WorkloadStorage(null);

    private final Path stateDir;

    public WorkloadStorage(Path stateDir) {
        this.stateDir = stateDir;
    }

    public Path layers() {
        return stateDir().resolve("layers");
    }

    public Path volumes() {
        return stateDir().resolve("volumes");
    }

    private Path stateDir() {
        if (stateDir == null) {
            throw new IllegalStateException("no state directory");
        }
        return stateDir;
    }

    /** The group's directory beneath layers/: its name with '/' as '+', as the records have it. */
    Path layerState(GroupName g) {
        return layers().resolve(g.value().replace('/', '+'));
    }

    /** Makes layers/ or volumes/ (0700) when the spec needs it, before the stage makes what is inside. */
    void prepare(RunSpec spec) throws StartFailure {
        Optional<RunSpec.Isolation> iso = spec.isolate();
        if (iso.isEmpty() || (iso.get().layers().isEmpty() && iso.get().volumes().isEmpty())) {
            return;
        }
        if (stateDir == null) {
            throw new StartFailure("layers and volumes need the daemon's state directory");
        }
        try {
            if (!iso.get().layers().isEmpty()) {
                privateDirectory(layers());
            }
            if (!iso.get().volumes().isEmpty()) {
                privateDirectory(volumes());
            }
        } catch (IOException e) {
            throw new StartFailure("cannot make " + e.getMessage() + " in the state directory " + stateDir);
        }
    }

    private static void privateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Removes the layer state of every group {@code keep} does not want (its policy, or its
     * {@code layers}, is gone and no workload of it runs any more): the upper layer goes with the policy.
     */
    void removeLayersExcept(Predicate<GroupName> keep) {
        if (stateDir == null || !Files.isDirectory(layers(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.list(layers())) {
            for (Path dir : s.toList()) {
                GroupName g;
                try {
                    g = new GroupName(dir.getFileName().toString().replace('+', '/'));
                } catch (IllegalArgumentException e) {
                    continue; // not one of ours
                }
                if (!keep.test(g)) {
                    LOG.log(System.Logger.Level.INFO, "workload " + g.value() + ": its policy has no layers any more,"
                            + " removing its upper layer " + dir);
                    removeTree(dir);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list " + layers() + ": " + e.getMessage());
        }
    }

    /** A named volume: its name, the bytes its files hold, and the groups whose policies name it. */
    public record VolumeInfo(String name, long bytes, List<String> groups) {
    }

    /** The volumes on disk and those policies name (made at their first workload's start). */
    public List<VolumeInfo> list(java.util.Map<GroupName, RunSpec> runs) {
        TreeMap<String, List<String>> users = new TreeMap<>();
        runs.forEach((g, spec) -> spec.isolate().ifPresent(i -> i.volumes().forEach(v ->
                users.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(g.value()))));
        if (stateDir != null && Files.isDirectory(volumes(), LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(volumes())) {
                s.forEach(p -> users.putIfAbsent(p.getFileName().toString(), new ArrayList<>()));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot list " + volumes() + ": " + e.getMessage());
            }
        }
        List<VolumeInfo> out = new ArrayList<>();
        users.forEach((name, groups) -> out.add(new VolumeInfo(name,
                stateDir == null ? 0 : size(volumes().resolve(name)), List.copyOf(groups))));
        return out;
    }

    /** Removes volume {@code name}; false when there is none. The caller checks that nothing uses it. */
    public boolean remove(String name) throws IOException {
        if (stateDir == null || name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            return false;
        }
        Path dir = volumes().resolve(name);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        removeTree(dir);
        return true;
    }

    /** Bytes of the regular files beneath {@code dir}, links not followed; 0 when it is not there. */
    static long size(Path dir) {
        long[] total = {0};
        try {
            Files.walkFileTree(dir, Set.of(), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
                    if (a.isRegularFile()) {
                        total[0] += a.size();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            return total[0];
        }
        return total[0];
    }

    /** Removes {@code dir} and everything beneath it; a symbolic link is removed, never followed. */
    static void removeTree(Path dir) {
        try {
            Files.walkFileTree(dir, Set.of(), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                    // overlayfs's work/work is mode 000: root may enter it, but only with search permission set
                    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + dir + ": " + e.getMessage());
        }
    }
}

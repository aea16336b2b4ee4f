package io.jgovernor.cgroup;

import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One cgroup controller of one cgroup version: which files it manages, and which writes make a
 * directory say what a policy wants. Implementations are stateless; kernel quirks (write order,
 * rounding, clamping) live in the implementation that has them.
 */
public interface Controller {
    /** The kernel's name for the controller: "cpu", "cpuset", "memory", ... */
    String name();

    /** Whether a policy with these resources needs a directory in this controller's hierarchy. */
    boolean usedBy(Resources resources);

    /** The files to read before {@link #reconcile}; a file missing from a directory is simply absent from the map. */
    List<String> observedFiles();

    /**
     * The writes, in the order the kernel accepts them, that turn a directory whose files read
     * {@code observed} (raw text, as read) into one that says what {@code resources} wants. Keys
     * that resources leaves out are returned to the kernel default of a fresh cgroup. Returns an
     * empty list when nothing differs once both sides are normalized.
     */
    List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed);

    /** What the observed files of a directory just made with mkdir read, so a new group needs no read-back. */
    Map<String, String> fresh(GroupContext context);

    /**
     * Reads what {@link #reconcile} compares against: by default each of {@link #observedFiles},
     * raw, a missing one left out. A controller whose state is not only in its directory's files
     * (v1 devices looks at the parent's list, v2 devices at the BPF programs attached to the
     * directory) reads it here, still through {@code files} or the kernel, never writing.
     */
    default Map<String, String> observe(CgroupFiles files, Path dir) throws CgroupException {
        return files.readAll(dir, observedFiles());
    }

    /**
     * Like {@link #observe(CgroupFiles, Path)}, for a group that wants {@code resources}: the
     * files a policy names itself ({@code files:}, see {@link RawFiles}) are read only where asked.
     */
    default Map<String, String> observe(CgroupFiles files, Path dir, Resources resources) throws CgroupException {
        return observe(files, dir);
    }

    /**
     * Carries out one of this controller's writes: by default one write(2) of the value to the
     * file. A controller whose state is no file (the v2 device program) does it its own way.
     */
    default void apply(CgroupFiles files, Path dir, Write write) throws CgroupException {
        files.write(dir, write.file(), write.value());
    }

    /**
     * Reads this controller's usage of the group whose directory in its hierarchy is {@code dir}
     * into {@code sample}, for a scrape or a status request: the names of its stat files and
     * their units appear nowhere else. Never throws: {@code in} counts what cannot be read. By
     * default the controller counts nothing.
     */
    default void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
    }
}

package io.jgovernor.cgroup;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Freezing a group, the way each cgroup version does it, as one call that returns once the kernel
 * says it is done: every process of the directory (and of every directory beneath) stopped, or
 * running again. The reconciler applies {@code freezer: {frozen: ...}} through it, and so can a
 * run-time freeze/thaw command. Implemented by v1's and v2's FreezerController.
 */
public interface Freezing {
    /**
     * Stops every process of {@code dir} and returns when the kernel reports the group frozen.
     *
     * @throws CgroupException when the write is refused, or the group did not freeze in bounded
     *                         time (it is then thawed again, never left half frozen)
     */
    void freeze(CgroupFiles files, Path dir) throws CgroupException;

    /**
     * Lets the processes of {@code dir} run again and returns when the kernel reports it thawed
     * (or frozen only because an ancestor is).
     */
    void thaw(CgroupFiles files, Path dir) throws CgroupException;

    /** The files {@link #frozen(Map)} reads: a scrape reads them the way it reads every file. */
    List<String> frozenFiles();

    /**
     * Whether the kernel reports the processes frozen (by the group's own freeze or an ancestor's),
     * from the text of {@link #frozenFiles} as read; empty when they are not there.
     */
    Optional<Boolean> frozen(Map<String, String> texts);

    /** {@link #frozen(Map)} of {@code dir} now. */
    default Optional<Boolean> frozen(CgroupFiles files, Path dir) throws CgroupException {
        return frozen(files.readAll(dir, frozenFiles()));
    }

    /**
     * Adds {@code jgovernor_group_frozen} (1 or 0) to a scrape's sample, from {@link #frozenFiles}
     * as {@code in} reads them; nothing when they are not there. {@code source} says what the
     * kernel shows for frozen, for the metric's help.
     */
    default void readFrozen(StatReader in, Path dir, GroupSample.Builder sample, String source) {
        Map<String, String> texts = new java.util.HashMap<>();
        for (String f : frozenFiles()) {
            String text = in.text(dir, f);
            if (text != null) {
                texts.put(f, text);
            }
        }
        frozen(texts).ifPresent(f -> sample.series(new GroupSample.Series("jgovernor_group_frozen",
                "1 when every process of the group is frozen (" + source + "), 0 otherwise", null, false, Map.of(),
                f ? 1 : 0)));
    }
}

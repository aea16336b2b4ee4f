package io.jgovernor.events;

import io.jgovernor.model.GroupName;
import io.jgovernor.sys.DurableFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The last OOM kill count the daemon has reported per group, kept in {@code state-dir/oom-kills}
 * so that the next start can tell the kills that happened while no daemon watched (the kernel's
 * counter above the count kept) from those already sent.
 *
 * <p>A count belongs to one cgroup directory: {@link #dirKey(Path)} names it by this boot and the
 * directory's inode, since a directory made again (or any directory after a reboot) counts from 0.
 * The file is rewritten whole and durably ({@link DurableFiles}) when an event that counts kills
 * is spooled and when a group is first watched, never on a scrape. One line per group: {@code GROUP DIRKEY KILLS}.
 */
public final class KillCounts {
    private static final System.Logger LOG = System.getLogger(KillCounts.class.getName());
    private static final String MAGIC = "jgovernor-oom-kills 1";
    private static final String BOOT_ID = readBootId();

    /** What was last reported for a group: which directory, and its kernel counter then. */
    public record Seen(String dirKey, long kills) {
    }

    /** Null: kept in memory only. */
    private final Path file;
    private final Map<GroupName, Seen> seen = new HashMap<>();

    private KillCounts(Path file) {
        this.file = file;
    }

    /** Counts kept in memory only (no state directory): nothing is caught up after a restart. */
    public static KillCounts inMemory() {
        return new KillCounts(null);
    }

    /**
     * Reads what an earlier run kept in {@code file}. A file that cannot be read or parsed is
     * logged and ignored: the start then reports nothing missed, as before there was a file.
     */
    public static KillCounts load(Path file) {
        KillCounts c = new KillCounts(file);
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            var lines = text.lines().toList();
            if (lines.isEmpty() || !lines.getFirst().equals(MAGIC)) {
                throw new IOException("not a " + MAGIC + " file");
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(" ");
                if (f.length != 3) {
                    throw new IOException("unexpected line \"" + line + "\"");
                }
                c.seen.put(new GroupName(f[0]), new Seen(f[1], Long.parseLong(f[2])));
            }
        } catch (NoSuchFileException e) {
            // a first start: nothing seen yet
        } catch (IOException | RuntimeException e) {
            c.seen.clear();
            LOG.log(System.Logger.Level.WARNING, "OOM kill counts " + file + " cannot be read (" + e.getMessage()
                    + "); kills from while the daemon was down cannot be told this time");
        }
        return c;
    }

    public synchronized Optional<Seen> get(GroupName group) {
        return Optional.ofNullable(seen.get(group));
    }

    /** Keeps these counts, durably, before it returns; nothing is written when none changed. */
    public synchronized void putAll(Map<GroupName, Seen> counts) throws IOException {
        boolean changed = false;
        for (var e : counts.entrySet()) {
            changed |= !e.getValue().equals(seen.put(e.getKey(), e.getValue()));
        }
        if (changed) {
            write();
        }
    }

    public void put(GroupName group, Seen count) throws IOException {
        putAll(Map.of(group, count));
    }


    /** A group no longer watched (its policy went): dropped with the next write. */
    public synchronized void forget(GroupName group) {
        seen.remove(group);
    }

    private void write() throws IOException {
        if (file == null) {
            return;
        }
        StringBuilder text = new StringBuilder(MAGIC).append('\n');
        new TreeMap<>(seen).forEach((g, s) -> text.append(g.value()).append(' ').append(s.dirKey()).append(' ')
                .append(s.kills()).append('\n'));
        Files.createDirectories(file.toAbsolutePath().getParent());
        DurableFiles.replace(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Names one cgroup directory for as long as it lives: this boot's id and the directory's inode
     * (inode numbers of cgroupfs start again at each boot). Empty when the directory is gone.
     */
    public static Optional<String> dirKey(Path dir) {
        try {
            Object ino = Files.getAttribute(dir, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return Optional.of(BOOT_ID + ":" + ino);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static String readBootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            return "unknown-boot";
        }
    }
}

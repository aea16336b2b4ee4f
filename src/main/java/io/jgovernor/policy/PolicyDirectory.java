package io.jgovernor.policy;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The candidate policy files of a directory: regular files (or symlinks to them) directly in it,
 * named *.yaml or *.yml and not starting with '.'. Editor backups ("x.yaml~"), package manager
 * leftovers ("x.yaml.rpmnew"), swap files and subdirectories are ignored.
 */
public final class PolicyDirectory {
    private final Path dir;

    public PolicyDirectory(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /**
     * A cheap identity of a file's content: when none of these changed, the content did not
     * either, and the file need not be read again. ctime catches chmod/chown (which matter to
     * {@link FileSafety}) and writes that restore mtime; inode catches a rename over the file.
     */
    public record Fingerprint(long size, long mtimeNanos, long inode, long ctimeNanos) {
    }

    public record Candidate(Path file, Fingerprint fingerprint) {
    }

    /** Whether a file name is one the daemon reads. */
    public static boolean isPolicyName(String name) {
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"))
                && !name.equals(".yaml") && !name.equals(".yml");
    }

    /**
     * The candidates, in file name order.
     *
     * @throws IOException when the directory itself cannot be read; callers must then change
     *                     nothing, since an unreadable directory is not an empty one
     */
    public List<Candidate> list() throws IOException {
        List<Candidate> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (!isPolicyName(entry.getFileName().toString()) || !Files.isRegularFile(entry)) {
                    continue; // Files.isRegularFile follows symlinks: a link to a file counts
                }
                try {
                    out.add(new Candidate(entry, fingerprint(entry)));
                } catch (NoSuchFileException e) {
                    // removed between listing and stat: it is simply not there any more
                }
            }
        }
        out.sort(Comparator.comparing(c -> c.file().getFileName().toString()));
        return out;
    }

    static Fingerprint fingerprint(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:size,lastModifiedTime,ino,ctime");
        return new Fingerprint((Long) a.get("size"), nanos((FileTime) a.get("lastModifiedTime")),
                (Long) a.get("ino"), nanos((FileTime) a.get("ctime")));
    }

    private static long nanos(FileTime t) {
        return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}

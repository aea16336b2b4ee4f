package io.jgovernor.metrics;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.model.GroupName;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a group's usage from its cgroup files, when asked (a scrape, a status request): each
 * controller of the backend reads its own files ({@code Controller.readStats}) in the group's
 * directory of its hierarchy. A file that is absent (the group has no directory in that
 * hierarchy, or vanished a moment ago) leaves its field empty; a file that cannot be read or
 * parsed leaves its field empty and is counted in {@link #errors()}. Nothing here throws for one
 * bad file: the rest of the group is still read. Thread-safe: concurrent scrapes each fill their
 * own sample.
 */
public final class GroupStats {
    private static final System.Logger LOG = System.getLogger(GroupStats.class.getName());
    /** Distinct failure messages logged, so a persistent failure is logged once, not every scrape. */
    private static final int MAX_LOGGED = 256;

    private final StatFiles files;
    private final List<Backend.StatSource> sources;
    private final AtomicLong errors = new AtomicLong();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    /**
     * Each group's directory per source, kept between scrapes: a Path keeps its string form, so a
     * scrape of 1000 groups no longer resolves and encodes 6000 new paths (issue 18: a seventh of
     * what a scrape allocated).
     */
    private final Map<GroupName, Path[]> dirs = new ConcurrentHashMap<>();
    private final StatReader reader = new StatReader() {
        @Override
        public String text(Path dir, String file) {
            return read(dir, file);
        }

        @Override
        public void failed(Path dir, String file, String message) {
            GroupStats.this.failed(dir, file, message);
        }
    };

    /** @param sources the controllers to read, each with jgovernor's root directory in its hierarchy */
    public GroupStats(StatFiles files, List<Backend.StatSource> sources) {
        this.files = files;
        this.sources = List.copyOf(sources);
    }

    /** The controllers of the daemon's backend, for each one mounted here. */
    public static GroupStats of(StatFiles files, Backend backend) {
        return new GroupStats(files, backend.statSources());
    }

    /** Files that could not be read or parsed since the daemon started. */
    public long errors() {
        return errors.get();
    }

    public GroupSample read(GroupName group) {
        GroupSample.Builder sample = new GroupSample.Builder(group);
        Path[] dirs = this.dirs.computeIfAbsent(group, this::directories);
        for (int i = 0; i < dirs.length; i++) {
            sources.get(i).controller().readStats(reader, dirs[i], sample);
        }
        return sample.build();
    }

    /** Forgets the directories kept for groups not in {@code groups} (after a scrape of them all). */
    public void keepOnly(Collection<GroupName> groups) {
        dirs.keySet().retainAll(groups instanceof Set<?> ? groups : new HashSet<>(groups));
    }

    private Path[] directories(GroupName group) {
        Path[] d = new Path[sources.size()];
        for (int i = 0; i < d.length; i++) {
            // one resolve for a nested name: a relative "a/b" is two path segments either way
            d[i] = sources.get(i).root().resolve(group.value());
        }
        return d;
    }

    /** The file's text, or null when it is absent or could not be read (counted). */
    private String read(Path dir, String file) {
        try {
            Optional<String> text = files.read(dir, file);
            return text.orElse(null);
        } catch (CgroupException e) {
            failed(dir, file, e.getMessage());
            return null;
        } catch (RuntimeException e) {
            failed(dir, file, String.valueOf(e));
            return null;
        }
    }

    private void failed(Path dir, String file, String message) {
        errors.incrementAndGet();
        String line = dir.resolve(file) + ": " + message;
        if (logged.size() < MAX_LOGGED && logged.add(line)) {
            LOG.log(System.Logger.Level.WARNING, "metrics: cannot read " + line + " (logged once; counted in jgovernor_scrape_errors_total)");
        }
    }
}

package io.jgovernor.metrics;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads one cgroup file for a scrape: its text, or empty when the file or its directory does not
 * exist (a group without a directory in that hierarchy, or one removed mid-scrape). The daemon
 * reads through {@link CgroupFiles}; tests hand in captured kernel text.
 */
@FunctionalInterface
public interface StatFiles {
    Optional<String> read(Path dir, String file) throws CgroupException;

    static StatFiles of(CgroupFiles files) {
        return files::read;
    }
}

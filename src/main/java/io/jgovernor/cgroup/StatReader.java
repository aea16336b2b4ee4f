package io.jgovernor.cgroup;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * How a controller reads its stat files for a scrape ({@link Controller#readStats}): nothing here
 * throws for one bad file. A file that is absent (no directory in that hierarchy, or one removed a
 * moment ago) reads as null; one that cannot be read or parsed also reads as null or empty and is
 * counted (and logged once) by the implementation, so the rest of the group is still read.
 */
public interface StatReader {
    /** The file's text; null when it is absent or could not be read (counted). */
    String text(Path dir, String file);

    /** Counts (and logs once) a file of {@code dir} that could not be understood. */
    void failed(Path dir, String file, String message);

    /** One non-negative decimal file, like cpuacct.usage; empty when absent or malformed (counted). */
    default OptionalLong number(Path dir, String file) {
        String text = text(dir, file);
        return text == null ? OptionalLong.empty() : parse(dir, file, text, false);
    }

    /** {@code text} of {@code file} as one decimal, which may be negative when {@code signed}; empty and counted when malformed. */
    default OptionalLong parse(Path dir, String file, String text, boolean signed) {
        try {
            return OptionalLong.of(signed ? CgroupText.signed(text) : CgroupText.single(text));
        } catch (IllegalArgumentException e) {
            failed(dir, file, e.getMessage());
            return OptionalLong.empty();
        }
    }

    /** The value of {@code key} in {@code text}, a flat keyed file ("key value" lines); empty when absent, or malformed (counted). */
    default OptionalLong keyed(Path dir, String file, String text, String key) {
        try {
            return CgroupText.keyed(text, key);
        } catch (IllegalArgumentException e) {
            failed(dir, file, key + ": " + e.getMessage());
            return OptionalLong.empty();
        }
    }
}

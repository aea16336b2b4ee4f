package io.jgovernor.cgroup;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the version an object, not a question (issue 14, see package-info): no code outside
 * {@code cgroup/} asks which cgroup version this is, or names a v1 or v2 class. What differs
 * between the versions is asked of {@link Backend}.
 */
class VersionChecksStayInCgroupTest {
    private static final Path MAIN = Path.of("src/main/java/io/jgovernor");
    /**
     * isUnified(), any use of CgroupMode, layout.unified(), and the per-version packages
     * (cgroup.v1, cgroup.v2): a version check or a version's class picked by hand.
     */
    static final Pattern VERSION_CHECK = Pattern.compile(
            "\\bisUnified\\s*\\(|\\bCgroupMode\\b|\\.unified\\s*\\(\\s*\\)|\\bio\\.jgovernor\\.cgroup\\.v[12]\\b");

    /** file:line: text of each version check under {@code dir} outside its cgroup/ package. */
    static List<String> versionChecks(Path dir) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                if (dir.relativize(f).startsWith("cgroup")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                for (int i = 0; i < lines.size(); i++) {
                    if (VERSION_CHECK.matcher(lines.get(i)).find()) {
                        found.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        return found;
    }

    @Test
    void noCodeOutsideCgroupAsksWhichVersionThisIs() throws IOException {
        assertTrue(Files.isDirectory(MAIN.resolve("cgroup")), "run from the repository root: " + MAIN.toAbsolutePath());
        List<String> found = versionChecks(MAIN);
        assertEquals(List.of(), found, "version checks outside cgroup/ (ask the Backend instead):\n"
                + String.join("\n", found));
    }

    @Test
    void theScanFindsACheckWhereThereIsOne(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("reconcile"));
        Files.createDirectories(tmp.resolve("cgroup"));
        Files.writeString(tmp.resolve("reconcile/Planner.java"), "class Planner {\n  boolean v2 = h.isUnified();\n"
                + "  Object o = io.jgovernor.cgroup.v2.SubtreeControl.FILE;\n  Object m = layout.unified();\n"
                + "  // cgroup v2 in a comment is no check\n}\n");
        Files.writeString(tmp.resolve("cgroup/Backend.java"), "class Backend { Object m = CgroupMode.UNIFIED; }\n");
        List<String> found = versionChecks(tmp);
        assertEquals(3, found.size(), found.toString());
        assertTrue(found.getFirst().startsWith(tmp.resolve("reconcile/Planner.java") + ":2: "), found.getFirst());
        assertTrue(found.get(1).contains(":3: "), found.get(1));
        assertTrue(found.get(2).contains(":4: "), found.get(2));
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A refresh of the files an event names ({@link PolicyCatalog#refresh(java.util.Collection)},
 * which judges only those and the files still waiting) against a full refresh of every file, over
 * random edit sequences on one directory: in place, by rename, removed, back within the removal
 * delay or gone for good, invalid, a name defined twice, a child without its parent, a child's
 * cpuset outside its parent's. Both catalogs see the same files at the same moments and must say
 * the same: the desired groups, every file's status, every error. The change the incremental one
 * reports must name every group that differs from the state before.
 */
class PolicyCatalogIncrementalTest {
    private static final String[] NAMES = {"a", "b", "a/x", "a/y", "b/x", "a/x/z", "c", "a-b"};
    private static final String[] BODIES = {"", "cpu: {shares: 100}\n", "memory: {limit: 64Mi}\n",
            "cpuset: {cpus: \"0-1\"}\n", "cpuset: {cpus: \"1\"}\n", "cpuset: {cpus: \"2\"}\n", "pids: {max: 7}\n"};

    @TempDir
    Path root;
    Path policies;
    final PolicyParser parser = new PolicyParser(FakeHost.HOST);
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final List<PolicyCatalog> made = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(FileSafetyTest.isRoot(), "policy files must be owned by root");
        policies = Files.createDirectories(root.resolve("policies.d"));
        FileSafetyTest.chmod(policies, "rwxr-xr-x");
    }

    @AfterEach
    void flush() {
        made.forEach(PolicyCatalog::flushCopies);
    }

    /**
     * The full one reads a file only when its fingerprint changed (no racy window: every write
     * here gives the file a size it never had), so that both read the same files: a file read
     * again is judged again, and where that lands can differ for one refresh (a version accepted
     * while its parent goes in the same refresh is not yet a "last good" one).
     */
    private PolicyCatalog catalog(String accepted, Duration racyWindow) {
        PolicyCatalog c = new PolicyCatalog(parser, policies, root.resolve(accepted), racyWindow,
                PolicyCatalog.REMOVAL_DELAY, clock::get);
        made.add(c);
        return c;
    }

    private static String content(Random r) {
        if (r.nextInt(10) == 0) {
            return "name: [broken\n";
        }
        StringBuilder out = new StringBuilder();
        int docs = 1 + r.nextInt(2);
        for (int i = 0; i < docs; i++) {
            if (i > 0) {
                out.append("---\n");
            }
            out.append("name: ").append(NAMES[r.nextInt(NAMES.length)]).append('\n')
                    .append(BODIES[r.nextInt(BODIES.length)]);
        }
        return out.toString();
    }

    private int writes;

    private void write(Path f, String content) throws IOException {
        // padded to a size no write had before: a changed file always has a changed fingerprint
        Files.writeString(f, content + "#" + "x".repeat(400 + ++writes - content.length()) + "\n");
        FileSafetyTest.chmod(f, "rw-r--r--");
    }

    /** One random change of the directory; returns the file names an inotify event would name. */
    private Set<String> edit(Random r) throws IOException {
        Set<String> named = new TreeSet<>();
        String name = "f" + r.nextInt(6) + ".yaml";
        Path f = policies.resolve(name);
        switch (r.nextInt(7)) {
            case 0, 1 -> write(f, content(r)); // in place
            case 2 -> { // temp file + rename over it
                Path tmp = policies.resolve("." + name + ".tmp");
                write(tmp, content(r));
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            case 3 -> Files.deleteIfExists(f);
            case 4 -> {
                clock.addAndGet(Duration.ofMillis(1500).toNanos()); // a missing file is due
                return named; // no event: the loop wakes by itself when a removal is due
            }
            case 5 -> {
                clock.addAndGet(Duration.ofMillis(300).toNanos());
                return named;
            }
            default -> { // a deploy: several files at once
                for (int i = 0; i < 3; i++) {
                    named.addAll(edit(r));
                }
                return named;
            }
        }
        named.add(name);
        return named;
    }

    private static List<String> describe(CatalogState s) {
        List<String> out = new ArrayList<>();
        s.desired().forEach((g, p) -> out.add(g + " = " + p));
        s.files().forEach(f -> out.add(f.toString()));
        s.errors().forEach(e -> out.add("error " + e));
        return out;
    }

    @Test
    void refreshingTheNamedFilesSaysWhatAFullRefreshSays() throws IOException {
        for (int seed = 0; seed < 60; seed++) {
            try (var files = Files.list(policies)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Random r = new Random(seed);
            PolicyCatalog incremental = catalog("accepted-i-" + seed, PolicyCatalog.RACY_WINDOW);
            PolicyCatalog full = catalog("accepted-f-" + seed, Duration.ZERO);
            for (int i = 0; i < 3; i++) {
                write(policies.resolve("f" + i + ".yaml"), content(r));
            }
            CatalogState before = incremental.refresh();
            full.refresh();
            for (int step = 0; step < 40; step++) {
                Set<String> named = edit(r);
                CatalogState a = incremental.refresh(named);
                CatalogState b = full.refresh();
                String where = "seed " + seed + ", step " + step + ", files " + named;
                List<String> onlyFull = new ArrayList<>(describe(b));
                onlyFull.removeAll(describe(a));
                List<String> onlyIncremental = new ArrayList<>(describe(a));
                onlyIncremental.removeAll(describe(b));
                assertEquals(describe(b), describe(a), where + "\nonly in the full refresh: " + onlyFull
                        + "\nonly in the incremental one: " + onlyIncremental);
                CatalogState.Change change = a.change();
                assertSame(before.desired(), change.base(), where);
                Set<GroupName> differ = new TreeSet<>();
                differ.addAll(before.desired().keySet());
                differ.addAll(a.desired().keySet());
                SortedMap<GroupName, Policy> was = before.desired();
                differ.removeIf(g -> Objects.equals(was.get(g), a.desired().get(g)));
                assertTrue(change.groups().containsAll(differ), where + ": " + differ + " not all in " + change.groups());
                before = a;
            }
        }
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Limit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PolicyCatalogTest {
    @TempDir
    Path root;
    Path policies;
    Path accepted;
    final PolicyParser parser = new PolicyParser(FakeHost.HOST);

    @org.junit.jupiter.api.AfterEach
    void flush() {
        made.forEach(PolicyCatalog::flushCopies); // the temp dir is removed next
    }

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(FileSafetyTest.isRoot(), "policy files must be owned by root");
        policies = Files.createDirectories(root.resolve("policies.d"));
        FileSafetyTest.chmod(policies, "rwxr-xr-x");
        accepted = root.resolve("state/accepted");
    }

    private Path write(String name, String content) throws IOException {
        Path f = policies.resolve(name);
        Files.writeString(f, content);
        FileSafetyTest.chmod(f, "rw-r--r--");
        return f;
    }

    /** Every catalog made so far: a restart reads what the last run's copy writer wrote. */
    private final List<PolicyCatalog> made = new java.util.ArrayList<>();

    /** The catalogs' monotonic clock, moved by the tests: no test sleeps out a removal delay. */
    private final java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);

    private PolicyCatalog catalog() {
        return track(new PolicyCatalog(parser, policies, accepted, PolicyCatalog.RACY_WINDOW,
                PolicyCatalog.REMOVAL_DELAY, clock::get));
    }

    private void later(Duration d) {
        clock.addAndGet(d.toNanos());
    }

    private PolicyCatalog track(PolicyCatalog c) {
        made.forEach(PolicyCatalog::flushCopies); // the earlier "run" stopped cleanly
        made.add(c);
        return c;
    }

    /** The accepted copy of {@code name}, once every copy made so far is written. */
    private Path copy(String name) {
        made.forEach(PolicyCatalog::flushCopies);
        return accepted.resolve(name);
    }

    private static Set<String> groups(CatalogState s) {
        return s.desired().keySet().stream().map(GroupName::value).collect(java.util.stream.Collectors.toSet());
    }

    private static Optional<Limit> memoryLimit(CatalogState s, String group) {
        return s.desired().get(new GroupName(group)).resources().memory().orElseThrow().limit();
    }

    private static CatalogState.FileStatus status(CatalogState s, Path file) {
        return s.files().stream().filter(f -> f.file().equals(file)).findFirst().orElseThrow();
    }

    private static List<String> errors(CatalogState s) {
        return s.errors().stream().map(PolicyError::toString).toList();
    }

    @Test
    void acceptsValidFilesAndKeepsACopy() throws IOException {
        Path web = write("web.yaml", "name: web\nmemory: {limit: 256Mi}\n---\nname: web/api\n");
        CatalogState s = catalog().refresh();
        assertEquals(Set.of("web", "web/api"), groups(s));
        assertEquals(Optional.of(Limit.of(268435456L)), memoryLimit(s, "web"));
        CatalogState.FileStatus st = status(s, web);
        assertTrue(st.valid());
        assertFalse(st.onLastGood());
        assertEquals(List.of(), st.errors());
        assertEquals(1, s.validCount());
        assertEquals(0, s.invalidCount());
        assertEquals(Files.readString(web), Files.readString(copy("web.yaml")));
    }

    @Test
    void copiesAreWrittenInTheIdleSchedulingClassAndAFlushStillFinishesThem() throws IOException {
        PolicyCatalog catalog = catalog();
        for (int i = 0; i < 50; i++) {
            write("g" + i + ".yaml", "name: g" + i + "\nmemory: {limit: " + (i + 1) + "Mi}\n");
        }
        catalog.refresh();
        for (int i = 0; i < 50; i++) {
            assertEquals("name: g" + i + "\nmemory: {limit: " + (i + 1) + "Mi}\n", Files.readString(copy("g" + i + ".yaml")));
        }
        // the writer thread (comm is cut to 15 bytes) is back in SCHED_IDLE (5) after the flush
        List<Integer> policies = new java.util.ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).strip().equals("jgovernor-accep")) {
                    String stat = Files.readString(t.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    policies.add(Integer.parseInt(f[38])); // field 41, policy
                }
            }
        }
        assertFalse(policies.isEmpty(), "no copy writer thread");
        assertTrue(policies.contains(5), "policies of the copy writers: " + policies);
    }

    @Test
    void aTypoKeepsTheOldGroups() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\nmemory: {limit: 256Mi}\n");
        catalog.refresh();
        write("web.yaml", "name: web\nmemroy: {limit: 1Gi}\n");
        CatalogState s = catalog.refresh();
        assertEquals(Optional.of(Limit.of(268435456L)), memoryLimit(s, "web"));
        CatalogState.FileStatus st = status(s, web);
        assertFalse(st.valid());
        assertTrue(st.onLastGood());
        assertEquals(Set.of(new GroupName("web")), st.groups());
        assertEquals(List.of(web + ":2:1: unknown key \"memroy\" (did you mean \"memory\"?)"), errors(s));
        assertEquals(1, s.invalidCount());
        assertEquals("name: web\nmemory: {limit: 256Mi}\n", Files.readString(copy("web.yaml")));
    }

    @Test
    void aTruncatedFileKeepsTheOldGroups() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\n");
        catalog.refresh();
        write("web.yaml", "");
        CatalogState s = catalog.refresh();
        assertEquals(Set.of("web"), groups(s));
        assertEquals(List.of(web + ":1:1: file holds no policy; delete the file to remove its groups"), errors(s));
    }

    @Test
    void aRenameOverTheFileIsPickedUp() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\nmemory: {limit: 256Mi}\n");
        catalog.refresh();
        Path tmp = write(".web.yaml.tmp", "name: web\nmemory: {limit: 512Mi}\n");
        Files.move(tmp, web, StandardCopyOption.ATOMIC_MOVE);
        CatalogState s = catalog.refresh();
        assertEquals(Optional.of(Limit.of(512L << 20)), memoryLimit(s, "web"));
        assertEquals(1, s.files().size());
    }

    @Test
    void afterARestartAnInvalidFileStillAppliesItsLastGoodVersion() throws IOException {
        Path web = write("web.yaml", "name: web\nmemory: {limit: 256Mi}\n");
        catalog().refresh();
        write("web.yaml", "name: web\nmemory: {limit: lots}\n");
        CatalogState s = catalog().refresh(); // a new daemon on the same directories
        assertEquals(Optional.of(Limit.of(268435456L)), memoryLimit(s, "web"));
        assertTrue(status(s, web).onLastGood());
        assertEquals(List.of(web + ":2:17: memory.limit: \"lots\" is not a size; write bytes, or a number with K, M, G,"
                + " T (1024-based) or Ki, Mi, Gi, Ti, like \"256Mi\", or \"max\""), errors(s));
    }

    @Test
    void aFileDeletedWhileTheDaemonWasDownLosesItsGroupsAndCopyAfterTheDelay() throws IOException {
        Path web = write("web.yaml", "name: web\n");
        catalog().refresh();
        assertTrue(Files.exists(copy("web.yaml")));
        Files.delete(web);
        PolicyCatalog restarted = catalog();
        // a deploy may be replacing the file right as the daemon starts: the same delay applies
        CatalogState s = restarted.refresh();
        assertEquals(Set.of("web"), groups(s));
        assertEquals(Optional.of(PolicyCatalog.REMOVAL_DELAY), restarted.untilNextRemoval());
        assertTrue(Files.exists(copy("web.yaml")));
        later(PolicyCatalog.REMOVAL_DELAY);
        s = restarted.refresh(List.of()); // the loop's wake-up pass names no file
        assertEquals(Set.of(), groups(s));
        assertFalse(Files.exists(copy("web.yaml")));
        assertEquals(Optional.empty(), restarted.untilNextRemoval());
    }

    @Test
    void aFileDeletedWhileTheDaemonWasDownAndBackAtStartIsAnEdit() throws IOException {
        Path web = write("web.yaml", "name: web\npids: {max: 5}\n");
        catalog().refresh();
        Files.delete(web);
        PolicyCatalog restarted = catalog();
        assertEquals(Set.of("web"), groups(restarted.refresh()));
        later(Duration.ofMillis(300));
        write("web.yaml", "name: web\npids: {max: 6}\n");
        CatalogState s = restarted.refresh(List.of("web.yaml"));
        assertEquals(Optional.of(Limit.of(6)), s.desired().get(new GroupName("web")).resources().pids().orElseThrow().max());
        later(Duration.ofSeconds(5));
        assertEquals(Set.of("web"), groups(restarted.refresh()));
    }

    @Test
    void deletingAFileRemovesItsGroupsAndItsCopyOnceItStayedAway() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\n");
        write("db.yaml", "name: db\n");
        catalog.refresh();
        Files.delete(web);
        CatalogState s = catalog.refresh();
        assertEquals(Set.of("web", "db"), groups(s), "kept while it may come back");
        assertTrue(status(s, web).removing());
        assertFalse(status(s, policies.resolve("db.yaml")).removing());
        assertTrue(Files.exists(copy("web.yaml")));
        later(Duration.ofMillis(999));
        assertEquals(Optional.of(Duration.ofMillis(1)), catalog.untilNextRemoval());
        assertEquals(Set.of("web", "db"), groups(catalog.refresh()));
        later(Duration.ofMillis(1));
        assertEquals(Optional.of(Duration.ZERO), catalog.untilNextRemoval());
        s = catalog.refresh();
        assertEquals(Set.of("db"), groups(s));
        assertEquals(1, s.files().size());
        assertFalse(Files.exists(copy("web.yaml")));
        assertTrue(Files.exists(copy("db.yaml")));
        assertEquals(Optional.empty(), catalog.untilNextRemoval());
    }

    @Test
    void aFileRemovedAndMadeAgainWithinTheDelayIsAnEditWhicheverRefreshSeesIt() throws IOException {
        for (boolean targeted : new boolean[] {false, true}) {
            PolicyCatalog catalog = catalog();
            Path web = write("web.yaml", "name: web\nmemory: {limit: 256Mi}\n");
            catalog.refresh();
            Files.delete(web);
            CatalogState s = targeted ? catalog.refresh(List.of("web.yaml")) : catalog.refresh();
            assertEquals(Optional.of(Limit.of(256L << 20)), memoryLimit(s, "web"));
            assertTrue(status(s, web).valid(), "the applied version stands meanwhile");
            assertTrue(status(s, web).removing());
            later(Duration.ofMillis(200)); // `rm`, then a copy 200 ms later
            write("web.yaml", "name: web\nmemory: {limit: 128Mi}\n");
            s = targeted ? catalog.refresh(List.of("web.yaml")) : catalog.refresh();
            assertEquals(Optional.of(Limit.of(128L << 20)), memoryLimit(s, "web"));
            assertFalse(status(s, web).removing());
            assertEquals(Optional.empty(), catalog.untilNextRemoval(), "no removal pending");
            later(Duration.ofSeconds(10));
            s = catalog.refresh();
            assertEquals(Set.of("web"), groups(s));
            assertEquals("name: web\nmemory: {limit: 128Mi}\n", Files.readString(copy("web.yaml")));
        }
    }

    @Test
    void aFileBackWithItsOldContentGivesTheVeryPolicyAgain() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\npids: {max: 5}\n");
        var before = catalog.refresh().desired().get(new GroupName("web"));
        Files.delete(web);
        catalog.refresh(List.of("web.yaml"));
        write("web.yaml", "name: web\npids: {max: 5}\n"); // as GNU install leaves it: a new inode
        assertEquals(before, catalog.refresh(List.of("web.yaml")).desired().get(new GroupName("web")));
    }

    @Test
    void aFileBackBrokenKeepsItsLastGoodVersionAndIsNotRemoved() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\npids: {max: 5}\n");
        catalog.refresh();
        Files.delete(web);
        catalog.refresh();
        write("web.yaml", "name: web\npids: {max: lots}\n");
        CatalogState s = catalog.refresh(List.of("web.yaml"));
        assertTrue(status(s, web).onLastGood());
        later(Duration.ofSeconds(5));
        s = catalog.refresh();
        assertEquals(Optional.of(Limit.of(5)), s.desired().get(new GroupName("web")).resources().pids().orElseThrow().max());
        assertFalse(status(s, web).valid());
    }

    @Test
    void aMissingFileThatAppliedNothingGoesAtOnce() throws IOException {
        PolicyCatalog catalog = catalog();
        Path bad = write("bad.yaml", "name: bad\nmemroy: {}\n");
        assertEquals(1, catalog.refresh().invalidCount());
        Files.delete(bad);
        CatalogState s = catalog.refresh(List.of("bad.yaml"));
        assertEquals(0, s.files().size());
        assertEquals(List.of(), s.errors());
        assertEquals(Optional.empty(), catalog.untilNextRemoval());
    }

    @Test
    void aZeroDelayRemovesAtOnce() throws IOException {
        PolicyCatalog catalog = track(new PolicyCatalog(parser, policies, accepted, Duration.ZERO));
        Path web = write("web.yaml", "name: web\n");
        catalog.refresh();
        Files.delete(web);
        assertEquals(Set.of(), groups(catalog.refresh(List.of("web.yaml"))));
        assertFalse(Files.exists(copy("web.yaml")));
    }

    @Test
    void aDuplicateNameAcrossNewFilesRejectsTheLaterOneByName() throws IOException {
        Path a = write("a.yaml", "name: web\n");
        Path b = write("b.yaml", "description: copy\nname: web\n");
        CatalogState s = catalog().refresh();
        assertEquals(Set.of("web"), groups(s));
        assertTrue(status(s, a).valid());
        assertFalse(status(s, b).valid());
        assertFalse(status(s, b).onLastGood());
        assertEquals(Set.of(), status(s, b).groups());
        assertEquals(List.of(b + ":2:7: group \"web\" is already defined in " + a), errors(s));
    }

    @Test
    void aFileWhoseGroupIsAppliedKeepsItAgainstANewcomer() throws IOException {
        PolicyCatalog catalog = catalog();
        Path z = write("z.yaml", "name: web\n");
        catalog.refresh();
        Path a = write("a.yaml", "name: web\nmemory: {limit: 1Gi}\n");
        CatalogState s = catalog.refresh();
        assertEquals(Optional.empty(), s.desired().get(new GroupName("web")).resources().memory());
        assertEquals(List.of(a + ":1:7: group \"web\" is already defined in " + z), errors(s));

        // Level-based: once z gives the name up, a is accepted without being touched.
        write("z.yaml", "name: other\n");
        s = catalog.refresh();
        assertEquals(Set.of("web", "other"), groups(s));
        assertEquals(Optional.of(Limit.of(1L << 30)), memoryLimit(s, "web"));
        assertEquals(List.of(), s.errors());
        assertEquals(2, s.validCount());
    }

    @Test
    void aNameTakenBackAfterTheOwnerIsDeleted() throws IOException {
        PolicyCatalog catalog = catalog();
        Path a = write("a.yaml", "name: web\n");
        Path b = write("b.yaml", "name: web\npids: {max: 5}\n");
        CatalogState s = catalog.refresh();
        assertFalse(status(s, b).valid());
        Files.delete(a);
        catalog.refresh();
        later(PolicyCatalog.REMOVAL_DELAY);
        s = catalog.refresh();
        assertTrue(status(s, b).valid());
        assertEquals(Optional.of(Limit.of(5)), s.desired().get(new GroupName("web")).resources().pids().orElseThrow().max());
    }

    @Test
    void aTargetedRefreshReadsTheNamedFilesOnly() throws IOException {
        PolicyCatalog catalog = catalog();
        write("a.yaml", "name: a\nmemory: {limit: 64Mi}\n");
        write("b.yaml", "name: b\nmemory: {limit: 64Mi}\n");
        catalog.refresh();
        write("a.yaml", "name: a\nmemory: {limit: 32Mi}\n");
        write("b.yaml", "name: b\nmemory: {limit: 32Mi}\n");
        write("c.yaml", "name: c\n");
        CatalogState s = catalog.refresh(List.of("a.yaml", "c.yaml"));
        assertEquals(Set.of("a", "b", "c"), groups(s));
        assertEquals(Optional.of(Limit.of(32 << 20)), memoryLimit(s, "a"));
        assertEquals(Optional.of(Limit.of(64 << 20)), memoryLimit(s, "b"), "b was not named");
        // a full refresh finds what no event named
        assertEquals(Optional.of(Limit.of(32 << 20)), memoryLimit(catalog.refresh(), "b"));
    }

    @Test
    void aTargetedRefreshOfADeletedOrRenamedAwayFileRemovesItsGroups() throws IOException {
        PolicyCatalog catalog = catalog();
        write("a.yaml", "name: a\n");
        write("b.yaml", "name: b\n");
        catalog.refresh();
        Files.delete(policies.resolve("a.yaml"));
        Files.move(policies.resolve("b.yaml"), policies.resolve("b.yaml.disabled"));
        CatalogState s = catalog.refresh(List.of("a.yaml", "b.yaml"));
        assertEquals(Set.of("a", "b"), groups(s), "until they stayed away for the delay");
        later(PolicyCatalog.REMOVAL_DELAY);
        s = catalog.refresh(List.of());
        assertEquals(Set.of(), groups(s));
        assertFalse(Files.exists(copy("a.yaml")));
    }

    @Test
    void aChildNeedsItsParent() throws IOException {
        PolicyCatalog catalog = catalog();
        Path low = write("low.yaml", "name: batch/low\n");
        CatalogState s = catalog.refresh();
        assertEquals(Set.of(), groups(s));
        assertEquals(List.of(low + ":1:7: parent group \"batch\" is not defined"), errors(s));

        write("batch.yaml", "name: batch\n");
        s = catalog.refresh();
        assertEquals(Set.of("batch", "batch/low"), groups(s));
        assertEquals(List.of(), s.errors());
    }

    @Test
    void aParentInTheSameFileCounts() throws IOException {
        CatalogState s = catalog().refresh();
        assertEquals(Set.of(), groups(s));
        write("batch.yaml", "name: batch/low\n---\nname: batch\n");
        s = catalog().refresh();
        assertEquals(Set.of("batch", "batch/low"), groups(s));
    }

    @Test
    void aChildsCpusetMustLieInsideItsParents() throws IOException {
        PolicyCatalog catalog = catalog();
        write("batch.yaml", "name: batch\ncpuset: {cpus: \"0-1\", mems: \"0\"}\n");
        Path low = write("low.yaml", "name: batch/low\ncpuset: {cpus: \"2-3\"}\n");
        CatalogState s = catalog.refresh();
        assertEquals(Set.of("batch"), groups(s));
        assertEquals(List.of(low + ":1:7: cpuset.cpus: \"2-3\" is not inside parent group \"batch\"'s cpuset.cpus \"0-1\""),
                errors(s));
    }

    @Test
    void aParentCannotShrinkBelowAChildInAnotherFile() throws IOException {
        PolicyCatalog catalog = catalog();
        Path batch = write("batch.yaml", "name: batch\ncpuset: {cpus: \"0-3\"}\n");
        write("low.yaml", "name: batch/low\n---\nname: batch/low/x\ncpuset: {cpus: \"2\"}\n");
        assertEquals(List.of(), catalog.refresh().errors());
        write("batch.yaml", "name: batch\ncpuset: {cpus: \"0-1\"}\n");
        CatalogState s = catalog.refresh();
        assertEquals(List.of(batch + ":1:7: cpuset.cpus: \"0-1\" leaves out part of child group \"batch/low/x\"'s cpuset.cpus \"2\""),
                errors(s));
        assertEquals(Optional.of(CpuList.parse("0-3")),
                s.desired().get(new GroupName("batch")).resources().cpuset().orElseThrow().cpus());
    }

    @Test
    void deletingTheParentsFileKeepsTheChildAndReportsIt() throws IOException {
        PolicyCatalog catalog = catalog();
        Path batch = write("batch.yaml", "name: batch\n");
        Path low = write("low.yaml", "name: batch/low\n");
        catalog.refresh();
        Files.delete(batch);
        catalog.refresh();
        later(PolicyCatalog.REMOVAL_DELAY);
        CatalogState s = catalog.refresh();
        assertEquals(Set.of("batch/low"), groups(s));
        CatalogState.FileStatus st = status(s, low);
        assertFalse(st.valid());
        assertTrue(st.onLastGood());
        assertEquals(List.of(low + ":1:7: parent group \"batch\" is not defined"), errors(s));
    }

    @Test
    void anUnsafeFileIsRejectedAndKeepsItsOldVersion() throws IOException {
        PolicyCatalog catalog = catalog();
        Path web = write("web.yaml", "name: web\n");
        catalog.refresh();
        Files.writeString(web, "name: web\npids: {max: 5}\n");
        FileSafetyTest.chmod(web, "rw-rw-r--");
        CatalogState s = catalog.refresh();
        assertEquals(Optional.empty(), s.desired().get(new GroupName("web")).resources().pids());
        assertEquals(List.of(web + ":1:1: file is writable by group or others (mode 0664); run: chmod go-w " + web),
                errors(s));

        FileSafetyTest.chown(web, 65534);
        FileSafetyTest.chmod(web, "rw-r--r--");
        s = catalog.refresh();
        assertEquals(List.of(web + ":1:1: file is owned by uid 65534, not root; a policy can start processes as root;"
                + " run: chown root " + web), errors(s));
    }

    @Test
    void anUnsafeDirectoryChangesNothing() throws IOException {
        PolicyCatalog catalog = catalog();
        write("web.yaml", "name: web\n");
        catalog.refresh();
        FileSafetyTest.chmod(policies, "rwxrwxrwx");
        write("web.yaml", "name: web\npids: {max: 5}\n");
        write("db.yaml", "name: db\n");
        CatalogState s = catalog.refresh();
        assertEquals(Set.of("web"), groups(s));
        assertEquals(Optional.empty(), s.desired().get(new GroupName("web")).resources().pids());
        assertEquals(List.of(policies + ":1:1: directory is writable by group or others (mode 0777); run: chmod go-w "
                + policies), errors(s));
        assertEquals(2, s.invalidCount());

        FileSafetyTest.chmod(policies, "rwxr-xr-x");
        s = catalog.refresh();
        assertEquals(Set.of("web", "db"), groups(s));
        assertEquals(List.of(), s.errors());
    }

    @Test
    void anUnreadableDirectoryThrowsAndChangesNothing() throws IOException {
        PolicyCatalog catalog = catalog();
        write("web.yaml", "name: web\n");
        catalog.refresh();
        Path moved = root.resolve("elsewhere");
        Files.move(policies, moved);
        assertThrows(IOException.class, catalog::refresh);
        Files.move(moved, policies);
        assertEquals(Set.of("web"), groups(catalog.refresh()));
    }

    @Test
    void unchangedFilesAreNotParsedAgain() throws IOException {
        AtomicInteger reads = new AtomicInteger();
        HostFacts counting = new FakeHost.Like() {
            @Override
            public CpuList onlineCpus() {
                reads.incrementAndGet();
                return FakeHost.HOST.onlineCpus();
            }
        };
        Path web = write("web.yaml", "name: web\ncpuset: {cpus: 1}\n");
        PolicyCatalog trusting = track(new PolicyCatalog(new PolicyParser(counting), policies, accepted, Duration.ZERO,
                PolicyCatalog.REMOVAL_DELAY, System::nanoTime));
        trusting.refresh();
        trusting.refresh();
        assertEquals(1, reads.get());
        Files.writeString(web, "name: web\ncpuset: {cpus: 2}\n");
        CatalogState s = trusting.refresh();
        assertEquals(2, reads.get());
        assertEquals(Optional.of(CpuList.parse("2")), s.desired().get(new GroupName("web")).resources().cpuset().orElseThrow().cpus());

        // With the default window, a file written just now is read again: its timestamps may not show a rewrite.
        PolicyCatalog careful = track(new PolicyCatalog(new PolicyParser(counting), policies, accepted));
        careful.refresh(); // parses the accepted copy, then the file
        careful.refresh(); // the file again
        assertEquals(5, reads.get());
    }
}

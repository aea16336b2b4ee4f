package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The v2 source's reading of memory.events, on files in a temp dir shaped like the kernel's
 * (text captured from a Debian 12 guest). inotify reports writes to a regular file the same way
 * kernfs reports a counter change; the real kernel is exercised by the v2 VM test.
 */
class V2OomSourceTest {
    /** The v2 memory controller: memory.events, inotify. */
    private static final OomFiles OOM = new io.jgovernor.cgroup.v2.MemoryController();

    private static final String QUIET = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";

    @TempDir
    Path tmp;

    private Path group(String name, String events) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("memory.events"), events);
        return dir;
    }

    private static void events(Path dir, long high, long max, long oom, long kill) throws IOException {
        Files.writeString(dir.resolve("memory.events"), "low 0\nhigh " + high + "\nmax " + max + "\noom " + oom
                + "\noom_kill " + kill + "\noom_group_kill 0\n");
    }

    @Test
    void onlyAGrowingOomCounterIsAnOomAndTheKillItWaitedForIsNotASecondOne() throws Exception {
        Path dir = group("web", QUIET);
        LinkedBlockingQueue<GroupName> seen = new LinkedBlockingQueue<>();
        try (V2OomSource source = new V2OomSource(OOM, (g, d) -> {
            seen.add(g);
            try {
                events(d, 5, 3, 1, 1); // the kill lands while the listener reads the group
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        })) {
            source.register(new GroupName("web"), dir);
            assertEquals(Map.of(new GroupName("web"), dir), source.registered());
            events(dir, 5, 3, 0, 0); // reclaim pressure: high and max move, no OOM
            assertNull(seen.poll(300, TimeUnit.MILLISECONDS), "high/max are not OOM events");
            events(dir, 5, 3, 1, 0);
            assertEquals(new GroupName("web"), seen.poll(10, TimeUnit.SECONDS));
            assertNull(seen.poll(300, TimeUnit.MILLISECONDS), "the kill the listener saw is the same OOM");
            events(dir, 5, 3, 2, 1);
            assertEquals(new GroupName("web"), seen.poll(10, TimeUnit.SECONDS), "a second OOM is a second event");
        }
    }

    @Test
    void aRemovedGroupDropsOutAndAnUnreadableOneIsRefusedWithItsPath() throws Exception {
        Path dir = group("gone", QUIET);
        try (V2OomSource source = new V2OomSource(OOM, (g, d) -> { })) {
            source.register(new GroupName("gone"), dir);
            Files.delete(dir.resolve("memory.events"));
            await(() -> source.registered().isEmpty(), "the removed group to drop out");
            Path bare = Files.createDirectories(tmp.resolve("bare"));
            IOException e = assertThrows(IOException.class, () -> source.register(new GroupName("bare"), bare));
            assertTrue(e.getMessage().contains(bare.resolve("memory.events").toString()), e.getMessage());
            source.unregister(new GroupName("bare")); // not watched: nothing happens
        }
    }

    @Test
    void anEventReadsTheV2FilesAndReachesTheReceiver() throws Exception {
        Path dir = group("db", QUIET);
        Files.writeString(dir.resolve("memory.max"), "max\n");
        Files.writeString(dir.resolve("memory.current"), "33550336\n");
        Files.writeString(dir.resolve("cgroup.procs"), "");
        DeliveryStats deliveries = new DeliveryStats();
        Spool spool = new Spool(tmp.resolve("spool"), 100, deliveries);
        spool.load();
        OomStats stats = new OomStats();
        try (TestReceiver receiver = TestReceiver.start()) {
            WebhookSender sender = new WebhookSender(spool, Optional.empty(),
                    new Backoff(Duration.ofMillis(20), Duration.ofMillis(200)), Duration.ofSeconds(5), deliveries);
            CgroupFiles files = new CgroupFiles();
            try (OomEvents events = new OomEvents(files, OOM, "testhost", List.of(receiver.url("/oom")),
                    spool, sender, stats, new OomHistory(10), listener -> new V2OomSource(OOM, listener))) {
                events.follow(List.of(new OomEvents.Watch(new GroupName("db"), dir, "/jgovernor/db", List.of())));
                events(dir, 0, 4, 1, 2);
                await(() -> receiver.all().size() == 1, "the event to be delivered");
                String body = receiver.all().getFirst().text();
                assertTrue(body.contains("\"oomKills\":2"), body);
                assertTrue(body.contains("\"memoryLimitBytes\":" + OomFiles.NO_LIMIT), body);
                assertTrue(body.contains("\"memoryUsageBytes\":33550336"), body);
                assertTrue(body.contains("\"cgroup\":\"/jgovernor/db\""), body);
                assertEquals(2, stats.of("db").kills());
                assertNotNull(stats.of("db"));
            }
        }
    }

    @Test
    void fieldsAreReadByWholeName() {
        String text = "oom 1\noom_kill 7\noom_group_kill 2\n";
        assertEquals(java.util.OptionalLong.of(1L), CgroupText.keyed(text, "oom"));
        assertEquals(java.util.OptionalLong.of(7L), CgroupText.keyed(text, "oom_kill"));
        assertEquals(java.util.OptionalLong.of(2L), CgroupText.keyed(text, "oom_group_kill"));
        assertEquals(java.util.OptionalLong.empty(), CgroupText.keyed(text, "oom_kil"));
        assertThrows(IllegalArgumentException.class, () -> CgroupText.keyed("oom x\n", "oom"));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}

package io.jgovernor.events;

import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.testing.Json;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real OOM kills in real cgroups, watched by the real v1 source, delivered to a real HTTP receiver
 * on loopback.
 */
class OomKernelTest {
    /** The v1 memory controller: memory.oom_control, an eventfd. */
    private static final OomFiles OOM = new io.jgovernor.cgroup.v1.MemoryController();

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(300));
    private static final long LIMIT = 32L << 20;

    @TempDir
    Path tmp;
    private TestCgroups cg;
    private final DeliveryStats deliveries = new DeliveryStats();
    private final OomStats stats = new OomStats();
    private final OomHistory history = new OomHistory(OomHistory.DEFAULT_SIZE);
    private Spool spool;
    private OomEvents events;
    private final Signer signer = new Signer("s3cret".getBytes(StandardCharsets.UTF_8));

    @BeforeEach
    void setUp() {
        cg = TestCgroups.create();
    }

    @AfterEach
    void tearDown() {
        try {
            if (events != null) {
                events.close(Duration.ofMillis(200));
            }
        } finally {
            cg.close();
        }
    }

    private OomEvents start(List<URI> daemonWide) throws IOException {
        spool = new Spool(tmp.resolve("spool"), 1000, deliveries);
        spool.load();
        WebhookSender sender = new WebhookSender(spool, Optional.of(signer), FAST, Duration.ofSeconds(5), deliveries);
        events = new OomEvents(cg.files(), OOM, "testhost", daemonWide, spool, sender, stats, history,
                listener -> new V1OomSource(cg.files(), OOM, listener));
        return events;
    }

    /**
     * One daemon run as far as OOM events go: the spool and the kill counts in {@code tmp}, what
     * the spool kept sent again, as OomWiring starts it. {@link #stop()} ends the run.
     */
    private OomEvents startRun(List<URI> daemonWide) throws IOException {
        spool = new Spool(tmp.resolve("spool"), 1000, deliveries);
        WebhookSender sender = new WebhookSender(spool, Optional.of(signer), FAST, Duration.ofSeconds(5), deliveries);
        events = new OomEvents(cg.files(), OOM, "testhost", daemonWide, spool, sender, stats, history,
                KillCounts.load(tmp.resolve("oom-kills")), listener -> new V1OomSource(cg.files(), OOM, listener));
        events.replaySpool();
        return events;
    }

    private void stop() {
        events.close(Duration.ofMillis(200));
        events = null;
    }

    /** A memory group of 32 MiB without swap, as `memory: {limit: 32Mi, swapLimit: 32Mi}` makes it. */
    private OomEvents.Watch group(String name, URI... webhooks) throws Exception {
        Path dir = cg.makeGroup("memory", new GroupName(name));
        cg.files().write(dir, "memory.limit_in_bytes", Long.toString(LIMIT));
        if (Files.exists(dir.resolve("memory.memsw.limit_in_bytes"))) {
            cg.files().write(dir, "memory.memsw.limit_in_bytes", Long.toString(LIMIT));
        }
        return new OomEvents.Watch(new GroupName(name), dir, cg.hierarchy("memory").cgroupPath(dir), List.of(webhooks));
    }

    /** Runs an allocation past the limit inside the group; returns once the kernel killed it. */
    private void oom(OomEvents.Watch w) throws Exception {
        // tail keeps a line in memory until it ends, and /dev/zero has no newline
        Process p = new ProcessBuilder("sh", "-c", "read go; head -c 268435456 /dev/zero | tail")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        cg.register(p.toHandle());
        cg.files().moveProcess(w.memoryDir(), (int) p.pid());
        OutputStream in = p.getOutputStream();
        in.write('\n');
        in.flush();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the allocation was not stopped");
        assertEquals(128 + 9, p.exitValue(), "tail should die of SIGKILL from the OOM killer");
    }

    private long kernelKills(OomEvents.Watch w) throws IOException {
        String oom = Files.readString(w.memoryDir().resolve("memory.oom_control"));
        return Long.parseLong(oom.lines().filter(l -> l.startsWith("oom_kill ")).findFirst().orElseThrow().split(" ")[1]);
    }

    private long kernelKillsUnchecked(OomEvents.Watch w) {
        try {
            return kernelKills(w);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(TestReceiver.Request r) {
        return (Map<String, Object>) ((Map<String, Object>) Json.parse(r.text())).get("data");
    }

    @Test
    void aProcessKilledByTheOomKillerReachesTheWebhookAsASignedCloudEvent() throws Exception {
        try (TestReceiver receiver = TestReceiver.start()) {
            start(List.of());
            OomEvents.Watch hog = group("hog", receiver.url("/oom"));
            events.follow(List.of(hog));
            oom(hog);

            // The kernel may notify more than once for one kill (a second allocation hits the
            // limit while the victim is still dying: notified, nobody killed): all are delivered.
            await(() -> spool.size() == 0 && stats.of("hog").events() > 0
                    && receiver.all().size() == stats.of("hog").events(), "every event to be delivered");
            List<TestReceiver.Request> got = receiver.all();
            // Usually one victim (tail); the kernel may take a second (head) in the same squeeze:
            // whatever it counted is what the events say, in all.
            long kernel = kernelKills(hog);
            assertTrue(kernel >= 1, "the kernel counted " + kernel);
            assertEquals(kernel, stats.of("hog").kills());
            assertEquals(kernel, got.stream().mapToLong(q -> (Long) data(q).get("oomKills")).sum(), "every victim in all");
            TestReceiver.Request r = got.stream().filter(q -> (Long) data(q).get("oomKills") >= 1L).findFirst().orElseThrow();
            assertEquals("application/cloudevents+json", r.header("Content-Type"));
            assertEquals(signer.sign(r.body()), r.header("X-Jgovernor-Signature"));
            Map<String, Object> doc = (Map<String, Object>) Json.parse(r.text());
            assertEquals("1.0", doc.get("specversion"));
            assertEquals("io.jgovernor.oom", doc.get("type"));
            assertEquals("jgovernor://testhost/hog", doc.get("source"));
            assertTrue(((String) doc.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), r.text());
            Map<String, Object> data = data(r);
            assertEquals("hog", data.get("group"));
            String expectedPath = TestCgroups.cgroupOf(ProcessHandle.current().pid(), "memory").orElseThrow()
                    + "/" + cg.root() + "/hog";
            assertEquals(expectedPath, data.get("cgroup"));
            assertEquals(LIMIT, data.get("memoryLimitBytes"));
            // Read when the notification arrives, which may be after the victim's memory was freed:
            // a real reading of the group (sh is still in it), not the limit or a stale figure.
            long usage = (Long) data.get("memoryUsageBytes");
            assertTrue(usage > 0 && usage <= LIMIT, r.text());
            assertTrue(r.text().contains("\"comm\":\"sh\""), "the group's processes at that moment: " + r.text());
            System.out.println("OOM notifications for one kill: " + stats.of("hog").events());
            assertTrue(history.recent().stream().anyMatch(e -> e.id().toString().equals(doc.get("id"))));
        }
    }

    /** A process that only waits, in the group: what an OOM kill elsewhere in the group leaves alive or not. */
    private Process bystander(OomEvents.Watch w) throws Exception {
        Process p = new ProcessBuilder("sleep", "600").start();
        cg.register(p.toHandle());
        cg.files().moveProcess(w.memoryDir(), (int) p.pid());
        return p;
    }

    @Test
    void memoryOomGroupOnV1KillsTheRestOfTheGroupAndOnlyThere() throws Exception {
        start(List.of());
        Set<GroupName> told = java.util.concurrent.ConcurrentHashMap.newKeySet();
        events.onKills(told::add);
        OomEvents.Watch plain = group("plain");
        OomEvents.Watch g = group("whole");
        OomEvents.Watch whole = new OomEvents.Watch(g.group(), g.memoryDir(), g.cgroupPath(), g.webhooks(), true);
        Process inWhole = bystander(whole);
        Process inPlain = bystander(plain);
        events.follow(List.of(plain, whole));

        oom(whole);
        assertTrue(inWhole.waitFor(10, TimeUnit.SECONDS), "memory.oomGroup: the bystander should be killed with the victim");
        assertEquals(128 + 9, inWhole.exitValue(), "by SIGKILL");
        await(() -> {
            try {
                return cg.files().procs(whole.memoryDir()).isEmpty();
            } catch (io.jgovernor.cgroup.CgroupException e) {
                throw new IllegalStateException(e);
            }
        }, "the oomGroup group to be empty");

        oom(plain);
        await(() -> told.contains(plain.group()), "the listener to hear of the plain group's kill");
        assertTrue(told.contains(whole.group()));
        Thread.sleep(200);
        assertTrue(inPlain.isAlive(), "without oomGroup only the kernel's victim dies");
    }

    @Test
    void aReceiverDownDuringTheOomGetsTheEventOnceItIsUp() throws Exception {
        int port = TestReceiver.freePort();
        start(List.of(URI.create("http://127.0.0.1:" + port + "/down")));
        OomEvents.Watch hog = group("hog");
        events.follow(List.of(hog));
        oom(hog);
        await(() -> deliveries.failure() >= 2, "delivery attempts to fail while the receiver is down");
        assertTrue(spool.size() >= 1);
        try (TestReceiver receiver = TestReceiver.start(port, n -> 200)) {
            await(() -> spool.size() == 0, "the spool to empty");
            Set<String> sent = new HashSet<>();
            for (TestReceiver.Request r : receiver.all()) {
                sent.add(r.text());
            }
            Set<String> made = new HashSet<>();
            history.recent().forEach(e -> made.add(e.toCloudEvent()));
            assertEquals(made, sent, "every event, as it was made (same id), once the receiver is up");
        }
    }

    @Test
    void manyOomsInSeveralGroupsAtOnceAreEveryOneDelivered() throws Exception {
        int groups = 4;
        int perGroup = 5;
        try (TestReceiver receiver = TestReceiver.start()) {
            start(List.of(receiver.url("/all")));
            List<OomEvents.Watch> watches = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                watches.add(group("g" + g));
            }
            events.follow(watches);
            ExecutorService pool = Executors.newFixedThreadPool(groups);
            try {
                List<Future<Object>> runs = new ArrayList<>();
                for (OomEvents.Watch w : watches) {
                    runs.add(pool.submit(() -> {
                        for (int k = 0; k < perGroup; k++) {
                            oom(w);
                        }
                        return null;
                    }));
                }
                for (Future<Object> f : runs) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            // A notification may still be on its way when the last hog dies: wait until the daemon
            // has seen every kill the kernel counted, then until every event it made is delivered.
            await(() -> watches.stream().allMatch(w -> stats.of(w.group().value()).kills() == kernelKillsUnchecked(w)),
                    "every kill the kernel counted to be seen");
            java.util.function.LongSupplier events =
                    () -> watches.stream().mapToLong(w -> stats.of(w.group().value()).events()).sum();
            await(() -> spool.size() == 0 && receiver.all().size() >= events.getAsLong(), "every event to be delivered");
            long made = events.getAsLong();
            Map<String, Long> killsReceived = new HashMap<>();
            Set<String> ids = new HashSet<>();
            for (TestReceiver.Request r : receiver.all()) {
                Map<String, Object> data = data(r);
                killsReceived.merge((String) data.get("group"), (Long) data.get("oomKills"), Long::sum);
                ids.add(r.text().split("\"id\":\"")[1].substring(0, 36));
            }
            assertEquals(made, ids.size(), "one delivery per event");
            for (OomEvents.Watch w : watches) {
                long kernel = kernelKills(w);
                assertTrue(kernel >= perGroup, w.group() + ": kernel counted " + kernel);
                assertEquals(kernel, killsReceived.getOrDefault(w.group().value(), 0L),
                        w.group() + ": every kill the kernel counted is in a delivered event");
                assertEquals(kernel, stats.of(w.group().value()).kills());
            }
        }
    }

    @Test
    void registrationsFollowTheGroupsAndARemovedGroupDropsOut() throws Exception {
        start(List.of());
        OomEvents.Watch a = group("a");
        OomEvents.Watch b = group("b");
        events.follow(List.of(a, b));
        OomSource source = sourceOf();
        assertEquals(Set.of(a.group(), b.group()), source.registered().keySet());
        events.follow(List.of(a));
        assertEquals(Set.of(a.group()), source.registered().keySet());
        cg.files().rmdir(a.memoryDir());
        await(() -> source.registered().isEmpty(), "the removed group to drop out");
        // made again, the next pass watches it again
        OomEvents.Watch again = group("a");
        events.follow(List.of(again));
        assertEquals(Set.of(a.group()), source.registered().keySet());
        oom(again);
        await(() -> stats.of("a").events() >= 1, "the OOM of the group made again");
        assertFalse(history.recent().isEmpty());
    }

    @Test
    void killsWhileNoDaemonWatchedAreSentAtTheNextStartOnceWithTheKernelsCount() throws Exception {
        try (TestReceiver receiver = TestReceiver.start()) {
            List<URI> to = List.of(receiver.url("/oom"));
            startRun(to);
            OomEvents.Watch hog = group("hog");
            events.follow(List.of(hog)); // watched once: the count (0) is kept
            stop();

            oom(hog); // nobody watches now
            oom(hog);
            long kernel = kernelKills(hog);
            assertTrue(kernel >= 2, "the kernel counted " + kernel);
            assertEquals(List.of(), receiver.all());

            startRun(to);
            events.follow(List.of(hog));
            TestReceiver.Request r = receiver.take(WAIT);
            Map<String, Object> data = data(r);
            assertEquals(Boolean.TRUE, data.get("whileDown"), r.text());
            assertEquals(kernel, data.get("oomKills"), "every kill the kernel counted while down, in one event");
            assertEquals("hog", data.get("group"));
            assertEquals(LIMIT, data.get("memoryLimitBytes"));
            assertEquals(signer.sign(r.body()), r.header("X-Jgovernor-Signature"));
            await(() -> spool.size() == 0, "the spool to empty");
            stop();

            // a second start has nothing more to say, and a live OOM after it counts from there
            startRun(to);
            events.follow(List.of(hog));
            assertEquals(null, receiver.poll(Duration.ofSeconds(1)), "nothing sent twice");
            oom(hog);
            await(() -> stats.of("hog").kills() == kernelKillsUnchecked(hog), "the live kill to be seen");
            await(() -> spool.size() == 0, "the live event to be delivered");
            long live = receiver.all().stream().skip(1).mapToLong(q -> (Long) data(q).get("oomKills")).sum();
            assertEquals(kernelKills(hog) - kernel, live, "the live events count only the new kills");
            assertTrue(receiver.all().stream().skip(1).noneMatch(q -> data(q).containsKey("whileDown")));
        }
    }

    @Test
    void aStartThatDiesBeforeKeepingTheCountSendsTheSameEventNotASecondOne() throws Exception {
        int port = TestReceiver.freePort();
        List<URI> to = List.of(URI.create("http://127.0.0.1:" + port + "/oom"));
        startRun(to);
        OomEvents.Watch hog = group("hog");
        events.follow(List.of(hog));
        stop();
        byte[] keptBefore = Files.readAllBytes(tmp.resolve("oom-kills"));
        oom(hog);
        long kernel = kernelKills(hog);

        startRun(to); // the receiver is down: the catch-up event waits in the spool
        events.follow(List.of(hog));
        assertEquals(1, spool.size());
        String id = spool.entries().getFirst().event().id().toString();
        stop();
        // as if that start had died after spooling the event but before keeping the new count
        Files.write(tmp.resolve("oom-kills"), keptBefore);

        try (TestReceiver receiver = TestReceiver.start(port, n -> 200)) {
            startRun(to);
            events.follow(List.of(hog));
            await(() -> spool.size() == 0, "the spool to empty");
            Thread.sleep(500); // a second request would have come by now
            List<TestReceiver.Request> got = receiver.all();
            assertEquals(1, got.size(), "the catch-up event once, not once per start");
            assertTrue(got.getFirst().text().contains("\"id\":\"" + id + "\""), got.getFirst().text());
            assertEquals(kernel, data(got.getFirst()).get("oomKills"));
        }
    }

    @Test
    void aGroupMadeAgainWhileDownStartsFromItsNewCounterWithoutAnEvent() throws Exception {
        try (TestReceiver receiver = TestReceiver.start()) {
            List<URI> to = List.of(receiver.url("/oom"));
            startRun(to);
            OomEvents.Watch hog = group("hog");
            events.follow(List.of(hog));
            oom(hog);
            await(() -> spool.size() == 0 && !receiver.all().isEmpty(), "the live event");
            await(() -> stats.of("hog").kills() == kernelKillsUnchecked(hog), "every kill seen");
            stop();
            // counted after the stop, which waits for requests on the wire: a second notification
            // of the same OOM (the kernel may send two) can still be arriving before it
            int live = receiver.all().size();

            cg.files().rmdir(hog.memoryDir()); // the kept count (>= 1) belonged to this directory
            OomEvents.Watch again = group("hog");
            assertEquals(0, kernelKills(again));
            startRun(to);
            events.follow(List.of(again));
            Thread.sleep(1000); // an event would have come by now
            assertEquals(live, receiver.all().size(), "a lower counter only resets the baseline");
        }
    }

    private OomSource sourceOf() throws Exception {
        var f = OomEvents.class.getDeclaredField("source");
        f.setAccessible(true);
        return (OomSource) f.get(events);
    }
}

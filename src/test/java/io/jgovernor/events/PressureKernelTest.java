package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupMode;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Pressure;
import io.jgovernor.sys.LoopHealth;
import io.jgovernor.testing.TestCgroups;
import io.jgovernor.testing.TestReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real PSI trigger on this hybrid host: a shell spinning under a v1 CFS quota of 20%, also in
 * the group's directory of the unified tree, waits for CPU ~80% of the time; the trigger written
 * to that directory's cpu.pressure fires, and the io.jgovernor.pressure event reaches a loopback
 * receiver through the spool and the webhook sender. Removing the trigger closes it: no more events.
 */
class PressureKernelTest {
    private static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(300));

    @TempDir
    Path tmp;
    private TestCgroups cg;
    private PressureEvents events;
    private Spool spool;

    @BeforeEach
    void setUp() {
        cg = TestCgroups.create();
        Assumptions.assumeTrue(cg.layout().mode() == CgroupMode.HYBRID, "a hybrid host's test (v2: it/vm/v2.sh)");
    }

    @AfterEach
    void tearDown() {
        try {
            if (events != null) {
                events.close();
            }
        } finally {
            cg.close();
        }
    }

    /**
     * The window the kernel takes from this process: any from 500ms with CAP_SYS_RESOURCE, else
     * multiples of 2s only (this development host runs tests without CAP_SYS_RESOURCE).
     */
    static Duration window() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                return (caps & (1L << 24)) != 0 ? Duration.ofSeconds(1) : Duration.ofSeconds(2);
            }
        }
        return Duration.ofSeconds(2);
    }

    @Test
    void aSpinnerUnderItsQuotaFiresACpuTriggerAndTheWebhookArrives() throws Exception {
        GroupName group = new GroupName("spin");
        Path cpu = cg.makeGroup("cpu", group);
        Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "20000");
        Path unified = cg.makeGroup("", group);
        Pressure.Trigger trigger = new Pressure.Trigger(Pressure.Resource.CPU, Pressure.Stall.SOME, 15, window());
        try (TestReceiver receiver = TestReceiver.start()) {
            DeliveryStats deliveries = new DeliveryStats();
            spool = new Spool(tmp.resolve("spool"), 100, deliveries);
            WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(5), deliveries);
            LoopHealth.Loop loop = new LoopHealth().register("pressure", Duration.ofSeconds(30));
            events = new PressureEvents("testhost", List.of(receiver.url("/psi")), spool, sender, Runnable::run, l -> {
                try {
                    return new PressureTriggers<>(l, loop);
                } catch (io.jgovernor.sys.ErrnoException e) {
                    throw new IllegalStateException(e);
                }
            });
            String cgroupPath = cg.layout().unified().orElseThrow().cgroupPath(unified);
            events.follow(List.of(new PressureEvents.Watch(group, unified, cgroupPath, trigger)));
            assertEquals(1, events.registered().size(), "the kernel holds the trigger");
            assertNull(receiver.poll(Duration.ofMillis(300)), "no stall yet, no event");

            Process p = cg.start("sh", "-c", "while :; do :; done");
            cg.files().moveProcess(unified, (int) p.pid());
            cg.files().moveProcess(cpu, (int) p.pid());
            TestReceiver.Request r = receiver.take(Duration.ofSeconds(20));
            assertNotNull(r, "no pressure event within 20 s");
            assertEquals("application/cloudevents+json", r.header("Content-Type"));
            PressureEvent e = PressureEvent.fromCloudEvent(r.text());
            assertEquals("spin", e.group());
            assertEquals("testhost", e.host());
            assertEquals(cgroupPath, e.cgroup());
            assertEquals("cpu", e.resource());
            assertEquals("some", e.stall());
            assertEquals(15, e.thresholdPercent());
            assertEquals(window().toMillis() / 1000.0, e.windowSeconds());
            assertTrue(e.stallSecondsTotal() >= 0.15 * window().toMillis() / 1000.0,
                    "at least one window's threshold of stall: " + e.stallSecondsTotal());
            assertTrue(r.text().contains("\"type\":\"io.jgovernor.pressure\""), r.text());
            // at most one per window: over three windows, at most three more (the kernel and we agree)
            Thread.sleep(window().multipliedBy(3).toMillis());
            int more = receiver.all().size() - 1;
            assertTrue(more >= 1 && more <= 3, more + " more events in three windows");
            assertEquals(Map.of(new PressureEvents.Count("spin", "cpu", "some"), (long) receiver.all().size()),
                    events.counts());

            // removed from the policy: the trigger is closed, the stalls go on, no more events come
            events.follow(List.of());
            assertEquals(0, events.registered().size());
            int seen = receiver.all().size();
            Thread.sleep(window().multipliedBy(2).toMillis());
            assertEquals(seen, receiver.all().size(), "a closed trigger fires no more");
            p.destroyForcibly().waitFor();
        }
    }

    /** A listener that throws is the loop's counted error, not its death: the next firing still comes. */
    @Test
    void aListenerThatThrowsIsCountedAndTheLoopGoesOn() throws Exception {
        GroupName group = new GroupName("spin");
        Path cpu = cg.makeGroup("cpu", group);
        Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "20000");
        Path unified = cg.makeGroup("", group);
        LoopHealth health = new LoopHealth();
        LoopHealth.Loop loop = health.register("pressure", Duration.ofSeconds(30));
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        try (PressureTriggers<String> triggers = new PressureTriggers<>((key, dir, t) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("a receiver-side bug");
            }
        }, loop)) {
            triggers.register("spin", unified,
                    new Pressure.Trigger(Pressure.Resource.CPU, Pressure.Stall.SOME, 15, window()));
            Process p = cg.start("sh", "-c", "while :; do :; done");
            cg.files().moveProcess(unified, (int) p.pid());
            cg.files().moveProcess(cpu, (int) p.pid());
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (calls.get() < 2 && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            p.destroyForcibly().waitFor();
            assertTrue(calls.get() >= 2, "the firing after the failed one reached the listener: " + calls.get());
            LoopHealth.Status status = health.statuses().getFirst();
            assertTrue(status.up(), "the loop is alive");
            assertTrue(status.errors() >= 1, "the failure is counted: " + status);
            assertTrue(health.allLive(), health.problems().toString());
        }
    }

    @Test
    void aWindowTheKernelRefusesIsNotRegisteredAndTriedAgainLater() throws Exception {
        Assumptions.assumeTrue(window().equals(Duration.ofSeconds(2)), "only without CAP_SYS_RESOURCE");
        GroupName group = new GroupName("refused");
        Path unified = cg.makeGroup("", group);
        spool = new Spool(tmp.resolve("spool"), 100, new DeliveryStats());
        WebhookSender sender = new WebhookSender(spool, Optional.empty(), FAST, Duration.ofSeconds(5), new DeliveryStats());
        LoopHealth.Loop loop = new LoopHealth().register("pressure", Duration.ofSeconds(30));
        events = new PressureEvents("testhost", List.of(), spool, sender, Runnable::run, l -> {
            try {
                return new PressureTriggers<>(l, loop);
            } catch (io.jgovernor.sys.ErrnoException e) {
                throw new IllegalStateException(e);
            }
        });
        Pressure.Trigger oneSecond = new Pressure.Trigger(Pressure.Resource.MEMORY, Pressure.Stall.SOME, 10,
                Duration.ofSeconds(1));
        events.follow(List.of(new PressureEvents.Watch(group, unified, "/x", oneSecond)));
        assertEquals(0, events.registered().size());
        Pressure.Trigger twoSeconds = new Pressure.Trigger(Pressure.Resource.MEMORY, Pressure.Stall.SOME, 10,
                Duration.ofSeconds(2));
        events.follow(List.of(new PressureEvents.Watch(group, unified, "/x", twoSeconds)));
        assertEquals(1, events.registered().size(), "an edit to a window the kernel takes registers it");
    }
}

package io.jgovernor.sys;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry's verdicts on a fake clock: idle is live, busy past the bound is stuck, a death is DOWN until restarted. */
class LoopHealthTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<Duration> slept = new ArrayList<>();

    private LoopHealth health(LoopHealth.Sleeper sleeper) {
        return new LoopHealth(now::get, sleeper);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aLoopIdleForADayIsLive() {
        LoopHealth h = health(slept::add);
        LoopHealth.Loop l = h.register("classify", Duration.ofSeconds(30));
        l.busy();
        l.idle();
        advance(Duration.ofDays(1));
        assertEquals(Map.of(), h.problems());
        assertTrue(h.statuses().getFirst().up());
    }

    @Test
    void aLoopInsideOneItemPastItsBoundIsStuckAndLiveAgainWhenItIsDone() {
        LoopHealth h = health(slept::add);
        LoopHealth.Loop l = h.register("reconcile", Duration.ofSeconds(60));
        h.register("oom", Duration.ofSeconds(30));
        l.busy();
        advance(Duration.ofSeconds(60));
        assertTrue(h.allLive(), "exactly at the bound is still live");
        advance(Duration.ofSeconds(1));
        Map<String, String> p = h.problems();
        assertEquals(List.of("reconcile"), List.copyOf(p.keySet()));
        assertTrue(p.get("reconcile").startsWith("stuck: one item for 61 s (bound 60 s)"), p.toString());
        assertEquals(0, h.statuses().stream().filter(s -> s.loop().equals("reconcile")).findFirst().orElseThrow().up() ? 1 : 0);
        l.idle();
        assertTrue(h.allLive());
    }

    @Test
    void aBodyThatThrowsIsDownDuringTheBackoffThenRestartedWithGrowingBackoff() {
        AtomicInteger runs = new AtomicInteger();
        List<Map<String, String>> seenWhileSleeping = new ArrayList<>();
        LoopHealth[] h = new LoopHealth[1];
        h[0] = health(d -> {
            slept.add(d);
            seenWhileSleeping.add(h[0].problems());
        });
        LoopHealth.Loop l = h[0].register("policy-watch", Duration.ofSeconds(10));
        l.supervise(() -> {
            if (runs.incrementAndGet() <= 3) {
                throw new StackOverflowError("deep");
            }
        }, () -> runs.get() >= 4);
        assertEquals(4, runs.get());
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4)), slept);
        for (Map<String, String> p : seenWhileSleeping) {
            assertEquals("dead: java.lang.StackOverflowError: deep", p.get("policy-watch"));
        }
        assertTrue(h[0].allLive());
        LoopHealth.Status s = h[0].statuses().getFirst();
        assertEquals(3, s.restarts());
        assertTrue(s.up());
    }

    @Test
    void aBodyThatReturnsWhileNotStoppedIsADeathToo() {
        AtomicInteger runs = new AtomicInteger();
        LoopHealth h = health(slept::add);
        LoopHealth.Loop l = h.register("oom", Duration.ofSeconds(30));
        l.supervise(runs::incrementAndGet, () -> runs.get() >= 2);
        assertEquals(2, runs.get());
        assertEquals(1, h.statuses().getFirst().restarts());
    }

    @Test
    void theBackoffStopsAtThirtySecondsAndStartsOverAfterARunThatLastedAMinute() {
        AtomicInteger runs = new AtomicInteger();
        LoopHealth h = health(slept::add);
        LoopHealth.Loop l = h.register("classify", Duration.ofSeconds(30));
        l.supervise(() -> {
            if (runs.incrementAndGet() == 8) {
                advance(Duration.ofMinutes(2)); // this run was healthy for a while before it died
            }
            throw new IllegalStateException("run " + runs.get());
        }, () -> runs.get() >= 9);
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L, 1L), slept.stream().map(Duration::toSeconds).toList());
    }

    @Test
    void aFailedItemIsCountedAndTheLoopStaysUp() {
        LoopHealth h = health(slept::add);
        LoopHealth.Loop l = h.register("classify", Duration.ofSeconds(30));
        l.failed("process 42", new StackOverflowError());
        l.failed("process 43", new IllegalArgumentException());
        assertEquals(2, h.statuses().getFirst().errors());
        assertTrue(h.allLive());
    }

    @Test
    void anUnregisteredLoopIsForgottenButOnlyThatLoop() {
        LoopHealth h = health(slept::add);
        LoopHealth.Loop old = h.register("workload web", Duration.ofSeconds(60));
        old.died(new IllegalStateException());
        h.unregister(old);
        assertTrue(h.allLive());
        LoopHealth.Loop fresh = h.register("workload web", Duration.ofSeconds(60));
        h.unregister(old); // a late unregister of the old one leaves the new one watched
        fresh.died(null);
        assertEquals("dead: the loop ended", h.problems().get("workload web"));
    }
}

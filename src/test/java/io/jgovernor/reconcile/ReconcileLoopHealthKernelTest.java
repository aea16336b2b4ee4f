package io.jgovernor.reconcile;

import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyCatalog;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import io.jgovernor.sys.LoopHealth;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The reconcile thread against real failures in a pass, on real cgroups: an Error in one pass
 * costs that pass only, a thread that dies is DOWN until it is started again, and a pass stuck
 * past its bound is DOWN until it ends. The failures come through the loop's own listener (the
 * seam every pass calls), not through a hostile policy file.
 */
class ReconcileLoopHealthKernelTest {
    @TempDir
    Path tmp;
    private KernelGroups k;
    private ReconcileLoop loop;
    private Path policies;
    /** Set by a test: what the next pass's beforePass does (throw, block); cleared once used. */
    private final java.util.concurrent.atomic.AtomicReference<Runnable> nextPass = new java.util.concurrent.atomic.AtomicReference<>();
    /** Set by a test: what the next heartbeat does on the loop's thread, outside any pass. */
    private final java.util.concurrent.atomic.AtomicReference<Runnable> nextBeat = new java.util.concurrent.atomic.AtomicReference<>();

    @BeforeEach
    void setUp() throws IOException {
        k = new KernelGroups();
        policies = Files.createDirectories(tmp.resolve("policies"));
        Path accepted = Files.createDirectories(tmp.resolve("accepted"));
        PolicyCatalog catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts()), policies, accepted);
        loop = new ReconcileLoop(catalog, k.reconciler, Duration.ofHours(1), Duration.ofMillis(10),
                new ReconcileLoop.Listener() {
                    @Override
                    public void passed(CatalogState catalog, Report report) {
                    }

                    @Override
                    public void policyDirUnreadable(IOException e) {
                    }

                    @Override
                    public void beforePass(CatalogState catalog) {
                        Runnable r = nextPass.getAndSet(null);
                        if (r != null) {
                            r.run();
                        }
                    }

                    @Override
                    public void alive() {
                        Runnable r = nextBeat.getAndSet(null);
                        if (r != null) {
                            r.run();
                        }
                    }
                });
    }

    @AfterEach
    void tearDown() {
        if (loop != null) {
            loop.close();
        }
        k.close();
    }

    private void edit(int pidsMax) throws IOException {
        Files.writeString(policies.resolve("web.yaml"), "name: web\npids: {max: " + pidsMax + "}\n");
        loop.policiesChanged(Set.of("web.yaml"));
    }

    private String pidsMax() {
        try {
            return k.read("pids", "web", "pids.max");
        } catch (IOException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void aStackOverflowErrorInOnePassIsCountedAndTheNextEditIsApplied() throws Exception {
        LoopHealth health = new LoopHealth();
        LoopHealth.Loop h = health.register("reconcile", Duration.ofSeconds(60));
        loop.health(h);
        edit(50);
        assertTrue(loop.firstPass());
        assertEquals("50", pidsMax());
        loop.start();
        AtomicBoolean thrown = new AtomicBoolean();
        nextPass.set(() -> {
            thrown.set(true);
            throw new StackOverflowError("injected");
        });
        edit(60);
        await("the failing pass", thrown::get);
        await("the failure counted", () -> health.statuses().getFirst().errors() == 1);
        assertEquals("50", pidsMax(), "the pass that threw applied nothing");
        edit(70);
        await("pids.max 70 from the edit after the failure", () -> "70".equals(pidsMax()));
        assertTrue(health.allLive(), health.problems().toString());
        assertEquals(0, health.statuses().getFirst().restarts());
    }

    @Test
    void aReconcileThreadThatDiesIsDownUntilItIsStartedAgainThenAppliesEdits() throws Exception {
        CountDownLatch inBackoff = new CountDownLatch(1);
        CountDownLatch endBackoff = new CountDownLatch(1);
        LoopHealth health = new LoopHealth(System::nanoTime, d -> {
            inBackoff.countDown();
            endBackoff.await();
        });
        loop.health(health.register("reconcile", Duration.ofSeconds(60)));
        loop.heartbeat(Duration.ofMillis(5));
        edit(50);
        assertTrue(loop.firstPass());
        // An Error outside any pass ends the thread's run: nothing inside the loop catches it.
        nextBeat.set(() -> {
            throw new OutOfMemoryError("injected");
        });
        loop.start();
        assertTrue(inBackoff.await(10, TimeUnit.SECONDS), "the death was seen");
        assertEquals("dead: java.lang.OutOfMemoryError: injected", health.problems().get("reconcile"));
        assertTrue(!health.statuses().getFirst().up());
        endBackoff.countDown();
        await("restarted", health::allLive);
        assertEquals(1, health.statuses().getFirst().restarts());
        edit(80);
        await("pids.max 80 applied by the restarted thread", () -> "80".equals(pidsMax()));
    }

    @Test
    void aPassStuckPastItsBoundIsDownUntilItEnds() throws Exception {
        LoopHealth health = new LoopHealth();
        loop.health(health.register("reconcile", Duration.ofMillis(200)));
        edit(50);
        assertTrue(loop.firstPass());
        loop.start();
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger entered = new AtomicInteger();
        nextPass.set(() -> {
            entered.incrementAndGet();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        edit(90);
        await("the pass blocked", () -> entered.get() == 1);
        assertTrue(health.allLive(), "not stuck before the bound: " + health.problems());
        await("stuck reported", () -> health.problems().getOrDefault("reconcile", "").startsWith("stuck"));
        release.countDown();
        await("pids.max 90 once the pass goes on", () -> "90".equals(pidsMax()));
        await("live again", health::allLive);
    }
}

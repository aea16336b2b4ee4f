package io.jgovernor.reconcile;

import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyCatalog;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The quiet time on real cgroups: a file written in place or renamed over (the watcher says "in
 * place") is applied at once, however long the quiet time; after a file went away the pass waits
 * for the quiet time, since the file's new version is usually on its way. The quiet time here is
 * far longer than any pass, so a wait shows.
 */
class ReconcileLoopQuietKernelTest {
    private static final Duration QUIET = Duration.ofSeconds(20);
    @TempDir
    Path tmp;
    private KernelGroups k;
    private ReconcileLoop loop;
    private Path policies;

    @BeforeEach
    void setUp() throws IOException {
        k = new KernelGroups();
        policies = Files.createDirectories(tmp.resolve("policies"));
        Path accepted = Files.createDirectories(tmp.resolve("accepted"));
        PolicyCatalog catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts()), policies, accepted);
        loop = new ReconcileLoop(catalog, k.reconciler, Duration.ofHours(1), QUIET, new ReconcileLoop.Listener() {
            @Override
            public void passed(CatalogState catalog, Report report) {
            }

            @Override
            public void policyDirUnreadable(IOException e) {
            }
        });
    }

    @AfterEach
    void tearDown() {
        long t0 = System.nanoTime();
        loop.close();
        k.close();
        // a stop does not sit out the quiet time of a pending change
        assertTrue(System.nanoTime() - t0 < QUIET.toNanos() / 2, "close waited for the quiet time");
    }

    private void write(int pidsMax) throws IOException {
        Files.writeString(policies.resolve("web.yaml"), "name: web\npids: {max: " + pidsMax + "}\n");
    }

    private String pidsMax() {
        try {
            return k.read("pids", "web", "pids.max");
        } catch (IOException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    @Test
    void anEditInPlaceIsAppliedAtOnceAndARemovalWaitsForTheQuietTime() throws Exception {
        write(50);
        assertTrue(loop.firstPass());
        assertEquals("50", pidsMax());
        loop.start();

        write(60);
        long t0 = System.nanoTime();
        loop.policiesChanged(Set.of("web.yaml"), true);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
        while (!pidsMax().equals("60")) {
            if (System.nanoTime() > deadline) {
                fail("an in-place edit waited for the quiet time (" + QUIET + "): pids.max " + pidsMax());
            }
            Thread.sleep(5);
        }

        // the same event as a deletion: the pass waits for the quiet time
        write(70);
        loop.policiesChanged(Set.of("web.yaml"), false);
        Thread.sleep(2000);
        assertEquals("60", pidsMax(), "a change after a deletion did not wait for the quiet time");
    }
}

package io.jgovernor.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A deploy tool's unlink + create races the catalog's passes: a file listed and then gone when
 * read is gone (or back next pass), never "cannot read file" or "cannot inspect file".
 */
class VanishingFileTest {
    @TempDir
    Path root;

    @Test
    void aFileRemovedBetweenListingAndReadingIsNoError() throws Exception {
        assumeTrue(FileSafetyTest.isRoot(), "policy files must be owned by root");
        Path policies = Files.createDirectories(root.resolve("policies.d"));
        FileSafetyTest.chmod(policies, "rwxr-xr-x");
        Path file = policies.resolve("web.yaml");
        write(file, 0);
        PolicyCatalog catalog = new PolicyCatalog(new PolicyParser(FakeHost.HOST), policies, root.resolve("accepted"));
        catalog.refresh();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong replaced = new AtomicLong();
        Thread deployer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 1; !stop.get(); i++) {
                    Files.delete(file);
                    write(file, i);
                    replaced.incrementAndGet();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        List<String> problems = new ArrayList<>();
        long passes = 0;
        try {
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end) {
                CatalogState s = passes++ % 2 == 0 ? catalog.refresh() : catalog.refresh(Set.of("web.yaml"));
                s.errors().forEach(e -> problems.add(e.toString()));
            }
        } finally {
            stop.set(true);
            deployer.join();
            catalog.flushCopies();
        }
        assertTrue(replaced.get() > 100 && passes > 100, replaced + " replacements, " + passes + " passes");
        assertEquals(List.of(), problems.stream().distinct().limit(5).toList());
    }

    private static void write(Path file, int i) throws IOException {
        Path tmp = Files.writeString(file.resolveSibling(".tmp"), "name: web\npids: {max: " + (i + 1) + "}\n");
        FileSafetyTest.chmod(tmp, "rw-r--r--");
        Files.move(tmp, file); // created whole, as install does after its unlink
    }
}

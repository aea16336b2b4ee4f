package io.jgovernor.events;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpoolTest {
    private static final URI A = URI.create("http://127.0.0.1:1/a");
    private static final URI B = URI.create("http://127.0.0.1:1/b");

    @TempDir
    Path tmp;

    static OomEvent event(String group) {
        return new OomEvent(UUID.randomUUID(), Instant.now(), "h", group, "/x/" + group, 1, 100, 99,
                List.of(new OomEvent.Process(1, "init")));
    }

    private Spool spool(int max, DeliveryStats stats) throws IOException {
        return new Spool(tmp.resolve("spool"), max, stats);
    }

    private List<Path> files() throws IOException {
        try (var s = Files.list(tmp.resolve("spool"))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void anEventIsKeptAcrossRestartsUntilEveryReceiverAcknowledged() throws IOException {
        DeliveryStats stats = new DeliveryStats();
        Spool s = spool(10, stats);
        s.load();
        OomEvent e = event("web");
        Spool.Entry entry = s.add(e, List.of(A, B));
        assertTrue(Files.exists(s.fileOf(entry)));
        assertFalse(s.ack(entry, A));

        Spool again = spool(10, stats);
        List<Spool.Entry> loaded = again.load();
        assertEquals(1, loaded.size());
        assertEquals(e, loaded.getFirst().event());
        assertEquals(List.of(B), loaded.getFirst().pending(), "A acknowledged before the restart: not sent again");
        assertTrue(again.ack(loaded.getFirst(), B));
        assertEquals(List.of(), files(), "delivered everywhere: nothing left");
        assertEquals(List.of(), spool(10, stats).load());
    }

    @Test
    void aTruncatedFileIsMovedAsideAndTheWholeOneStillLoads() throws IOException {
        DeliveryStats stats = new DeliveryStats();
        Spool s = spool(10, stats);
        s.load();
        Spool.Entry whole = s.add(event("web"), List.of(A));
        Spool.Entry cut = s.add(event("db"), List.of(A));
        byte[] bytes = Files.readAllBytes(s.fileOf(cut));
        Files.write(s.fileOf(cut), java.util.Arrays.copyOf(bytes, bytes.length / 2)); // a crash mid-write
        Files.writeString(tmp.resolve("spool").resolve(".tmp-0000000000000099-x.event"), "half");
        Files.writeString(tmp.resolve("spool").resolve("0000000000000098-" + UUID.randomUUID() + ".event"), "");

        Spool again = spool(10, stats);
        List<Spool.Entry> loaded = again.load();
        assertEquals(1, loaded.size());
        assertEquals(whole.event(), loaded.getFirst().event());
        assertEquals(2, stats.corrupt());
        assertTrue(Files.exists(tmp.resolve("spool/corrupt").resolve(s.fileOf(cut).getFileName())));
        assertFalse(Files.exists(tmp.resolve("spool").resolve(".tmp-0000000000000099-x.event")));
        // and it keeps working
        Spool.Entry next = again.add(event("api"), List.of(A));
        assertEquals(2, again.size());
        assertTrue(again.ack(next, A));
        assertEquals(1, spool(10, stats).load().size());
    }

    @Test
    void aFullSpoolDropsTheOldestAndCountsThem() throws IOException {
        DeliveryStats stats = new DeliveryStats();
        Spool s = spool(3, stats);
        s.load();
        List<Spool.Entry> added = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            added.add(s.add(event("g" + i), List.of(A)));
        }
        assertEquals(3, s.size());
        assertEquals(2, stats.dropped());
        assertFalse(s.holds(added.get(0)));
        assertFalse(s.holds(added.get(1)));
        assertTrue(s.holds(added.get(4)));
        assertEquals(List.of("g2", "g3", "g4"), spool(3, stats).load().stream().map(e -> e.event().group()).toList());
    }

    @Test
    void withoutReceiversNothingIsWritten() throws IOException {
        Spool s = spool(3, new DeliveryStats());
        s.load();
        s.add(event("web"), List.of());
        assertEquals(List.of(), files());
    }

    @Test
    void aCutShortAcknowledgementLineOnlyMeansOneMoreDelivery() throws IOException {
        Spool s = spool(3, new DeliveryStats());
        s.load();
        Spool.Entry e = s.add(event("web"), List.of(A, B));
        Path acked = tmp.resolve("spool").resolve(s.fileOf(e).getFileName() + ".acked");
        Files.writeString(acked, A + "\n" + B.toString().substring(0, 10));
        assertEquals(List.of(B), spool(3, new DeliveryStats()).load().getFirst().pending());
    }

    @Test
    void aPreparedEventIsDeliverableAtOnceAndPersistWritesOnlyWhatIsStillOwed() throws IOException {
        Spool s = spool(10, new DeliveryStats());
        s.load();
        Spool.Entry delivered = s.prepare(event("web"), List.of(A));
        assertTrue(s.holds(delivered), "sendable before anything is written");
        assertEquals(List.of(), files());
        assertTrue(s.ack(delivered, A));
        s.persist(delivered);
        assertEquals(List.of(), files(), "acknowledged before it was written: nothing is owed, nothing written");
        assertFalse(s.holds(delivered));

        Spool.Entry half = s.prepare(event("db"), List.of(A, B));
        assertFalse(s.ack(half, A));
        s.persist(half);
        assertTrue(Files.exists(s.fileOf(half)));
        List<Spool.Entry> loaded = spool(10, new DeliveryStats()).load();
        assertEquals(List.of(B), loaded.getFirst().pending(), "A's acknowledgement before the write is kept by it");
    }

    @Test
    void persistingTwiceWritesOnce() throws IOException {
        Spool s = spool(10, new DeliveryStats());
        s.load();
        Spool.Entry e = s.prepare(event("web"), List.of(A));
        s.persist(e);
        s.persist(e);
        assertEquals(1, files().size());
        assertTrue(s.ack(e, A));
        assertEquals(List.of(), files());
    }
}

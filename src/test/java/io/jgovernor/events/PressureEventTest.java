package io.jgovernor.events;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PressureEventTest {
    private static final PressureEvent EVENT = new PressureEvent(UUID.fromString("0b7e4a52-8d54-4b0e-9a36-0d1f6b7f2a11"),
            Instant.parse("2026-12-06T06:00:00.123456Z"), "host1", "web", "/jgovernor/web", "memory", "some", 2.5, 0.5,
            0.000297);

    @Test
    void theDocumentOfDaemonMdAndBack() {
        String json = EVENT.toCloudEvent();
        assertEquals("{\"specversion\":\"1.0\",\"type\":\"io.jgovernor.pressure\",\"source\":\"jgovernor://host1/web\","
                + "\"id\":\"0b7e4a52-8d54-4b0e-9a36-0d1f6b7f2a11\",\"time\":\"2026-12-06T06:00:00.123Z\","
                + "\"datacontenttype\":\"application/json\",\"data\":{\"group\":\"web\",\"host\":\"host1\","
                + "\"cgroup\":\"/jgovernor/web\",\"resource\":\"memory\",\"stall\":\"some\",\"thresholdPercent\":2.5,"
                + "\"windowSeconds\":0.5,\"stallSecondsTotal\":0.000297}}", json);
        assertEquals(EVENT, PressureEvent.fromCloudEvent(json));
        assertEquals(EVENT, Event.fromCloudEvent(json));
        assertInstanceOf(OomEvent.class, Event.fromCloudEvent(new OomEvent(UUID.randomUUID(), Instant.now(), "h", "g",
                "/c", 1, 2, 3, List.of()).toCloudEvent()));
        assertThrows(IllegalArgumentException.class, () -> PressureEvent.fromCloudEvent(json.replace("\"stall\"", "\"x\"")));
    }

    @Test
    void spooledBesideOomEventsAndReadBackAfterARestart(@TempDir Path tmp) throws Exception {
        URI a = URI.create("http://127.0.0.1:1/a");
        Spool s = new Spool(tmp, 10, new DeliveryStats());
        s.add(EVENT, List.of(a));
        OomEvent oom = new OomEvent(UUID.randomUUID(), Instant.parse("2026-12-06T06:00:01Z"), "host1", "db", "/c", 1, 2, 3,
                List.of());
        s.add(oom, List.of(a));
        List<Spool.Entry> loaded = new Spool(tmp, 10, new DeliveryStats()).load();
        assertEquals(List.of(EVENT, oom), loaded.stream().map(Spool.Entry::event).toList());
    }
}

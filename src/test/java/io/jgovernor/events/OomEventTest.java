package io.jgovernor.events;

import io.jgovernor.testing.Json;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OomEventTest {
    private static final UUID ID = UUID.fromString("0b3c8a52-5f0e-4a55-9a4e-2d7c1e6f9a10");

    private static OomEvent event(String comm) {
        return new OomEvent(ID, Instant.parse("2026-11-22T10:00:00.123456Z"), "host1", "web", "/jgovernor/web", 3,
                268435456, 268000000, List.of(new OomEvent.Process(42, comm)));
    }

    @Test
    void theDocumentIsTheCloudEventOfTheSpec() {
        assertEquals("{\"specversion\":\"1.0\",\"type\":\"io.jgovernor.oom\",\"source\":\"jgovernor://host1/web\","
                        + "\"id\":\"0b3c8a52-5f0e-4a55-9a4e-2d7c1e6f9a10\",\"time\":\"2026-11-22T10:00:00.123Z\","
                        + "\"datacontenttype\":\"application/json\","
                        + "\"data\":{\"group\":\"web\",\"host\":\"host1\",\"cgroup\":\"/jgovernor/web\",\"oomKills\":3,"
                        + "\"memoryLimitBytes\":268435456,\"memoryUsageBytes\":268000000,"
                        + "\"processes\":[{\"pid\":42,\"comm\":\"java\"}]}}",
                event("java").toCloudEvent());
    }

    @Test
    void timeHasMillisecondsAndZEvenOnAWholeSecond() {
        OomEvent e = new OomEvent(ID, Instant.parse("2026-01-02T03:04:05Z"), "h", "g", "/g", 1, 1, 1, List.of());
        assertEquals("2026-01-02T03:04:05.000Z", ((Map<?, ?>) Json.parse(e.toCloudEvent())).get("time"));
    }

    @Test
    void commsWithQuotesBackslashesAndControlCharactersAreEscaped() {
        String nasty = "a\"b\\c\nd\te\u0001f\u007f \u00e9\u2028\ud83d\ude00";
        String json = event(nasty).toCloudEvent();
        assertEquals(true, json.contains("a\\\"b\\\\c\\nd\\te\\u0001f\u007f \u00e9\\u2028\ud83d\ude00"), json);
        // an independent parser reads the same string back
        Map<?, ?> data = (Map<?, ?>) ((Map<?, ?>) Json.parse(json)).get("data");
        assertEquals(nasty, ((Map<?, ?>) ((List<?>) data.get("processes")).getFirst()).get("comm"));
    }

    @Test
    void aLoneSurrogateBecomesTheReplacementCharacter() {
        String json = event("x\ud800y").toCloudEvent();
        assertEquals(true, json.contains("x\\ufffdy"), json);
    }

    @Test
    void theDocumentReadsBackEqual() {
        OomEvent e = event("we\"ird\\comm\n");
        assertEquals(e, OomEvent.fromCloudEvent(e.toCloudEvent()));
    }

    @Test
    void aDocumentCutShortIsRejected() {
        String json = event("java").toCloudEvent();
        assertThrows(IllegalArgumentException.class, () -> OomEvent.fromCloudEvent(json.substring(0, json.length() - 3)));
        assertThrows(IllegalArgumentException.class, () -> OomEvent.fromCloudEvent(json.replace("\"oomKills\":3,", "")));
    }
}

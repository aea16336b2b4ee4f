package io.jgovernor.policy;

import io.jgovernor.model.Policy;
import io.jgovernor.model.Pressure;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** events.pressure: PSI triggers, each bad entry refused where it stands with the kernel's bounds. */
class PressureTriggersTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/web.yaml");

    private static HostFacts host(boolean psi) {
        return new FakeHost.Like() {
            @Override
            public boolean pressureFiles() {
                return psi;
            }
        };
    }

    private static Policy ok(String yaml) {
        ParseResult r = new PolicyParser(host(true)).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Ok.class, r, () -> r.toString()).policies().getFirst().policy();
    }

    private static List<String> errors(boolean psi, String yaml) {
        ParseResult r = new PolicyParser(host(psi)).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Rejected.class, r).errors().stream().map(Object::toString).toList();
    }

    @Test
    void theSpecsExampleAndItsKernelText() {
        Policy p = ok("""
                name: web
                events:
                  pressure:
                    - {resource: memory, stall: some, threshold: 10%, window: 1s}
                    - {resource: cpu, threshold: 2.5%, window: 2s}
                    - {resource: io, stall: full, threshold: 100%, window: 500ms}
                """);
        List<Pressure.Trigger> t = p.pressureTriggers();
        assertEquals(new Pressure.Trigger(Pressure.Resource.MEMORY, Pressure.Stall.SOME, 10, Duration.ofSeconds(1)), t.get(0));
        assertEquals("some 100000 1000000", t.get(0).kernelText());
        assertEquals(Pressure.Stall.SOME, t.get(1).stall(), "stall defaults to some");
        assertEquals("some 50000 2000000", t.get(1).kernelText());
        assertEquals("full 500000 500000", t.get(2).kernelText());
        assertEquals(List.of(), ok("name: web\nevents:\n  oom:\n    webhooks: [\"http://127.0.0.1:1/x\"]\n").pressureTriggers());
    }

    @Test
    void eachBadEntryIsLocatedWithTheKernelsBounds() {
        List<String> e = errors(true, """
                name: web
                events:
                  pressure:
                    - {resource: memroy, threshold: 10%, window: 1s}
                    - {resource: cpu, stall: half, threshold: 10%, window: 1s}
                    - {resource: cpu, threshold: 10%, window: 100ms}
                    - {resource: cpu, threshold: 10%, window: 11s}
                    - {resource: cpu, threshold: 0%, window: 1s}
                    - {resource: cpu, threshold: 101%, window: 1s}
                    - {resource: cpu, threshold: 10, window: 1s}
                    - {resource: cpu, window: 1s}
                    - {resource: io, threshold: 10%, window: 1s, action: kill}
                    - {resource: io, threshold: 10%, window: 1}
                    - {resource: memory, stall: some, threshold: 10%, window: 1000ms}
                """);
        assertEquals(10, e.size(), String.join("\n", e));
        assertTrue(e.get(0).startsWith(FILE + ":4:18: events.pressure[0].resource: \"memroy\" is not one of cpu, memory, io"
                + " (did you mean \"memory\"?)"), e.get(0));
        assertTrue(e.get(1).startsWith(FILE + ":5:30: events.pressure[1].stall: \"half\" is not one of some, full"), e.get(1));
        assertTrue(e.get(2).startsWith(FILE + ":6:47: events.pressure[2].window: 100ms is outside the kernel's trigger"
                + " windows, 500ms to 10s"), e.get(2));
        assertTrue(e.get(3).contains("events.pressure[3].window: 11s is outside"), e.get(3));
        assertTrue(e.get(4).startsWith(FILE + ":8:34: events.pressure[4].threshold: 0% is not a share of the window;"
                + " write more than 0% and at most 100%"), e.get(4));
        assertTrue(e.get(5).contains("events.pressure[5].threshold: 101% is not a share"), e.get(5));
        assertTrue(e.get(6).contains("events.pressure[6].threshold: \"10\" is not a percentage; write it like \"10%\""), e.get(6));
        assertTrue(e.get(7).startsWith(FILE + ":11:7: events.pressure[7]: threshold is required"), e.get(7));
        assertTrue(e.get(8).contains("events.pressure[8]: unknown key \"action\""), e.get(8));
        assertTrue(e.get(9).contains("events.pressure[9].window: \"1\" has no unit"), e.get(9));
        // the last one is valid alone: 1000ms is 1s, the same trigger as [0] would be; here [0] was bad,
        // so a second file line proves duplicates are refused
        List<String> dup = errors(true, """
                name: web
                events:
                  pressure:
                    - {resource: memory, threshold: 10%, window: 1s}
                    - {resource: memory, stall: some, threshold: 10%, window: 1000ms}
                """);
        assertEquals(List.of(FILE + ":5:7: events.pressure[1]: the same trigger as events.pressure[0]"), dup);
    }

    @Test
    void aHostWithoutPerGroupPressureRefusesTheSection() {
        List<String> e = errors(false, "name: web\nevents:\n  pressure:\n    - {resource: cpu, threshold: 10%, window: 1s}\n");
        assertEquals(1, e.size(), e.toString());
        assertTrue(e.get(0).startsWith(FILE + ":4:5: events.pressure: this host has no per-group pressure files"), e.get(0));
    }
}

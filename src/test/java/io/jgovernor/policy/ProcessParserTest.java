package io.jgovernor.policy;

import io.jgovernor.model.Policy;
import io.jgovernor.model.ProcessKnobs;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code process:}: the knobs, their ranges and names, and every bad value at its place. */
class ProcessParserTest {
    private static final Path FILE = Path.of("/etc/jgovernor/policies.d/batch.yaml");

    private static Policy ok(String yaml) {
        ParseResult r = new PolicyParser(FakeHost.HOST).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Ok.class, r, r::toString).policies().getFirst().policy();
    }

    private static List<String> errors(String yaml) {
        ParseResult r = new PolicyParser(FakeHost.HOST).parse(FILE, yaml);
        return assertInstanceOf(ParseResult.Rejected.class, r, r::toString).errors().stream()
                .map(Object::toString).toList();
    }

    @Test
    void theSpecsExampleParses() {
        Policy p = ok("name: batch\nprocess:\n  nice: 10\n  ioClass: idle\n  oomScoreAdj: 500\n  schedPolicy: batch\n");
        ProcessKnobs k = p.process().orElseThrow();
        assertEquals(OptionalInt.of(10), k.nice());
        assertEquals(Optional.of(ProcessKnobs.IoClass.IDLE), k.ioClass());
        assertEquals(OptionalInt.of(3 << 13), k.ioprio());
        assertEquals(OptionalInt.of(500), k.oomScoreAdj());
        assertEquals(Optional.of(ProcessKnobs.SchedPolicy.BATCH), k.schedPolicy());
        assertEquals("{nice: 10, ioClass: idle, oomScoreAdj: 500, schedPolicy: batch}", k.toString());
    }

    @Test
    void aLevelGoesWithTheClassesThatTakeOneAndDefaultsToFour() {
        assertEquals(OptionalInt.of(2 << 13 | 7), ok("name: a\nprocess: {ioClass: best-effort, ioPriority: 7}\n")
                .process().orElseThrow().ioprio());
        assertEquals(OptionalInt.of(1 << 13 | 0), ok("name: a\nprocess: {ioClass: realtime, ioPriority: 0}\n")
                .process().orElseThrow().ioprio());
        assertEquals(OptionalInt.of(2 << 13 | 4), ok("name: a\nprocess: {ioClass: best-effort}\n")
                .process().orElseThrow().ioprio());
        assertEquals(OptionalInt.of(0), ok("name: a\nprocess: {ioClass: none}\n").process().orElseThrow().ioprio());
        assertThrows(IllegalArgumentException.class, () -> new ProcessKnobs(OptionalInt.empty(),
                Optional.of(ProcessKnobs.IoClass.IDLE), OptionalInt.of(1), OptionalInt.empty(), Optional.empty()));
    }

    @Test
    void extremesOfEachRangeParse() {
        ProcessKnobs k = ok("name: a\nprocess: {nice: -20, oomScoreAdj: -1000, schedPolicy: idle}\n").process().orElseThrow();
        assertEquals(OptionalInt.of(-20), k.nice());
        assertEquals(OptionalInt.of(-1000), k.oomScoreAdj());
        k = ok("name: a\nprocess: {nice: 19, oomScoreAdj: 1000, schedPolicy: other}\n").process().orElseThrow();
        assertEquals(OptionalInt.of(19), k.nice());
        assertEquals(OptionalInt.of(1000), k.oomScoreAdj());
    }

    @Test
    void anEmptySectionSetsNothing() {
        assertEquals(Optional.empty(), ok("name: a\nprocess:\n").process());
        assertEquals(Optional.empty(), ok("name: a\nprocess: {}\n").process());
    }

    @Test
    void aWorkloadCarriesTheKnobsToItsStage() {
        Policy p = ok("name: a\nrun:\n  command: [/bin/sleep, \"1\"]\nprocess: {nice: 5}\n");
        assertEquals(p.process(), p.run().orElseThrow().process());
        assertEquals(Optional.empty(), ok("name: a\nrun:\n  command: [/bin/sleep, \"1\"]\n").run().orElseThrow().process());
    }

    @Test
    void everyBadValueIsLocated() {
        List<String> e = errors("name: a\nprocess:\n  nice: 20\n  ioClass: rt\n  ioPriority: 8\n  oomScoreAdj: -1001\n"
                + "  schedPolicy: fifo\n  niceness: 1\n");
        assertEquals(List.of(
                FILE + ":3:9: process.nice: 20 is out of range -20..19 (the kernel's nice values; a lower one takes CPU from others)",
                FILE + ":4:12: process.ioClass: \"rt\" is not one of none, realtime, best-effort, idle",
                FILE + ":5:15: process.ioPriority: 8 is out of range 0..7 (0 is served first)",
                FILE + ":6:16: process.oomScoreAdj: -1001 is out of range -1000..1000 (/proc/PID/oom_score_adj: -1000"
                        + " never OOM-killed, 1000 killed first)",
                FILE + ":7:16: process.schedPolicy: \"fifo\" is not one of other, batch, idle; the real-time policies"
                        + " (fifo, rr, deadline) are not offered: one busy real-time thread can hold a CPU from everything else",
                FILE + ":8:3: process: unknown key \"niceness\""), e);
    }

    @Test
    void aLevelWithoutAClassThatTakesOneIsRefused() {
        assertEquals(List.of(FILE + ":2:23: process.ioPriority: a level needs ioClass realtime or best-effort beside it"
                + " (ionice -c 1|2 -n 3)"), errors("name: a\nprocess: {ioPriority: 3}\n"));
        assertEquals(List.of(FILE + ":2:38: process.ioPriority: ioClass idle takes no level; remove ioPriority, or use"
                + " ioClass realtime or best-effort"), errors("name: a\nprocess: {ioClass: idle, ioPriority: 3}\n"));
        assertEquals(List.of(FILE + ":2:38: process.ioPriority: ioClass none takes no level; remove ioPriority, or use"
                + " ioClass realtime or best-effort"), errors("name: a\nprocess: {ioClass: none, ioPriority: 3}\n"));
        // a misspelt class is one error, not two
        assertEquals(1, errors("name: a\nprocess: {ioClass: best_effort, ioPriority: 3}\n").size());
        assertEquals(List.of(FILE + ":2:20: process.ioClass: \"best_effort\" is not one of none, realtime, best-effort,"
                + " idle (did you mean \"best-effort\"?)"), errors("name: a\nprocess: {ioClass: best_effort}\n"));
    }

    @Test
    void wrongShapesAreLocated() {
        assertEquals(List.of(FILE + ":2:10: process: expected a mapping of keys, got \"nice\""),
                errors("name: a\nprocess: nice\n"));
        assertEquals(List.of(FILE + ":2:17: process.nice: expected an integer, got \"low\""),
                errors("name: a\nprocess: {nice: low}\n"));
        assertEquals(List.of(FILE + ":2:20: process.ioClass: expected one of none, realtime, best-effort, idle, got a list"),
                errors("name: a\nprocess: {ioClass: [idle]}\n"));
    }
}

package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.Resources;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CrossFileTest {
    static final Path WEB = Path.of("/etc/jgovernor/policies.d/web.yaml");
    static final Path DB = Path.of("/etc/jgovernor/policies.d/db.yaml");

    private static ParsedPolicy policy(String name) {
        return new ParsedPolicy(new Policy(new GroupName(name), Optional.empty(), List.of(), Optional.empty(),
                Resources.NONE, List.of()), 1, 7);
    }

    @Test
    void theSpecExample() {
        List<CrossFile.Outcome> out = CrossFile.resolve(List.of(
                new CrossFile.Input(WEB, List.of(policy("web")), List.of(policy("web"))),
                new CrossFile.Input(DB, List.of(), List.of(policy("web")))));
        assertEquals(List.of(), out.get(0).errors());
        assertEquals("/etc/jgovernor/policies.d/db.yaml:1:7: group \"web\" is already defined in"
                + " /etc/jgovernor/policies.d/web.yaml", out.get(1).errors().getFirst().toString());
        assertFalse(out.get(1).moved());
        assertEquals(List.of(), out.get(1).applied());
    }

    @Test
    void aNameGivenUpInTheSamePassIsTakenOver() {
        // db comes first but must wait until web has moved off "web"
        List<CrossFile.Outcome> out = CrossFile.resolve(List.of(
                new CrossFile.Input(DB, List.of(), List.of(policy("web"))),
                new CrossFile.Input(WEB, List.of(policy("web")), List.of(policy("www")))));
        assertTrue(out.get(0).moved());
        assertTrue(out.get(1).moved());
        assertEquals(List.of(), out.get(0).errors());
    }

    @Test
    void swappingNamesInOneStepIsRefusedAndBothKeepTheirGroups() {
        List<CrossFile.Outcome> out = CrossFile.resolve(List.of(
                new CrossFile.Input(DB, List.of(policy("db")), List.of(policy("web"))),
                new CrossFile.Input(WEB, List.of(policy("web")), List.of(policy("db")))));
        assertEquals(List.of(policy("db")), out.get(0).applied());
        assertEquals(List.of(policy("web")), out.get(1).applied());
        assertEquals("group \"web\" is already defined in " + WEB, out.get(0).errors().getFirst().message());
        assertEquals("group \"db\" is already defined in " + DB, out.get(1).errors().getFirst().message());
    }

    @Test
    void aChildWaitsForAParentLaterInOrder() {
        List<CrossFile.Outcome> out = CrossFile.resolve(List.of(
                new CrossFile.Input(DB, List.of(), List.of(policy("web/db"))),
                new CrossFile.Input(WEB, List.of(), List.of(policy("web")))));
        assertTrue(out.get(0).moved());
        assertEquals(List.of(), out.get(0).errors());
    }
}

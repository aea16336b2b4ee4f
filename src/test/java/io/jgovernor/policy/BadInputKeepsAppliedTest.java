package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every kind of bad input, arriving over a policy that is already applied: the error is located,
 * and the applied state is exactly what it was.
 */
class BadInputKeepsAppliedTest {
    private static final String GOOD = """
            name: web
            cpu: {shares: 512, quota: 50%}
            memory: {limit: 256Mi}
            io:
              devices:
                - {device: /dev/vda, readBps: 10Mi}
            pids: {max: 100}
            ---
            name: web/api
            pids: {max: 10}
            """;

    @TempDir
    Path root;
    Path policies;
    PolicyCatalog catalog;

    @org.junit.jupiter.api.AfterEach
    void flush() {
        if (catalog != null) {
            catalog.flushCopies(); // the temp dir is removed next: no copy may still be on its way
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(FileSafetyTest.isRoot(), "policy files must be owned by root");
        policies = Files.createDirectories(root.resolve("policies.d"));
        FileSafetyTest.chmod(policies, "rwxr-xr-x");
        catalog = new PolicyCatalog(new PolicyParser(new SysfsHostFacts()), policies, root.resolve("accepted"));
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("malformed YAML", "name: web\ncpu: {shares: 512\n", "web.yaml:3:1: "),
                Arguments.of("a wrong type", GOOD.replace("shares: 512", "shares: [512]"), "web.yaml:2:15: cpu.shares: "),
                Arguments.of("an out-of-range value", GOOD.replace("shares: 512", "shares: 1"), "web.yaml:2:15: cpu.shares: "),
                Arguments.of("a unit missing", GOOD.replace("quota: 50%", "quota: 150"),
                        "web.yaml:2:27: cpu.quota: \"150\" is not a percentage; write it like \"150%\""),
                Arguments.of("an unknown key", GOOD.replace("memory:", "memroy:"),
                        "web.yaml:3:1: unknown key \"memroy\" (did you mean \"memory\"?)"),
                Arguments.of("a duplicate name", GOOD.replace("name: web/api", "name: web"),
                        "web.yaml:9:7: group \"web\" is already defined on line 1 of this file"),
                Arguments.of("a missing parent", GOOD.replace("name: web/api", "name: batch/api"),
                        "web.yaml:9:7: parent group \"batch\" is not defined"),
                Arguments.of("a hostile name", GOOD.replace("name: web/api", "name: ../x"),
                        "web.yaml:9:7: name: \"../x\" is not a valid group name"),
                Arguments.of("a device that does not exist", GOOD.replace("/dev/vda", "/dev/jgovernor-no-such-disk"),
                        "web.yaml:6:16: io.devices[0].device: /dev/jgovernor-no-such-disk does not exist"),
                Arguments.of("an empty file", "", "web.yaml:1:1: "),
                Arguments.of("unsafe permissions", null, "web.yaml:1:1: "));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void aBadVersionIsLocatedAndChangesNothing(String what, String content, String expected) throws IOException {
        Path file = policies.resolve("web.yaml");
        Files.writeString(file, GOOD);
        FileSafetyTest.chmod(file, "rw-r--r--");
        CatalogState before = catalog.refresh();
        assertEquals(List.of(), before.errors());
        SortedMap<GroupName, Policy> applied = before.desired();
        assertEquals(2, applied.size());

        if (content == null) {
            Files.writeString(file, GOOD.replace("max: 100", "max: 5"));
            FileSafetyTest.chmod(file, "rw-rw-rw-");
        } else {
            Files.writeString(file, content);
        }
        CatalogState after = catalog.refresh();
        assertEquals(1, after.errors().size(), what + ": " + after.errors());
        String error = after.errors().getFirst().toString();
        assertTrue(error.startsWith(file.getParent() + "/" + expected), what + ": " + error);
        assertEquals(applied.keySet(), after.desired().keySet(), what);
        for (GroupName g : applied.keySet()) {
            assertEquals(applied.get(g).resources(), after.desired().get(g).resources(), what + ": " + g);
        }
        assertEquals(1, after.invalidCount());
    }
}

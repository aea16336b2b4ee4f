package io.jgovernor.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class HostileInputTest {
    @TempDir
    Path tmp;

    @Test
    void dump() throws IOException {
        for (String name : List.of("alias-bomb", "binary", "bom", "deep-block-map", "deep-block-seq", "deep-flow-map",
                "deep-flow-seq", "deep-mixed", "empty", "escape-env", "huge-number-hex", "huge-number", "huge-string",
                "invalid-utf8", "many-documents", "nul-command", "nul-raw", "tag-binary", "tag-custom", "tag-int",
                "tag-str", "uidmap-overflow", "user-unknown")) {
            Path f = tmp.resolve(name + ".yaml");
            try (InputStream in = getClass().getResourceAsStream("/hostile/" + name + ".yaml")) {
                Files.write(f, in.readAllBytes());
            }
            long t0 = System.nanoTime();
            List<PolicyError> errors = new Validator(new PolicyParser(FakeHost.HOST)).validate(List.of(f));
            System.out.println("DUMP " + name + " " + (System.nanoTime() - t0) / 1_000_000 + "ms " + errors.stream().map(e -> e.line() + ":" + e.column() + ": " + e.message()).toList());
        }
    }
}

package io.jgovernor.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile corpus (src/test/resources/hostile/) against {@code validate}, and the special files
 * a directory can hold: each is refused with its place and a message of its own, fast, and
 * nothing throws. The same files go into a running daemon in HostileFilesIT.
 */
class HostileInputTest {
    private static final String NESTING = "nesting deeper than 64 levels of lists and mappings; no policy needs more"
            + " than a few";
    private static final String TAG = " is not allowed; write the value plainly, its key says what type it is";

    @TempDir
    Path tmp;

    private final Validator validator = new Validator(new PolicyParser(FakeHost.HOST));

    static Stream<Arguments> corpus() {
        return Stream.of(
                Arguments.of("deep-flow-seq", "2:77: " + NESTING),
                Arguments.of("deep-flow-map", "2:266: " + NESTING),
                Arguments.of("deep-block-seq", "3:129: " + NESTING),
                Arguments.of("deep-block-map", "66:65: " + NESTING),
                Arguments.of("deep-mixed", "4:158: " + NESTING),
                Arguments.of("tag-int", "2:13: explicit YAML tag \"!!int\"" + TAG),
                Arguments.of("tag-str", "2:13: explicit YAML tag \"!!str\"" + TAG),
                Arguments.of("tag-binary", "2:14: explicit YAML tag \"!!binary\"" + TAG),
                Arguments.of("tag-custom", "3:5: explicit YAML tag \"!foo\"" + TAG),
                Arguments.of("nul-command", "2:17: run.command[0]: holds the control character U+0000 at character 8"
                        + " of \"/bin/tr\\0ue\"; a NUL ends a command, path or environment string in the kernel"),
                Arguments.of("nul-raw", "2:24: the control character U+0000 is not allowed in a policy file (YAML allows"
                        + " tabs and line breaks only; write \\0 or \\e escapes in double quotes where a value needs one)"),
                Arguments.of("escape-env", "4:15: run.env.TERM: holds the control character U+001B at character 2 of"
                        + " \"x\\x1b[2J\""),
                Arguments.of("huge-number", "2:13: pids.max: the number 100000000000000000000000... (101 characters)"
                        + " is out of range of any limit"),
                Arguments.of("huge-number-hex", "2:15: cpu.shares: the number 0xffffffffffffffffffffff... (5002"
                        + " characters) is out of range of any limit"),
                Arguments.of("huge-string", "3:11: match[0].comm: \"" + "x".repeat(80) + "...\" is 200000 characters;"
                        + " the kernel keeps 1 to 15 characters of a process name in /proc/PID/comm, so it could never"
                        + " match"),
                Arguments.of("uidmap-overflow", "4:41: run.isolate.uidMap: \"4294967295 0 2\": the count must be at"
                        + " least 1 and inside + count and outside + count at most 4294967295 (the kernel's ids are 32"
                        + " bits)"),
                Arguments.of("seccomp-relative", "2:38: run.seccomp: \"../../tmp/profile.json\" is neither default,"
                        + " unconfined nor an absolute path of a profile file (the OCI seccomp JSON format)"),
                Arguments.of("limit-huge", "4:20: run.limits.nofile: \"1024:" + "9".repeat(74) + "\" is not a"
                        + " limit; write one value or soft:hard, each a number or infinity, like 1024:524288"),
                Arguments.of("raw-file-escape", "3:3: files: \"../../../etc/shadow\" is not a cgroup control file name"
                        + " (a controller, a dot and the file's own name, like \"io.latency\" or \"memory.swappiness\")"),
                Arguments.of("raw-file-huge-value", "3:22: files.memory.swappiness: 5000 characters; a control file takes"
                        + " at most 4096; leave the file out to leave it as it is"),
                Arguments.of("pressure-window-huge", "4:50: events.pressure[0].window: \"999999999999999999999999h\" is"
                        + " longer than any duration jgovernor can wait"),
                Arguments.of("pressure-threshold-tiny", "4:47: events.pressure[0].threshold: 0.00001% of 1s is less than"
                        + " 1us, the kernel's least stall time"),
                Arguments.of("process-nice-huge", "3:9: process.nice: the number -99999999999999999999999... (51 characters)"
                        + " is out of range of any limit"),
                Arguments.of("process-ioclass-nul", "3:12: process.ioClass: holds the control character U+0000 at"
                        + " character 5 of \"idle\\0realtime\"; a NUL ends a command, path or environment string in the kernel"),
                Arguments.of("process-oom-hex", "3:16: process.oomScoreAdj: 1001 is out of range -1000..1000"
                        + " (/proc/PID/oom_score_adj: -1000 never OOM-killed, 1000 killed first)"),
                Arguments.of("layer-option-injection", "6:14: run.isolate.layers[0]: \"/srv/base,upperdir=/etc,workdir=/tmp\""
                        + " holds \",\", which separates options or layers in overlayfs's mount options; rename the directory"),
                Arguments.of("volume-name-escape", "6:22: run.isolate.volumes[0].name: \"../../etc\" is not a volume name"
                        + " (letters, digits, '_', '.', '-', starting with a letter or digit, at most 64)"),
                Arguments.of("alias-bomb", "9:25: more than 50 aliases (*f); aliases can make a small file stand for a"
                        + " huge one, and a policy needs few"),
                Arguments.of("user-unknown", "3:11: match[0].user: no user \"no-such-user-x\" on this host (/etc/passwd);"
                        + " create it or give a numeric uid"),
                Arguments.of("binary", "1:1: file is not UTF-8 text: byte 0xf2 at offset 0 cannot start or continue a UTF-8 character"),
                Arguments.of("invalid-utf8", "2:17: file is not UTF-8 text: byte 0xc3 at offset 24 cannot start or continue a UTF-8 character"),
                // a byte order mark is read past: the error is where an editor shows it
                Arguments.of("bom", "2:13: pids.max: -1 is out of range 1..9223372036854775807"),
                Arguments.of("classid-overflow", "3:12: network.classId: \"0x1ffffffffffffffffffff\" is not a class id;"
                        + " write tc's MAJOR:MINOR in hexadecimal (\"10:1\"), the 32-bit number in hexadecimal"
                        + " (\"0x100001\") or in decimal (1048577)"),
                Arguments.of("ifname-escape", "4:5: network.priorities: \"../../etc/passwd\" is not a network interface"
                        + " name (1 to 15 characters, no '/', ':' or blanks, as `ip link` shows them)"),
                Arguments.of("hugetlb-limit-huge", "3:28: hugetlb[0].limit: \"99999999999999999999999Ti\" is larger than"
                        + " any size the kernel accepts"),
                Arguments.of("hugetlb-long-list", "3:3: hugetlb: 5000 entries; one per huge page size, and no host has"
                        + " more than 8"),
                Arguments.of("frozen-string", "3:11: freezer.frozen: expected true or false, got \"yes\""),
                Arguments.of("empty", "1:1: file holds no policy; delete the file to remove its groups"),
                Arguments.of("many-documents", "1:1: file holds no policy; delete the file to remove its groups"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void eachHostileFileIsRefusedWhereItBreaks(String name, String expected) throws IOException {
        Path file = copy(name, tmp);
        List<PolicyError> errors = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> validator.validate(List.of(file)));
        assertEquals(List.of(file + ":" + expected), errors.stream().map(PolicyError::toString).toList());
        errors.forEach(HostileInputTest::short_);
    }

    @Test
    void theWholeCorpusAsADirectoryIsRefusedFileByFileInBoundedTime() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policies.d"));
        List<String> names = corpus().map(a -> (String) a.get()[0]).toList();
        for (String name : names) {
            copy(name, dir);
        }
        Files.writeString(dir.resolve("good.yaml"), "name: good\npids: {max: 10}\n");
        long start = System.nanoTime();
        List<PolicyError> errors = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> validator.validate(List.of(dir)));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(names.size(), errors.size(), errors::toString);
        assertTrue(errors.stream().noneMatch(e -> e.file().getFileName().toString().equals("good.yaml")));
        errors.forEach(HostileInputTest::short_);
        assertTrue(millis < 5000, millis + " ms");
    }

    /** The parser on its own, given deeper nesting still: a rejection, never a StackOverflowError. */
    @Test
    void nestingTenThousandDeepOfEachKindIsALocatedRejection() {
        PolicyParser parser = new PolicyParser(FakeHost.HOST);
        for (String text : List.of("name: a\ndescription: " + "[".repeat(10_000),
                "name: a\ndescription: " + "{a: ".repeat(10_000),
                "name: a\ndescription:\n  " + "- ".repeat(10_000) + "x",
                "- ".repeat(10_000) + "x", "[".repeat(100_000) + "]".repeat(100_000))) {
            ParseResult result = parser.parse(PolicyParserTest.WEB, text);
            ParseResult.Rejected rejected = assertInstanceOf(ParseResult.Rejected.class, result);
            assertEquals(1, rejected.errors().size(), rejected.errors()::toString);
            assertTrue(rejected.errors().getFirst().message().startsWith("nesting deeper than 64 levels"),
                    rejected.errors()::toString);
        }
    }

    @Test
    void sixtyFourLevelsAreStillRead() {
        // the bound counts the document's own mapping: 63 more levels inside description
        String ok = "name: a\ndescription: " + "[".repeat(63) + "]".repeat(63) + "\n";
        ParseResult r = new PolicyParser(FakeHost.HOST).parse(PolicyParserTest.WEB, ok);
        assertEquals(List.of(PolicyParserTest.WEB + ":2:14: description: expected text, got a list"),
                ((ParseResult.Rejected) r).errors().stream().map(PolicyError::toString).toList());
    }

    @Test
    void aFileOfThousandsOfBrokenDocumentsReportsAHundredAndCountsTheRest() {
        List<String> errors = problems("--- 1\n".repeat(20_000));
        assertEquals(101, errors.size());
        assertEquals(PolicyParserTest.WEB + ":1:5: a policy must be a mapping of keys such as \"name:\", got the number 1",
                errors.getFirst());
        assertEquals(PolicyParserTest.WEB + ":101:5: 19900 more errors in this file from here on; fix the ones above first",
                errors.getLast());
    }

    /** Jazzer's finding (its RegexInjection sanitizer): a cmdline the regex engine refuses is a located error. */
    @Test
    void aCmdlineTheRegexEngineRefusesIsALocatedErrorNotAnException() throws IOException {
        // as the fuzzer read it: bytes that are not UTF-8 replaced, as validate would refuse them
        Path file = copy("fuzz-cmdline-bad-escape", tmp);
        List<PolicyError> errors = PolicyParserFuzzTest.checked(
                new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(errors.stream().anyMatch(e -> e.line() == 7 && e.column() == 14
                && e.message().startsWith("match[1].cmdline: ")), errors::toString);
        errors.forEach(HostileInputTest::short_);
    }

    /** Jazzer's finding: escaped control characters made a cut message 404 characters long. */
    @Test
    void aMessageCutWhereEscapesAreStaysWithinItsLimit() {
        String escapes = "a".repeat(398) + "\u001b".repeat(10);
        assertEquals("a".repeat(398) + "...", Nodes.clip(escapes, 400));
        assertEquals("\"" + "\\x1b".repeat(20) + "...\"", Nodes.quote("\u001b".repeat(100)));
        assertEquals("ab\\0", Nodes.clip("ab\0", 4));
    }

    @Test
    void numbersOutOfRangeNeverShowAJavaException() {
        for (String value : List.of("0x", "0o9", "-0x10", "1" + "0".repeat(100), "-" + "9".repeat(30), "0x" + "f".repeat(17))) {
            List<String> errors = problems("name: web\npids: {max: " + value + "}\n");
            assertEquals(1, errors.size(), errors::toString);
            assertTrue(errors.getFirst().startsWith(PolicyParserTest.WEB + ":2:13: pids.max: "), errors::toString);
            assertFalse(errors.getFirst().contains("Exception") || errors.getFirst().contains("For input string"),
                    errors::toString);
        }
    }

    @Test
    void uidMapsStayWithinTheKernelsIds() {
        String head = "name: web\nrun:\n  command: [/bin/x]\n  isolate: {namespaces: [user], uidMap: \"";
        assertEquals(List.of(), problems(head + "0 4294901760 65535\"}\n"));
        for (String map : List.of("0 4294901760 65536", "4294967295 0 1", "0 0 4294967296", "99999999999 0 1",
                "0 999999999999999999999 1")) {
            List<String> errors = problems(head + map + "\"}\n");
            assertEquals(1, errors.size(), errors::toString);
            assertTrue(errors.getFirst().startsWith(PolicyParserTest.WEB + ":4:41: run.isolate.uidMap: \"" + map + "\""),
                    errors::toString);
        }
    }

    @Test
    void controlCharactersAreRefusedInWordsAndPathsButTabsAndLineBreaksPassInFreeText() {
        assertEquals(List.of(PolicyParserTest.WEB + ":2:38: run.workingDir: holds the control character U+000A at"
                        + " character 5 of \"/srv\\n\""),
                problems("name: web\nrun: {command: [/bin/x], workingDir: \"/srv\\n\"}\n"));
        assertEquals(List.of(PolicyParserTest.WEB + ":2:15: match[0].exe: holds the control character U+0007 at"
                        + " character 2 of \"/\\x07\""),
                problems("name: web\nmatch: [{exe: \"/\\a\"}]\n"));
        assertEquals(List.of(), problems("name: web\ndescription: \"a\\tb\\nc\"\n"
                + "run: {command: [/bin/sh, -c, \"echo a\\necho b\"], env: {A: \"x\\ty\"}}\n"));
    }

    @Test
    void aLongValueIsQuotedInPartOnly() {
        List<String> errors = problems("name: web\nrun: {command: [/bin/x], restart: " + "z".repeat(5000) + "}\n");
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().length() < 300, errors.getFirst());
        assertTrue(errors.getFirst().contains("\"" + "z".repeat(80) + "...\""), errors.getFirst());
    }

    @Test
    void specialFilesAreRefusedByNameAndIgnoredInADirectory() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("special.d"));
        Path fifo = dir.resolve("fifo.yaml");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path devNull = Files.createSymbolicLink(dir.resolve("null.yaml"), Path.of("/dev/null"));
        Path subdir = Files.createDirectory(dir.resolve("x.yaml"));
        Path target = copy("tag-int", tmp);
        Path link = Files.createSymbolicLink(dir.resolve("link.yaml"), target);
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.yaml"), tmp.resolve("nothing-here"));

        // named one by one: each refused at 1:1 as what it is, the FIFO never opened (it would
        // block); a directory named x.yaml is a directory to validate, here an empty one
        List<PolicyError> named = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> validator.validate(List.of(fifo, devNull, subdir, link, dangling)));
        assertEquals(List.of(
                fifo + ":1:1: " + fifo + " is not a regular file",
                devNull + ":1:1: " + devNull + " is not a regular file",
                link + ":2:13: explicit YAML tag \"!!int\"" + TAG,
                dangling + ":1:1: no such file or directory"),
                named.stream().map(PolicyError::toString).toList());

        // as a directory: only the link to a regular file is a policy file; the rest are not read
        List<PolicyError> listed = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> validator.validate(List.of(dir)));
        assertEquals(List.of(link + ":2:13: explicit YAML tag \"!!int\"" + TAG),
                listed.stream().map(PolicyError::toString).toList());
    }

    private static List<String> problems(String yaml) {
        return switch (new PolicyParser(FakeHost.HOST).parse(PolicyParserTest.WEB, yaml)) {
            case ParseResult.Ok ok -> List.of();
            case ParseResult.Rejected r -> r.errors().stream().map(PolicyError::toString).toList();
        };
    }

    static void short_(PolicyError e) {
        assertTrue(e.message().length() <= Nodes.MESSAGE_MAX + 3, e::toString);
        assertFalse(e.message().contains("Exception") || e.message().contains("\tat "), e::toString);
        assertTrue(e.line() >= 1 && e.column() >= 1);
    }

    private Path copy(String name, Path dir) throws IOException {
        Path f = dir.resolve(name + ".yaml");
        try (InputStream in = HostileInputTest.class.getResourceAsStream("/hostile/" + name + ".yaml")) {
            Files.write(f, in.readAllBytes());
        }
        return f;
    }
}

package io.jgovernor.classify;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.ParsedPolicy;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Compiled match rules against processes laid out as a fake /proc in a temp dir. */
class MatchRulesTest {
    @TempDir
    Path tmp;

    private final PolicyParser parser = new PolicyParser(new SysfsHostFacts());

    private CatalogState catalog(Map<String, String> files) {
        SortedMap<GroupName, Policy> desired = new TreeMap<>();
        List<CatalogState.FileStatus> statuses = new ArrayList<>();
        for (var e : files.entrySet()) {
            Path file = tmp.resolve(e.getKey());
            TreeSet<GroupName> groups = new TreeSet<>();
            switch (parser.parse(file, e.getValue())) {
                case ParseResult.Ok ok -> {
                    for (ParsedPolicy p : ok.policies()) {
                        desired.put(p.policy().name(), p.policy());
                        groups.add(p.policy().name());
                    }
                }
                case ParseResult.Rejected r -> fail("rejected: " + r.errors());
            }
            statuses.add(new CatalogState.FileStatus(file, true, List.of(), groups, false));
        }
        return new CatalogState(desired, statuses, List.of());
    }

    /** A fake /proc/PID with comm, cmdline (NUL-separated), status (Uid line) and an exe link. */
    private ProcessView process(int pid, String comm, String exe, long euid, String... argv) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("proc").resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("comm"), comm + "\n");
        Files.writeString(dir.resolve("cmdline"), String.join("\0", argv) + "\0");
        Files.writeString(dir.resolve("status"), "Name:\t" + comm + "\nUid:\t0\t" + euid + "\t" + euid + "\t" + euid + "\n");
        Files.createSymbolicLink(dir.resolve("exe"), Path.of(exe));
        return new ProcessView(new ProcFiles(tmp.resolve("proc")), pid);
    }

    private Path passwd() throws IOException {
        return Files.writeString(tmp.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/sh\n");
    }

    private Optional<String> chosen(MatchRules rules, ProcessView p) {
        return rules.choose(p).map(c -> c.group().value());
    }

    @Test
    void everyKeyOfAnEntryMustHoldAndAnyEntryMay() throws IOException {
        MatchRules rules = MatchRules.compile(catalog(Map.of("web.yaml", """
                name: web
                match:
                  - comm: nginx
                  - exe: /usr/bin/python3.11
                    cmdline: 'http\\.server'
                    user: www-data
                """)), passwd());
        assertEquals(Optional.of("web"), chosen(rules, process(10, "nginx", "/usr/sbin/nginx", 0, "nginx")));
        assertEquals(Optional.of("web"), chosen(rules, process(11, "python3", "/usr/bin/python3.11", 33,
                "python3", "-m", "http.server", "8080")));
        assertEquals(Optional.empty(), chosen(rules, process(12, "python3", "/usr/bin/python3.11", 0,
                "python3", "-m", "http.server")), "user does not hold");
        assertEquals(Optional.empty(), chosen(rules, process(13, "python3", "/usr/bin/python3.11", 33,
                "python3", "-m", "httpXserver")), "the regex is searched, the dot escaped");
        assertEquals(Optional.empty(), chosen(rules, process(14, "python3", "/usr/bin/python3", 33,
                "python3", "-m", "http.server")), "exe is exact");
    }

    @Test
    void thePolicyWhoseFileNameSortsFirstWins() throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("20-batch.yaml", "name: aaa\nmatch:\n  - comm: worker\n");
        files.put("10-web.yaml", "name: zzz\nmatch:\n  - comm: worker\n");
        MatchRules rules = MatchRules.compile(catalog(files), passwd());
        ProcessView p = process(20, "worker", "/bin/worker", 0, "worker");
        assertEquals(Optional.of("zzz"), chosen(rules, p));
        assertEquals(List.of("zzz", "aaa"), rules.all(p).stream().map(c -> c.group().value()).toList());
    }

    @Test
    void numericUidsMatchAndUnknownUserNamesMatchNothing() throws IOException {
        MatchRules rules = MatchRules.compile(catalog(Map.of("a.yaml", """
                name: a
                match:
                  - {comm: job, user: "1234"}
                  - {comm: other, user: nobody}
                """)), passwd());
        assertEquals(Optional.of("a"), chosen(rules, process(30, "job", "/bin/job", 1234, "job")));
        assertEquals(Optional.empty(), chosen(rules, process(31, "other", "/bin/other", 0, "other")));
    }

    @Test
    void aProcessThatIsGoneMatchesNothing() throws IOException {
        MatchRules rules = MatchRules.compile(catalog(Map.of("a.yaml", "name: a\nmatch:\n  - cmdline: x\n")), passwd());
        assertEquals(Optional.empty(), chosen(rules, new ProcessView(new ProcFiles(tmp.resolve("proc")), 99)));
    }

    private MatchRules cmdlineRule(String pattern) throws IOException {
        return MatchRules.compile(catalog(Map.of("a.yaml", "name: a\nmatch:\n  - cmdline: '" + pattern + "'\n")), passwd());
    }

    @Test
    void cmdlineIsSearchedInArgvJoinedBySpacesAndAnchorsHoldAtItsEnds() throws IOException {
        ProcessView p = process(40, "java", "/usr/bin/java", 0, "java", "-Xmx1g", "-jar", "/srv/app.jar");
        assertEquals(Optional.of("a"), chosen(cmdlineRule("-jar /srv/"), p), "a search, not a whole match");
        assertEquals(Optional.of("a"), chosen(cmdlineRule("^java -Xmx"), p));
        assertEquals(Optional.of("a"), chosen(cmdlineRule("app\\.jar$"), p));
        assertEquals(Optional.empty(), chosen(cmdlineRule("^-jar"), process(41, "java", "/usr/bin/java", 0, "java", "-jar", "x")));
        assertEquals(Optional.empty(), chosen(cmdlineRule("java$"), process(42, "java", "/usr/bin/java", 0, "java", "-jar", "x")));
        assertEquals(Optional.of("a"), chosen(cmdlineRule("(?i)APP\\.JAR"), p), "RE2 flags");
    }

    @Test
    void patternsThatMakeABacktrackingEngineExplodeAnswerCorrectly() throws IOException {
        // java.util.regex overflows its stack on the first (60 KB) and backtracks for seconds on the second
        String ab = "ab".repeat(30_000);
        assertEquals(Optional.empty(), chosen(cmdlineRule("--opts=(a|b)*c"), process(50, "sleep", "/bin/sleep", 65534, "sleep", "--opts=" + ab)));
        assertEquals(Optional.of("a"), chosen(cmdlineRule("--opts=(a|b)*c"), process(51, "sleep", "/bin/sleep", 65534, "sleep", "--opts=" + ab.substring(0, 2_000) + "c")));
        String abc = "abc".repeat(1_000);
        assertEquals(Optional.empty(), chosen(cmdlineRule(".*a.*b.*c.*d"), process(52, "sleep", "/bin/sleep", 65534, "sleep", abc)));
        assertEquals(Optional.of("a"), chosen(cmdlineRule(".*a.*b.*c.*d"), process(53, "sleep", "/bin/sleep", 65534, "sleep", abc + "d")));
    }

    @Test
    void aRuleSeesOnlyTheFirst4KiBOfACommandLine() throws IOException {
        String filler = "x".repeat(ProcFiles.MAX_CMDLINE);
        ProcessView p = process(60, "sleep", "/bin/sleep", 0, "sleep", filler, "--late-flag");
        assertEquals(Optional.empty(), chosen(cmdlineRule("--late-flag"), p), "beyond the prefix");
        assertEquals(ProcFiles.MAX_CMDLINE, p.cmdline().length());
        assertEquals(Optional.of("a"), chosen(cmdlineRule("^sleep x"), process(61, "sleep", "/bin/sleep", 0, "sleep", filler, "--late-flag")));
    }
}

package io.jgovernor.packaging;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * packaging/prometheus/jgovernor-rules.yml passes promtool's checks, its unit tests
 * (jgovernor-rules.test.yml: every alert fires, a case below each threshold does not), and names
 * only metrics the daemon exports, so a renamed metric cannot leave an alert that never fires.
 */
class PrometheusRulesTest {
    private static final Path DIR = Tool.REPO.resolve("packaging/prometheus");
    private static final Pattern EXPORTED = Pattern.compile("(counter|gauge)\\(\"(jgovernor_[a-z_]+)\"");
    private static final Pattern USED = Pattern.compile("\\bjgovernor_[a-z_]+[a-z]");
    /**
     * daemon.md's second wave, exported by the daemon once that lands; the rule falls back to
     * memory usage without it (and jgovernor-rules.test.yml tests both).
     */
    private static final Set<String> SECOND_WAVE = Set.of("jgovernor_group_memory_working_set_bytes");

    @Test
    void promtoolChecksTheRules() throws Exception {
        Tool.Result r = Tool.run(Map.of(), Tool.path("promtool", "prometheus"), "check", "rules", DIR.resolve("jgovernor-rules.yml").toString());
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("SUCCESS: 9 rules found"), r.both());
    }

    @Test
    void everyAlertFiresInTheUnitTestsAndNoneBelowItsThreshold() throws Exception {
        Tool.Result r = Tool.run(Map.of(), Tool.path("promtool", "prometheus"), "test", "rules",
                DIR.resolve("jgovernor-rules.test.yml").toString());
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("SUCCESS"), r.both());
        String rules = Files.readString(DIR.resolve("jgovernor-rules.yml"));
        String tests = Files.readString(DIR.resolve("jgovernor-rules.test.yml"));
        for (Matcher m = Pattern.compile("- alert: (\\w+)").matcher(rules); m.find(); ) {
            String alert = m.group(1);
            // fires in a test: an alert_rule_test for it with a non-empty exp_alerts
            assertTrue(Pattern.compile("alertname: " + alert + "\\n\\s+exp_alerts:\\n\\s+- exp_labels").matcher(tests).find(),
                    alert + " fires in no unit test");
        }
    }

    @Test
    void theRulesNameOnlyMetricsTheDaemonExports() throws Exception {
        Set<String> exported = new TreeSet<>(SECOND_WAVE);
        try (Stream<Path> sources = Files.walk(Tool.REPO.resolve("src/main/java/io/jgovernor"))) {
            for (Path p : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
                for (Matcher m = EXPORTED.matcher(Files.readString(p)); m.find(); ) {
                    // client_java adds _total to a counter's name in the exposition
                    exported.add(m.group(1).equals("counter") ? m.group(2) + "_total" : m.group(2));
                }
            }
        }
        assertTrue(exported.contains("jgovernor_group_oom_kills_total") && exported.contains("jgovernor_loop_up"), exported.toString());
        Set<String> used = new TreeSet<>();
        for (String line : Files.readAllLines(DIR.resolve("jgovernor-rules.yml"))) {
            if (line.strip().startsWith("expr:") || line.startsWith("          ")) {
                for (Matcher m = USED.matcher(line); m.find(); ) {
                    used.add(m.group());
                }
            }
        }
        assertTrue(used.size() >= 10, used.toString());
        used.removeAll(exported);
        assertEquals(Set.of(), used, "metrics the rules use and the daemon does not export");
    }
}

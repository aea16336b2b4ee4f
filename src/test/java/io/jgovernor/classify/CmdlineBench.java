package io.jgovernor.classify;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;
import io.jgovernor.testing.TestPolicies;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * What one process costs the classifier when a cmdline rule must judge it, worst cases included:
 * real processes with hostile command lines (3 KB to 128 KB), each judged as after its exec (a
 * fresh view: comm, then cmdline read from /proc, then RE2) against both hostile rules; and the
 * same match in java.util.regex, the engine before, for comparison. Not a unit test: a main, run
 * as root or not, on a quiet machine:
 *
 * <pre>./mvnw -B -q package -DskipTests &amp;&amp; java -cp "target/test-classes:target/classes:$(ls ~/.m2/repository/com/google/re2j/re2j/1.8/re2j-1.8.jar):target/quarkus-app/lib/main/*" \
 *     --enable-native-access=ALL-UNNAMED io.jgovernor.classify.CmdlineBench</pre>
 */
public final class CmdlineBench {
    private static final int WARMUPS = 2_000;
    private static final int RUNS = 2_000;

    public static void main(String[] args) throws Exception {
        String ab = "ab".repeat(30_000);
        String abc64k = "abc".repeat(21_800);
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put("typical (python3 -m http.server 8080)", List.of("-m", "http.server", "8080"));
        cases.put("3 KB abc..., no d", List.of("abc".repeat(1_000)));
        cases.put("60 KB --opts=abab..., no c", List.of("--opts=" + ab));
        cases.put("128 KB abc... (two arguments), no d", List.of(abc64k, abc64k));
        cases.put("128 KB --opts=abab... then abc...", List.of("--opts=" + ab, abc64k));

        SortedMap<GroupName, Policy> desired = TestPolicies.parse(Path.of("/etc/jgovernor/policies.d/h.yaml"), """
                name: hostile
                match:
                  - cmdline: '--opts=(a|b)*c'
                  - cmdline: '.*a.*b.*c.*d'
                """);
        CatalogState catalog = new CatalogState(desired, List.of(new CatalogState.FileStatus(
                Path.of("/etc/jgovernor/policies.d/h.yaml"), true, List.of(), new TreeSet<>(desired.keySet()), false)), List.of());
        MatchRules rules = MatchRules.compile(catalog, Path.of("/etc/passwd"));
        ProcFiles proc = new ProcFiles(Path.of("/proc"));
        java.util.regex.Pattern[] before = {
                java.util.regex.Pattern.compile("--opts=(a|b)*c"), java.util.regex.Pattern.compile(".*a.*b.*c.*d")};

        System.out.printf("%-40s %8s %8s %8s %8s   %s%n", "command line", "bytes", "p50 us", "p99 us", "max us",
                "java.util.regex, one match of the same prefix");
        for (var c : cases.entrySet()) {
            List<String> argv = new ArrayList<>(List.of("/bin/bash", "-c", "read x", "bench"));
            argv.addAll(c.getValue());
            Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                int pid = (int) p.pid();
                while (!"bash".equals(proc.comm(pid)) || proc.cmdline(pid).length() < 10) {
                    Thread.sleep(1);
                }
                long[] ns = new long[RUNS];
                boolean matched = false;
                for (int i = 0; i < WARMUPS + RUNS; i++) {
                    long t0 = System.nanoTime();
                    matched = rules.choose(new ProcessView(proc, pid)).isPresent();
                    long t = System.nanoTime() - t0;
                    if (i >= WARMUPS) {
                        ns[i - WARMUPS] = t;
                    }
                }
                Arrays.sort(ns);
                String line = proc.cmdline(pid);
                System.out.printf("%-40s %8d %8.1f %8.1f %8.1f   %s%s%n", c.getKey(), line.length(),
                        ns[RUNS / 2] / 1e3, ns[RUNS * 99 / 100] / 1e3, ns[RUNS - 1] / 1e3, backtracking(before, line),
                        matched ? "  (matched)" : "");
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /** Both patterns once, in java.util.regex on a platform thread of the default stack size. */
    private static String backtracking(java.util.regex.Pattern[] patterns, String line) throws InterruptedException {
        String[] out = {""};
        Thread t = Thread.ofPlatform().daemon(true).start(() -> {
            long t0 = System.nanoTime();
            try {
                for (java.util.regex.Pattern p : patterns) {
                    p.matcher(line).find();
                }
                out[0] = String.format("%.1f us", (System.nanoTime() - t0) / 1e3);
            } catch (StackOverflowError e) {
                out[0] = String.format("StackOverflowError after %.1f us", (System.nanoTime() - t0) / 1e3);
            }
        });
        t.join(10_000);
        if (t.isAlive()) {
            t.interrupt();
            return "more than 10 s (abandoned)";
        }
        return out[0];
    }
}

package io.jgovernor.packaging;

import io.jgovernor.app.JgovernorConfig;
import io.jgovernor.policy.PolicyParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jgovernor(8) and jgovernor.policy(5) as the RPM builds them (packaging/man/build, scdoc) render
 * without a single warning from groff and man, and name every configuration key the daemon reads
 * and every policy key the parser accepts, so a key added to the code and not to the pages fails.
 */
class ManPagesTest {
    private static final Path SOURCES = Tool.REPO.resolve("packaging/man");
    private static final Map<String, String> C_LOCALE = Map.of("LC_ALL", "C", "MANWIDTH", "80");

    @TempDir
    Path out;

    @Test
    void bothPagesRenderWithoutWarnings() throws Exception {
        Tool.path("scdoc", "scdoc");
        Tool.Result build = Tool.run(Map.of(), "sh", SOURCES.resolve("build").toString(), out.toString());
        assertEquals(0, build.exit(), build.both());
        assertEquals("", build.err(), "scdoc said something");
        for (String page : List.of("jgovernor.8", "jgovernor.policy.5")) {
            Path p = out.resolve(page);
            assertTrue(Files.size(p) > 4000, page + " is made and not empty");
            // -t: the pages have tables (tbl); -ww: every warning; -z: no output, only the diagnostics
            Tool.Result groff = Tool.run(C_LOCALE, Tool.path("groff", "groff"), "-t", "-ww", "-z", "-man", p.toString());
            assertEquals(0, groff.exit(), page + ": " + groff.both());
            assertEquals("", groff.err() + groff.out(), page + ": groff -t -ww -z -man warns");
            // man(1) as an operator reads it (preconv, the man macros as man-db sets them up)
            Tool.Result man = Tool.run(C_LOCALE, Tool.path("man", "man-db"), "--warnings", "-l", p.toString());
            assertEquals(0, man.exit(), page + ": " + man.err());
            assertEquals("", man.err(), page + ": man --warnings warns");
            assertTrue(man.out().contains("NAME"), page + " renders");
        }
        String policy = Tool.run(C_LOCALE, "man", "-l", out.resolve("jgovernor.policy.5").toString()).out();
        assertTrue(policy.contains("swapLimit") && policy.contains("memory.memsw.limit_in_bytes"), policy);
    }

    @Test
    void jgovernor8NamesEveryConfigurationKey() throws Exception {
        String page = Files.readString(SOURCES.resolve("jgovernor.8.scd"));
        List<String> keys = new ArrayList<>();
        configKeys("jgovernor", JgovernorConfig.class, keys);
        assertTrue(keys.size() >= 15, "found the config mapping's keys: " + keys);
        List<String> missing = keys.stream().filter(k -> !page.contains("*" + k + "*")).toList();
        assertEquals(List.of(), missing, "configuration keys jgovernor(8) does not document");
    }

    @Test
    void jgovernorPolicy5NamesEveryKeyTheParserAccepts() throws Exception {
        String page = Files.readString(SOURCES.resolve("jgovernor.policy.5.scd"));
        TreeSet<String> keys = new TreeSet<>();
        for (Class<?> parser : List.of(PolicyParser.class, Class.forName("io.jgovernor.policy.RunParser"),
                Class.forName("io.jgovernor.policy.ProcessParser"))) {
            for (Field f : parser.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && f.getName().endsWith("_KEYS") && List.class.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    for (Object k : (List<?>) f.get(null)) {
                        keys.add((String) k);
                    }
                }
            }
        }
        assertTrue(keys.containsAll(List.of("name", "swapLimit", "readIops", "uidMap", "webhooks")), "found the parser's keys: " + keys);
        // a key is documented where it is a term (*key*), written in a key's path (*oom.webhooks*)
        // or a section's heading (## cpu, ## run.isolate)
        List<String> missing = keys.stream()
                .filter(k -> List.of("*" + k + "*", "*" + k + ",", "*" + k + ".", "." + k + "*", "## " + k + "\n", "." + k + "\n")
                        .stream().noneMatch(page::contains))
                .toList();
        assertEquals(List.of(), missing, "policy keys jgovernor.policy(5) does not document");
    }

    /** SmallRye's names: method names in kebab case, nested interfaces as a dotted prefix. */
    private static void configKeys(String prefix, Class<?> mapping, List<String> keys) {
        for (Method m : mapping.getDeclaredMethods()) {
            if (m.isSynthetic() || Modifier.isStatic(m.getModifiers()) || m.getParameterCount() > 0) {
                continue;
            }
            String key = prefix + "." + m.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
            if (m.getReturnType().isInterface() && m.getReturnType().getEnclosingClass() == JgovernorConfig.class) {
                configKeys(key, m.getReturnType(), keys);
            } else {
                keys.add(key);
            }
        }
    }
}

package io.jgovernor.testing;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.ParseResult;
import io.jgovernor.policy.ParsedPolicy;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.SysfsHostFacts;

import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.fail;

/** Test policy files parsed as the daemon parses them (this host's facts); a rejected one fails the test. */
public final class TestPolicies {
    private static final PolicyParser PARSER = new PolicyParser(new SysfsHostFacts());

    private TestPolicies() {
    }

    /**
     * Three workloads that never write a byte, each with a 2 s stop timeout; "deaf" ignores
     * SIGTERM (ignored by the shell, it stays ignored across exec), so only SIGKILL ends it.
     * Quiet output readers are what once held every virtual-thread carrier (issue 13).
     */
    public static final String QUIET_WORKLOADS = """
            name: quiet-a
            run: {command: ["/bin/sleep", "3600"], stopTimeout: 2s}
            ---
            name: quiet-b
            run: {command: ["/bin/sleep", "3601"], stopTimeout: 2s}
            ---
            name: deaf
            run: {command: ["/bin/sh", "-c", "trap '' TERM; exec sleep 3602"], stopTimeout: 2s}
            """;

    /** The policies of {@code yaml}, read as file {@code file}, by group. */
    public static SortedMap<GroupName, Policy> parse(Path file, String yaml) {
        SortedMap<GroupName, Policy> out = new TreeMap<>();
        switch (PARSER.parse(file, yaml)) {
            case ParseResult.Ok ok -> {
                for (ParsedPolicy p : ok.policies()) {
                    out.put(p.policy().name(), p.policy());
                }
            }
            case ParseResult.Rejected r -> fail("test policy rejected: " + r.errors());
        }
        return out;
    }
}

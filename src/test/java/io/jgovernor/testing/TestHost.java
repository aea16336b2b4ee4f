package io.jgovernor.testing;

import io.jgovernor.policy.SysfsHostFacts;

/**
 * What this test host's kernel offers, for tests whose policy would otherwise be refused here:
 * the policy parser refuses a key the host cannot honour, so a test that is not about that key
 * leaves it out where the host lacks it.
 */
public final class TestHost {
    private TestHost() {
    }

    /** Whether groups here can be given an I/O weight (a scheduler that reads one, e.g. BFQ). */
    public static boolean weightsIo() {
        SysfsHostFacts host = new SysfsHostFacts();
        return host.cgroupFileProblem("blkio.bfq.weight").isEmpty() || host.cgroupFileProblem("blkio.weight").isEmpty();
    }
}

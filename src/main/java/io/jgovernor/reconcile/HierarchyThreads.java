package io.jgovernor.reconcile;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a large pass's per-hierarchy work side by side, one short-lived platform thread per task
 * (a cold start or a full pass over many groups; small passes stay on the reconcile thread). The
 * kernel serializes cgroup work of one hierarchy more than work across hierarchies, so the reads
 * and writes of different hierarchies overlap. Returns when every task has finished: a pass is
 * never abandoned halfway, and an interrupt is kept for the caller to see afterwards.
 */
final class HierarchyThreads {
    private HierarchyThreads() {
    }

    static void runAll(String name, List<Runnable> tasks) {
        List<Thread> threads = new ArrayList<>(tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            threads.add(Thread.ofPlatform().name(name + "-" + i).start(tasks.get(i)));
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join(); // what the task wrote is visible to the caller after join
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.jgovernor.spawn;

/**
 * A group's workload for status and metrics. {@code state}: starting, running, backoff (waiting
 * to restart), exited (ended with 0, not restarted), failed, stopping, stopped. {@code pid} is 0
 * when nothing runs; {@code lastExit} is -1 for an adopted workload (its status is unknown).
 */
public record WorkloadStatus(String state, int pid, long restarts, String lastError, Integer lastExit) {
}

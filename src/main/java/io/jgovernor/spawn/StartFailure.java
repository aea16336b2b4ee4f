package io.jgovernor.spawn;

/** A workload could not be started: the message says which step failed and why. */
public final class StartFailure extends Exception {
    public StartFailure(String message) {
        super(message);
    }
}

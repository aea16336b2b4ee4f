package io.jgovernor.cgroup;

/**
 * One write to a cgroup file. {@code was} is the normalized value seen before (for logs and drift
 * reports); {@code wanted} is the normalized value expected after.
 */
public record Write(String file, String value, String was, String wanted) {
}

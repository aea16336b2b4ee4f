package io.jgovernor.policy;

import java.nio.file.Path;

/**
 * One problem in one policy file, located so that a person can jump to it: line and column are
 * 1-based, as editors count them. A problem with a whole file (its permissions, its size) sits at 1:1.
 */
public record PolicyError(Path file, int line, int column, String message) {
    public PolicyError {
        if (line < 1 || column < 1) {
            throw new IllegalArgumentException("line and column are 1-based: " + line + ":" + column);
        }
    }

    /** A problem with the file as a whole rather than with one place in it. */
    public static PolicyError whole(Path file, String message) {
        return new PolicyError(file, 1, 1, message);
    }

    /** The compiler-style form every tool understands: {@code file:line:column: message}. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}

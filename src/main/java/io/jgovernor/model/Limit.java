package io.jgovernor.model;

/** A resource limit: a number, or "max" (no limit) as its own value, never -1 or 0 in disguise. */
public sealed interface Limit {
    record Max() implements Limit {
        @Override
        public String toString() {
            return "max";
        }
    }

    record Of(long value) implements Limit {
        public Of {
            if (value < 0) {
                throw new IllegalArgumentException("a limit cannot be negative: " + value);
            }
        }

        @Override
        public String toString() {
            return Long.toString(value);
        }
    }

    Limit MAX = new Max();

    static Limit of(long value) {
        return new Of(value);
    }
}

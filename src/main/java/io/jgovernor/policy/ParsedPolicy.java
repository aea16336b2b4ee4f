package io.jgovernor.policy;

import io.jgovernor.model.Policy;

/**
 * A validated policy and where its {@code name} value sits (1-based), so that errors found only
 * when files are compared with each other (a name defined twice, a missing parent) still point
 * at a place in the file.
 */
public record ParsedPolicy(Policy policy, int nameLine, int nameColumn) {
}

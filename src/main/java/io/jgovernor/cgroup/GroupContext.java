package io.jgovernor.cgroup;

import io.jgovernor.model.CpuList;

/**
 * What a controller needs to know beyond the policy: the parent's effective cpuset (a v1 cpuset
 * directory starts empty and must be given cpus and mems inside its parent's before any process
 * can join).
 */
public record GroupContext(String path, CpuList parentCpus, CpuList parentMems) {
}

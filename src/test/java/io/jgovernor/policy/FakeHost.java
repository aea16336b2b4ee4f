package io.jgovernor.policy;

import io.jgovernor.model.CpuList;
import io.jgovernor.model.DeviceNumber;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A host with CPUs 0-3 on two NUMA nodes (0: 0-1, 1: 2-3), one disk, /dev/vda = 253:0, and the
 * users root, nobody and www-data (numeric uids always exist).
 */
final class FakeHost implements HostFacts {
    static final FakeHost HOST = new FakeHost();

    @Override
    public CpuList onlineCpus() {
        return CpuList.parse("0-3");
    }

    @Override
    public CpuList memoryNodes() {
        return CpuList.parse("0-1");
    }

    @Override
    public SortedMap<Integer, CpuList> numaNodes() {
        return new TreeMap<>(Map.of(0, CpuList.parse("0-1"), 1, CpuList.parse("2-3")));
    }

    @Override
    public DeviceNumber blockDevice(String device) {
        return switch (device) {
            case "/dev/vda", "253:0" -> new DeviceNumber(253, 0);
            case "/dev/vdb" -> new DeviceNumber(253, 16);
            case "/etc/hostname" -> throw new IllegalArgumentException("/etc/hostname is not a block device");
            default -> throw new IllegalArgumentException(device + " does not exist");
        };
    }

    @Override
    public boolean userExists(String name) {
        return name.chars().allMatch(Character::isDigit) || java.util.Set.of("root", "nobody", "www-data").contains(name);
    }

    /**
     * This host's CPUs, nodes and devices, for a test that changes one more answer (the cgroup
     * version, a counter) by overriding it.
     */
    static class Like implements HostFacts {
        @Override
        public CpuList onlineCpus() {
            return HOST.onlineCpus();
        }

        @Override
        public CpuList memoryNodes() {
            return HOST.memoryNodes();
        }

        @Override
        public SortedMap<Integer, CpuList> numaNodes() {
            return HOST.numaNodes();
        }

        @Override
        public DeviceNumber blockDevice(String device) {
            return HOST.blockDevice(device);
        }
    }
}

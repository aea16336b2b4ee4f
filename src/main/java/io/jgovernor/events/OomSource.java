package io.jgovernor.events;

import io.jgovernor.model.GroupName;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where OOM notifications come from: the kernel, watched for a set of groups. On cgroup v1 that is
 * {@link V1OomSource} (an eventfd per group on {@code memory.oom_control}); on v2 {@link V2OomSource}, inotify
 * on each group's {@code memory.events}. Either way one thread serves every group, and the listener
 * is called on it: it must read what it needs at once and hand everything slow to others.
 */
public interface OomSource extends AutoCloseable {
    /** Told about each notification, on the source's thread. */
    @FunctionalInterface
    interface Listener {
        void oom(GroupName group, Path memoryDir);
    }

    /**
     * Watches {@code group}, whose memory cgroup directory is {@code memoryDir} (which must exist).
     * Registering a group again with the same directory changes nothing. Returns once the kernel
     * watches it: an OOM from then on is seen.
     */
    void register(GroupName group, Path memoryDir) throws IOException;

    /** Stops watching {@code group}; nothing if it is not watched. */
    void unregister(GroupName group);

    /**
     * The groups watched now, with their directories. A group whose directory was removed drops
     * out by itself (v1 says so through the same eventfd), to be registered again when it is back.
     */
    Map<GroupName, Path> registered();

    @Override
    void close();
}

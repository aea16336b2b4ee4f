package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupText;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.sys.LoopHealth;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cgroup v2 OOM notifications: inotify on each group's {@code memory.events}, which the kernel
 * marks modified whenever one of its counters moves (Documentation/admin-guide/cgroup-v2.rst,
 * "memory.events ... A value change in this file generates a file modified event"), and one
 * thread reading the one inotify descriptor for every group.
 *
 * <p>The file also counts low, high and max events, which are not OOMs: the source remembers
 * {@code oom}, {@code oom_kill} and {@code oom_group_kill} per group and tells the listener only
 * when one of them grew. It reads them again after the listener returns, so the kill that follows
 * an "oom" (which the listener waits for) does not make a second event.
 *
 * <p>Unlike v1's eventfds, inotify watch descriptors are never reused by the kernel for a while
 * (they count up), so registering and unregistering happen on the caller's thread.
 */
public final class V2OomSource implements OomSource {
    private static final System.Logger LOG = System.getLogger(V2OomSource.class.getName());
    private static final int IN_Q_OVERFLOW = 0x4000;
    private static final int MASK = Libc.IN_MODIFY;
    private static final int EVENT_HEADER = 16;
    private static final String[] COUNTERS = {"oom", "oom_kill", "oom_group_kill"};

    private record Registration(GroupName group, Path dir, int wd, long[] seen) {
    }

    private final Listener listener;
    /** The memory controller's counters file (memory.events), watched for IN_MODIFY. */
    private final String eventsFile;
    private final int inotify;
    private final int stop;
    private final Map<GroupName, Registration> byGroup = new ConcurrentHashMap<>();
    private final Map<Integer, Registration> byWatch = new ConcurrentHashMap<>();
    private final Thread thread;
    private final LoopHealth.Loop health;
    private volatile boolean closed;

    public V2OomSource(OomFiles oom, Listener listener) throws IOException {
        this(oom, listener, new LoopHealth().register("oom", Duration.ofSeconds(30)));
    }

    /** @param health where the loop reports each batch of events it handles, and its death */
    public V2OomSource(OomFiles oom, Listener listener, LoopHealth.Loop health) throws IOException {
        this.health = health;
        this.eventsFile = oom.noticeFile();
        this.listener = listener;
        this.inotify = Libc.inotifyInit1(Libc.IN_CLOEXEC | Libc.IN_NONBLOCK);
        try {
            this.stop = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        } catch (ErrnoException e) {
            Libc.closeRaw(inotify);
            throw e;
        }
        // A run that ends (a poll error, any Error) is started again after a backoff; the watches stay.
        this.thread = Thread.ofPlatform().name("jgovernor-oom").daemon(true)
                .start(() -> health.supervise(this::loop, () -> closed));
    }

    @Override
    public synchronized void register(GroupName group, Path memoryDir) throws IOException {
        if (closed) {
            throw new IOException("the OOM watcher is closed");
        }
        Path dir = memoryDir.normalize();
        Registration old = byGroup.get(group);
        if (old != null) {
            if (old.dir.equals(dir) && Files.exists(dir.resolve(eventsFile))) {
                return;
            }
            drop(old);
        }
        // Counters first, then the watch: a change in between shows as a modification later.
        long[] seen = counters(dir).orElseThrow(() -> new IOException("group " + group + ": " + dir.resolve(eventsFile)
                + " cannot be read; is the memory controller enabled for it?"));
        int wd = Libc.inotifyAddWatch(inotify, dir.resolve(eventsFile).toString(), MASK);
        Registration r = new Registration(group, dir, wd, seen);
        byWatch.put(wd, r);
        byGroup.put(group, r);
    }

    @Override
    public synchronized void unregister(GroupName group) {
        Registration r = byGroup.get(group);
        if (r != null) {
            drop(r);
        }
    }

    private void drop(Registration r) {
        byGroup.remove(r.group, r);
        byWatch.remove(r.wd, r);
        try {
            Libc.inotifyRmWatch(inotify, r.wd);
        } catch (ErrnoException e) {
            // EINVAL: the kernel already dropped the watch, because the cgroup was removed
        }
    }

    @Override
    public Map<GroupName, Path> registered() {
        Map<GroupName, Path> out = new HashMap<>();
        byGroup.forEach((g, r) -> out.put(g, r.dir));
        return out;
    }

    /** oom, oom_kill and oom_group_kill from the group's memory.events; empty when unreadable. */
    private Optional<long[]> counters(Path dir) {
        String text;
        try {
            text = Files.readString(dir.resolve(eventsFile), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return Optional.empty();
        }
        long[] out = new long[COUNTERS.length];
        for (int i = 0; i < COUNTERS.length; i++) {
            try {
                out[i] = CgroupText.keyed(text, COUNTERS[i]).orElse(0L);
            } catch (IllegalArgumentException e) {
                out[i] = 0; // a malformed line is no count; the rest of the file still is
            }
        }
        return Optional.of(out);
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(Libc.POLLFD, 2);
            MemorySegment buf = arena.allocate(64 * 1024, 8);
            fds.set(ValueLayout.JAVA_INT, 0, inotify);
            fds.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
            fds.set(ValueLayout.JAVA_INT, 8, stop);
            fds.set(ValueLayout.JAVA_SHORT, 12, Libc.POLLIN);
            while (!closed) {
                health.idle();
                Libc.poll(fds, 2, -1);
                health.busy();
                if (closed) {
                    return;
                }
                if ((fds.get(ValueLayout.JAVA_SHORT, 6) & Libc.POLLIN) != 0) {
                    drain(buf);
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "OOM watcher: " + e.getMessage() + "; restarting it", e);
            }
        } finally {
            health.idle();
        }
    }

    private void drain(MemorySegment buf) throws ErrnoException {
        while (true) {
            long n;
            try {
                n = Libc.read(inotify, buf);
            } catch (ErrnoException e) {
                if (e.errno() == 11) { // EAGAIN: queue empty
                    return;
                }
                throw e;
            }
            for (long off = 0; off + EVENT_HEADER <= n; ) {
                int wd = buf.get(ValueLayout.JAVA_INT, off);
                int mask = buf.get(ValueLayout.JAVA_INT, off + 4);
                int len = buf.get(ValueLayout.JAVA_INT, off + 12);
                off += EVENT_HEADER + len;
                if ((mask & IN_Q_OVERFLOW) != 0) {
                    // events were lost: look at every group's counters
                    byGroup.values().forEach(this::check);
                    continue;
                }
                Registration r = byWatch.get(wd);
                if (r == null) {
                    continue;
                }
                if ((mask & Libc.IN_IGNORED) != 0) {
                    // the cgroup was removed; the next pass registers it again if it comes back
                    LOG.log(System.Logger.Level.DEBUG, "group " + r.group + ": " + r.dir + " removed; no longer watched for OOM");
                    byWatch.remove(wd, r);
                    byGroup.remove(r.group, r);
                    continue;
                }
                check(r);
            }
        }
    }

    /** Tells the listener when an OOM counter grew since the last look. */
    private void check(Registration r) {
        Optional<long[]> now = counters(r.dir);
        if (now.isEmpty() || !grew(r.seen, now.get())) {
            return;
        }
        try {
            listener.oom(r.group, r.dir);
        } catch (Throwable e) {
            health.failed("group " + r.group + ": handling an OOM notification", e);
        }
        // what the listener saw (including a kill it waited for) is not news next time
        long[] after = counters(r.dir).orElse(now.get());
        System.arraycopy(after, 0, r.seen, 0, r.seen.length);
    }

    private static boolean grew(long[] before, long[] now) {
        for (int i = 0; i < before.length; i++) {
            if (now[i] > before[i]) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc.eventfdSignal(stop);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libc.closeRaw(inotify);
        Libc.closeRaw(stop);
    }
}

package io.jgovernor.policy;

import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.sys.LoopHealth;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Watches the policy directory with inotify and says when a policy file may have changed.
 *
 * <p>Raw inotify rather than the JDK's WatchService because of one event: IN_CLOSE_WRITE. The
 * WatchService reports IN_MODIFY, which fires on every write(2) of a file still being written;
 * parsing then could apply half a policy. Here a file is looked at when its writer closes it,
 * when it is renamed into place (IN_MOVED_TO, what editors and config management do), deleted,
 * or its mode or owner changes (IN_ATTRIB: fixing permissions makes a refused file acceptable).
 * The watcher names the files that changed, so a pass reads only those; when it cannot know
 * (the kernel's queue overflowed, the directory was replaced) it says "everything", and the
 * catalog lists the directory and compares fingerprints.
 */
public final class PolicyWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PolicyWatcher.class.getName());
    private static final int IN_Q_OVERFLOW = 0x4000;
    private static final int MASK = Libc.IN_CLOSE_WRITE | Libc.IN_MOVED_TO | Libc.IN_MOVED_FROM | Libc.IN_DELETE
            | Libc.IN_CREATE | Libc.IN_ATTRIB | Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_ONLYDIR;
    /** struct inotify_event: int wd; uint32 mask, cookie, len; char name[len]. */
    private static final int EVENT_HEADER = 16;
    private static final long RETRY_MILLIS = 1000;

    private final Path dir;
    /** Called with the names of changed policy files, or with null: look at every file. */
    private final Consumer<Set<String>> onChange;
    private final int inotify;
    private final int stop;
    private volatile boolean closed;
    private int watch = -1;
    private Thread thread;
    private volatile LoopHealth.Loop health = new LoopHealth().register("policy-watch", Duration.ofSeconds(10));

    public PolicyWatcher(Path dir, Consumer<Set<String>> onChange) throws ErrnoException {
        this.dir = dir;
        this.onChange = onChange;
        this.inotify = Libc.inotifyInit1(Libc.IN_CLOEXEC | Libc.IN_NONBLOCK);
        this.stop = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    }

    /** Where this loop reports each batch of events it handles, and its death. */
    public void health(LoopHealth.Loop loop) {
        this.health = loop;
    }

    public synchronized void start() {
        addWatch();
        // A run that ends (a poll error, any Error) is started again after a backoff.
        thread = Thread.ofPlatform().name("jgovernor-policy-watch").daemon(true)
                .start(() -> health.supervise(this::run, () -> closed));
    }

    private boolean addWatch() {
        try {
            watch = Libc.inotifyAddWatch(inotify, dir.toString(), MASK);
            return true;
        } catch (ErrnoException e) {
            watch = -1;
            LOG.log(System.Logger.Level.WARNING, "cannot watch " + dir + " (" + e.getMessage()
                    + "); checking again every second");
            return false;
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(Libc.POLLFD, 2);
            MemorySegment buf = arena.allocate(64 * 1024, 8);
            fds.set(ValueLayout.JAVA_INT, 0, inotify);
            fds.set(ValueLayout.JAVA_SHORT, 4, Libc.POLLIN);
            fds.set(ValueLayout.JAVA_INT, 8, stop);
            fds.set(ValueLayout.JAVA_SHORT, 12, Libc.POLLIN);
            while (!closed) {
                int timeout = watch < 0 ? (int) RETRY_MILLIS : -1;
                health.idle();
                int ready = Libc.poll(fds, 2, timeout);
                health.busy();
                if (closed) {
                    return;
                }
                if (ready == 0) {
                    // The directory was missing: once it is back, whatever is in it is new.
                    if (Files.isDirectory(dir) && addWatch()) {
                        onChange.accept(null);
                    }
                    continue;
                }
                if ((fds.get(ValueLayout.JAVA_SHORT, 6) & Libc.POLLIN) != 0) {
                    Set<String> names = new HashSet<>();
                    if (drain(buf, names)) {
                        onChange.accept(null);
                    } else if (!names.isEmpty()) {
                        onChange.accept(names);
                    }
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "policy watcher stopped; periodic passes still pick up changes", e);
            }
        } finally {
            health.idle();
        }
    }

    /**
     * Reads every queued event, adding the policy files they name to {@code names}; returns true
     * when every file must be looked at (queue overflow, the directory itself moved or went).
     */
    private boolean drain(MemorySegment buf, Set<String> names) throws ErrnoException {
        boolean everything = false;
        while (true) {
            long n;
            try {
                n = Libc.read(inotify, buf);
            } catch (ErrnoException e) {
                if (e.errno() == 11) { // EAGAIN: queue empty
                    return everything;
                }
                throw e;
            }
            for (long off = 0; off + EVENT_HEADER <= n; ) {
                int mask = buf.get(ValueLayout.JAVA_INT, off + 4);
                int len = buf.get(ValueLayout.JAVA_INT, off + 12);
                String name = len > 0 ? name(buf, off + EVENT_HEADER, len) : "";
                off += EVENT_HEADER + len;
                if ((mask & IN_Q_OVERFLOW) != 0) {
                    everything = true;
                } else if ((mask & (Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF | Libc.IN_IGNORED)) != 0) {
                    LOG.log(System.Logger.Level.WARNING, "policy directory " + dir + " was removed or moved");
                    watch = -1;
                    everything = true;
                } else if (PolicyDirectory.isPolicyName(name)) {
                    // A new regular file is read when its writer closes it; a new symlink has no close.
                    boolean createdFile = mask == Libc.IN_CREATE && !Files.isSymbolicLink(dir.resolve(name));
                    if (!createdFile) {
                        names.add(name);
                    }
                }
            }
        }
    }

    private static String name(MemorySegment buf, long offset, int len) {
        byte[] bytes = buf.asSlice(offset, len).toArray(ValueLayout.JAVA_BYTE);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            Libc.write(stop, one);
        } catch (ErrnoException e) {
            // the thread also stops at its next event
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Libc.close(inotify);
            Libc.close(stop);
        } catch (ErrnoException e) {
            // nothing left to do with a descriptor that will not close
        }
    }
}

package io.jgovernor.events;

import io.jgovernor.model.Pressure;
import io.jgovernor.sys.Errno;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.sys.LoopHealth;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's PSI triggers (Documentation/accounting/psi.rst, "Monitoring for pressure
 * thresholds"): for each trigger, {@code <dir>/<resource>.pressure} is opened read-write and
 * {@code "some 150000 1000000"} (stall microseconds per window microseconds) written to it; the
 * kernel then signals POLLPRI on that descriptor when the stall time within a moving window
 * reaches the threshold, at most once per window. The trigger lives as long as the descriptor.
 *
 * <p>One platform thread waits on one epoll instance for every trigger, as the OOM source does, and
 * tells the listener on that thread. A trigger whose cgroup is removed gets EPOLLERR (the kernel
 * destroys it with the directory): it is dropped, and registered again by the caller when the
 * directory is back.
 *
 * @param <K> what the caller knows a trigger by
 */
public final class PressureTriggers<K> implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PressureTriggers.class.getName());

    /** Told about each firing, on the watcher's thread. */
    @FunctionalInterface
    public interface Listener<K> {
        void fired(K key, Path dir, Pressure.Trigger trigger);
    }

    private record Registration<K>(K key, Path dir, Pressure.Trigger trigger, int fd, long[] lastFiredNanos) {
    }

    private final Listener<K> listener;
    private final int epoll;
    private final int stop;
    private final Map<K, Registration<K>> byKey = new ConcurrentHashMap<>();
    private final Map<Integer, Registration<K>> byFd = new ConcurrentHashMap<>();
    private final Thread thread;
    private final LoopHealth.Loop health;
    private volatile boolean closed;

    public PressureTriggers(Listener<K> listener, LoopHealth.Loop health) throws ErrnoException {
        this.listener = listener;
        this.health = health;
        this.epoll = Libc.epollCreate1(Libc.EPOLL_CLOEXEC);
        try {
            this.stop = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        } catch (ErrnoException e) {
            Libc.closeRaw(epoll);
            throw e;
        }
        int r = Libc.epollCtlRaw(epoll, Libc.EPOLL_CTL_ADD, stop, Libc.EPOLLIN);
        if (r < 0) {
            Libc.closeRaw(epoll);
            Libc.closeRaw(stop);
            throw new ErrnoException("epoll_ctl", "eventfd", -r);
        }
        this.thread = Thread.ofPlatform().name("jgovernor-pressure").daemon(true)
                .start(() -> health.supervise(this::loop, () -> closed));
    }

    /**
     * Registers {@code trigger} on the pressure file of cgroup2 directory {@code dir}. The same key
     * with the same directory and trigger changes nothing; otherwise the old trigger is closed
     * first. Returns once the kernel holds it: a stall from then on is seen.
     *
     * @throws ErrnoException when the file cannot be opened (ENOENT: no such directory yet) or the
     *                        kernel refuses the trigger (EINVAL; see {@link #why})
     */
    public synchronized void register(K key, Path dir, Pressure.Trigger trigger) throws ErrnoException {
        if (closed) {
            throw new ErrnoException("register", "pressure triggers closed", Errno.EBADF);
        }
        Registration<K> old = byKey.get(key);
        if (old != null) {
            if (old.dir.equals(dir) && old.trigger.equals(trigger)) {
                return;
            }
            drop(old);
        }
        String file = dir.resolve(trigger.resource().file()).toString();
        int fd = Libc.open(file, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            byte[] text = trigger.kernelText().getBytes(StandardCharsets.US_ASCII);
            MemorySegment buf = arena.allocate(text.length);
            buf.copyFrom(MemorySegment.ofArray(text));
            Libc.write(fd, buf);
            int r = Libc.epollCtlRaw(epoll, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLPRI);
            if (r < 0) {
                throw new ErrnoException("epoll_ctl", file, -r);
            }
        } catch (ErrnoException | RuntimeException e) {
            Libc.closeRaw(fd);
            throw e;
        }
        Registration<K> reg = new Registration<>(key, dir, trigger, fd, new long[]{0});
        byFd.put(fd, reg);
        byKey.put(key, reg);
    }

    /** Closes the trigger of {@code key}; nothing if there is none. */
    public synchronized void unregister(K key) {
        Registration<K> r = byKey.get(key);
        if (r != null) {
            drop(r);
        }
    }

    private void drop(Registration<K> r) {
        byKey.remove(r.key, r);
        byFd.remove(r.fd, r);
        Libc.epollCtlRaw(epoll, Libc.EPOLL_CTL_DEL, r.fd, 0);
        Libc.closeRaw(r.fd); // closing the descriptor destroys the kernel's trigger
    }

    /** The keys registered now, with their directories. */
    public Map<K, Path> registered() {
        Map<K, Path> out = new java.util.HashMap<>();
        byKey.forEach((k, r) -> out.put(k, r.dir));
        return out;
    }

    /**
     * A sentence for a refused trigger. EINVAL for a window the policy allows means the daemon
     * lacks CAP_SYS_RESOURCE: the kernel then takes only windows that are multiples of 2 s
     * (unprivileged triggers share the 2 s averaging work; kernel 6.4+).
     */
    public static String why(ErrnoException e, Pressure.Trigger t) {
        if (e.errno() == Errno.EINVAL && t.windowMicros() % 2_000_000 != 0) {
            return e.getMessage() + ": the kernel refused a " + Duration.ofNanos(t.windowMicros() * 1000).toMillis()
                    + " ms window; without CAP_SYS_RESOURCE it takes only windows that are multiples of 2s";
        }
        if (e.errno() == Errno.ENOENT) {
            return e.getMessage() + " (no cgroup2 directory with pressure files for the group yet)";
        }
        if (e.errno() == Errno.EOPNOTSUPP) {
            return e.getMessage() + " (PSI is off: psi=0 on the kernel command line, or cgroup.pressure 0)";
        }
        return e.getMessage();
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            int max = 64;
            MemorySegment events = arena.allocate(Libc.EPOLL_EVENT_SIZE * max, 8);
            while (!closed) {
                health.idle();
                int n = Libc.epollWait(epoll, events, max, -1);
                health.busy();
                if (closed) {
                    return;
                }
                for (int i = 0; i < n; i++) {
                    int fd = Libc.epollData(events, i);
                    int mask = Libc.epollEvents(events, i);
                    if (fd == stop) {
                        continue;
                    }
                    Registration<K> r = byFd.get(fd);
                    if (r == null) {
                        continue;
                    }
                    if ((mask & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) {
                        // the cgroup went, and its trigger with it; the next follow registers it again
                        LOG.log(System.Logger.Level.DEBUG, "pressure trigger " + r.key + ": " + r.dir + " gone");
                        synchronized (this) {
                            if (byFd.get(fd) == r) {
                                drop(r);
                            }
                        }
                        continue;
                    }
                    if ((mask & Libc.EPOLLPRI) != 0) {
                        fired(r);
                    }
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "pressure watcher: " + e.getMessage() + "; restarting it", e);
            }
        } finally {
            health.idle();
        }
    }

    /**
     * At most one per window per trigger. The kernel promises the same on its own clock
     * (psi.c: no event before last_event_time + window); this guard is against a kernel that
     * does not, and allows 10% of jitter, since two wake-ups of this thread one kernel window
     * apart can be measured a little less than a window apart (seen: 2 of 20 dropped otherwise).
     */
    private void fired(Registration<K> r) {
        long now = System.nanoTime();
        long last = r.lastFiredNanos[0];
        if (last != 0 && now - last < r.trigger.windowMicros() * 900) {
            return;
        }
        r.lastFiredNanos[0] = now;
        try {
            listener.fired(r.key, r.dir, r.trigger);
        } catch (Throwable e) {
            health.failed("pressure trigger " + r.key, e);
        }
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
        synchronized (this) {
            for (Registration<K> r : byKey.values()) {
                Libc.closeRaw(r.fd);
            }
            byKey.clear();
            byFd.clear();
        }
        Libc.closeRaw(epoll);
        Libc.closeRaw(stop);
    }
}

package io.jgovernor.events;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.OomFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;
import io.jgovernor.sys.LoopHealth;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * cgroup v1 OOM notifications: per group an eventfd registered through the group's
 * {@code cgroup.event_control} for its {@code memory.oom_control} (Documentation/admin-guide/
 * cgroup-v1/memory.rst, "OOM Control"), and one thread waiting on all of them with one epoll set.
 *
 * <p>The kernel signals the eventfd when the group enters OOM (before it picks a victim), and also
 * when the cgroup is removed; the two are told apart by whether the directory is still the one
 * registered (same inode). Descriptors are only opened and closed on the loop thread, so a
 * descriptor number is never reused while an epoll event for it may still be in hand; callers
 * post registrations to the loop through a queue and its wake-up eventfd.
 */
public final class V1OomSource implements OomSource {
    private static final System.Logger LOG = System.getLogger(V1OomSource.class.getName());
    private static final int MAX_EVENTS = 64;
    private static final long COMMAND_TIMEOUT_SECONDS = 10;

    private record Registration(GroupName group, Path dir, Object inode, int eventFd, int oomControlFd) {
    }

    private final CgroupFiles files;
    private final Listener listener;
    private final int epollFd;
    private final int wakeFd;
    private final Map<Integer, Registration> byEventFd = new HashMap<>(); // loop thread only
    private final Map<GroupName, Registration> byGroup = new ConcurrentHashMap<>(); // written by the loop
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** The memory controller's memory.oom_control, whose eventfd tells of an OOM. */
    private final String oomControl;
    private final LoopHealth.Loop health;
    private volatile boolean stopped;

    public V1OomSource(CgroupFiles files, OomFiles oom, Listener listener) throws IOException {
        this(files, oom, listener, new LoopHealth().register("oom", Duration.ofSeconds(30)));
    }

    /** @param health where the loop reports each batch of notifications it handles, and its death */
    public V1OomSource(CgroupFiles files, OomFiles oom, Listener listener, LoopHealth.Loop health) throws IOException {
        this.health = health;
        this.oomControl = oom.noticeFile();
        this.files = files;
        this.listener = listener;
        this.epollFd = Libc.epollCreate1(Libc.EPOLL_CLOEXEC);
        try {
            this.wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        } catch (ErrnoException e) {
            Libc.closeRaw(epollFd);
            throw e;
        }
        int r = Libc.epollCtlRaw(epollFd, Libc.EPOLL_CTL_ADD, wakeFd, Libc.EPOLLIN);
        if (r < 0) {
            Libc.closeRaw(wakeFd);
            Libc.closeRaw(epollFd);
            throw new ErrnoException("epoll_ctl ADD", "fd " + wakeFd, -r);
        }
        this.thread = Thread.ofPlatform().name("jgovernor-oom").daemon(true).start(this::loop);
    }

    @Override
    public void register(GroupName group, Path memoryDir) throws IOException {
        Path dir = memoryDir.normalize();
        call(() -> {
            Registration old = byGroup.get(group);
            if (old != null) {
                if (old.dir.equals(dir) && Objects.equals(old.inode, inode(dir))) {
                    return null;
                }
                drop(old);
            }
            add(group, dir);
            return null;
        });
    }

    @Override
    public void unregister(GroupName group) {
        try {
            call(() -> {
                Registration r = byGroup.get(group);
                if (r != null) {
                    drop(r);
                }
                return null;
            });
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot stop watching group " + group + " for OOM: " + e.getMessage());
        }
    }

    @Override
    public Map<GroupName, Path> registered() {
        Map<GroupName, Path> out = new HashMap<>();
        byGroup.forEach((g, r) -> out.put(g, r.dir));
        return out;
    }

    private interface Command {
        Void run() throws IOException;
    }

    /** Runs {@code c} on the loop thread and waits for it. */
    private void call(Command c) throws IOException {
        if (stopped) {
            throw new IOException("the OOM watcher is closed");
        }
        if (Thread.currentThread() == thread) {
            c.run();
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        commands.add(() -> {
            try {
                done.complete(c.run());
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        wake();
        try {
            done.get(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("the OOM watcher thread did not answer in " + COMMAND_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private void wake() {
        Libc.eventfdSignal(wakeFd); // EAGAIN only when the counter is full: awake anyway
    }

    private static Object inode(Path dir) {
        try {
            return Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    // ---- loop thread ----

    private void add(GroupName group, Path dir) throws IOException {
        Object inode = inode(dir);
        if (inode == null) {
            throw new IOException("group " + group + ": " + dir + " does not exist");
        }
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        int ofd = -1;
        try {
            ofd = files.openDescriptor(dir, oomControl);
            files.write(dir, "cgroup.event_control", efd + " " + ofd);
            int r = Libc.epollCtlRaw(epollFd, Libc.EPOLL_CTL_ADD, efd, Libc.EPOLLIN);
            if (r < 0) {
                throw new ErrnoException("epoll_ctl ADD", "eventfd of group " + group, -r);
            }
        } catch (CgroupException | ErrnoException | RuntimeException e) {
            Libc.closeRaw(efd);
            if (ofd >= 0) {
                Libc.closeRaw(ofd);
            }
            throw e;
        }
        Registration reg = new Registration(group, dir, inode, efd, ofd);
        byEventFd.put(efd, reg);
        byGroup.put(group, reg);
    }

    private void drop(Registration r) {
        byGroup.remove(r.group, r);
        byEventFd.remove(r.eventFd);
        Libc.epollCtlRaw(epollFd, Libc.EPOLL_CTL_DEL, r.eventFd, 0);
        // closing the eventfd is what makes the kernel forget the registration
        Libc.closeRaw(r.eventFd);
        Libc.closeRaw(r.oomControlFd);
    }

    /** The descriptors outlive a run that died: it starts again after a backoff and finds every registration. */
    private void loop() {
        try {
            health.supervise(this::waitForEvents, () -> stopped);
        } finally {
            runCommands();
            for (Registration r : byEventFd.values().toArray(Registration[]::new)) {
                drop(r);
            }
            Libc.closeRaw(wakeFd);
            Libc.closeRaw(epollFd);
        }
    }

    private void waitForEvents() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(Libc.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
            MemorySegment counter = arena.allocate(8);
            while (!stopped) {
                int n;
                health.idle();
                try {
                    n = Libc.epollWait(epollFd, events, MAX_EVENTS, -1);
                } catch (ErrnoException e) {
                    LOG.log(System.Logger.Level.ERROR, "OOM watcher: " + e.getMessage() + "; restarting it");
                    return;
                }
                health.busy();
                for (int i = 0; i < n; i++) {
                    int fd = Libc.epollData(events, i);
                    Libc.readRaw(fd, counter, 8); // reset the counter (EAGAIN when already read)
                    if (fd == wakeFd) {
                        runCommands();
                        continue;
                    }
                    Registration r = byEventFd.get(fd);
                    if (r != null) {
                        notified(r);
                    }
                }
            }
        } finally {
            health.idle();
        }
    }

    private void runCommands() {
        Runnable c;
        while ((c = commands.poll()) != null) {
            c.run();
        }
    }

    private void notified(Registration r) {
        if (!Objects.equals(inode(r.dir), r.inode)) {
            // the cgroup was removed (and maybe made again): not an OOM; the next pass registers anew
            LOG.log(System.Logger.Level.DEBUG, "group " + r.group + ": " + r.dir + " removed; no longer watched for OOM");
            drop(r);
            return;
        }
        try {
            listener.oom(r.group, r.dir);
        } catch (Throwable e) {
            health.failed("group " + r.group + ": handling an OOM notification", e);
        }
    }

    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        wake();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(COMMAND_TIMEOUT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.jgovernor.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The C library calls jgovernor makes, as downcalls through the Foreign Function and Memory API.
 *
 * <p>Every handle is made once. Calls that can fail capture errno in a per-thread call-state
 * segment, so nothing is allocated per call. Two flavours exist:
 * <ul>
 *   <li>typed wrappers ({@link #open(String, int)}, {@link #eventfd(int, int)}, ...) that throw
 *       {@link ErrnoException}, for code that treats failure as exceptional;</li>
 *   <li>{@code ...Raw} calls on caller-owned segments that return {@code -errno} instead of
 *       throwing, for hot paths where a failure (ENOENT on an absent file) is an expected
 *       answer, not an exception.</li>
 * </ul>
 * Calls that the kernel may interrupt with EINTR are retried, except close(2), which Linux
 * must not retry (the descriptor is already gone).
 *
 * <p>Every descriptor is listed in {@link #downcalls()} and must also be listed in
 * {@code META-INF/native-image/io.jgovernor/jgovernor/reachability-metadata.json}, where
 * GraalVM Native Image finds what downcall stubs to build (LibcMetadataTest keeps them in step).
 */
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_CLOEXEC = 0x80000;

    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = O_NONBLOCK;
    public static final int EFD_CLOEXEC = O_CLOEXEC;

    public static final int IN_NONBLOCK = O_NONBLOCK;
    public static final int IN_CLOEXEC = O_CLOEXEC;
    public static final int IN_MODIFY = 0x2;
    public static final int IN_ATTRIB = 0x4;
    public static final int IN_CLOSE_WRITE = 0x8;
    public static final int IN_MOVED_FROM = 0x40;
    public static final int IN_MOVED_TO = 0x80;
    public static final int IN_CREATE = 0x100;
    public static final int IN_DELETE = 0x200;
    public static final int IN_DELETE_SELF = 0x400;
    public static final int IN_MOVE_SELF = 0x800;
    public static final int IN_IGNORED = 0x8000;
    public static final int IN_ONLYDIR = 0x1000000;

    public static final short POLLIN = 0x1;
    public static final short POLLPRI = 0x2;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;

    public static final int _SC_PAGESIZE = 30;

    public static final int AF_NETLINK = 16;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;
    public static final int SOCK_NONBLOCK = O_NONBLOCK;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    /** Like SO_RCVBUF, but may exceed net.core.rmem_max; needs CAP_NET_ADMIN. */
    public static final int SO_RCVBUFFORCE = 33;

    public static final int SCHED_OTHER = 0;
    public static final int SCHED_FIFO = 1;
    public static final int SCHED_RR = 2;
    public static final int SCHED_IDLE = 5;
    /** Or-ed into the policy: children and threads the caller makes start as SCHED_OTHER. */
    public static final int SCHED_RESET_ON_FORK = 0x40000000;

    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    /** Urgent data: what a PSI trigger signals (kernel/sched/psi.c psi_trigger_poll). */
    public static final int EPOLLPRI = 0x2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();

    public static final ValueLayout.OfInt C_INT = (ValueLayout.OfInt) LINKER.canonicalLayouts().get("int");
    public static final ValueLayout.OfShort C_SHORT = (ValueLayout.OfShort) LINKER.canonicalLayouts().get("short");
    public static final ValueLayout.OfLong C_LONG = (ValueLayout.OfLong) LINKER.canonicalLayouts().get("long");
    public static final ValueLayout.OfLong C_SIZE_T = (ValueLayout.OfLong) LINKER.canonicalLayouts().get("size_t");
    public static final ValueLayout C_POINTER = (ValueLayout) LINKER.canonicalLayouts().get("void*");

    /**
     * struct epoll_event { uint32_t events; epoll_data_t data; }: packed on x86-64 (12 bytes, data
     * at offset 4), naturally aligned elsewhere (16 bytes, data at 8). Read it with
     * {@link #epollEvents} and {@link #epollData}.
     */
    public static final long EPOLL_EVENT_SIZE;
    private static final long EPOLL_DATA_OFFSET;

    static {
        boolean x86 = System.getProperty("os.arch", "").matches("amd64|x86_64");
        EPOLL_EVENT_SIZE = x86 ? 12 : 16;
        EPOLL_DATA_OFFSET = x86 ? 4 : 8;
    }

    /** struct pollfd { int fd; short events; short revents; }, for {@link #poll}. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            C_INT.withName("fd"), C_SHORT.withName("events"), C_SHORT.withName("revents"));

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /**
     * One call state per thread, freed with the thread: cheaper than a confined arena per call,
     * and errno is only ever read by the thread that made the call.
     */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    /** A downcall as native-image needs to know it: descriptor and linker options. */
    public record Downcall(String function, FunctionDescriptor descriptor, boolean capturesErrno,
                           int firstVariadicArg) {
        Linker.Option[] options() {
            List<Linker.Option> options = new ArrayList<>(2);
            if (capturesErrno) {
                options.add(Linker.Option.captureCallState("errno"));
            }
            if (firstVariadicArg >= 0) {
                options.add(Linker.Option.firstVariadicArg(firstVariadicArg));
            }
            return options.toArray(Linker.Option[]::new);
        }
    }

    /** Holders may be linked by two threads at once. */
    private static final List<Downcall> DOWNCALLS = new CopyOnWriteArrayList<>();

    // open(2) is variadic (the mode); calling it as a fixed-arity function is undefined on
    // some ABIs, so the mode is passed as the declared first variadic argument.
    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), true, 2);
    private static final MethodHandle READ = handle("read", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T), true, -1);
    private static final MethodHandle WRITE = handle("write", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T), true, -1);
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(C_INT, C_INT), true, -1);
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT), true, -1);
    private static final MethodHandle EVENTFD = handle("eventfd", FunctionDescriptor.of(C_INT, C_INT, C_INT), true, -1);
    private static final MethodHandle INOTIFY_INIT1 = handle("inotify_init1", FunctionDescriptor.of(C_INT, C_INT), true, -1);
    private static final MethodHandle INOTIFY_ADD_WATCH = handle("inotify_add_watch", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT), true, -1);
    private static final MethodHandle INOTIFY_RM_WATCH = handle("inotify_rm_watch", FunctionDescriptor.of(C_INT, C_INT, C_INT), true, -1);
    private static final MethodHandle GETPID = handle("getpid", FunctionDescriptor.of(C_INT), false, -1);
    private static final MethodHandle SYSCONF = handle("sysconf", FunctionDescriptor.of(C_LONG, C_INT), true, -1);
    private static final MethodHandle MKDIR = handle("mkdir", FunctionDescriptor.of(C_INT, C_POINTER, C_INT), true, -1);
    // getdents64(2) (glibc 2.30+): a directory's entries with their type, so listing a cgroup
    // directory for its children needs no stat(2) per control file.
    private static final MethodHandle GETDENTS64 = handle("getdents64", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T), true, -1);
    private static final MethodHandle RMDIR = handle("rmdir", FunctionDescriptor.of(C_INT, C_POINTER), true, -1);
    private static final MethodHandle FSYNC = handle("fsync", FunctionDescriptor.of(C_INT, C_INT), true, -1);
    /** syncfs(2): every dirty page of the filesystem that holds fd, in one journal commit. */
    private static final MethodHandle SYNCFS = handle("syncfs", FunctionDescriptor.of(C_INT, C_INT), true, -1);
    private static final MethodHandle EPOLL_CREATE1 = handle("epoll_create1", FunctionDescriptor.of(C_INT, C_INT), true, -1);
    private static final MethodHandle EPOLL_CTL = handle("epoll_ctl", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER), true, -1);
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT), true, -1);
    private static final MethodHandle SENDTO = handle("sendto", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T, C_INT, C_POINTER, C_INT), true, -1);
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT), true, -1);
    private static final MethodHandle SETSOCKOPT = handle("setsockopt", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT), true, -1);
    private static final MethodHandle EPOLL_WAIT = handle("epoll_wait", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT, C_INT), true, -1);
    private static final MethodHandle SCHED_SETSCHEDULER = handle("sched_setscheduler", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER), true, -1);

    // Downcalls off the startup path live in holder classes, linked the first time one is called:
    // each handle costs a few milliseconds of lambda forms and stubs at startup (issue 18), and a
    // daemon without workloads, knobs or v2 device rules never needs these. downcalls() links all.
    /** Starting, waiting for and signalling processes: a daemon that runs workloads, and exec. */
    private static final class Exec {
        /** execve(2): {@code jgovernor exec} hands its process to the exec stage. */
        private static final MethodHandle EXECVE = handle("execve", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER), true, -1);
        // posix_spawn(3) and what it takes, for starting the exec stage without the JDK's
        // jspawnhelper (see spawnProcess). The spawn functions return an error number instead of
        // setting errno.
        private static final MethodHandle PIPE2 = handle("pipe2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT), true, -1);
        private static final MethodHandle POSIX_SPAWN = handle("posix_spawn", FunctionDescriptor.of(C_INT, C_POINTER,
                C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER), false, -1);
        private static final MethodHandle SPAWN_FILE_ACTIONS_INIT = handle("posix_spawn_file_actions_init", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle SPAWN_FILE_ACTIONS_ADDDUP2 = handle("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), false, -1);
        private static final MethodHandle SPAWN_FILE_ACTIONS_DESTROY = handle("posix_spawn_file_actions_destroy", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle SPAWNATTR_INIT = handle("posix_spawnattr_init", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle SPAWNATTR_SETFLAGS = handle("posix_spawnattr_setflags", FunctionDescriptor.of(C_INT, C_POINTER, C_SHORT), false, -1);
        private static final MethodHandle SPAWNATTR_SETSIGMASK = handle("posix_spawnattr_setsigmask", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER), false, -1);
        private static final MethodHandle SPAWNATTR_SETSIGDEFAULT = handle("posix_spawnattr_setsigdefault", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER), false, -1);
        private static final MethodHandle SPAWNATTR_DESTROY = handle("posix_spawnattr_destroy", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle SIGEMPTYSET = handle("sigemptyset", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle SIGFILLSET = handle("sigfillset", FunctionDescriptor.of(C_INT, C_POINTER), false, -1);
        private static final MethodHandle WAITID = handle("waitid", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER, C_INT), true, -1);
        private static final MethodHandle WAITPID = handle("waitpid", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT), true, -1);
        private static final MethodHandle KILL = handle("kill", FunctionDescriptor.of(C_INT, C_INT, C_INT), true, -1);

        private Exec() {
        }
    }

    /** Per-thread nice and I/O priority: linked once some group has process knobs. */
    private static final class Priority {
        // setpriority(2) and ioprio_set(2)/ioprio_get(2) (through syscall(2): glibc has no wrapper)
        // take a thread id: nice and the I/O priority are per thread, whatever "PRIO_PROCESS" says
        private static final MethodHandle SETPRIORITY = handle("setpriority", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT), true, -1);
        private static final MethodHandle SYSCALL_3INT = handle("syscall", FunctionDescriptor.of(C_LONG, C_LONG, C_INT, C_INT, C_INT), true, 1);

        private Priority() {
        }
    }

    /** bpf(2): linked on a cgroup v2 host with device rules. */
    private static final class Bpf {
        // syscall(2) is variadic after the number; bpf(2) has no glibc wrapper
        private static final MethodHandle SYSCALL = handle("syscall", FunctionDescriptor.of(C_LONG, C_LONG, C_INT, C_POINTER, C_INT), true, 1);

        private Bpf() {
        }
    }

    private static final class PageSize {
        static final long VALUE = sysconfOrFail(_SC_PAGESIZE);
    }

    private Libc() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor, boolean capturesErrno,
                                       int firstVariadicArg) {
        Downcall downcall = new Downcall(name, descriptor, capturesErrno, firstVariadicArg);
        DOWNCALLS.add(downcall);
        MemorySegment address = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name));
        return LINKER.downcallHandle(address, descriptor, downcall.options());
    }

    /** Every downcall this class makes, in the form native-image metadata lists them. */
    public static List<Downcall> downcalls() {
        for (Class<?> holder : List.of(Exec.class, Priority.class, Bpf.class)) {
            try {
                Class.forName(holder.getName(), true, holder.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return Collections.unmodifiableList(DOWNCALLS);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("downcall failed", t);
    }

    // ---- raw calls: caller-owned NUL-terminated paths and buffers; result or -errno ----

    /** open(2) on a NUL-terminated path; the descriptor, or {@code -errno}. */
    public static int openRaw(MemorySegment path, int flags) {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                int fd = (int) OPEN.invokeExact(state, path, flags, 0);
                if (fd >= 0) {
                    return fd;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** read(2) into {@code buf}; bytes read (0 at end of file), or {@code -errno}. */
    public static long readRaw(int fd, MemorySegment buf, long count) {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                long n = (long) READ.invokeExact(state, fd, buf, count);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Adds 1 to eventfd {@code fd}'s counter: how a loop blocked in epoll/poll on it is woken.
     * Bytes written (8), or {@code -errno} (EAGAIN only when the counter is full: awake anyway).
     */
    public static long eventfdSignal(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            return writeRaw(fd, one, 8);
        }
    }

    /** One write(2) of {@code count} bytes of {@code buf}; bytes written, or {@code -errno}. */
    public static long writeRaw(int fd, MemorySegment buf, long count) {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                long n = (long) WRITE.invokeExact(state, fd, buf, count);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** close(2); 0 or {@code -errno}. Never retried: on Linux the descriptor is released even on EINTR. */
    public static int closeRaw(int fd) {
        MemorySegment state = STATE.get();
        try {
            int r = (int) CLOSE.invokeExact(state, fd);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** getdents64(2) into {@code buf}; bytes of linux_dirent64 records (0 at the end), or {@code -errno}. */
    public static long getdents64Raw(int fd, MemorySegment buf, long count) {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                long n = (long) GETDENTS64.invokeExact(state, fd, buf, count);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mkdir(2); 0 or {@code -errno}. */
    public static int mkdirRaw(MemorySegment path, int mode) {
        MemorySegment state = STATE.get();
        try {
            int r = (int) MKDIR.invokeExact(state, path, mode);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** rmdir(2); 0 or {@code -errno}. */
    public static int rmdirRaw(MemorySegment path) {
        MemorySegment state = STATE.get();
        try {
            int r = (int) RMDIR.invokeExact(state, path);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * execve(2): this process becomes {@code path} with {@code argv} and {@code env} ("NAME=value"),
     * keeping its pid and its descriptors without close-on-exec (stdio). Returns only on failure.
     */
    public static ErrnoException execve(String path, List<String> argv, List<String> env) {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) Exec.EXECVE.invokeExact(state, arena.allocateFrom(path), strings(arena, argv), strings(arena, env));
            return new ErrnoException("execve", path, r == 0 ? 0 : errno(state));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A NULL-terminated array of C strings. */
    private static MemorySegment strings(Arena arena, List<String> list) {
        MemorySegment array = arena.allocate(C_POINTER, list.size() + 1L);
        for (int i = 0; i < list.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(list.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, list.size(), MemorySegment.NULL);
        return array;
    }

    // ---- typed wrappers ----

    public static int open(String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = openRaw(arena.allocateFrom(path), flags);
            if (fd < 0) {
                throw new ErrnoException("open", path, -fd);
            }
            return fd;
        }
    }

    /** Reads up to {@code buf.byteSize()} bytes; 0 at end of file. */
    public static long read(int fd, MemorySegment buf) throws ErrnoException {
        long n = readRaw(fd, buf, buf.byteSize());
        if (n < 0) {
            throw new ErrnoException("read", "fd " + fd, (int) -n);
        }
        return n;
    }

    /** One write(2) of the whole of {@code buf}; the bytes written. */
    public static long write(int fd, MemorySegment buf) throws ErrnoException {
        long n = writeRaw(fd, buf, buf.byteSize());
        if (n < 0) {
            throw new ErrnoException("write", "fd " + fd, (int) -n);
        }
        return n;
    }

    public static void close(int fd) throws ErrnoException {
        int r = closeRaw(fd);
        if (r < 0) {
            throw new ErrnoException("close", "fd " + fd, -r);
        }
    }

    /**
     * poll(2) on {@code nfds} {@link #POLLFD} structs in {@code pollfds}; the number with events,
     * 0 on timeout. EINTR is returned as 0 (a spurious wake-up), so callers simply loop.
     */
    public static int poll(MemorySegment pollfds, int nfds, int timeoutMillis) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int r = (int) POLL.invokeExact(state, pollfds, (long) nfds, timeoutMillis);
            if (r >= 0) {
                return r;
            }
            int errno = errno(state);
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new ErrnoException("poll", nfds + " fds", errno);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int eventfd(int initialValue, int flags) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int fd = (int) EVENTFD.invokeExact(state, initialValue, flags);
            if (fd < 0) {
                throw new ErrnoException("eventfd", "", errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int inotifyInit1(int flags) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int fd = (int) INOTIFY_INIT1.invokeExact(state, flags);
            if (fd < 0) {
                throw new ErrnoException("inotify_init1", "", errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The watch descriptor. */
    public static int inotifyAddWatch(int fd, String path, int mask) throws ErrnoException {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            int wd = (int) INOTIFY_ADD_WATCH.invokeExact(state, fd, arena.allocateFrom(path), mask);
            if (wd < 0) {
                throw new ErrnoException("inotify_add_watch", path, errno(state));
            }
            return wd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void inotifyRmWatch(int fd, int wd) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int r = (int) INOTIFY_RM_WATCH.invokeExact(state, fd, wd);
            if (r < 0) {
                throw new ErrnoException("inotify_rm_watch", "wd " + wd, errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * sched_setscheduler(2) for the calling thread (pid 0): {@code policy} with
     * {@code struct sched_param {int sched_priority}}; 0 or {@code -errno}.
     */
    public static int schedSetschedulerRaw(int policy, int priority) {
        return schedSetschedulerRaw(0, policy, priority);
    }

    /**
     * sched_setscheduler(2) for thread {@code tid} (0: the caller): {@code policy} (SCHED_OTHER,
     * SCHED_BATCH, SCHED_IDLE with priority 0; SCHED_FIFO, SCHED_RR with 1-99); 0 or {@code -errno}
     * (ESRCH: no such thread). The thread's nice value is kept.
     */
    public static int schedSetschedulerRaw(int tid, int policy, int priority) {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(C_INT);
            param.set(C_INT, 0, priority);
            int r = (int) SCHED_SETSCHEDULER.invokeExact(state, tid, policy, param);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static final int PRIO_PROCESS = 0;

    /** setpriority(PRIO_PROCESS, tid, nice): the nice value of one thread; 0 or {@code -errno}. */
    public static int setNiceRaw(int tid, int nice) {
        MemorySegment state = STATE.get();
        try {
            int r = (int) Priority.SETPRIORITY.invokeExact(state, PRIO_PROCESS, tid, nice);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** IOPRIO_WHO_PROCESS: ioprio_set/ioprio_get act on one thread. */
    public static final int IOPRIO_WHO_PROCESS = 1;
    private static final boolean ARM64 = System.getProperty("os.arch", "").matches("aarch64|arm64");
    private static final long SYS_IOPRIO_SET = ARM64 ? 30 : 251;
    private static final long SYS_IOPRIO_GET = ARM64 ? 31 : 252;

    /** ioprio_set(IOPRIO_WHO_PROCESS, tid, ioprio) (class << 13 | level); 0 or {@code -errno}. */
    public static int ioprioSetRaw(int tid, int ioprio) {
        MemorySegment state = STATE.get();
        try {
            long r = (long) Priority.SYSCALL_3INT.invokeExact(state, SYS_IOPRIO_SET, IOPRIO_WHO_PROCESS, tid, ioprio);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioprio_get(IOPRIO_WHO_PROCESS, tid, -): the thread's I/O priority (class << 13 | level), or {@code -errno}. */
    public static int ioprioGetRaw(int tid) {
        MemorySegment state = STATE.get();
        try {
            long r = (long) Priority.SYSCALL_3INT.invokeExact(state, SYS_IOPRIO_GET, IOPRIO_WHO_PROCESS, tid, 0);
            return r >= 0 ? (int) r : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- starting and reaping a child without the JDK (the exec stage, spawn/PosixSpawnProcess) ----

    /** posix_spawnattr flags (glibc's values, the same on every Linux architecture). */
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    /** Room for posix_spawn_file_actions_t (80 bytes on x86-64 glibc) and posix_spawnattr_t (336), sigset_t (128), siginfo_t (128). */
    private static final long SPAWN_STRUCT_SIZE = 1024;
    private static final int P_PID = 1;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;

    /** pipe2(2): {read end, write end}. */
    public static int[] pipe2(int flags) throws ErrnoException {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(C_INT, 2);
            int r = (int) Exec.PIPE2.invokeExact(state, fds, flags);
            if (r != 0) {
                throw new ErrnoException("pipe2", "", errno(state));
            }
            return new int[] {fds.getAtIndex(C_INT, 0), fds.getAtIndex(C_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * posix_spawn(3) of {@code argv} (its first word the program's path) with exactly the
     * environment {@code env} ("NAME=value" words) and {@code stdio}'s three descriptors as its
     * 0, 1 and 2; the child's pid. The child starts with no signal blocked and every signal at
     * its default disposition (a JVM thread blocks some and ignores others). Every other
     * descriptor the caller holds must be close-on-exec or closed by the program itself: the
     * exec stage closes all but 0, 1 and 2 first. glibc's posix_spawn is clone(CLONE_VM |
     * CLONE_VFORK) and execve on a stack of its own: nothing of the JVM runs in the child.
     */
    public static int spawnProcess(List<String> argv, List<String> env, int[] stdio) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(SPAWN_STRUCT_SIZE, 16);
            MemorySegment attr = arena.allocate(SPAWN_STRUCT_SIZE, 16);
            MemorySegment none = arena.allocate(SPAWN_STRUCT_SIZE, 16);
            MemorySegment all = arena.allocate(SPAWN_STRUCT_SIZE, 16);
            MemorySegment pid = arena.allocate(C_INT);
            spawnCheck("posix_spawn_file_actions_init", (int) Exec.SPAWN_FILE_ACTIONS_INIT.invokeExact(actions));
            try {
                spawnCheck("posix_spawnattr_init", (int) Exec.SPAWNATTR_INIT.invokeExact(attr));
                try {
                    for (int fd = 0; fd < 3; fd++) {
                        spawnCheck("posix_spawn_file_actions_adddup2",
                                (int) Exec.SPAWN_FILE_ACTIONS_ADDDUP2.invokeExact(actions, stdio[fd], fd));
                    }
                    spawnCheck("sigemptyset", (int) Exec.SIGEMPTYSET.invokeExact(none) == 0 ? 0 : Errno.EINVAL);
                    spawnCheck("sigfillset", (int) Exec.SIGFILLSET.invokeExact(all) == 0 ? 0 : Errno.EINVAL);
                    spawnCheck("posix_spawnattr_setsigmask", (int) Exec.SPAWNATTR_SETSIGMASK.invokeExact(attr, none));
                    spawnCheck("posix_spawnattr_setsigdefault", (int) Exec.SPAWNATTR_SETSIGDEFAULT.invokeExact(attr, all));
                    spawnCheck("posix_spawnattr_setflags", (int) Exec.SPAWNATTR_SETFLAGS.invokeExact(attr,
                            (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
                    MemorySegment path = arena.allocateFrom(argv.getFirst());
                    int r = (int) Exec.POSIX_SPAWN.invokeExact(pid, path, actions, attr, words(arena, argv), words(arena, env));
                    if (r != 0) {
                        throw new ErrnoException("posix_spawn", argv.getFirst(), r);
                    }
                    return pid.get(C_INT, 0);
                } finally {
                    int ignored = (int) Exec.SPAWNATTR_DESTROY.invokeExact(attr);
                }
            } finally {
                int ignored = (int) Exec.SPAWN_FILE_ACTIONS_DESTROY.invokeExact(actions);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static void spawnCheck(String call, int error) throws ErrnoException {
        if (error != 0) {
            throw new ErrnoException(call, "", error);
        }
    }

    /** A NULL-terminated array of NUL-terminated strings (argv, envp). */
    private static MemorySegment words(Arena arena, List<String> words) {
        MemorySegment array = arena.allocate(C_POINTER, words.size() + 1L);
        for (int i = 0; i < words.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(words.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, words.size(), MemorySegment.NULL);
        return array;
    }

    /**
     * Blocks until child {@code pid} has ended, leaving it a zombie (waitid WNOWAIT): its pid
     * stays taken, so a signal sent to it now cannot reach another process. {@link #waitpid} then reaps it.
     */
    public static void waitExited(int pid) throws ErrnoException {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(SPAWN_STRUCT_SIZE, 16);
            while (true) {
                int r = (int) Exec.WAITID.invokeExact(state, P_PID, pid, info, WEXITED | WNOWAIT);
                if (r == 0) {
                    return;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    throw new ErrnoException("waitid", Integer.toString(pid), errno);
                }
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** waitpid(2): reaps child {@code pid}, blocking until it ends; its wait status. */
    public static int waitpid(int pid) throws ErrnoException {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(C_INT);
            while (true) {
                int r = (int) Exec.WAITPID.invokeExact(state, pid, status, 0);
                if (r == pid) {
                    return status.get(C_INT, 0);
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    throw new ErrnoException("waitpid", Integer.toString(pid), errno);
                }
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** kill(2); 0 or {@code -errno}. */
    public static int killRaw(int pid, int sig) {
        MemorySegment state = STATE.get();
        try {
            int r = (int) Exec.KILL.invokeExact(state, pid, sig);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** bpf(2)'s number: the syscall table differs by architecture. */
    private static final long SYS_BPF = System.getProperty("os.arch", "").matches("aarch64|arm64") ? 280 : 321;

    /**
     * bpf(2): {@code cmd} with {@code attr} (a union bpf_attr of {@code size} bytes, the rest
     * zero); the result (a descriptor for the commands that make one), or {@code -errno}. EINTR,
     * and EAGAIN (a verifier interrupted by a signal, 4.20+) are retried a few times.
     */
    public static long bpfRaw(int cmd, MemorySegment attr, int size) {
        MemorySegment state = STATE.get();
        try {
            for (int attempt = 0; ; attempt++) {
                long r = (long) Bpf.SYSCALL.invokeExact(state, SYS_BPF, cmd, attr, size);
                if (r >= 0) {
                    return r;
                }
                int errno = errno(state);
                if ((errno != Errno.EINTR && errno != Errno.EAGAIN) || attempt >= 30) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long sysconf(int name) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            // sysconf returns -1 both for "no limit" (errno untouched) and for errors.
            ERRNO.set(state, 0L, 0);
            long r = (long) SYSCONF.invokeExact(state, name);
            if (r == -1) {
                int errno = errno(state);
                if (errno != 0) {
                    throw new ErrnoException("sysconf", Integer.toString(name), errno);
                }
            }
            return r;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sysconf(_SC_PAGESIZE), asked once. */
    public static long pageSize() {
        return PageSize.VALUE;
    }

    private static long sysconfOrFail(int name) {
        try {
            return sysconf(name);
        } catch (ErrnoException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public static void mkdir(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int r = mkdirRaw(arena.allocateFrom(path), mode);
            if (r < 0) {
                throw new ErrnoException("mkdir", path, -r);
            }
        }
    }

    public static void rmdir(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int r = rmdirRaw(arena.allocateFrom(path));
            if (r < 0) {
                throw new ErrnoException("rmdir", path, -r);
            }
        }
    }

    /** socket(2); the descriptor. */
    public static int socket(int domain, int type, int protocol) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int fd = (int) SOCKET.invokeExact(state, domain, type, protocol);
            if (fd < 0) {
                throw new ErrnoException("socket", "domain " + domain, errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** One sendto(2) of {@code buf} to the socket address {@code addr} ({@code addrLen} bytes of it). */
    public static long sendto(int fd, MemorySegment buf, int flags, MemorySegment addr, int addrLen) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                long n = (long) SENDTO.invokeExact(state, fd, buf, buf.byteSize(), flags, addr, addrLen);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    throw new ErrnoException("sendto", "fd " + fd, errno);
                }
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** bind(2) to the socket address {@code addr} ({@code addrLen} bytes of it). */
    public static void bind(int fd, MemorySegment addr, int addrLen) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int r = (int) BIND.invokeExact(state, fd, addr, addrLen);
            if (r < 0) {
                throw new ErrnoException("bind", "fd " + fd, errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** setsockopt(2) with an int value; 0 or {@code -errno} (an option a kernel lacks is an answer, not an error). */
    public static int setsockoptIntRaw(int fd, int level, int name, int value) {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(C_INT);
            v.set(C_INT, 0, value);
            int r = (int) SETSOCKOPT.invokeExact(state, fd, level, name, v, (int) C_INT.byteSize());
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fsync(2): the file's data and metadata reach the disk before this returns. */
    public static void fsync(int fd) throws ErrnoException {
        sync(FSYNC, "fsync", fd);
    }

    /** syncfs(2): writes out the whole filesystem that holds {@code fd}; reports writeback errors (Linux 5.8+). */
    public static void syncfs(int fd) throws ErrnoException {
        sync(SYNCFS, "syncfs", fd);
    }

    private static void sync(MethodHandle call, String name, int fd) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            while (true) {
                int r = (int) call.invokeExact(state, fd);
                if (r == 0) {
                    return;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    throw new ErrnoException(name, "fd " + fd, errno);
                }
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int epollCreate1(int flags) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int fd = (int) EPOLL_CREATE1.invokeExact(state, flags);
            if (fd < 0) {
                throw new ErrnoException("epoll_create1", "", errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * epoll_ctl(2) with an event of {@code events} whose data is {@code fd} itself (ignored for
     * EPOLL_CTL_DEL); 0 or {@code -errno}.
     */
    public static int epollCtlRaw(int epfd, int op, int fd, int events) {
        MemorySegment state = STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EPOLL_EVENT_SIZE, 8);
            event.set(ValueLayout.JAVA_INT_UNALIGNED, 0, events);
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_DATA_OFFSET, fd);
            int r = (int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event);
            return r == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * epoll_wait(2) into {@code events} (room for {@code maxEvents} of {@link #EPOLL_EVENT_SIZE});
     * the number ready, 0 on timeout. EINTR is returned as 0, so callers simply loop.
     */
    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) throws ErrnoException {
        MemorySegment state = STATE.get();
        try {
            int r = (int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMillis);
            if (r >= 0) {
                return r;
            }
            int errno = errno(state);
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new ErrnoException("epoll_wait", "epfd " + epfd, errno);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The events mask of the {@code i}-th struct epoll_event in {@code events}. */
    public static int epollEvents(MemorySegment events, int i) {
        return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EPOLL_EVENT_SIZE);
    }

    /** The data (the descriptor given to {@link #epollCtlRaw}) of the {@code i}-th event. */
    public static int epollData(MemorySegment events, int i) {
        return (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
    }
}

package io.jgovernor.spawn;

import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A child started with posix_spawn(3) directly ({@link Libc#spawnProcess}), as a
 * {@link Process}. ProcessBuilder on Linux starts every child through the JDK's jspawnhelper: a
 * second, dynamically linked program that is exec'd first and then execs the target. That extra
 * exec and its loader were the largest single part of a workload start (docs/benchmarks.md,
 * "Confined starts"), more than all the exec stage's namespaces and mounts. What jspawnhelper
 * does besides - closing every descriptor but 0, 1 and 2 - the exec stage does itself first.
 *
 * <p>stdout and stderr are pipes; stdin is a pipe when asked, else /dev/null. The child is
 * reaped by a platform thread of its own (waitpid blocks it), which first waits without reaping
 * so that {@link #destroy} never signals a pid the kernel has already given to another process.
 */
final class PosixSpawnProcess extends Process {
    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;

    private final int pid;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** Set, under this object's lock, once the child is known to have ended: no signal is sent after. */
    private boolean ended;

    private PosixSpawnProcess(int pid, OutputStream stdin, InputStream stdout, InputStream stderr) {
        this.pid = pid;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * Starts {@code argv} with exactly {@code env} as its environment; {@code stdinPipe}: whether
     * the caller writes its stdin (else /dev/null).
     */
    static PosixSpawnProcess start(List<String> argv, Map<String, String> env, boolean stdinPipe) throws IOException {
        int flags = Libc.O_CLOEXEC;
        int[] in = stdinPipe ? Libc.pipe2(flags) : new int[] {Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC), -1};
        int[] out = null;
        int[] err = null;
        try {
            out = Libc.pipe2(flags);
            err = Libc.pipe2(flags);
            List<String> words = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
            int pid = Libc.spawnProcess(argv, words, new int[] {in[0], out[1], err[1]});
            PosixSpawnProcess p = new PosixSpawnProcess(pid, stdinPipe ? new PipeOut(in[1]) : OutputStream.nullOutputStream(),
                    new PipeIn(out[0]), new PipeIn(err[0]));
            Libc.closeRaw(in[0]);
            Libc.closeRaw(out[1]);
            Libc.closeRaw(err[1]);
            Thread.ofPlatform().daemon(true).name("exec-stage-reaper " + pid).start(p::reap);
            return p;
        } catch (IOException | RuntimeException e) {
            for (int[] pipe : new int[][] {in, out, err}) {
                if (pipe != null) {
                    for (int fd : pipe) {
                        if (fd >= 0) {
                            Libc.closeRaw(fd);
                        }
                    }
                }
            }
            throw e;
        }
    }

    private void reap() {
        try {
            Libc.waitExited(pid);
            synchronized (this) {
                ended = true;
            }
            int status = Libc.waitpid(pid);
            // as ProcessBuilder's processes report it: the exit code, or 128 + N after signal N
            exit.complete((status & 0x7f) == 0 ? (status >> 8) & 0xff : 0x80 + (status & 0x7f));
        } catch (ErrnoException e) {
            synchronized (this) {
                ended = true;
            }
            exit.completeExceptionally(e);
        }
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public OutputStream getOutputStream() {
        return stdin;
    }

    @Override
    public InputStream getInputStream() {
        return stdout;
    }

    @Override
    public InputStream getErrorStream() {
        return stderr;
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot wait for process " + pid, e.getCause());
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(Math.max(0, timeout), unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    @Override
    public int exitValue() {
        Integer v = exit.getNow(null);
        if (v == null) {
            throw new IllegalThreadStateException("process " + pid + " has not exited");
        }
        return v;
    }

    @Override
    public boolean isAlive() {
        return !exit.isDone();
    }

    @Override
    public void destroy() {
        signal(SIGTERM);
    }

    @Override
    public Process destroyForcibly() {
        signal(SIGKILL);
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return exit.handle((v, t) -> (Process) this);
    }

    @Override
    public ProcessHandle toHandle() {
        return ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("process " + pid + " is gone"));
    }

    private synchronized void signal(int sig) {
        if (!ended) {
            Libc.killRaw(pid, sig);
        }
    }

    /** The read end of a pipe; read(2) blocks the calling thread (a platform thread: see Workload.pump). */
    private static final class PipeIn extends InputStream {
        private final int fd;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment buf = arena.allocate(16384);
        private boolean closed;

        PipeIn(int fd) {
            this.fd = fd;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == 1 ? one[0] & 0xff : -1;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("closed");
            }
            if (len == 0) {
                return 0;
            }
            long n = Libc.readRaw(fd, buf, Math.min(len, buf.byteSize()));
            if (n < 0) {
                throw new ErrnoException("read", "pipe", (int) -n);
            }
            if (n == 0) {
                return -1;
            }
            MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b, off, (int) n);
            return (int) n;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                Libc.closeRaw(fd);
                arena.close();
            }
        }
    }

    /** The write end of a pipe. */
    private static final class PipeOut extends OutputStream {
        private final int fd;
        private boolean closed;

        PipeOut(int fd) {
            this.fd = fd;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("closed");
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(Math.max(1, len));
                MemorySegment.copy(b, off, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, len);
                for (long done = 0; done < len; ) {
                    long n = Libc.writeRaw(fd, seg.asSlice(done), len - done);
                    if (n < 0) {
                        throw new ErrnoException("write", "pipe", (int) -n);
                    }
                    done += n;
                }
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                Libc.closeRaw(fd);
            }
        }
    }
}

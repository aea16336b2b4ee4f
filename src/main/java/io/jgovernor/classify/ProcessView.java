package io.jgovernor.classify;

/**
 * One process's facts, each read from /proc on first use and kept: a rule that needs only comm
 * never reads the rest. Null (or -1) when the process is gone.
 */
final class ProcessView {
    private static final String UNREAD = new String("unread");

    private final ProcFiles proc;
    final int pid;
    private String comm = UNREAD;
    private String exe = UNREAD;
    private String cmdline = UNREAD;
    private long euid = Long.MIN_VALUE;

    ProcessView(ProcFiles proc, int pid) {
        this.proc = proc;
        this.pid = pid;
    }

    /** A view whose uid the kernel has just told (a uid event), so status need not be read. */
    ProcessView withEuid(long uid) {
        this.euid = uid;
        return this;
    }

    String comm() {
        if (comm == UNREAD) {
            comm = proc.comm(pid);
        }
        return comm;
    }

    String exe() {
        if (exe == UNREAD) {
            exe = proc.exe(pid);
        }
        return exe;
    }

    String cmdline() {
        if (cmdline == UNREAD) {
            cmdline = proc.cmdline(pid);
        }
        return cmdline;
    }

    long euid() {
        if (euid == Long.MIN_VALUE) {
            euid = proc.euid(pid);
        }
        return euid;
    }
}

/*
 * jgovernor-exec: the exec stage between the daemon and a workload (what nsexec is to runc).
 *
 * Why a C stage: a JVM must not fork itself (its threads and locks do not survive fork), and a
 * stage built from util-linux tools pays one exec per step (28 ms measured, see
 * docs/benchmarks.md). This one does every step in one process and execs nothing but the
 * workload. The daemon starts it with posix_spawn directly (spawn/PosixSpawnProcess.java), not
 * ProcessBuilder, whose jspawnhelper is one more exec per start; the stage therefore closes the
 * descriptors it inherits (close_inherited) before anything else.
 *
 * Invocation (every value is its own argv word; nothing is parsed from shell text):
 *
 *   jgovernor-exec [--tag TAG] [OPTION...] -- COMMAND [ARG...]
 *     --tag TAG               ignored here: the daemon's mark (the run spec's hash), which it reads back from
 *                             /proc/PID/cmdline to recognise its stages in a group after a restart; first if given
 *     --cgroup DIR            join DIR (v1: "0" to DIR/tasks; v2: our pid to DIR/cgroup.procs); repeat per hierarchy
 *     --ns NAME               a namespace to create: pid mount uts ipc net user cgroup; repeat
 *     --hostname NAME         sethostname (needs uts)
 *     --rootfs DIR            pivot_root into DIR (needs mount); it gets a minimal /dev
 *     --ro-rootfs             remount the new root read-only
 *     --bind SRC TARGET MODE  bind SRC onto TARGET, MODE ro|rw; TARGET is resolved inside the rootfs
 *                             (or /) with openat2 RESOLVE_IN_ROOT and made when missing (rootfs.c)
 *     --uid-map "IN OUT N"    a uid_map line (user ns); repeat
 *     --gid-map "IN OUT N"    a gid_map line (user ns); repeat
 *     --uid N --gid N         credentials the command runs with (ids as seen inside)
 *     --groups N,N,...        supplementary groups (may be empty)
 *     --cwd DIR               working directory (inside the new root)
 *     --rlimit NAME SOFT HARD setrlimit NAME (cpu fsize data stack core rss nproc nofile memlock as
 *                             locks sigpending msgqueue nice rtprio rttime) to SOFT:HARD, each a
 *                             decimal number or "infinity"; repeat
 *     --rlimit-default NAME SOFT HARD
 *                             the same for a default the policy did not set: when the kernel
 *                             refuses to raise the hard limit (no CAP_SYS_RESOURCE), the stage's
 *                             own hard limit is kept instead (and the soft one lowered to it)
 *     --caps N,N,...          the capabilities kept (numbers; may be empty): every other one leaves
 *                             the bounding set, and these are the effective and permitted sets;
 *                             without --caps, capabilities are left as they are
 *     --ambient-caps          the kept ones are also inheritable and ambient (a non-root command)
 *     --no-new-privs          PR_SET_NO_NEW_PRIVS: execve grants nothing (setuid bits, file caps)
 *     --nice N                the group's process knobs (policy "process:"), set on this stage right
 *     --ioprio N              after it joined the cgroups, before the workload is cloned, so the
 *     --oom-score-adj N       workload has them from its first instruction (inherited through
 *     --sched-policy N        clone and execve): setpriority(2) nice -20..19; ioprio_set(2)
 *                             class << 13 | level; /proc/self/oom_score_adj -1000..1000;
 *                             sched_setscheduler(2) 0 other, 3 batch, 5 idle. Set here, in the
 *                             host's user namespace as root: a lower nice and a realtime I/O class
 *                             take CAP_SYS_NICE, a lower oom_score_adj CAP_SYS_RESOURCE, which a
 *                             workload in its own user namespace has not
 *     --seccomp               read a compiled seccomp program (struct sock_filter[], as
 *                             --seccomp-export writes it) on stdin, load it last before execve;
 *                             stdin is /dev/null for the command
 *
 *     --layer DIR, --layer-state DIR, --volumes DIR, --volume NAME TARGET MODE, --volume-owner UID GID
 *                             a root of overlay layers and named volumes (engine.c documents them)
 *     --join PID START        run COMMAND inside running workload PID instead of a new one
 *                             (`jgovernor exec`; join.c documents it); --seccomp-hex HEX
 *                             then carries the seccomp program instead of stdin
 *
 *   jgovernor-exec --seccomp-export
 *     compiles the filter on stdin (below) with libseccomp and writes the BPF program to stdout.
 *     The daemon compiles each profile once and passes the program to every start: compiling
 *     takes milliseconds, loading microseconds.
 *
 * The seccomp filter for --seccomp-export, one directive per line, words separated by one space,
 * written by the daemon from an OCI profile (spawn/SeccompFilter.java):
 *
 *   default ACTION                 first line: what calls no rule names get
 *   arch NAME                      an architecture the filter also accepts (libseccomp's name:
 *                                  x86_64, x86, x32, aarch64 ...); the native one always is
 *   rule ACTION SYSCALL [INDEX OP VALUE VALUE2]...
 *                                  SYSCALL gets ACTION when every comparison holds (at most 6;
 *                                  OP ne lt le eq ge gt masked_eq, VALUE2 the masked_eq datum)
 *   ACTION: allow | errno N | kill_thread | kill_process | trap | log
 *
 * A SYSCALL this host's libseccomp does not know (nor the table of newer ones in confine.c) is
 * skipped: profiles name the calls of many kernels and architectures.
 *
 * The environment of this stage is passed to the command unchanged: the daemon builds it from
 * the policy's env and nothing else.
 *
 * Order: (1) join every cgroup with our own pid, before anything else, so every process that
 * follows - the workload and whatever it forks at once - is born inside the group, and set the
 * process knobs; (2) clone the
 * workload process with the CLONE_NEW* flags in one call, so the other namespaces are owned by
 * the new user namespace, the clone is PID 1 of the new pid namespace and the root of its cgroup
 * namespace is the group joined in (1); (3) the parent (still in the host's namespaces, with
 * CAP_SETUID there) writes the uid/gid maps: a process that has unshared its user namespace has
 * no capability in the parent namespace and may map only its own uid in one line, so the map
 * must come from outside; (4) the child then sets up mounts (setup_mounts, with the steps of
 * rootfs.c), hostname, lo, credentials and execs. Confinement (confine.c) wraps step 4 in runc's
 * order: rlimits in the stage before the clone; in the child no_new_privs, the bounding set
 * dropped while still root, setuid with PR_SET_KEEPCAPS, then capset and the ambient set, and
 * the seccomp filter last, right before execve (before the capabilities go when no_new_privs is
 * off: loading a filter then takes CAP_SYS_ADMIN).
 *
 * This process then stays as a small relay and waiter:
 *  - it tells the daemon, on its stderr (the control channel), "pid N" (the workload's host pid)
 *    and then "started" once execve succeeded (a close-on-exec pipe closes) or "error: STEP: why";
 *  - the workload's stdout and stderr are a pipe this relay reads and copies to its stdout, which
 *    the daemon reads and logs line by line. The copy is non-blocking and SIGPIPE is ignored:
 *    when nobody reads (the daemon is stopped, or was killed and the pipe has no reader, EPIPE),
 *    output is dropped instead of blocking or killing the workload. This is also why a workload
 *    survives a daemon SIGKILL: the workload never writes to a pipe whose reader can vanish;
 *  - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 are forwarded to the workload;
 *  - it exits with the workload's status (128+N when a signal N ended it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage.h"

struct bind { const char *source, *target; int readonly; };

static const char *cgroups[MAX_ITEMS];
static int ncgroups;
static int clone_flags;
static const char *hostname, *rootfs, *cwd;
static int ro_rootfs;
static struct bind binds[MAX_ITEMS];
static int nbinds;
static char uid_map[4096], gid_map[4096];
static uid_t uid;
static gid_t gid;
static gid_t groups[MAX_ITEMS];
static int ngroups;
static char **command;
/* The process knobs; KNOB_UNSET where the policy names none. */
#define KNOB_UNSET (-100000)
static long knob_nice = KNOB_UNSET, knob_ioprio = KNOB_UNSET, knob_oom = KNOB_UNSET, knob_policy = KNOB_UNSET;

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t child_exited;

void die(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n > (int) sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    dprintf(2, "error: ");
    (void) !write(2, buf, n);
    _exit(127);
}

static void usage(const char *why) {
    die("usage: %s; see the comment at the top of jgovernor-exec.c", why);
}

static void append_map(char *map, const char *line) {
    size_t len = strlen(map);
    if (len + strlen(line) + 2 > sizeof uid_map) usage("id map too long");
    strcat(map, line);
    strcat(map, "\n");
}

long number(const char *s, const char *what) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 0) die("%s: \"%s\" is not a number", what, s);
    return v;
}

/* A decimal number in [MIN, MAX], negative ones too (nice, oom_score_adj). */
static long signed_number(const char *s, const char *what, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < min || v > max) die("%s: \"%s\" is not a number in %ld..%ld", what, s, min, max);
    return v;
}

static void parse(int argc, char **argv) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
#define VALUE() (i + 1 < argc ? argv[++i] : (usage(a), ""))
        if (strcmp(a, "--") == 0) { i++; break; }
        else if (strcmp(a, "--tag") == 0) (void) VALUE();
        else if (strcmp(a, "--cgroup") == 0) {
            if (ncgroups == MAX_ITEMS) usage("too many --cgroup");
            cgroups[ncgroups++] = VALUE();
        } else if (strcmp(a, "--ns") == 0) {
            const char *ns = VALUE();
            if (strcmp(ns, "pid") == 0) clone_flags |= CLONE_NEWPID;
            else if (strcmp(ns, "mount") == 0) clone_flags |= CLONE_NEWNS;
            else if (strcmp(ns, "uts") == 0) clone_flags |= CLONE_NEWUTS;
            else if (strcmp(ns, "ipc") == 0) clone_flags |= CLONE_NEWIPC;
            else if (strcmp(ns, "net") == 0) clone_flags |= CLONE_NEWNET;
            else if (strcmp(ns, "user") == 0) clone_flags |= CLONE_NEWUSER;
            else if (strcmp(ns, "cgroup") == 0) clone_flags |= CLONE_NEWCGROUP;
            else usage("unknown namespace");
        } else if (strcmp(a, "--hostname") == 0) hostname = VALUE();
        else if (strcmp(a, "--rootfs") == 0) rootfs = VALUE();
        else if (strcmp(a, "--ro-rootfs") == 0) ro_rootfs = 1;
        else if (strcmp(a, "--bind") == 0) {
            if (nbinds == MAX_ITEMS || i + 3 >= argc) usage("--bind SRC TARGET ro|rw");
            binds[nbinds].source = argv[++i];
            binds[nbinds].target = argv[++i];
            binds[nbinds].readonly = strcmp(argv[++i], "ro") == 0;
            nbinds++;
        } else if (strcmp(a, "--uid-map") == 0) append_map(uid_map, VALUE());
        else if (strcmp(a, "--gid-map") == 0) append_map(gid_map, VALUE());
        else if (strcmp(a, "--uid") == 0) uid = (uid_t) number(VALUE(), "--uid");
        else if (strcmp(a, "--gid") == 0) gid = (gid_t) number(VALUE(), "--gid");
        else if (strcmp(a, "--groups") == 0) {
            char *list = VALUE();
            for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
                if (ngroups == MAX_ITEMS) usage("too many --groups");
                groups[ngroups++] = (gid_t) number(tok, "--groups");
            }
        } else if (strcmp(a, "--cwd") == 0) cwd = VALUE();
        else if (strcmp(a, "--nice") == 0) knob_nice = signed_number(VALUE(), "--nice", -20, 19);
        else if (strcmp(a, "--ioprio") == 0) knob_ioprio = signed_number(VALUE(), "--ioprio", 0, 0xffff);
        else if (strcmp(a, "--oom-score-adj") == 0) knob_oom = signed_number(VALUE(), "--oom-score-adj", -1000, 1000);
        else if (strcmp(a, "--sched-policy") == 0) knob_policy = signed_number(VALUE(), "--sched-policy", 0, 5);
        else if (!confine_option(argc, argv, &i) && !engine_option(argc, argv, &i) && !join_option(argc, argv, &i))
            usage(a);
#undef VALUE
    }
    if (i >= argc) usage("no command after --");
    command = &argv[i];
}

static void write_file(const char *path, const char *text, const char *step) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("%s: open %s: %s", step, path, strerror(errno));
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t) len) die("%s: write %s: %s", step, path, strerror(errno));
    close(fd);
}

/*
 * v1: "0" written to `tasks` moves the calling thread, and this stage is single-threaded, so it
 * moves the whole process. The kernel takes the global threadgroup lock (a per-cpu rwsem whose
 * write side waits for an RCU grace period, several ms on an idle 2-CPU machine) only when a pid
 * other than the caller's own or a whole thread group moves: `tasks` + "0" skips it
 * (cgroup_procs_write_start). v2 has no `tasks` file: there cgroup.procs takes the pid.
 */
static void join_cgroups(void) {
    char path[4096], pid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    for (int i = 0; i < ncgroups; i++) {
        snprintf(path, sizeof path, "%s/tasks", cgroups[i]);
        if (access(path, W_OK) == 0) {
            write_file(path, "0", "join cgroup");
        } else {
            snprintf(path, sizeof path, "%s/cgroup.procs", cgroups[i]);
            write_file(path, pid, "join cgroup");
        }
    }
}

/*
 * The policy's process knobs, on this stage (single-threaded: its one thread is the process),
 * which the workload inherits at clone: nice, the I/O priority and the scheduling policy are
 * copied from the cloning thread, oom_score_adj from the process, and execve keeps them all
 * (SCHED_RESET_ON_FORK is not set). The relay keeps them too: it is in the group as well.
 */
static void set_knobs(void) {
    char text[32];
    if (knob_policy != KNOB_UNSET) {
        struct sched_param param = {.sched_priority = 0};
        if (sched_setscheduler(0, (int) knob_policy, &param) != 0) die("process knobs: sched_setscheduler %ld: %s", knob_policy, strerror(errno));
    }
    if (knob_nice != KNOB_UNSET && setpriority(PRIO_PROCESS, 0, (int) knob_nice) != 0)
        die("process knobs: setpriority %ld: %s", knob_nice, strerror(errno));
    if (knob_ioprio != KNOB_UNSET && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int) knob_ioprio) != 0)
        die("process knobs: ioprio_set %ld: %s", knob_ioprio, strerror(errno));
    if (knob_oom != KNOB_UNSET) {
        snprintf(text, sizeof text, "%ld", knob_oom);
        write_file("/proc/self/oom_score_adj", text, "process knobs");
    }
}

/* In the child, a failed step is reported on the close-on-exec pipe, then the child exits. */
int report_fd = -1;

void fail(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int) sizeof buf - 1) n = sizeof buf - 1;
    if (n > 0) (void) !write(report_fd, buf, n);
    _exit(127);
}

/* Whether gid 5 (tty, for devpts) exists where the workload runs: always outside a user
 * namespace, else when an inside range of the gid map holds it. */
static int tty_gid_mapped(void) {
    if (!(clone_flags & CLONE_NEWUSER)) return 1;
    for (const char *line = gid_map; *line;) {
        unsigned long inside, outside, count;
        if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside <= 5 && 5 - inside < count)
            return 1;
        const char *next = strchr(line, '\n');
        if (!next) break;
        line = next + 1;
    }
    return 0;
}

/*
 * The workload's mount namespace, every step in rootfs.c: private propagation, the rootfs bound
 * on itself (pivot_root needs a mount point), a fresh /proc with a pid namespace, a minimal /dev
 * and (with a net namespace, when the rootfs has /sys) a read-only sysfs in a rootfs, the bind
 * mounts (after /dev, so a single host device can be bound beneath it), then the masked and
 * read-only /proc and /sys paths, last so no bind undoes them; then pivot_root. Without a rootfs
 * the workload keeps the host's / and /dev (the device allow list bounds what opens there); its
 * /proc and /sys paths are masked all the same, in its private mount namespace only.
 */
static void setup_mounts(void) {
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        fail("make mounts private: %s", strerror(errno));
    const char *merged = engine_mount_layers(); /* --layer: the overlay is the root (engine.c) */
    if (merged) rootfs = merged;
    if (rootfs && mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) != 0)
        fail("bind rootfs %s: %s", rootfs, strerror(errno));
    int root = open_root(rootfs ? rootfs : "/"); /* after the bind: the root of the new mount */
    if (clone_flags & CLONE_NEWPID) mount_proc(root);
    if (rootfs) mount_minimal_dev(root, tty_gid_mapped());
    /* sysfs shows the net namespace of its mounter: only with one of the workload's own. */
    if (rootfs && (clone_flags & CLONE_NEWNET)) mount_sysfs(root);
    for (int i = 0; i < nbinds; i++) bind_in_root(root, binds[i].source, binds[i].target, binds[i].readonly);
    engine_mount_volumes(root);
    mask_kernel_paths(root);
    close(root);
    if (rootfs) {
        /* pivot_root(".", ".") stacks the old root on the new one; detaching "." removes it. */
        if (chdir(rootfs) != 0) fail("chdir %s: %s", rootfs, strerror(errno));
        if (syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root %s: %s", rootfs, strerror(errno));
        if (umount2(".", MNT_DETACH) != 0) fail("unmount the old root: %s", strerror(errno));
        if (chdir("/") != 0) fail("chdir /: %s", strerror(errno));
        if (ro_rootfs) remount_readonly("/", "/");
    }
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail("socket for lo: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail("lo flags: %s", strerror(errno));
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail("set lo up: %s", strerror(errno));
    close(s);
}

static void child(int go_fd, int out_fd) {
    char byte;
    /* Wait until the parent has reported our pid and written the id maps. */
    if (read(go_fd, &byte, 1) != 1) _exit(127);
    close(go_fd);
    if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) fail("stdout: %s", strerror(errno));
    if (out_fd > 2) close(out_fd);
    if (clone_flags & CLONE_NEWNS) setup_mounts();
    if (hostname && sethostname(hostname, strlen(hostname)) != 0) fail("sethostname: %s", strerror(errno));
    if (clone_flags & CLONE_NEWNET) loopback_up();
    confine_become(uid, gid, ngroups, groups, cwd);
    /* Last: from here on only what the filter allows runs; it must allow execve (and write and
     * exit_group, for fail()). */
    confine_seccomp();
    extern char **environ;
    execve(command[0], command, environ);
    fail("execve %s: %s", command[0], strerror(errno));
}

void default_signals(void) {
    /* The relay ignores SIGPIPE; ignored signals survive execve, the workload must not inherit that. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Through the system call: glibc's sigaction refuses the two real-time signals it reserves,
     * which a JVM parent leaves ignored. struct: handler, flags, restorer, mask. */
    unsigned long dfl[4] = {(unsigned long) SIG_DFL, 0, 0, 0};
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, dfl, NULL, sizeof(unsigned long));
}

static void forward(int sig) {
    if (child_pid > 0) kill(child_pid, sig);
}

static void on_child(int sig) {
    (void) sig;
    child_exited = 1;
}

/* Copies what the workload wrote to our stdout; drops it when nobody reads (see the top comment).
 * Returns 1 after data, -1 when nothing is there now, 0 at end of file. */
static int copy_out(int from, int *to_open) {
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? -1 : 0;
    if (n == 0) return 0;
    if (*to_open && write(1, buf, n) < 0 && errno == EPIPE) *to_open = 0;
    return 1;
}

/*
 * Every descriptor but 0, 1 and 2 is closed first: the daemon starts this stage with posix_spawn
 * (not through the JDK's jspawnhelper, which closes them), and a JVM holds descriptors that are
 * not close-on-exec. None may reach the workload, nor keep another workload's pipe open.
 */
static void close_inherited(void) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    /* Before Linux 5.9: each open descriptor, as /proc/self/fd lists them. */
    DIR *d = opendir("/proc/self/fd");
    if (!d) die("list open descriptors: %s", strerror(errno));
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != self) close(fd);
    }
    closedir(d);
}

int main(int argc, char **argv) {
    close_inherited();
    if (argc == 2 && strcmp(argv[1], "--seccomp-export") == 0) return confine_export();
    parse(argc, argv);
    confine_filter_read();
    signal(SIGPIPE, SIG_IGN);
    join_cgroups();
    set_knobs();
    /* Set here, from the host's namespaces, as runc sets them from its parent: raising a hard
     * limit takes CAP_SYS_RESOURCE in the initial user namespace, which a child in its own
     * user namespace no longer has. The relay gets them too, and needs a few descriptors only. */
    confine_rlimits();
    if (join_requested()) return join_run(uid, gid, ngroups, groups, cwd, command);
    engine_prepare(ro_rootfs);

    int go[2], report[2], out[2];
    if (pipe2(go, O_CLOEXEC) || pipe2(report, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
        die("pipe: %s", strerror(errno));

    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* handlers see child_pid set */
    /* Like fork(2), with the namespaces made in the same call (no stack: copy-on-write). */
    pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0) die("clone: %s", strerror(errno));
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(go[1]);
        close(report[0]);
        close(out[0]);
        report_fd = report[1];
        child(go[0], out[1]);
    }
    child_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(go[0]);
    close(report[1]);
    close(out[1]);

    dprintf(2, "pid %d\n", (int) pid);
    if (clone_flags & CLONE_NEWUSER) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        write_file(path, uid_map, "uid_map");
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) pid);
        write_file(path, gid_map, "gid_map");
    }
    if (write(go[1], "g", 1) != 1) die("start the workload: %s", strerror(errno));
    close(go[1]);

    char why[512];
    ssize_t n;
    do n = read(report[0], why, sizeof why - 1); while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n > 0) {
        why[n] = '\0';
        waitpid(pid, NULL, 0);
        dprintf(2, "error: %s\n", why);
        return 127;
    }
    dprintf(2, "started\n");

    int to_open = 1;
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    int out_open = 1, status = 0;
    /* SIGCHLD stays blocked except inside ppoll, so an exit between the check and the wait
     * cannot be missed. */
    sigset_t chld, waiting;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &waiting);
    sigdelset(&waiting, SIGCHLD);
    for (;;) {
        if (child_exited) {
            child_exited = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) break;
        }
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        /* Once the workload's output is closed, only its exit is awaited (poll on nothing). */
        int r = ppoll(&p, out_open ? 1 : 0, NULL, &waiting);
        if (r > 0 && copy_out(out[0], &to_open) == 0) out_open = 0;
    }
    /* What the workload wrote just before it ended; children that keep the pipe are not waited for. */
    while (out_open && copy_out(out[0], &to_open) > 0) {
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/*
 * `jgovernor exec`: a command run inside a workload that is already running (what `docker exec`
 * and runc's nsenter do), instead of a new workload.
 *
 *   jgovernor-exec --join PID START [--cgroup DIR]... --uid N --gid N --groups LIST [--cwd DIR]
 *                  [confinement options] [--seccomp-hex HEX] -- COMMAND [ARG...]
 *
 * PID is the workload (its host pid) and START its start time (field 22 of /proc/PID/stat), so a
 * pid reused by another process after the workload ended is refused. The CLI execs this stage
 * itself, so the command's stdin, stdout and stderr are the caller's (a terminal passes through)
 * and this process's exit status is the command's.
 *
 * Order: (1) main() joins the group's cgroups and sets the rlimits, as for a workload, while
 * still in the host's mount namespace (the cgroup paths are the host's); (2) /proc/PID is opened
 * once and every later read goes through that descriptor (it fails with ESRCH once the process
 * is gone, never reaches a newer process of that pid); the start time is checked; the
 * workload's capabilities are read and bound what the command may keep; (3) each of the
 * workload's namespaces that differs from ours is opened, then joined with setns: the user
 * namespace first (it gives the capabilities, in that namespace, to join the others it owns),
 * the mount namespace last (it changes our root and cwd to the workload's root); (4) a fork:
 * setns into a pid namespace applies to children only; (5) the child takes the same confinement
 * steps as a workload's process (confine.c: no_new_privs, bounding set, ids, capabilities,
 * seccomp last) and execs COMMAND, searched in the PATH of the environment (the workload's);
 * (6) this process waits for it, forwards the signals a process sends it (a terminal's ^C reaches
 * the command directly, being in the same process group, so it is not sent twice), and exits
 * with its status (128+N after signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage.h"

static long join_pid = -1;
static unsigned long long join_start;
static volatile sig_atomic_t command_pid;

int join_option(int argc, char **argv, int *i) {
    if (strcmp(argv[*i], "--join") != 0) return 0;
    if (*i + 2 >= argc) die("usage: --join PID START");
    char *end;
    errno = 0;
    join_pid = strtol(argv[++*i], &end, 10);
    if (errno || *end || join_pid <= 0) die("--join: \"%s\" is not a pid", argv[*i]);
    join_start = strtoull(argv[++*i], &end, 10);
    if (errno || *end) die("--join: \"%s\" is not a start time", argv[*i]);
    return 1;
}

int join_requested(void) {
    return join_pid > 0;
}

/* A small file beneath /proc/PID, read whole through the pinned directory. */
static void read_proc(int proc, const char *name, char *buf, size_t size) {
    int fd = openat(proc, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("workload %ld: %s: %s", join_pid, name, errno == ESRCH ? "it has ended" : strerror(errno));
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) die("workload %ld: %s: %s", join_pid, name, errno == ESRCH ? "it has ended" : strerror(errno));
    buf[n] = '\0';
}

static void check_start(int proc) {
    char stat[1024];
    read_proc(proc, "stat", stat, sizeof stat);
    /* comm (field 2) may hold spaces and ")": the fields after the last ")" start at 3 */
    char *p = strrchr(stat, ')');
    unsigned long long start = 0;
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    if (p) start = strtoull(p + 1, NULL, 10);
    if (!p || start != join_start) die("workload %ld has ended (its pid now names another process)", join_pid);
}

/* A capability set of /proc/PID/status ("CapEff:\t000001ffffffffff"). */
static uint64_t capability_set(const char *status, const char *name) {
    const char *line = strstr(status, name);
    if (!line) die("workload %ld: no %s in its status", join_pid, name);
    return strtoull(line + strlen(name), NULL, 16);
}

/* The namespaces setns takes, in the order they are joined. */
static const struct { const char *name; int type; } NAMESPACES[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define NNAMESPACES (sizeof NAMESPACES / sizeof *NAMESPACES)

/* Opens each of the workload's namespaces that is not ours (-1 for ours); returns whether mnt is among them. */
static int open_namespaces(int proc, int fds[NNAMESPACES]) {
    int mount_ns = 0;
    for (size_t k = 0; k < NNAMESPACES; k++) {
        char path[32], own[32];
        struct stat theirs, mine;
        snprintf(path, sizeof path, "ns/%s", NAMESPACES[k].name);
        snprintf(own, sizeof own, "/proc/self/ns/%s", NAMESPACES[k].name);
        fds[k] = openat(proc, path, O_RDONLY | O_CLOEXEC);
        if (fds[k] < 0) {
            if (errno == ENOENT) continue; /* a kernel without this namespace type */
            die("workload %ld: %s: %s", join_pid, path, errno == ESRCH ? "it has ended" : strerror(errno));
        }
        if (fstat(fds[k], &theirs) != 0 || stat(own, &mine) != 0) die("namespace %s: %s", path, strerror(errno));
        if (theirs.st_ino == mine.st_ino && theirs.st_dev == mine.st_dev) {
            close(fds[k]); /* the host's: nothing to join (and setns into our own user namespace is refused) */
            fds[k] = -1;
        } else if (NAMESPACES[k].type == CLONE_NEWNS) {
            mount_ns = 1;
        }
    }
    return mount_ns;
}

static void forward(int sig, siginfo_t *info, void *context) {
    (void) context;
    /* si_code > 0: from the kernel (a terminal's ^C went to the whole process group already) */
    if (command_pid > 0 && info->si_code <= 0) kill(command_pid, sig);
}

int join_run(uid_t uid, gid_t gid, int ngroups, const gid_t *groups, const char *cwd, char **command) {
    /* The CLI is a JVM that execs us: none of its descriptors but stdio belongs to the command. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        for (int fd = 3; fd < 1024; fd++) close(fd);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld", join_pid);
    int proc = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) die("workload %ld: %s", join_pid, errno == ENOENT ? "it has ended" : strerror(errno));
    check_start(proc);
    char status[8192];
    read_proc(proc, "status", status, sizeof status);
    /* Never more than the workload has: what it may use now, within its bounding set. */
    confine_cap_limit(capability_set(status, "CapEff:") & capability_set(status, "CapBnd:"));
    int fds[NNAMESPACES];
    int mount_ns = open_namespaces(proc, fds);
    check_start(proc); /* the namespaces opened are the workload's, not a successor's */
    close(proc);
    for (size_t k = 0; k < NNAMESPACES; k++) {
        if (fds[k] < 0) continue;
        if (setns(fds[k], NAMESPACES[k].type) != 0) die("join the %s namespace: %s", NAMESPACES[k].name, strerror(errno));
        close(fds[k]);
    }
    if (!cwd && mount_ns) cwd = "/";

    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) die("pipe: %s", strerror(errno));
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(report[0]);
        report_fd = report[1];
        confine_become(uid, gid, ngroups, groups, cwd);
        confine_seccomp();
        execvp(command[0], command);
        fail("execve %s: %s", command[0], strerror(errno));
    }
    command_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);
    /* none blocked, whatever the thread that exec'd us (a JVM's) had blocked */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(report[1]);

    char why[512];
    ssize_t n;
    do n = read(report[0], why, sizeof why - 1); while (n < 0 && errno == EINTR);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (n > 0) {
        why[n] = '\0';
        dprintf(2, "error: %s\n", why);
        return 127;
    }
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return WEXITSTATUS(wstatus);
}

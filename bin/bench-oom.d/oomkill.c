/*
 * oomkill GROUP_DIR COUNT GAP_MS: COUNT times, fork a child that joins the memory cgroup GROUP_DIR
 * (writes its pid to cgroup.procs before allocating) and touches memory until the OOM killer
 * kills it. The parent busy-polls GROUP_DIR/memory.oom_control for the oom_kill counter to move
 * (the kernel's kill, seen within microseconds) and then reaps the child. Prints one line per
 * kill: "<realtime ns when the counter moved> <realtime ns when waitpid returned> <signal>".
 * The parent runs SCHED_FIFO and polls every 100 us: on a 2-CPU machine a spinning poller at
 * normal priority was starved by the allocator and saw the kill up to 60 ms late; the child goes
 * back to SCHED_OTHER before it allocates.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long oom_kills(const char *file) {
    char buf[256];
    int fd = open(file, O_RDONLY);
    if (fd < 0) { perror(file); exit(2); }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) { perror("read"); exit(2); }
    buf[n] = 0;
    char *p = strstr(buf, "oom_kill ");
    return p ? atol(p + 9) : -1;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: oomkill GROUP_DIR COUNT GAP_MS\n"); return 2; }
    char procs[4096], control[4096];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", argv[1]);
    snprintf(control, sizeof control, "%s/memory.oom_control", argv[1]);
    int count = atoi(argv[2]), gap = atoi(argv[3]);
    struct sched_param rt = { .sched_priority = 50 };
    if (sched_setscheduler(0, SCHED_FIFO, &rt) != 0) perror("SCHED_FIFO (kill times less precise)");
    for (int i = 0; i < count; i++) {
        long before = oom_kills(control);
        pid_t pid = fork();
        if (pid == 0) {
            struct sched_param normal = { .sched_priority = 0 };
            sched_setscheduler(0, SCHED_OTHER, &normal);
            int fd = open(procs, O_WRONLY);
            if (fd < 0 || dprintf(fd, "%d", getpid()) < 0) { perror(procs); _exit(3); }
            close(fd);
            for (;;) {                       /* 1 MiB at a time, every page touched */
                char *m = malloc(1 << 20);
                if (!m) _exit(4);
                memset(m, 1, 1 << 20);
            }
        }
        long long killed = 0;
        struct timespec tick = { 0, 100000 };
        while (oom_kills(control) == before) { nanosleep(&tick, NULL); }
        killed = now_ns();
        int status;
        waitpid(pid, &status, 0);
        long long reaped = now_ns();
        printf("%lld %lld %d\n", killed, reaped, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        fflush(stdout);
        usleep(gap * 1000);
    }
    return 0;
}

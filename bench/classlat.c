/*
 * Measures how long a classifier takes to move a freshly exec'd process into a cgroup.
 *
 *   classlat latency BINARY CPU_CGROUP_PATH COUNT GAP_US   -> one latency in microseconds per line
 *   classlat spawn BINARY RATE_PER_S SECONDS                -> starts RATE processes a second (each exits at once)
 *
 * latency: for each spawn, the child stamps CLOCK_MONOTONIC into shared memory just before
 * execv(); the parent polls /proc/PID/cgroup (every 20 us) until the cpu hierarchy's line names
 * CPU_CGROUP_PATH, stamps again, prints the difference (or "timeout" after 2 s), kills the child
 * with SIGKILL by pid and reaps it. Spawns are one at a time, GAP_US apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int in_cgroup(pid_t pid, const char *want) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *a = strchr(line, ':');
        if (!a) continue;
        char *b = strchr(a + 1, ':');
        if (!b) continue;
        *b = 0;
        /* the hierarchy whose controller list is exactly "cpu" or contains it */
        char *c = a + 1;
        int cpu = 0;
        for (char *tok = strtok_r(c, ",", &c); tok; tok = strtok_r(NULL, ",", &c))
            if (strcmp(tok, "cpu") == 0) cpu = 1;
        if (cpu) return strcmp(b + 1, want) == 0;
    }
    return 0;
}

static int latency(const char *binary, const char *want, int count, int gap_us) {
    volatile long long *stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (stamp == MAP_FAILED) { perror("mmap"); return 1; }
    const char *name = strrchr(binary, '/') ? strrchr(binary, '/') + 1 : binary;
    for (int i = 0; i < count; i++) {
        *stamp = 0;
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            *stamp = now_ns();
            execl(binary, name, "60", (char *) NULL);
            _exit(127);
        }
        long long deadline = now_ns() + 2000000000LL;
        struct timespec pause = {0, 20000};
        int found = 0;
        while (now_ns() < deadline) {
            if (*stamp != 0 && in_cgroup(pid, want)) { found = 1; break; }
            nanosleep(&pause, NULL);
        }
        long long t1 = now_ns();
        if (found) printf("%lld\n", (t1 - *stamp) / 1000);
        else printf("timeout\n");
        fflush(stdout);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        usleep(gap_us);
    }
    return 0;
}

static int spawn(const char *binary, int rate, int seconds) {
    const char *name = strrchr(binary, '/') ? strrchr(binary, '/') + 1 : binary;
    long long period = 1000000000LL / rate, next = now_ns(), end = next + (long long) seconds * 1000000000LL;
    long started = 0;
    while (next < end) {
        pid_t pid = fork();
        if (pid == 0) {
            execl(binary, name, (char *) NULL);
            _exit(127);
        }
        if (pid > 0) started++;
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        next += period;
        long long wait = next - now_ns();
        if (wait > 0) {
            struct timespec t = {wait / 1000000000LL, wait % 1000000000LL};
            nanosleep(&t, NULL);
        }
    }
    while (wait(NULL) > 0) {}
    printf("%ld\n", started);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "latency") == 0)
        return latency(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc == 5 && strcmp(argv[1], "spawn") == 0)
        return spawn(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: classlat latency BINARY CPU_CGROUP_PATH COUNT GAP_US | classlat spawn BINARY RATE SECONDS\n");
    return 2;
}

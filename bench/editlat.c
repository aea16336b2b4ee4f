/* Edit latency: rewrites one policy file N times, alternating between two
 * versions, and after each write polls a cgroup file until it shows the value
 * that version asks for. Prints one latency per line, in milliseconds.
 *
 *   editlat inplace|rename N POLICY FILE_A FILE_B VALUE_A VALUE_B WATCHED GAP_MS TIMEOUT_MS
 *
 * inplace: open(O_TRUNC)/write/close of POLICY, as `cat > POLICY` does.
 * rename:  write a dotfile next to it, then rename(2) it over POLICY, as editors do.
 * The clock starts before the first byte is written. The poll re-opens WATCHED
 * every 50 us (a busy loop would take one of the two CPUs from the daemon). The
 * file starts as FILE_A, so edit 1 writes FILE_B. A timeout prints "timeout". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "r");
    if (!f) { perror(p); exit(2); }
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void put(const char *path, int flags, const char *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t) len) { perror(path); exit(2); }
    close(fd);
}

static unsigned long long read_value(const char *path) {
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    return strtoull(buf, NULL, 10);
}

int main(int argc, char **argv) {
    if (argc != 11) { fprintf(stderr, "usage: see source\n"); return 2; }
    int rename_mode = strcmp(argv[1], "rename") == 0;
    int n = atoi(argv[2]);
    const char *policy = argv[3];
    size_t la, lb;
    char *a = slurp(argv[4], &la), *b = slurp(argv[5], &lb);
    unsigned long long va = strtoull(argv[6], NULL, 10), vb = strtoull(argv[7], NULL, 10);
    const char *watched = argv[8];
    int gap_ms = atoi(argv[9]), timeout_ms = atoi(argv[10]);
    umask(022);

    char tmp[4096];
    const char *slash = strrchr(policy, '/');
    snprintf(tmp, sizeof tmp, "%.*s/.%s.bench-tmp", (int) (slash - policy), policy, slash + 1);

    struct timespec pause = {0, 50 * 1000};
    struct timespec gap = {gap_ms / 1000, (gap_ms % 1000) * 1000000L};
    int failures = 0;
    for (int i = 0; i < n; i++) {
        const char *data = i % 2 == 0 ? b : a;
        size_t len = i % 2 == 0 ? lb : la;
        unsigned long long want = i % 2 == 0 ? vb : va;
        double t0 = now_ms();
        if (rename_mode) {
            put(tmp, O_CREAT | O_TRUNC, data, len);
            if (rename(tmp, policy) != 0) { perror("rename"); return 2; }
        } else {
            put(policy, O_TRUNC, data, len);
        }
        double t1;
        for (;;) {
            t1 = now_ms();
            if (read_value(watched) == want) break;
            if (t1 - t0 > timeout_ms) break;
            nanosleep(&pause, NULL);
        }
        if (t1 - t0 > timeout_ms) { printf("timeout\n"); failures++; }
        else printf("%.3f\n", t1 - t0);
        fflush(stdout);
        nanosleep(&gap, NULL);
    }
    return failures ? 1 : 0;
}

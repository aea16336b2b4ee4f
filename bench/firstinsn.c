/* The bench's workload: its first act is to read CLOCK_MONOTONIC (not namespaced: the same clock
 * as the JVM's System.nanoTime) and write the nanoseconds to argv[1]. Linked statically, so no
 * dynamic loader runs before main; that costs the same for every start path measured. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (argc < 2) return 2;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld\n", (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, n) != n) return 1;
    return close(fd);
}

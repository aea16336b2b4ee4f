/* The floor: applies a plan made by gen.sh with nothing but mkdir(2) and one
 * open/write/close per setting. The plan is read into memory first; only the
 * system calls are timed. Prints "seconds mkdirs writes errors". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct step { char op; char *path; char *value; };

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: rawapply PLAN\n"); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 2; }
    size_t cap = 1024, n = 0;
    struct step *steps = malloc(cap * sizeof *steps);
    char *line = NULL; size_t lcap = 0; ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        if (n == cap) steps = realloc(steps, (cap *= 2) * sizeof *steps);
        struct step *s = &steps[n++];
        s->op = line[0];
        char *rest = line + 2;
        if (s->op == 'M') { s->path = strdup(rest); s->value = NULL; continue; }
        /* W dir file value...: path = dir/file */
        char *sp1 = strchr(rest, ' '); char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp2) { fprintf(stderr, "bad plan line: %s\n", line); return 2; }
        *sp1 = '/'; *sp2 = 0;
        s->path = strdup(rest);
        s->value = strdup(sp2 + 1);
    }
    fclose(f);

    int mkdirs = 0, writes = 0, errors = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < n; i++) {
        struct step *s = &steps[i];
        if (s->op == 'M') {
            if (mkdir(s->path, 0755) == 0) mkdirs++;
            else { errors++; fprintf(stderr, "mkdir %s: %s\n", s->path, strerror(errno)); }
        } else {
            int fd = open(s->path, O_WRONLY | O_CLOEXEC);
            size_t vl = strlen(s->value);
            if (fd < 0 || write(fd, s->value, vl) != (ssize_t) vl) {
                errors++; fprintf(stderr, "write %s=%s: %s\n", s->path, s->value, strerror(errno));
            } else writes++;
            if (fd >= 0) close(fd);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f %d %d %d\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, mkdirs, writes, errors);
    return errors ? 1 : 0;
}

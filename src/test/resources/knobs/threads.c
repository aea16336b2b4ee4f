/*
 * A multi-threaded test process for ProcessKnobsKernelTest (built by the test with gcc).
 *
 *   threads N [FILE]
 *
 * First thing in main: when FILE is given, writes what this thread runs with
 * ("nice N policy N ioprio N oom N") to it. Then it sets its own earlier values, as a real
 * process might have them: nice 3 is given by the caller (nice -n 3); ioprio best-effort 6 and
 * oom_score_adj 100 here. It starts N threads that wait, the first of which sets its own nice to
 * 5 (a thread with values of its own), says "ready" and reads stdin:
 *   "t"  the main thread sets itself back to nice 0, SCHED_OTHER, best-effort 6 (so a thread
 *        it makes inherits nothing of any knobs) and makes one more thread; says "made TID"
 *   "c"  a thread that makes and ends short-lived threads without pause (churn); says "churning"
 *   "l"  as "t", then polls the new thread's nice until it is 10 (the daemon's knobs came) or 1 s
 *        passed; says "latency NS" from just before pthread_create (KnobsBench), or "latency -1"
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int made_tid;

static void *wait_forever(void *arg) {
    if (arg) setpriority(PRIO_PROCESS, 0, 5);
    made_tid = (int) syscall(SYS_gettid);
    for (;;) pause();
    return NULL;
}

static void *brief(void *arg) {
    (void) arg;
    return NULL;
}

static void *churn(void *arg) {
    (void) arg;
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, brief, NULL) == 0) pthread_join(t, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 2) {
        FILE *f = fopen(argv[2], "w");
        if (!f) return 2;
        char oom[16] = "";
        FILE *o = fopen("/proc/self/oom_score_adj", "r");
        if (o && fgets(oom, sizeof oom, o)) oom[strcspn(oom, "\n")] = 0;
        fprintf(f, "nice %d policy %d ioprio %ld oom %s\n", getpriority(PRIO_PROCESS, 0), sched_getscheduler(0),
                syscall(SYS_ioprio_get, 1, 0), oom);
        fclose(f);
    }
    int n = atoi(argv[1]);
    syscall(SYS_ioprio_set, 1, 0, 2 << 13 | 6);
    FILE *o = fopen("/proc/self/oom_score_adj", "w");
    if (o) { fputs("100", o); fclose(o); }
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_create(&t, NULL, wait_forever, i == 0 ? (void *) 1 : NULL);
    }
    usleep(100000);
    printf("ready\n");
    fflush(stdout);
    char line[16];
    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == 't') {
            setpriority(PRIO_PROCESS, 0, 0);
            struct sched_param p = {0};
            sched_setscheduler(0, SCHED_OTHER, &p);
            syscall(SYS_ioprio_set, 1, 0, 2 << 13 | 6);
            made_tid = 0;
            pthread_t t;
            pthread_create(&t, NULL, wait_forever, NULL);
            while (!made_tid) usleep(1000);
            printf("made %d\n", made_tid);
        } else if (line[0] == 'l') {
            setpriority(PRIO_PROCESS, 0, 0);
            struct sched_param p = {0};
            sched_setscheduler(0, SCHED_OTHER, &p);
            made_tid = 0;
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            pthread_t t;
            pthread_create(&t, NULL, wait_forever, NULL);
            while (!made_tid) {
            }
            long ns = -1;
            for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &b);
                long elapsed = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
                if (getpriority(PRIO_PROCESS, made_tid) == 10) { ns = elapsed; break; }
                if (elapsed > 1000000000L) break;
            }
            printf("latency %ld\n", ns);
        } else if (line[0] == 'c') {
            pthread_t t;
            pthread_create(&t, NULL, churn, NULL);
            printf("churning\n");
        }
        fflush(stdout);
    }
    /* stdin closed (a workload's is /dev/null): keep running with the threads until killed */
    for (;;) pause();
}

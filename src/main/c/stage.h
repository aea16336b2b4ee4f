/*
 * What the exec stage's files share (jgovernor-exec.c is the entry point and documents the
 * argv and the order of steps; each other .c file holds one step of it).
 */
#ifndef JGOVERNOR_STAGE_H
#define JGOVERNOR_STAGE_H

#define MAX_ITEMS 64

/* In the workload's process, before its execve: reports "STEP: why" to the stage and exits 127. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The close-on-exec pipe fail() writes to. */
extern int report_fd;

/* In the stage, before the workload is cloned: reports "error: why" on the control channel and exits 127. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* confine.c: resource limits, capabilities, no_new_privs, seccomp (the order is in confine.c). */
int confine_option(int argc, char **argv, int *i); /* 1 when argv[*i] was one of its options */
int confine_export(void); /* --seccomp-export: filter lines on stdin, BPF on stdout */
void confine_filter_read(void);
void confine_rlimits(void);
void confine_before_user(void);
void confine_after_user(void);
void confine_seccomp(void);

#endif

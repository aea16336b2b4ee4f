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

#endif

/*
 * What the exec stage's files share (jgovernor-exec.c is the entry point and documents the
 * argv and the order of steps; each other .c file holds one step of it).
 */
#ifndef JGOVERNOR_STAGE_H
#define JGOVERNOR_STAGE_H

#define MAX_ITEMS 64

#include <sys/types.h>

/* In the workload's process, before its execve: reports "STEP: why" to the stage and exits 127. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The close-on-exec pipe fail() writes to. */
extern int report_fd;

/* rootfs.c: the workload's mount namespace; setup_mounts (jgovernor-exec.c) calls these in this order. */
/* An O_PATH descriptor of DIR, the root every target below is resolved in. */
int open_root(const char *dir);
/* A fresh /proc on the root's /proc (a real directory, made when missing). */
void mount_proc(int root);
/* A tmpfs /dev with the host's null zero full random urandom tty bound in, a devpts of its own
 * (gid=5 when PTS_GID), /dev/shm, ptmx and the fd links. */
void mount_minimal_dev(int root, int pts_gid);
/* A read-only sysfs on the root's /sys when the root has that directory. */
void mount_sysfs(int root);
/* Binds SOURCE (a host path) on TARGET resolved inside the root, made when missing; read-only on request. */
void bind_in_root(int root, const char *source, const char *target, int readonly);
/* An O_PATH descriptor of TARGET inside the root, made (directories, or an empty file at the end
 * unless DIRECTORY) without following a symbolic link; WHAT names it in errors. */
int mountpoint_in_root(int root, const char *target, int directory, const char *what);
/* runc's masked paths (/dev/null or an empty tmpfs over them) and read-only paths, in the root's
 * /proc and /sys when the kernel's filesystems are mounted there. */
void mask_kernel_paths(int root);
/* A bind remount of PATH read-only, keeping the flags a user namespace locks; NAME for errors. */
void remount_readonly(const char *path, const char *name);

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
/* In the child, after the namespaces and mounts: confine_before_user, the groups, gid and uid,
 * the working directory, confine_after_user and default signals (then only confine_seccomp and
 * execve remain); a workload's process and exec's command alike. */
void confine_become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups, const char *cwd);
/* A non-negative decimal number, else die() naming WHAT. */
long number(const char *s, const char *what);
/* `jgovernor exec`: the capabilities kept are at most ALLOWED (the joined workload's). */
void confine_cap_limit(unsigned long long allowed);

/* In a child just before its execve: every signal at its default, none blocked. */
void default_signals(void);

/* engine.c: overlay layers and volumes (its options are documented there). */
int engine_option(int argc, char **argv, int *i); /* 1 when argv[*i] was one of its options */
/* In the stage before the clone: opens the layers, makes and opens the state directories. */
void engine_prepare(int readonly);
/* In the child's mount namespace: the overlay mounted; its path (the new root), or NULL without layers. */
const char *engine_mount_layers(void);
/* In the child, with the bind mounts: each volume on its target inside ROOT. */
void engine_mount_volumes(int root);

/* join.c: `jgovernor exec`, a command inside a running workload (see join.c). */
int join_option(int argc, char **argv, int *i);
int join_requested(void);
int join_run(uid_t uid, gid_t gid, int ngroups, const gid_t *groups, const char *cwd, char **command);

#endif

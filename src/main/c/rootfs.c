/*
 * The workload's mount namespace: mount targets resolved inside the root, the kernel's
 * filesystems (/proc, a minimal /dev, /sys) and the /proc and /sys paths a container must not
 * read or write. setup_mounts in jgovernor-exec.c calls these steps in order, before pivot_root.
 *
 * Why by file descriptor: a target joined to the rootfs as a string is resolved by the kernel on
 * the host, so a symbolic link in the rootfs (/data -> /etc) would put the mount, or the file
 * made for it, on the host. Every target here is looked up with openat2(RESOLVE_IN_ROOT) from a
 * descriptor of the root (symbolic links and ".." resolve as if the root were /), missing
 * components are made one at a time relative to their parent's descriptor without following
 * symbolic links, and the mount is made on /proc/self/fd/N, the object found, never on a path
 * the kernel would look up again. This is how runc mounts since CVE-2021-30465.
 *
 * What remains: after a bind mount, a read-only remount must find the new mount by looking the
 * target up once more (the descriptor still names what is beneath it). Another process renaming
 * directories in the same rootfs at that instant could make the remount land on a different
 * mount inside the root, never outside it (runc has the same window; the new mount API closes it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stage.h"

/* Symbolic links and ".." resolve inside the root; /proc's magic links (a way out) never. */
#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
/* One step beneath a directory we hold, following nothing. */
#define NO_LINKS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)

static int openat2_(int dirfd, const char *path, int flags, unsigned long long resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long) (flags | O_CLOEXEC);
    how.resolve = resolve;
    int fd = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fail("openat2: this kernel has no openat2 (Linux 5.6 or later is needed to resolve mount targets"
             " inside the rootfs)");
    return fd;
}

/* The path mount(2) takes for a descriptor: the object itself, not a name looked up again. */
static const char *fd_path(int fd, char buf[32]) {
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
    return buf;
}

int open_root(const char *dir) {
    int fd = openat2_(AT_FDCWD, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) fail("open the root %s: %s", dir, strerror(errno));
    return fd;
}

/* Mount flags a bind remount must keep: inside a user namespace the kernel refuses to clear them. */
static unsigned long locked_flags(const char *path) {
    struct statvfs s;
    unsigned long f = 0;
    if (statvfs(path, &s) != 0) return 0;
    if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV) f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

void remount_readonly(const char *path, const char *name) {
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path), NULL) != 0)
        fail("remount %s read-only: %s", name, strerror(errno));
}

/* Why a component could not be made or entered: a link whose target is not in the root is the usual one. */
static void fail_component(int parent, const char *name, const char *target, const char *what, int err) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        fail("%s %s: \"%s\" is a symbolic link to something missing inside the root; targets resolve inside"
             " the root, never on the host", what, target, name);
    fail("%s %s: make \"%s\": %s", what, target, name, strerror(err));
}

int mountpoint_in_root(int root, const char *target, int directory, const char *what) {
    int fd = openat2_(root, target, O_PATH, IN_ROOT);
    if (fd >= 0) return fd;
    if (errno != ENOENT) fail("%s %s: %s", what, target, strerror(errno));

    char copy[4096], prefix[4096];
    if (strlen(target) >= sizeof copy) fail("%s %s: too long", what, target);
    strcpy(copy, target);
    char *parts[256];
    int n = 0;
    for (char *p = strtok(copy, "/"); p; p = strtok(NULL, "/")) {
        if (n == 256) fail("%s %s: too many components", what, target);
        if (strcmp(p, "..") == 0) fail("%s %s: \"..\" is refused", what, target);
        if (strcmp(p, ".") != 0) parts[n++] = p;
    }
    /* The longest prefix that exists (looked up from the root each time, so links in it resolve
     * inside the root as they would for the workload), then the rest made beneath it. */
    int parent = fcntl(root, F_DUPFD_CLOEXEC, 3);
    if (parent < 0) fail("%s %s: dup: %s", what, target, strerror(errno));
    int k = 0;
    prefix[0] = '\0';
    for (; k < n; k++) {
        size_t len = strlen(prefix);
        snprintf(prefix + len, sizeof prefix - len, "/%s", parts[k]);
        int next = openat2_(root, prefix, O_PATH, IN_ROOT);
        if (next < 0) {
            if (errno == ENOENT) break;
            fail("%s %s: %s: %s", what, target, prefix, strerror(errno));
        }
        close(parent);
        parent = next;
    }
    for (; k < n; k++) {
        int last = k == n - 1;
        int next;
        if (last && !directory) {
            /* O_EXCL|O_NOFOLLOW: never a file made at the end of a link. */
            next = openat(parent, parts[k], O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (next < 0) fail_component(parent, parts[k], target, what, errno);
        } else {
            /* mkdirat never follows a trailing link; EEXIST is another maker, or a link: the open says which. */
            if (mkdirat(parent, parts[k], 0755) != 0 && errno != EEXIST)
                fail_component(parent, parts[k], target, what, errno);
            next = openat2_(parent, parts[k], O_PATH | O_DIRECTORY, NO_LINKS);
            if (next < 0) fail_component(parent, parts[k], target, what, errno);
        }
        close(parent);
        parent = next;
    }
    return parent;
}

void bind_in_root(int root, const char *source, const char *target, int readonly) {
    struct stat s;
    char path[32];
    if (stat(source, &s) != 0) fail("bind mount source %s: %s", source, strerror(errno));
    int fd = mountpoint_in_root(root, target, S_ISDIR(s.st_mode), "bind mount target");
    if (mount(source, fd_path(fd, path), NULL, MS_BIND | MS_REC, NULL) != 0)
        fail("bind %s on %s: %s", source, target, strerror(errno));
    close(fd);
    if (!readonly) return;
    /* The descriptor names what is beneath the new mount: look the target up again to reach its top. */
    fd = openat2_(root, target, O_PATH, IN_ROOT);
    if (fd < 0) fail("bind mount target %s: reopen: %s", target, strerror(errno));
    remount_readonly(fd_path(fd, path), target);
    close(fd);
}

/* A top-level directory of the root for a kernel filesystem: a real directory (made when missing), never a link. */
static int kernel_mountpoint(int root, const char *name, mode_t mode) {
    int fd = openat2_(root, name, O_PATH | O_DIRECTORY, NO_LINKS);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(root, name, mode) != 0 && errno != EEXIST) fail("make /%s: %s", name, strerror(errno));
        fd = openat2_(root, name, O_PATH | O_DIRECTORY, NO_LINKS);
    }
    if (fd < 0) fail("/%s in the root: %s (the stage mounts the kernel's filesystems only on a real directory)",
                     name, strerror(errno));
    return fd;
}

void mount_proc(int root) {
    char path[32];
    int fd = kernel_mountpoint(root, "proc", 0555);
    /* A /proc of the new pid namespace: the host's processes are not listed in it. */
    if (mount("proc", fd_path(fd, path), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        fail("mount proc on /proc: %s", strerror(errno));
    close(fd);
}

void mount_sysfs(int root) {
    char path[32];
    int fd = openat2_(root, "sys", O_PATH | O_DIRECTORY, NO_LINKS);
    if (fd < 0) return; /* no /sys in the rootfs: none is made */
    if (mount("sysfs", fd_path(fd, path), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        fail("mount sysfs on /sys: %s", strerror(errno));
    close(fd);
}

/* The character devices of a minimal /dev, as runc's default spec and Docker give them. */
static const char *const DEVICES[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define NDEVICES (sizeof DEVICES / sizeof *DEVICES)

static int host_device(const char *name) {
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/dev/%s", name);
    int fd = openat2_(AT_FDCWD, path, O_PATH, RESOLVE_NO_SYMLINKS);
    if (fd < 0) fail("the host's %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) fail("the host's %s is not a character device", path);
    return fd;
}

static int subdir(int dir, const char *name, const char *shown) {
    if (mkdirat(dir, name, 0755) != 0 && errno != EEXIST) fail("make %s: %s", shown, strerror(errno));
    int fd = openat2_(dir, name, O_PATH | O_DIRECTORY, NO_LINKS);
    if (fd < 0) fail("open %s: %s", shown, strerror(errno));
    return fd;
}

void mount_minimal_dev(int root, int pts_gid) {
    char path[32], from[32], opts[96];
    int host[NDEVICES];
    /* The host's nodes first: the new /dev hides them when there is no rootfs. */
    for (size_t i = 0; i < NDEVICES; i++) host[i] = host_device(DEVICES[i]);
    int fd = kernel_mountpoint(root, "dev", 0755);
    /* noexec, nosuid: nothing runs from /dev. Not nodev: the device allow list (cgroup) decides
     * which devices open, and a node the workload makes for a device `devices:` allows must work. */
    if (mount("tmpfs", fd_path(fd, path), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0)
        fail("mount tmpfs on /dev: %s", strerror(errno));
    close(fd);
    int dev = openat2_(root, "dev", O_PATH | O_DIRECTORY, NO_LINKS); /* the new tmpfs */
    if (dev < 0) fail("open /dev: %s", strerror(errno));
    /* Bound from the host's nodes, never made with mknod: the same in a user namespace (where
     * mknod is refused) as outside it, and the node is the host's own major:minor. */
    for (size_t i = 0; i < NDEVICES; i++) {
        int node = openat(dev, DEVICES[i], O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
        if (node < 0) fail("make /dev/%s: %s", DEVICES[i], strerror(errno));
        if (mount(fd_path(host[i], from), fd_path(node, path), NULL, MS_BIND, NULL) != 0)
            fail("bind /dev/%s: %s", DEVICES[i], strerror(errno));
        close(node);
        close(host[i]);
    }
    /* A devpts instance of its own: the host's terminals are not in it. gid=5 (tty) only when
     * that gid exists in the workload's user namespace, else the kernel refuses the option. */
    int pts = subdir(dev, "pts", "/dev/pts");
    snprintf(opts, sizeof opts, "newinstance,ptmxmode=0666,mode=0620%s", pts_gid ? ",gid=5" : "");
    if (mount("devpts", fd_path(pts, path), "devpts", MS_NOSUID | MS_NOEXEC, opts) != 0)
        fail("mount devpts on /dev/pts: %s", strerror(errno));
    close(pts);
    int shm = subdir(dev, "shm", "/dev/shm");
    if (mount("shm", fd_path(shm, path), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") != 0)
        fail("mount tmpfs on /dev/shm: %s", strerror(errno));
    close(shm);
    static const char *const LINKS[][2] = {
        {"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
    };
    for (size_t i = 0; i < sizeof LINKS / sizeof *LINKS; i++)
        if (symlinkat(LINKS[i][0], dev, LINKS[i][1]) != 0) fail("make /dev/%s: %s", LINKS[i][1], strerror(errno));
    close(dev);
}

/*
 * runc's default spec (libcontainer/specconv/example.go), plus /sys/devices/virtual/powercap as
 * Docker masks it (RAPL energy counters, CVE-2020-8694). Files get /dev/null bound over them,
 * directories an empty read-only tmpfs. What this kernel lacks is skipped.
 */
static const char *const MASKED[] = {
    "proc/acpi", "proc/asound", "proc/kcore", "proc/keys", "proc/latency_stats", "proc/timer_list",
    "proc/timer_stats", "proc/sched_debug", "proc/scsi", "sys/firmware", "sys/devices/virtual/powercap",
};
/* runc's default read-only paths: sysctls, IRQ affinity, the magic SysRq key, bus and fs knobs. */
static const char *const READ_ONLY[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};

/* The root's /proc or /sys when the kernel's filesystem is mounted there (not a rootfs's empty directory). */
static int kernel_fs(int root, const char *name, long magic) {
    struct statfs st;
    int fd = openat2_(root, name, O_PATH | O_DIRECTORY, NO_LINKS);
    if (fd < 0) return -1;
    if (fstatfs(fd, &st) != 0 || st.f_type != magic) {
        close(fd);
        return -1;
    }
    return fd;
}

/* PATH ("proc/kcore") beneath the filesystem it starts with, or -1 when that is not mounted or PATH is missing. */
static int open_kernel_path(int proc, int sys, const char *path) {
    int fs = strncmp(path, "proc/", 5) == 0 ? proc : sys;
    if (fs < 0) return -1;
    int fd = openat2_(fs, strchr(path, '/') + 1, O_PATH, NO_LINKS);
    if (fd < 0 && errno != ENOENT) fail("mask /%s: %s", path, strerror(errno));
    return fd;
}

void mask_kernel_paths(int root) {
    char path[32], from[32];
    int proc = kernel_fs(root, "proc", PROC_SUPER_MAGIC);
    int sys = kernel_fs(root, "sys", SYSFS_MAGIC);
    if (proc < 0 && sys < 0) return;
    struct stat st;
    int null = openat2_(AT_FDCWD, "/dev/null", O_PATH, RESOLVE_NO_SYMLINKS);
    if (null < 0 || fstat(null, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        fail("mask paths: the host's /dev/null is not the null device");
    for (size_t i = 0; i < sizeof MASKED / sizeof *MASKED; i++) {
        int fd = open_kernel_path(proc, sys, MASKED[i]);
        if (fd < 0) continue;
        if (fstat(fd, &st) != 0) fail("mask /%s: %s", MASKED[i], strerror(errno));
        int r = S_ISDIR(st.st_mode)
                ? mount("tmpfs", fd_path(fd, path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "nr_blocks=1,nr_inodes=1")
                : mount(fd_path(null, from), fd_path(fd, path), NULL, MS_BIND, NULL);
        if (r != 0) fail("mask /%s: %s", MASKED[i], strerror(errno));
        close(fd);
    }
    close(null);
    for (size_t i = 0; i < sizeof READ_ONLY / sizeof *READ_ONLY; i++) {
        int fd = open_kernel_path(proc, sys, READ_ONLY[i]);
        if (fd < 0) continue;
        fd_path(fd, path);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) fail("bind /%s: %s", READ_ONLY[i], strerror(errno));
        close(fd);
        /* Again by name from /proc's descriptor: now it reaches the bind mount just made. */
        fd = open_kernel_path(proc, sys, READ_ONLY[i]);
        if (fd < 0) fail("reopen /%s: %s", READ_ONLY[i], strerror(errno));
        char shown[64];
        snprintf(shown, sizeof shown, "/%s", READ_ONLY[i]);
        remount_readonly(fd_path(fd, path), shown);
        close(fd);
    }
    if (proc >= 0) close(proc);
    if (sys >= 0) close(sys);
}

/*
 * The container engine's two kinds of storage (issue 16): a root joined from read-only layers by
 * overlayfs with a writable upper layer kept in the daemon's state directory, and named volumes
 * in state-dir/volumes that outlive every workload.
 *
 *   --layer DIR              a read-only lower layer; repeat, bottom first
 *   --layer-state DIR        the workload's own directory: upper/ (the writable layer), work/
 *                            (overlayfs's scratch space) and merged/ (where the overlay is
 *                            mounted, in the workload's mount namespace only). With --ro-rootfs
 *                            there is no upper layer: only the lower layers, read-only.
 *   --volumes DIR            state-dir/volumes (the daemon makes it, 0700 root)
 *   --volume NAME TARGET MODE
 *                            DIR/NAME bound on TARGET (inside the root), MODE ro|rw; repeat
 *   --volume-owner UID GID   who owns a volume made now (the run user as the host sees it)
 *
 * Everything in the state directory is made here, in the stage, before the clone (still root in
 * the host's namespaces): each directory is made with mkdirat beneath a descriptor of its parent
 * and opened with O_NOFOLLOW, so a symbolic link left where a volume or an upper layer belongs
 * (the workload owns what is inside them, never the entries themselves) is refused, never
 * followed. The child opens each again in its own mount namespace (overlayfs and bind mounts
 * refuse a mount of another namespace, which a descriptor from before the clone names), checks
 * it is the same directory (device and inode), and mounts by that descriptor (/proc/self/fd/N):
 * no path of the policy reaches the overlay's option string, where a comma or colon would be a
 * new option or another layer (the policy parser refuses them too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage.h"

struct volume { const char *name, *target; int readonly, fd; };

static const char *layers[MAX_ITEMS];
static int nlayers;
static int layer_fds[MAX_ITEMS];
static const char *layer_state;
static int upper_fd = -1, work_fd = -1;
static char merged[4096];
static const char *volumes_dir;
static struct volume volumes[MAX_ITEMS];
static int nvolumes;
static long volume_uid = -1, volume_gid = -1;

int engine_option(int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--layer") == 0) {
        if (*i + 1 >= argc || nlayers == MAX_ITEMS) die("usage: --layer DIR (at most %d)", MAX_ITEMS);
        layers[nlayers++] = argv[++*i];
    } else if (strcmp(a, "--layer-state") == 0) {
        if (*i + 1 >= argc) die("usage: --layer-state DIR");
        layer_state = argv[++*i];
    } else if (strcmp(a, "--volumes") == 0) {
        if (*i + 1 >= argc) die("usage: --volumes DIR");
        volumes_dir = argv[++*i];
    } else if (strcmp(a, "--volume") == 0) {
        if (*i + 3 >= argc || nvolumes == MAX_ITEMS) die("usage: --volume NAME TARGET ro|rw");
        volumes[nvolumes].name = argv[++*i];
        volumes[nvolumes].target = argv[++*i];
        volumes[nvolumes].readonly = strcmp(argv[++*i], "ro") == 0;
        volumes[nvolumes].fd = -1;
        nvolumes++;
    } else if (strcmp(a, "--volume-owner") == 0) {
        if (*i + 2 >= argc) die("usage: --volume-owner UID GID");
        volume_uid = number(argv[++*i], "--volume-owner");
        volume_gid = number(argv[++*i], "--volume-owner");
    } else return 0;
    return 1;
}

/* A plain name: one directory entry, never "." or ".." or a path. */
static void check_name(const char *name, const char *what) {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        die("%s \"%s\": not a plain name", what, name);
}

/*
 * NAME beneath DIR: made when missing (MODE, then OWNER when given: chown only what was made
 * here), opened as a directory without following a symbolic link. *MADE tells whether it was new.
 */
static int subdirectory(int dir, const char *name, mode_t mode, long uid, long gid, int *made, const char *what) {
    check_name(name, what);
    *made = 0;
    if (mkdirat(dir, name, 0700) == 0) {
        *made = 1;
        /* exact mode, whatever the umask; the owner before the mode, so no one else ever has it open */
        if (uid >= 0 && fchownat(dir, name, (uid_t) uid, (gid_t) gid, AT_SYMLINK_NOFOLLOW) != 0)
            die("%s %s: chown: %s", what, name, strerror(errno));
        if (fchmodat(dir, name, mode, 0) != 0) die("%s %s: chmod: %s", what, name, strerror(errno));
    } else if (errno != EEXIST) {
        die("%s %s: make it: %s", what, name, strerror(errno));
    }
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        die("%s %s: %s", what, name, errno == ELOOP || errno == ENOTDIR
            ? "not a directory (a symbolic link or a file is where it belongs; it is never followed)" : strerror(errno));
    return fd;
}

static int open_directory(const char *path, const char *what) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die("%s %s: %s", what, path, strerror(errno));
    return fd;
}

/* The last component of PATH made beneath its parent (which must exist), as subdirectory() does. */
static int state_directory(const char *path, const char *what) {
    char parent[4096];
    const char *slash = strrchr(path, '/');
    if (!slash || strlen(path) >= sizeof parent) die("%s %s: not an absolute path", what, path);
    size_t len = slash == path ? 1 : (size_t) (slash - path);
    memcpy(parent, path, len);
    parent[len] = '\0';
    int dir = open_directory(parent, what);
    int made;
    int fd = subdirectory(dir, slash + 1, 0700, -1, -1, &made, what);
    close(dir);
    return fd;
}

void engine_prepare(int readonly) {
    if (nlayers > 0) {
        if (!layer_state) die("--layer needs --layer-state");
        for (int k = 0; k < nlayers; k++) layer_fds[k] = open_directory(layers[k], "layer");
        int state = state_directory(layer_state, "layer state");
        int made;
        if (!readonly) {
            /* The merged root is the upper layer's directory: it starts as the top layer's root is. */
            struct stat top;
            if (fstat(layer_fds[nlayers - 1], &top) != 0) die("layer %s: %s", layers[nlayers - 1], strerror(errno));
            upper_fd = subdirectory(state, "upper", top.st_mode & 07777, top.st_uid, top.st_gid, &made, "layer state");
            work_fd = subdirectory(state, "work", 0700, -1, -1, &made, "layer state");
        }
        close(subdirectory(state, "merged", 0755, -1, -1, &made, "layer state"));
        close(state);
        if ((size_t) snprintf(merged, sizeof merged, "%s/merged", layer_state) >= sizeof merged)
            die("layer state %s: too long", layer_state);
    }
    if (nvolumes > 0) {
        if (!volumes_dir) die("--volume needs --volumes");
        int dir = open_directory(volumes_dir, "volumes");
        for (int k = 0; k < nvolumes; k++) {
            int made;
            volumes[k].fd = subdirectory(dir, volumes[k].name, 0700, volume_uid, volume_gid, &made, "volume");
        }
        close(dir);
    }
}

/* "/proc/self/fd/N", appended to BUF at *LEN. */
static void append_fd(char *buf, size_t size, size_t *len, const char *before, int fd) {
    int n = snprintf(buf + *len, size - *len, "%s/proc/self/fd/%d", before, fd);
    if (n < 0 || (size_t) n >= size - *len) fail("overlay: too many layers for one mount's options");
    *len += (size_t) n;
}

/*
 * PATH opened again in the child's mount namespace, and checked to be the directory the stage
 * opened (SEEN): overlayfs takes private clones of its layers' mounts and refuses a mount of
 * another namespace ("failed to clone upperpath"), which a descriptor from before the clone names.
 */
static int reopen(int dir, const char *path, int seen, const char *what) {
    struct stat now, then;
    int fd = openat(dir, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP) fd = openat(dir, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* a layer may be a link */
    if (fd < 0) fail("%s %s: %s", what, path, strerror(errno));
    if (fstat(fd, &now) != 0 || fstat(seen, &then) != 0 || now.st_dev != then.st_dev || now.st_ino != then.st_ino)
        fail("%s %s: replaced while the workload started", what, path);
    close(seen);
    return fd;
}

/*
 * In the child, in its private mount namespace: the overlay on merged/, which then is the root
 * the workload pivots into. overlayfs lists lowerdir top first; the policy and --layer bottom first.
 */
const char *engine_mount_layers(void) {
    if (nlayers == 0) return NULL;
    char options[4096];
    size_t len = 0;
    int fds[MAX_ITEMS];
    for (int k = 0; k < nlayers; k++) fds[k] = reopen(AT_FDCWD, layers[k], layer_fds[k], "layer");
    for (int k = nlayers - 1; k >= 0; k--) append_fd(options, sizeof options, &len, k == nlayers - 1 ? "lowerdir=" : ":", fds[k]);
    int upper = -1, work = -1;
    if (upper_fd >= 0) {
        int state = open(layer_state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state < 0) fail("layer state %s: %s", layer_state, strerror(errno));
        upper = reopen(state, "upper", upper_fd, "layer state");
        work = reopen(state, "work", work_fd, "layer state");
        close(state);
        append_fd(options, sizeof options, &len, ",upperdir=", upper);
        append_fd(options, sizeof options, &len, ",workdir=", work);
    }
    /* Without an upper layer overlayfs needs two lower ones: one layer alone is bound instead. */
    char one[32];
    snprintf(one, sizeof one, "/proc/self/fd/%d", fds[0]);
    int r = upper < 0 && nlayers == 1
            ? mount(one, merged, NULL, MS_BIND | MS_REC, NULL)
            : mount("overlay", merged, "overlay", upper < 0 ? MS_RDONLY : 0, options);
    if (r != 0) fail("mount the layers on %s: %s", merged, strerror(errno));
    for (int k = 0; k < nlayers; k++) close(fds[k]);
    if (upper >= 0) close(upper);
    if (work >= 0) close(work);
    return merged;
}

/* In the child, beside the bind mounts: each volume's directory on its target inside the root. */
void engine_mount_volumes(int root) {
    if (nvolumes == 0) return;
    char source[32];
    /* Opened again here, as the layers are: a bind mount's source must be a mount of this namespace. */
    int dir = open(volumes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) fail("volumes %s: %s", volumes_dir, strerror(errno));
    for (int k = 0; k < nvolumes; k++) {
        int fd = reopen(dir, volumes[k].name, volumes[k].fd, "volume");
        snprintf(source, sizeof source, "/proc/self/fd/%d", fd);
        bind_in_root(root, source, volumes[k].target, volumes[k].readonly);
        close(fd);
    }
    close(dir);
}

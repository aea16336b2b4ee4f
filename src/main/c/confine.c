/*
 * Confinement: resource limits, capabilities, no_new_privs and the seccomp filter, in the order
 * runc applies them (libcontainer/process_linux.go sets rlimits from the parent;
 * standard_init_linux.go: no_new_privs, then finalizeNamespace: bounding set, keep-caps,
 * setgroups/setgid/setuid, capset and ambient; seccomp last before execve). Each step that fails
 * ends the workload before its execve (fail() / die()), so a half-confined command never runs.
 *
 * The steps, as jgovernor-exec.c calls them:
 *   in the stage, before clone:  confine_filter_read() (the BPF program on stdin), confine_rlimits()
 *   in the child, before the user change:  confine_before_user()
 *   in the child, after it:  confine_after_user()
 *   in the child, last before execve:  confine_seccomp()
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stage.h"

/* fallback: a default, not the policy's: when the hard limit cannot be raised, keep the current one */
struct limit { int resource; rlim_t soft, hard; int fallback; };

static struct limit limits[RLIM_NLIMITS];
static int nlimits;
static int have_caps, ambient, no_new_privs, want_seccomp;
/* `jgovernor exec`: the compiled program in hex on the command line (--seccomp-hex), since stdin
 * is the caller's and the stage keeps no inherited descriptor but stdio; NULL: read stdin. */
static const char *seccomp_hex;
static uint64_t kept;
static scmp_filter_ctx filter;

static const struct { const char *name; int resource; } rlimit_names[] = {
    {"cpu", RLIMIT_CPU}, {"fsize", RLIMIT_FSIZE}, {"data", RLIMIT_DATA}, {"stack", RLIMIT_STACK},
    {"core", RLIMIT_CORE}, {"rss", RLIMIT_RSS}, {"nproc", RLIMIT_NPROC}, {"nofile", RLIMIT_NOFILE},
    {"memlock", RLIMIT_MEMLOCK}, {"as", RLIMIT_AS}, {"locks", RLIMIT_LOCKS}, {"sigpending", RLIMIT_SIGPENDING},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},
};

static rlim_t limit_value(const char *s) {
    if (strcmp(s, "infinity") == 0) return RLIM_INFINITY;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s < '0' || *s > '9' || *end) die("--rlimit: \"%s\" is not a number or infinity", s);
    return (rlim_t) v;
}

int confine_option(int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--rlimit") == 0 || strcmp(a, "--rlimit-default") == 0) {
        if (*i + 3 >= argc || nlimits == RLIM_NLIMITS) die("usage: %s NAME SOFT HARD", a);
        limits[nlimits].fallback = a[8] == '-';
        const char *name = argv[++*i];
        size_t k = 0;
        while (k < sizeof rlimit_names / sizeof *rlimit_names && strcmp(rlimit_names[k].name, name) != 0) k++;
        if (k == sizeof rlimit_names / sizeof *rlimit_names) die("--rlimit: unknown limit \"%s\"", name);
        limits[nlimits].resource = rlimit_names[k].resource;
        limits[nlimits].soft = limit_value(argv[++*i]);
        limits[nlimits].hard = limit_value(argv[++*i]);
        nlimits++;
    } else if (strcmp(a, "--caps") == 0) {
        if (*i + 1 >= argc) die("usage: --caps N,N,...");
        char *list = argv[++*i];
        have_caps = 1;
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            char *end;
            long c = strtol(tok, &end, 10);
            if (*end || c < 0 || c > 63) die("--caps: \"%s\" is not a capability number", tok);
            kept |= 1ULL << c;
        }
    } else if (strcmp(a, "--ambient-caps") == 0) ambient = 1;
    else if (strcmp(a, "--no-new-privs") == 0) no_new_privs = 1;
    else if (strcmp(a, "--seccomp") == 0) want_seccomp = 1;
    else if (strcmp(a, "--seccomp-hex") == 0) {
        if (*i + 1 >= argc) die("usage: --seccomp-hex HEX");
        want_seccomp = 1;
        seccomp_hex = argv[++*i];
    } else return 0;
    return 1;
}

static int set_limit(const struct limit *l) {
    struct rlimit r = {l->soft, l->hard}, now;
    if (setrlimit(l->resource, &r) == 0) return 0;
    if (errno != EPERM || !l->fallback || getrlimit(l->resource, &now) != 0 || now.rlim_max >= r.rlim_max) return -1;
    /* Raising a hard limit takes CAP_SYS_RESOURCE, which a daemon may run without
     * (CapabilityBoundingSet=): a default then stops at the daemon's hard limit. */
    r.rlim_max = now.rlim_max;
    if (r.rlim_cur > r.rlim_max) r.rlim_cur = r.rlim_max;
    return setrlimit(l->resource, &r);
}

void confine_rlimits(void) {
    for (int k = 0; k < nlimits; k++) {
        if (set_limit(&limits[k]) == 0) continue;
        const char *name = "?";
        for (size_t j = 0; j < sizeof rlimit_names / sizeof *rlimit_names; j++)
            if (rlimit_names[j].resource == limits[k].resource) name = rlimit_names[j].name;
        die("rlimit %s: %s", name, strerror(errno));
    }
}

/*
 * System calls newer than this libseccomp knows (2.5.4 in Debian 12 stops near Linux 5.17), by
 * number: since Linux 5.1 (424) every architecture but alpha, mips and x32 numbers new calls
 * alike. Without this, a profile allowing fchmodat2 would be denied it on a host whose
 * libseccomp lacks the name, and glibc 2.39 falls back from fchmodat2 only on ENOSYS.
 */
static const struct { const char *name; int nr; } newer[] = {
    {"clone3", 435}, {"close_range", 436}, {"openat2", 437}, {"pidfd_getfd", 438}, {"faccessat2", 439},
    {"process_madvise", 440}, {"epoll_pwait2", 441}, {"mount_setattr", 442}, {"quotactl_fd", 443},
    {"landlock_create_ruleset", 444}, {"landlock_add_rule", 445}, {"landlock_restrict_self", 446},
    {"memfd_secret", 447}, {"process_mrelease", 448}, {"futex_waitv", 449}, {"set_mempolicy_home_node", 450},
    {"cachestat", 451}, {"fchmodat2", 452}, {"map_shadow_stack", 453}, {"futex_wake", 454}, {"futex_wait", 455},
    {"futex_requeue", 456}, {"statmount", 457}, {"listmount", 458}, {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460}, {"lsm_list_modules", 461}, {"mseal", 462}, {"setxattrat", 463},
    {"getxattrat", 464}, {"listxattrat", 465}, {"removexattrat", 466}, {"open_tree_attr", 467},
    {"file_getattr", 468}, {"file_setattr", 469},
#ifdef __x86_64__
    {"uretprobe", 335},
#endif
};

static int syscall_number(const char *name) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR) return nr;
    for (size_t k = 0; k < sizeof newer / sizeof *newer; k++)
        if (strcmp(newer[k].name, name) == 0) return newer[k].nr;
    return __NR_SCMP_ERROR;
}

/* "allow" | "errno N" | "kill_thread" | "kill_process" | "trap" | "log"; *next: the word after. */
static uint32_t action(char **words, int n, int *next, int line) {
    const char *w = *next < n ? words[*next] : "";
    (*next)++;
    if (strcmp(w, "allow") == 0) return SCMP_ACT_ALLOW;
    if (strcmp(w, "kill_thread") == 0) return SCMP_ACT_KILL;
    if (strcmp(w, "kill_process") == 0) return SCMP_ACT_KILL_PROCESS;
    if (strcmp(w, "trap") == 0) return SCMP_ACT_TRAP;
    if (strcmp(w, "log") == 0) return SCMP_ACT_LOG;
    if (strcmp(w, "errno") == 0 && *next < n) {
        char *end;
        long e = strtol(words[(*next)++], &end, 10);
        if (!*end && e > 0 && e <= 4095) return SCMP_ACT_ERRNO((uint32_t) e);
    }
    die("seccomp filter line %d: \"%s\" is not an action", line, w);
}

static enum scmp_compare op(const char *w, int line) {
    static const struct { const char *word; enum scmp_compare op; } ops[] = {
        {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE}, {"eq", SCMP_CMP_EQ},
        {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"masked_eq", SCMP_CMP_MASKED_EQ},
    };
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        if (strcmp(ops[k].word, w) == 0) return ops[k].op;
    die("seccomp filter line %d: \"%s\" is not a comparison", line, w);
}

static uint64_t u64(const char *s, int line) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s < '0' || *s > '9' || *end) die("seccomp filter line %d: \"%s\" is not a number", line, s);
    return v;
}

/* One line of the filter (see jgovernor-exec.c), split into words in place. */
static void filter_line(char *text, int line) {
    char *words[4 + 4 * 6 + 2];
    int n = 0;
    for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
        if (n == (int) (sizeof words / sizeof *words)) die("seccomp filter line %d: too many words", line);
        words[n++] = w;
    }
    if (n == 0) return;
    int next = 1;
    if (strcmp(words[0], "default") == 0) {
        if (filter) die("seccomp filter line %d: a second default", line);
        filter = seccomp_init(action(words, n, &next, line));
        if (!filter) die("seccomp: cannot make a filter");
        /* no_new_privs is ours to set or not (--no-new-privs), not libseccomp's */
        if (seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0) != 0) die("seccomp: cannot leave no_new_privs alone");
        /* The rules as a binary tree of syscall numbers (libseccomp 2.5+), not a list: the same
         * decisions, a short path for every call. Loading the filter costs the kernel one walk per
         * system call number (the allow-cache it builds, Linux 5.11+): with the default profile
         * the load took 0.25 ms instead of 0.42 ms (min of 200) and 1.3-1.6 ms instead of 1.9-2.6
         * (mean) on a loaded 2-CPU VM. An older libseccomp refuses the attribute: then a list. */
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
        (void) seccomp_attr_set(filter, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif
        return;
    }
    if (!filter) die("seccomp filter line %d: the first line must be the default action", line);
    if (strcmp(words[0], "arch") == 0 && n == 2) {
        uint32_t arch = seccomp_arch_resolve_name(words[1]);
        if (arch == 0) die("seccomp filter line %d: unknown architecture \"%s\"", line, words[1]);
        int rc = seccomp_arch_add(filter, arch);
        if (rc != 0 && rc != -EEXIST) die("seccomp: add architecture %s: %s", words[1], strerror(-rc));
        return;
    }
    if (strcmp(words[0], "rule") != 0) die("seccomp filter line %d: \"%s\" is not default, arch or rule", line, words[0]);
    uint32_t act = action(words, n, &next, line);
    if (next >= n) die("seccomp filter line %d: a rule names no system call", line);
    const char *name = words[next++];
    if ((n - next) % 4 != 0) die("seccomp filter line %d: an argument is INDEX OP VALUE VALUE2", line);
    struct scmp_arg_cmp args[6];
    unsigned int nargs = 0;
    for (; next < n; next += 4) {
        if (nargs == 6) die("seccomp filter line %d: more than 6 arguments", line);
        uint64_t index = u64(words[next], line);
        if (index > 5) die("seccomp filter line %d: argument %s", line, words[next]);
        args[nargs].arg = (unsigned int) index;
        args[nargs].op = op(words[next + 1], line);
        args[nargs].datum_a = u64(words[next + 2], line);
        args[nargs].datum_b = u64(words[next + 3], line);
        nargs++;
    }
    int nr = syscall_number(name);
    if (nr == __NR_SCMP_ERROR) return; /* unknown here: profiles name the calls of many kernels (runc skips them too) */
    int rc = seccomp_rule_add_array(filter, act, nr, nargs, args);
    if (rc != 0) die("seccomp rule for %s: %s", name, strerror(-rc));
}

/* All of FD (stdin, which the daemon writes and closes); at most 4 MiB. */
static char *read_all(int fd, size_t *length) {
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap + 1);
    if (!text) die("seccomp filter: out of memory");
    for (;;) {
        if (len == cap) {
            if (cap >= (4u << 20)) die("seccomp filter: more than 4 MiB on stdin");
            cap *= 2;
            text = realloc(text, cap + 1);
            if (!text) die("seccomp filter: out of memory");
        }
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("seccomp filter: read stdin: %s", strerror(errno));
        if (n == 0) break;
        len += (size_t) n;
    }
    text[len] = '\0';
    *length = len;
    return text;
}

/*
 * `jgovernor-exec --seccomp-export`: the filter's lines on stdin, compiled by libseccomp, the BPF
 * program on stdout. The daemon compiles each profile once this way and hands every start the
 * program (--seccomp): compiling some 300 rules took 3 ms of each start, loading the program
 * takes microseconds.
 */
int confine_export(void) {
    size_t len;
    char *text = read_all(0, &len);
    int line = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        filter_line(p, ++line);
        if (!nl) break;
        p = nl + 1;
    }
    if (!filter) die("seccomp filter: empty (no default action)");
    int rc = seccomp_export_bpf(filter, 1);
    if (rc != 0) die("seccomp: export the program: %s", strerror(-rc));
    return 0;
}

static struct sock_fprog program;

/*
 * The compiled program is read whole from stdin before anything else: a bad one is an error
 * before any process is cloned. stdin is then /dev/null, what the command gets.
 */
/* --seccomp-hex's text as bytes (two hex digits each). */
static char *from_hex(const char *hex, size_t *length) {
    size_t n = strlen(hex);
    if (n % 2 != 0) die("--seccomp-hex: an odd number of hex digits");
    char *bytes = malloc(n / 2 + 1);
    if (!bytes) die("seccomp filter: out of memory");
    for (size_t k = 0; k < n / 2; k++) {
        unsigned int byte;
        if (!isxdigit((unsigned char) hex[2 * k]) || !isxdigit((unsigned char) hex[2 * k + 1])
            || sscanf(hex + 2 * k, "%2x", &byte) != 1)
            die("--seccomp-hex: \"%.2s\" is not a hex byte", hex + 2 * k);
        bytes[k] = (char) byte;
    }
    *length = n / 2;
    return bytes;
}

void confine_filter_read(void) {
    if (!want_seccomp) return;
    size_t len;
    char *bytes = seccomp_hex ? from_hex(seccomp_hex, &len) : read_all(0, &len);
    if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        die("seccomp: %zu bytes are not a BPF program of at most %d instructions", len, BPF_MAXINSNS);
    program.len = (unsigned short) (len / sizeof(struct sock_filter));
    program.filter = (struct sock_filter *) bytes;
    if (seccomp_hex) return; /* stdin is the caller's (exec) */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup3(null, 0, 0) < 0) die("stdin /dev/null: %s", strerror(errno));
    close(null);
}

static void load_filter(void) {
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
        fail("seccomp: load the filter: %s", strerror(errno));
}

void confine_before_user(void) {
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs: %s", strerror(errno));
    /* Without no_new_privs, loading a filter takes CAP_SYS_ADMIN, which the steps below drop. */
    if (want_seccomp && !no_new_privs) load_filter();
    if (!have_caps) return;
    /* Dropping from the bounding set takes CAP_SETPCAP: now, while still root. */
    uint64_t known = 0;
    for (int c = 0; c < 64; c++) {
        int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (r < 0) break; /* EINVAL: past this kernel's last capability */
        known |= 1ULL << c;
        if (r == 1 && !(kept & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
            fail("drop capability %d from the bounding set: %s", c, strerror(errno));
    }
    kept &= known; /* a capability this kernel does not have cannot be kept */
    /* setuid from root to another uid clears the permitted set unless asked to keep it */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("keep capabilities over setuid: %s", strerror(errno));
}

void confine_after_user(void) {
    if (!have_caps) return;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("stop keeping capabilities: %s", strerror(errno));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    for (int w = 0; w < 2; w++) {
        uint32_t bits = (uint32_t) (kept >> (32 * w));
        d[w].effective = d[w].permitted = bits;
        /* raising an ambient capability needs it inheritable; root gets no inheritable bits */
        d[w].inheritable = ambient ? bits : 0;
    }
    if (syscall(SYS_capset, &h, d) != 0) fail("capset: %s", strerror(errno));
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        fail("clear ambient capabilities: %s", strerror(errno));
    if (!ambient) return;
    for (int c = 0; c < 64; c++)
        if ((kept & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
            fail("raise ambient capability %d: %s", c, strerror(errno));
}

void confine_cap_limit(unsigned long long allowed) {
    kept = have_caps ? kept & allowed : allowed;
    have_caps = 1;
}

void confine_become(uid_t uid, gid_t gid, int ngroups, const gid_t *groups, const char *cwd) {
    confine_before_user();
    if (setgroups((size_t) ngroups, groups) != 0) fail("setgroups: %s", strerror(errno));
    if (setresgid(gid, gid, gid) != 0) fail("setgid %d: %s", (int) gid, strerror(errno));
    if (setresuid(uid, uid, uid) != 0) fail("setuid %d: %s", (int) uid, strerror(errno));
    if (cwd && chdir(cwd) != 0) fail("chdir %s: %s", cwd, strerror(errno));
    confine_after_user();
    default_signals();
}

void confine_seccomp(void) {
    if (want_seccomp && no_new_privs) load_filter();
}

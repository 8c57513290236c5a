/* boxtest.h — what the box suites (test_hostile.c, test_limits.c) share:
 * a pool per suite, slots that are released even when an assertion fails,
 * the programs of tests/box/progs/ put into a box and run, `key=value`
 * lines read back from their stdout, and checks of the host afterwards
 * (no process of the slot's uids, no cgroup or mount left, host files
 * unchanged). A slot has two host uids: first_uid + index for the box user
 * and first_uid + slots + index for its inside root. The suites need root:
 * they build real boxes. */
#ifndef XXX_TESTS_BOXTEST_H
#define XXX_TESTS_BOXTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"

#define BT_SLOTS 3
#define BT_MAX_HELD 8
#define MIB (1024ULL * 1024ULL)
/* Path of a program put into the workdir by bt_put_prog. */
#define BT_PROG(name) BOX_WORKDIR "/" name

/* The only environment a test box gets. */
static const char *const bt_envp[] = {"PATH=/usr/bin:/bin", NULL};

typedef struct bt_ctx {
    box_pool *pool;
    uid_t first_uid;
    char name[64]; /* cgroup name, and the state dir under /run */
    char state_dir[128];
    char progs_dir[PATH_MAX + 16];
    box_slot *held[BT_MAX_HELD]; /* acquired and not yet released */
    int suite_lock;              /* serialises the box suites on this host */
} bt_ctx;

/* ---- host inspection ------------------------------------------------- */

/* Returns true when /proc/<pid> runs with uid among its real, effective,
 * saved or filesystem uids. A zombie counts only while it waits for us: one
 * whose parent died and that the host's init never reaps holds nothing. */
static inline bool bt_proc_has_uid(const char *pid, uid_t uid)
{
    char path[300], line[256];
    snprintf(path, sizeof(path), "/proc/%s/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool zombie = false, match = false;
    long ppid = -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned r, ef, sv, fs;
        char state = 0;
        if (sscanf(line, "State: %c", &state) == 1)
            zombie = state == 'Z';
        else if (sscanf(line, "PPid: %ld", &ppid) == 1)
            continue;
        else if (sscanf(line, "Uid: %u %u %u %u", &r, &ef, &sv, &fs) == 4) {
            match = r == uid || ef == uid || sv == uid || fs == uid;
            break;
        }
    }
    fclose(f);
    return match && (!zombie || ppid == (long)getpid());
}

/* Fills pids (at most max) with the host processes of uid; returns how many. */
static inline int bt_uid_pids(uid_t uid, pid_t *pids, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && bt_proc_has_uid(e->d_name, uid))
            pids[n++] = atoi(e->d_name);
    closedir(d);
    return n;
}

/* Returns the number of host processes of uid (see bt_proc_has_uid). */
static inline int bt_uid_procs(uid_t uid)
{
    pid_t pids[256];
    return bt_uid_pids(uid, pids, 256);
}

/* Returns true when path exists on the host (without following a link). */
static inline bool bt_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Returns the number of cgroup directories named name under any cgroup
 * hierarchy (v1 controllers, the v2 root, the hybrid unified mount). */
static inline int bt_cgroup_dirs(const char *name)
{
    static const char *const roots[] = {"",         "unified/", "pids/",   "memory/", "cpu/",
                                        "cpuacct/", "freezer/", "cpuset/", "blkio/",  "devices/"};
    int n = 0;
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s", roots[i], name);
        n += bt_exists(path);
    }
    return n;
}

/* Returns the number of mounts in this mount namespace whose mount point
 * is under dir. */
static inline int bt_mounts_under(const char *dir)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[4096], point[PATH_MAX];
    int n = 0;
    size_t len = strlen(dir);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && strncmp(point, dir, len) == 0 &&
            (point[len] == '/' || point[len] == '\0'))
            n++;
    fclose(f);
    return n;
}

/* A host file as it was: existence, metadata and the first 64 KiB. */
typedef struct bt_snapshot {
    bool exists;
    struct stat st;
    char data[65536];
    ssize_t len;
} bt_snapshot;

static inline void bt_snap(const char *path, bt_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->exists = lstat(path, &s->st) == 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    s->len = fd < 0 ? -1 : read(fd, s->data, sizeof(s->data));
    if (fd >= 0)
        close(fd);
}

/* Asserts that path is exactly as snapshotted: not read-modified, written,
 * chowned, chmodded, replaced or deleted. */
#define bt_assert_unchanged(path, snap) bt_assert_unchanged_at((path), (snap), __FILE__, __LINE__)
static inline void bt_assert_unchanged_at(const char *path, const bt_snapshot *was,
                                          const char *file, int line)
{
    bt_snapshot *now = malloc(sizeof(*now));
    assert_non_null(now);
    bt_snap(path, now);
    const struct stat *a = &was->st, *b = &now->st;
    const char *what = NULL;
    if (was->exists != now->exists)
        what = "existence";
    else if (a->st_ino != b->st_ino || a->st_dev != b->st_dev)
        what = "inode";
    else if (a->st_uid != b->st_uid || a->st_gid != b->st_gid)
        what = "owner";
    else if (a->st_mode != b->st_mode)
        what = "mode";
    else if (a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
             a->st_mtim.tv_nsec != b->st_mtim.tv_nsec)
        what = "content time or size";
    else if (a->st_ctim.tv_sec != b->st_ctim.tv_sec || a->st_ctim.tv_nsec != b->st_ctim.tv_nsec)
        what = "ctime (metadata changed)";
    else if (was->len != now->len ||
             memcmp(was->data, now->data, (size_t)(was->len > 0 ? was->len : 0)))
        what = "content";
    free(now);
    if (what) {
        print_error("host file %s changed: %s\n", path, what);
        _fail(file, line);
    }
}

/* ---- results ---------------------------------------------------------- */

/* Prints a result for a failure message. */
static inline void bt_dump(const box_result *r)
{
    print_error("  result: status=%s limit=%d exit_code=%d signal=%s wall_ms=%llu cpu_ms=%llu "
                "memory_bytes=%llu message=\"%s\"\n",
                box_status_name(r->status), (int)r->limit, r->exit_code, box_signal_name(r->signal),
                (unsigned long long)r->wall_ms, (unsigned long long)r->cpu_ms,
                (unsigned long long)r->memory_bytes, r->message);
    print_error("  stdout (%zu bytes%s): %.*s\n", r->out.len, r->out.truncated ? ", truncated" : "",
                (int)(r->out.len > 3000 ? 3000 : r->out.len), r->out.data ? r->out.data : "");
    print_error("  stderr (%zu bytes%s): %.*s\n", r->err.len, r->err.truncated ? ", truncated" : "",
                (int)(r->err.len > 1500 ? 1500 : r->err.len), r->err.data ? r->err.data : "");
}

/* Copies the value of the n-th (0-based) "key=value" line of stdout into
 * buf; returns buf, or NULL when there is no such line. */
static inline const char *bt_value_n(const box_result *r, const char *key, int n, char *buf,
                                     size_t len)
{
    size_t klen = strlen(key);
    const char *p = r->out.data, *end = r->out.data ? r->out.data + r->out.len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if ((size_t)(eol - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            if (n-- == 0) {
                size_t vlen = (size_t)(eol - p) - klen - 1;
                if (vlen >= len)
                    vlen = len - 1;
                memcpy(buf, p + klen + 1, vlen);
                buf[vlen] = '\0';
                return buf;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

/* Returns the number of "key=..." lines on stdout. */
static inline int bt_count(const box_result *r, const char *key)
{
    char buf[8];
    int n = 0;
    while (bt_value_n(r, key, n, buf, sizeof(buf)))
        n++;
    return n;
}

/* Returns true when stdout or stderr contains needle. */
static inline bool bt_output_contains(const box_result *r, const char *needle)
{
    size_t n = strlen(needle);
    return (r->out.data && memmem(r->out.data, r->out.len, needle, n)) ||
           (r->err.data && memmem(r->err.data, r->err.len, needle, n));
}

#define bt_assert_status(r, st) bt_assert_status_at((r), (st), __FILE__, __LINE__)
static inline void bt_assert_status_at(const box_result *r, box_status st, const char *file,
                                       int line)
{
    if (r->status != st) {
        print_error("expected status %s, got %s\n", box_status_name(st),
                    box_status_name(r->status));
        bt_dump(r);
        _fail(file, line);
    }
}

/* Asserts a line "key=want" (the first with that key). */
#define bt_assert_line(r, key, want) bt_assert_line_at((r), (key), (want), __FILE__, __LINE__)
static inline void bt_assert_line_at(const box_result *r, const char *key, const char *want,
                                     const char *file, int line)
{
    char buf[4096];
    const char *got = bt_value_n(r, key, 0, buf, sizeof(buf));
    if (!got || strcmp(got, want) != 0) {
        print_error("expected %s=%s, got %s%s\n", key, want, got ? "" : "no such line",
                    got ? got : "");
        bt_dump(r);
        _fail(file, line);
    }
}

/* Asserts "key=ERRNO" for the errno value want. */
#define bt_assert_errno(r, key, want)                                                              \
    bt_assert_line_at((r), (key), strerrorname_np(want), __FILE__, __LINE__)

/* Asserts that "key=" has one of the NULL-terminated values. */
#define bt_assert_line_in(r, key, ...)                                                             \
    bt_assert_line_in_at((r), (key), (const char *const[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)
static inline void bt_assert_line_in_at(const box_result *r, const char *key,
                                        const char *const *wants, const char *file, int line)
{
    char buf[4096];
    const char *got = bt_value_n(r, key, 0, buf, sizeof(buf));
    for (const char *const *w = wants; got && *w; w++)
        if (strcmp(got, *w) == 0)
            return;
    print_error("expected %s= one of:", key);
    for (const char *const *w = wants; *w; w++)
        print_error(" %s", *w);
    print_error("; got %s\n", got ? got : "no such line");
    bt_dump(r);
    _fail(file, line);
}

/* Asserts that a host-side operation was refused ("refused" reads as
 * invisible or denied): ENOENT, EACCES, EPERM or EROFS. */
#define bt_assert_refused(r, key)                                                                  \
    bt_assert_line_in((r), (key), "ENOENT", "EACCES", "EPERM", "EROFS")

/* ---- the pool and its slots ------------------------------------------ */

static inline void bt_on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "boxtest: a test hung for 120 s (a box that never ends?)\n";
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(3);
    _exit(3);
}

/* Group setup: opens the suite's pool (BT_SLOTS slots from first_uid,
 * cgroup and /run dir named name). Returns 0, or -1 with a message. */
static inline int bt_group_setup(void **state, uid_t first_uid, const char *name)
{
    if (geteuid() != 0) {
        fprintf(stderr, "%s: the box suites need root (they build real boxes)\n", name);
        return -1;
    }
    bt_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -1;
    /* One box suite at a time (build/ and build-san/ runs, two sessions):
     * they would share slot uids, and timings would suffer. */
    ctx->suite_lock = open("/run/xxxtest.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (ctx->suite_lock < 0 || flock(ctx->suite_lock, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "%s: waiting for another box suite to finish\n", name);
        if (ctx->suite_lock < 0 || flock(ctx->suite_lock, LOCK_EX) < 0) {
            fprintf(stderr, "%s: /run/xxxtest.lock: %s\n", name, strerror(errno));
            free(ctx);
            return -1;
        }
    }
    ctx->first_uid = first_uid;
    snprintf(ctx->name, sizeof(ctx->name), "%s", name);
    snprintf(ctx->state_dir, sizeof(ctx->state_dir), "/run/%s", name);

    /* The programs are built beside this binary (build/ or build-san/). */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        close(ctx->suite_lock);
        free(ctx);
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    snprintf(ctx->progs_dir, sizeof(ctx->progs_dir), "%s/progs", exe);

    box_config cfg = {
        .slots = BT_SLOTS,
        .first_uid = first_uid,
        .state_dir = ctx->state_dir,
        .cgroup_name = ctx->name,
        .pin_from = 2, /* placement shows with two steps on any machine */
    };
    char err[512] = "";
    if (box_pool_open(&cfg, &ctx->pool, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: box_pool_open: %s\n", name, err);
        close(ctx->suite_lock);
        free(ctx);
        return -1;
    }
    signal(SIGALRM, bt_on_alarm);
    signal(SIGPIPE, SIG_IGN);
    *state = ctx;
    return 0;
}

/* Group teardown: closes the pool and checks it left nothing: no process
 * of any slot uid, no cgroup, no mount under the state dir. */
static inline int bt_group_teardown(void **state)
{
    bt_ctx *ctx = *state;
    if (!ctx)
        return 0;
    box_pool_close(ctx->pool);
    int bad = 0;
    for (unsigned i = 0; i < 2 * BT_SLOTS; i++)
        if (bt_uid_procs(ctx->first_uid + i) != 0) {
            fprintf(stderr, "after box_pool_close: processes of uid %u remain\n",
                    ctx->first_uid + i);
            bad = 1;
        }
    if (bt_cgroup_dirs(ctx->name) != 0) {
        fprintf(stderr, "after box_pool_close: cgroup %s remains\n", ctx->name);
        bad = 1;
    }
    if (bt_mounts_under(ctx->state_dir) != 0) {
        fprintf(stderr, "after box_pool_close: mounts under %s remain\n", ctx->state_dir);
        bad = 1;
    }
    close(ctx->suite_lock);
    free(ctx);
    return bad ? -1 : 0;
}

/* Per-test setup: a watchdog, so a box that never returns fails the suite. */
static inline int bt_test_setup(void **state)
{
    (void)state;
    alarm(120);
    return 0;
}

/* Returns the host uid the slot's box user runs as. */
static inline uid_t bt_uid(const bt_ctx *ctx, const box_slot *s)
{
    return ctx->first_uid + box_slot_index(s);
}

/* Returns the host uid of the slot's inside root (its init while it builds
 * the box): the pool maps it from first_uid + slots + index. */
static inline uid_t bt_root_uid(const bt_ctx *ctx, const box_slot *s)
{
    return ctx->first_uid + BT_SLOTS + box_slot_index(s);
}

/* Takes a slot with a workspace of tmpfs_bytes (0: the maximum). */
static inline box_slot *bt_acquire_tmpfs(bt_ctx *ctx, uint64_t tmpfs_bytes)
{
    char err[512] = "";
    box_slot *s = box_acquire(ctx->pool, tmpfs_bytes, 10000, err, sizeof(err));
    if (!s)
        fail_msg("box_acquire: %s", err);
    for (int i = 0; i < BT_MAX_HELD; i++)
        if (!ctx->held[i]) {
            ctx->held[i] = s;
            return s;
        }
    fail_msg("too many slots held");
    return NULL;
}

static inline box_slot *bt_acquire(bt_ctx *ctx)
{
    return bt_acquire_tmpfs(ctx, 0);
}

/* Returns true when host process pid is pid 1 of its own pid namespace
 * (a box's init: NSpid ends in 1). */
static inline bool bt_is_ns_init(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool init = false;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "NSpid:", 6) == 0) {
            char *last = strrchr(line, '\t');
            init = last && strtol(last + 1, NULL, 10) == 1 && last != line + 6;
            break;
        }
    fclose(f);
    return init;
}

/* Asserts that nothing of a step runs on: no host process of the slot's
 * box uid, and of its inside root's only the box's init, which a box that
 * ended cleanly keeps parked for the slot's next step (box_exec returns
 * only when the step and all it started are gone). */
#define bt_assert_no_procs(ctx, s) bt_assert_no_procs_at((ctx), (s), __FILE__, __LINE__)
static inline void bt_assert_no_procs_at(const bt_ctx *ctx, const box_slot *s, const char *file,
                                         int line)
{
    int n = bt_uid_procs(bt_uid(ctx, s));
    if (n != 0) {
        print_error("%d host process(es) of slot uid %u remain after the run\n", n,
                    (unsigned)bt_uid(ctx, s));
        _fail(file, line);
    }
    pid_t pids[64];
    int m = bt_uid_pids(bt_root_uid(ctx, s), pids, 64), inits = 0;
    for (int i = 0; i < m; i++)
        inits += bt_is_ns_init(pids[i]);
    if (m != inits || inits > 1) {
        print_error("%d host process(es) of the slot's inside root (%u) remain after the run, "
                    "%d of them a box's init\n",
                    m, (unsigned)bt_root_uid(ctx, s), inits);
        _fail(file, line);
    }
}

/* Releases a slot and asserts that no process of its box uid that existed
 * before the release is still there, and of its inside root's none but a
 * parked init (see bt_assert_no_procs). */
static inline void bt_release(bt_ctx *ctx, box_slot *s)
{
    uid_t uids[2] = {bt_uid(ctx, s), bt_root_uid(ctx, s)};
    pid_t before[2][64];
    int n[2];
    for (int i = 0; i < 2; i++)
        n[i] = bt_uid_pids(uids[i], before[i], 64);
    for (int i = 0; i < BT_MAX_HELD; i++)
        if (ctx->held[i] == s)
            ctx->held[i] = NULL;
    box_release(s);
    for (int i = 0; i < 2; i++) {
        pid_t after[64];
        int m = bt_uid_pids(uids[i], after, 64);
        for (int a = 0; a < m; a++)
            for (int b = 0; b < n[i]; b++)
                if (after[a] == before[i][b] && !(i == 1 && bt_is_ns_init(after[a])))
                    fail_msg("after box_release: process %d of slot uid %u remains", (int)after[a],
                             (unsigned)uids[i]);
    }
}

/* Takes slots until the one with index comes back (the others are
 * released again) and returns it held. */
static inline box_slot *bt_acquire_index(bt_ctx *ctx, unsigned index)
{
    box_slot *others[BT_SLOTS] = {0}, *s = NULL;
    for (int i = 0; i < BT_SLOTS && !s; i++) {
        box_slot *t = bt_acquire(ctx);
        if (box_slot_index(t) == index)
            s = t;
        else
            others[i] = t;
    }
    for (int i = 0; i < BT_SLOTS; i++)
        if (others[i])
            bt_release(ctx, others[i]);
    assert_non_null(s);
    return s;
}

/* Per-test teardown: releases what a failed test left held. */
static inline int bt_test_teardown(void **state)
{
    bt_ctx *ctx = *state;
    alarm(0);
    for (int i = 0; i < BT_MAX_HELD; i++)
        if (ctx->held[i]) {
            box_release(ctx->held[i]);
            ctx->held[i] = NULL;
        }
    return 0;
}

#define bt_test(fn) cmocka_unit_test_setup_teardown(fn, bt_test_setup, bt_test_teardown)

/* Reads a whole host file (malloc'd, NUL-terminated); NULL on error. */
static inline char *bt_read_host_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        ssize_t n;
        while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        *len = got;
    }
    close(fd);
    return buf;
}

/* Puts the program progs/name into the slot's workdir as name, mode 0755. */
static inline void bt_put_prog(const bt_ctx *ctx, box_slot *s, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", ctx->progs_dir, name);
    size_t len = 0;
    char *data = bt_read_host_file(path, &len);
    if (!data)
        fail_msg("cannot read %s: %s (is it built?)", path, strerror(errno));
    char err[512] = "";
    int rc = box_put_file(s, name, data, len, 0755, err, sizeof(err));
    free(data);
    if (rc != 0)
        fail_msg("box_put_file %s: %s", name, err);
}

/* Puts a text file into the slot's workdir. */
static inline void bt_put_text(box_slot *s, const char *name, const char *text)
{
    char err[512] = "";
    if (box_put_file(s, name, text, strlen(text), 0644, err, sizeof(err)) != 0)
        fail_msg("box_put_file %s: %s", name, err);
}

/* Limits for a test step: wall and CPU time as given, and room enough for
 * small programs elsewhere. */
static inline box_limits bt_limits(uint64_t wall_ms)
{
    return (box_limits){
        .wall_ms = wall_ms,
        .cpu_ms = wall_ms,
        .memory_bytes = 256 * MIB,
        .processes = 64,
        .output_bytes = 1 * MIB,
        .file_bytes = 64 * MIB,
        .open_files = 256,
    };
}

/* A spec with the test environment and no stdin. */
static inline box_spec bt_spec(const char *const *argv, box_limits limits)
{
    return (box_spec){.argv = argv, .envp = bt_envp, .stdin_fd = -1, .limits = limits};
}

/* Runs argv in the slot; fills *res. Fails the test if box_exec returns -1
 * unless the status is one a test may expect. */
static inline void bt_run_spec(box_slot *s, const box_spec *spec, box_result *res)
{
    memset(res, 0, sizeof(*res));
    int rc = box_exec(s, spec, res);
    if (rc != 0 || res->status == BOX_INTERNAL_ERROR) {
        print_error("box_exec returned %d\n", rc);
        bt_dump(res);
        fail();
    }
}

static inline void bt_run(box_slot *s, const char *const *argv, box_limits limits, box_result *res)
{
    box_spec spec = bt_spec(argv, limits);
    bt_run_spec(s, &spec, res);
}

/* Asserts that the pool still serves: a fresh slot runs /bin/echo. */
static inline void bt_assert_pool_serves(bt_ctx *ctx)
{
    box_slot *s = bt_acquire(ctx);
    box_result res;
    bt_run(s, (const char *const[]){"/bin/echo", "alive", NULL}, bt_limits(5000), &res);
    bt_assert_status(&res, BOX_OK);
    assert_string_equal(res.out.data, "alive\n");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- a run in another thread ----------------------------------------- */

/* A box_exec running in its own thread, whose stdout can be waited on. */
typedef struct bt_async {
    box_slot *slot;
    box_spec spec;
    box_result res;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char seen[65536]; /* stdout so far */
    size_t seen_len;
    bool done;
} bt_async;

static inline void bt_async_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    bt_async *a = ctx;
    if (stream != BOX_STDOUT)
        return;
    pthread_mutex_lock(&a->mu);
    if (len > sizeof(a->seen) - 1 - a->seen_len)
        len = sizeof(a->seen) - 1 - a->seen_len;
    memcpy(a->seen + a->seen_len, data, len);
    a->seen_len += len;
    a->seen[a->seen_len] = '\0';
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static inline void *bt_async_main(void *arg)
{
    bt_async *a = arg;
    box_exec(a->slot, &a->spec, &a->res);
    pthread_mutex_lock(&a->mu);
    a->done = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Starts argv in slot s in a new thread; stdin_fd as in box_spec. */
static inline void bt_async_start(bt_async *a, box_slot *s, const char *const *argv,
                                  box_limits limits, int stdin_fd)
{
    memset(a, 0, sizeof(*a));
    a->slot = s;
    a->spec = bt_spec(argv, limits);
    a->spec.stdin_fd = stdin_fd;
    a->spec.on_output = bt_async_output;
    a->spec.ctx = a;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    assert_int_equal(pthread_create(&a->thread, NULL, bt_async_main, a), 0);
}

/* Waits up to timeout_ms for needle on the run's stdout; false when the
 * run ended or time ran out first. */
static inline bool bt_async_wait_for(bt_async *a, const char *needle, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->mu);
    bool found;
    while (!(found = strstr(a->seen, needle) != NULL) && !a->done)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&a->mu);
    return found;
}

/* Waits for the run to end; its result is in a->res. */
static inline void bt_async_join(bt_async *a)
{
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
}

#endif

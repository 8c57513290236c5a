/* cgroup.c — limits and accounting through cgroup v2, or v1 where the host
 * has it (the development machines are v1 hybrid: controllers on v1, an
 * empty cgroup2 at /sys/fs/cgroup/unified).
 *
 * Layout, in each hierarchy used: <mount>/<name>/slot-<i>/run. The slot
 * directories live as long as the pool. "run" serves the slot's steps one
 * after another: every step starts its counters from zero (CPU time as a
 * difference, OOM kills as a difference, the peak reset by a write: v1's
 * max_usage_in_bytes, v2's memory.peak on Linux 6.12+) and writes its own
 * limits. It is kept only when it is empty after a step; where the peak
 * cannot be reset (v2 before 6.12), or a process would not die, it is
 * removed and the next step makes a fresh one. Keeping it saves a mkdir and
 * an rmdir per hierarchy per step, each under the kernel's cgroup mutex; the
 * files a step reads and writes stay open with it (an open and a close of a
 * cgroup file cost more than the read). */
#include "box/internal.h"

#include "common/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const v1_names[CG_NCTL] = {"memory", "pids", "cpuacct", "freezer"};

/* Writes val to an open cgroup file (each write is a whole command). */
static int write_fd(int fd, const char *val)
{
    size_t n = strlen(val);
    return fd >= 0 && write(fd, val, n) == (ssize_t)n ? 0 : -1;
}

static int write_at(int dfd, const char *file, const char *val)
{
    _cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    return write_fd(fd, val);
}

/* Reads fd from its start into buf, NUL-terminated; -1 on error. */
static int read_fd(int fd, char *buf, size_t len)
{
    ssize_t n = fd < 0 ? -1 : pread(fd, buf, len - 1, 0);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return 0;
}

static int read_at(int dfd, const char *file, char *buf, size_t len)
{
    _cleanup_close_ int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    return read_fd(fd, buf, len);
}

int box_write_file(const char *dir, const char *file, const char *val)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return write_at(AT_FDCWD, path, val);
}

static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return read_at(AT_FDCWD, path, buf, len);
}

static bool has_file(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

int cg_detect(cg_host *h, const char *name, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return box_fail(err, errlen, "cannot read /proc/self/mountinfo:");
    char line[4096];
    char v2[PATH_MAX] = "";
    while (fgets(line, sizeof line, f)) {
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char mnt[PATH_MAX], fstype[64], superopts[1024];
        char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
            sscanf(sep + 3, "%63s %*s %1023s", fstype, superopts) != 2)
            continue;
        if (strcmp(fstype, "cgroup2") == 0 && !v2[0]) {
            snprintf(v2, sizeof v2, "%s", mnt);
        } else if (strcmp(fstype, "cgroup") == 0) {
            char *save = NULL;
            for (char *o = strtok_r(superopts, ",", &save); o; o = strtok_r(NULL, ",", &save))
                for (int c = 0; c < CG_NCTL; c++)
                    if (strcmp(o, v1_names[c]) == 0 && !h->mount[c][0])
                        snprintf(h->mount[c], PATH_MAX, "%s", mnt);
        }
    }
    fclose(f);

    /* v2 wins where it holds memory and pids: that is a pure v2 host, or a
     * hybrid one whose controllers were moved to the unified tree. */
    char ctl[512] = "";
    if (v2[0] && read_file(v2, "cgroup.controllers", ctl, sizeof ctl) == 0 &&
        strstr(ctl, "memory") && strstr(ctl, "pids")) {
        memset(h->mount, 0, sizeof h->mount);
        snprintf(h->mount[0], PATH_MAX, "%s", v2);
        h->version = 2;
        return 0;
    }
    if (h->mount[CG_MEMORY][0] && h->mount[CG_PIDS][0]) {
        h->version = 1;
        h->memsw = has_file(h->mount[CG_MEMORY], "memory.memsw.limit_in_bytes");
        return 0;
    }
    return box_fail(err, errlen,
                    "cannot limit memory and processes: no cgroup v2 hierarchy with the memory "
                    "and pids controllers, and no cgroup v1 memory and pids hierarchies");
}

void cg_describe(const cg_host *h, char *buf, size_t len)
{
    if (h->version == 2) {
        snprintf(buf, len, "v2 at %s", h->mount[0]);
        return;
    }
    int n = snprintf(buf, len, "v1:");
    for (int c = 0; c < CG_NCTL && n > 0 && (size_t)n < len; c++)
        n += snprintf(buf + n, len - n, " %s%s", v1_names[c], h->mount[c][0] ? "" : "(missing)");
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - n, "%s", h->memsw ? ", swap accounted" : "");
}

/* Iterates over the hierarchies in use: v2 has one, v1 one per controller. */
#define FOR_EACH_HIER(h, c)                                                                        \
    for (int c = 0; c < ((h)->version == 2 ? 1 : CG_NCTL); c++)                                    \
        if ((h)->mount[c][0])

static void slot_dir(const cg_host *h, int c, unsigned slot, const char *leaf, char *out,
                     size_t len)
{
    snprintf(out, len, "%s/%s/slot-%u%s%s", h->mount[c], h->name, slot, leaf ? "/" : "",
             leaf ? leaf : "");
}

static void enable_v2_controllers(const char *dir)
{
    /* Each separately: cpu may be missing or held by realtime tasks. */
    box_write_file(dir, "cgroup.subtree_control", "+memory");
    box_write_file(dir, "cgroup.subtree_control", "+pids");
    box_write_file(dir, "cgroup.subtree_control", "+cpu");
}

int cg_slot_setup(const cg_host *h, unsigned slot, char *err, size_t errlen)
{
    FOR_EACH_HIER(h, c)
    {
        char top[PATH_MAX + 80], dir[PATH_MAX + 80];
        snprintf(top, sizeof top, "%s/%s", h->mount[c], h->name);
        slot_dir(h, c, slot, NULL, dir, sizeof dir);
        if (h->version == 2)
            enable_v2_controllers(h->mount[c]);
        if ((mkdir(top, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST))
            return box_fail(err, errlen, "cannot create cgroup %s:", dir);
        if (h->version == 2) {
            enable_v2_controllers(top);
            enable_v2_controllers(dir);
        }
    }
    return 0;
}

bool cg_peak_resettable(const cg_host *h, unsigned slot)
{
    if (h->version == 1)
        return true; /* memory.max_usage_in_bytes takes a reset */
    char dir[PATH_MAX + 80], path[PATH_MAX + 100];
    slot_dir(h, 0, slot, NULL, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/memory.peak", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    bool ok = fd >= 0 && write(fd, "0", 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Sends SIGKILL to every pid listed in dir/cgroup.procs; returns how many. */
static int kill_listed(const char *dir)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        kill((pid_t)pid, SIGKILL);
        n++;
    }
    fclose(f);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Kills the cgroup's processes: cgroup.kill (v2, Linux 5.14+), or freeze,
 * SIGKILL each, thaw (v1, as crun does), until cgroup.procs is empty. */
static int kill_dir(const cg_host *h, const char *dir, const char *freezer)
{
    if (h->version == 2 && box_write_file(dir, "cgroup.kill", "1") == 0) {
        for (int i = 0; i < 500; i++) {
            char buf[64];
            if (read_file(dir, "cgroup.procs", buf, sizeof buf) < 0 || !buf[0])
                return 0;
            sleep_ms(2);
        }
        return -1;
    }
    for (int i = 0; i < 500; i++) {
        /* Usually empty already (the pid namespace died with its init):
         * then skip the freezer, whose every state change patches kernel
         * text on all CPUs (a static key), measured as a visible share of a
         * run's CPU. */
        char buf[64];
        if (read_file(dir, "cgroup.procs", buf, sizeof buf) < 0 || !buf[0])
            return 0;
        bool frozen = freezer && box_write_file(freezer, "freezer.state", "FROZEN") == 0;
        int n = kill_listed(dir);
        if (frozen)
            box_write_file(freezer, "freezer.state", "THAWED");
        if (n == 0)
            return 0;
        sleep_ms(2);
    }
    return -1;
}

static int rmdir_retry(const char *dir)
{
    for (int i = 0; i < 200; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -1;
        sleep_ms(2);
    }
    return -1;
}

void cg_cleanup_stale(const cg_host *h)
{
    FOR_EACH_HIER(h, c)
    {
        char top[PATH_MAX + 80];
        snprintf(top, sizeof top, "%s/%s", h->mount[c], h->name);
        DIR *d = opendir(top);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            unsigned slot;
            char run[PATH_MAX + 80];
            if (sscanf(e->d_name, "slot-%u", &slot) != 1)
                continue;
            slot_dir(h, c, slot, "run", run, sizeof run);
            if (access(run, F_OK) != 0)
                continue;
            char frz[PATH_MAX + 80];
            slot_dir(h, CG_FREEZER, slot, "run", frz, sizeof frz);
            kill_dir(h, run, h->version == 1 && h->mount[CG_FREEZER][0] ? frz : NULL);
            rmdir_retry(run);
        }
        closedir(d);
    }
}

/* The value of "key N" in a flat-keyed cgroup file open at fd; 0 if absent. */
static uint64_t keyed_fd(int fd, const char *key)
{
    char buf[4096];
    if (read_fd(fd, buf, sizeof buf) < 0)
        return 0;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return strtoull(line + kl + 1, NULL, 10);
    return 0;
}

/* The hierarchy whose cgroup.procs lists every task of the run. */
static int procs_hier(const cg_host *h)
{
    return h->version == 2 ? 0 : CG_MEMORY;
}

int cg_run_create(const cg_host *h, unsigned slot, cg_run *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->host = h;
    r->cpu_fd = r->peak_fd = r->usage_fd = r->oom_fd = -1;
    for (int c = 0; c < CG_NCTL; c++)
        r->dfd[c] = r->procs_fd[c] = -1;
    FOR_EACH_HIER(h, c)
    {
        slot_dir(h, c, slot, "run", r->dir[c], PATH_MAX);
        if (mkdir(r->dir[c], 0755) < 0 && errno != EEXIST)
            return box_fail(err, errlen, "cannot create cgroup %s:", r->dir[c]);
        r->dfd[c] = open(r->dir[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (r->dfd[c] < 0)
            return box_fail(err, errlen, "cannot open cgroup %s:", r->dir[c]);
        r->procs_fd[c] = openat(r->dfd[c], "cgroup.procs", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (r->procs_fd[c] < 0)
            return box_fail(err, errlen, "cannot open %s/cgroup.procs:", r->dir[c]);
    }
    int m = h->version == 2 ? 0 : CG_MEMORY;
    r->oom_fd = openat(r->dfd[m], h->version == 2 ? "memory.events" : "memory.oom_control",
                       O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (r->oom_fd < 0)
        return box_fail(err, errlen, "cannot open the OOM counter of %s:", r->dir[m]);
    if (h->version == 2) {
        r->cpu_fd = openat(r->dfd[0], "cpu.stat", O_RDONLY | O_CLOEXEC);
        /* A write resets the peak seen through this fd (Linux 6.12+); where
         * it cannot, only a fresh cgroup starts from zero. */
        r->peak_fd = openat(r->dfd[0], "memory.peak", O_RDWR | O_CLOEXEC);
        if (r->peak_fd >= 0 && write(r->peak_fd, "0", 1) != 1) {
            close(r->peak_fd);
            r->peak_fd = -1;
        }
        r->reusable = r->peak_fd >= 0;
    } else {
        if (r->dfd[CG_CPU] >= 0)
            r->cpu_fd = openat(r->dfd[CG_CPU], "cpuacct.usage", O_RDONLY | O_CLOEXEC);
        /* The peak reported is memsw's where swap is accounted; both reset. */
        r->peak_fd = openat(
            r->dfd[m], h->memsw ? "memory.memsw.max_usage_in_bytes" : "memory.max_usage_in_bytes",
            O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (h->memsw)
            r->usage_fd =
                openat(r->dfd[m], "memory.max_usage_in_bytes", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (r->peak_fd < 0 || (h->memsw && r->usage_fd < 0))
            return box_fail(err, errlen, "cannot open the peak memory of %s:", r->dir[m]);
        r->reusable = true; /* memory.max_usage_in_bytes takes a reset */
    }
    if (r->cpu_fd < 0)
        return box_fail(err, errlen, "cannot open the CPU usage counter of the run cgroup:");
    return 0;
}

int cg_run_set_limits(cg_run *r, const box_limits *l, char *err, size_t errlen)
{
    char mem[24], pids[24], key[sizeof r->limits];
    snprintf(mem, sizeof mem, "%" PRIu64, l->memory_bytes);
    snprintf(pids, sizeof pids, "%" PRIu64, l->processes);
    snprintf(key, sizeof key, "%s %s", mem, pids);
    if (strcmp(key, r->limits) == 0)
        return 0; /* a kept cgroup that already has them */
    r->limits[0] = 0;
    if (r->host->version == 2) {
        int d = r->dfd[0];
        if (write_at(d, "memory.max", mem) < 0)
            return box_fail(err, errlen, "cannot set %s/memory.max:", r->dir[0]);
        if (write_at(d, "memory.swap.max", "0") < 0 && errno != ENOENT)
            return box_fail(err, errlen, "cannot set %s/memory.swap.max:", r->dir[0]);
        if (write_at(d, "pids.max", pids) < 0)
            return box_fail(err, errlen, "cannot set %s/pids.max:", r->dir[0]);
        snprintf(r->limits, sizeof r->limits, "%s", key);
        return 0;
    }
    int m = r->dfd[CG_MEMORY];
    /* v1 wants memsw >= limit at every moment: lower memsw last when
     * shrinking, raise it first when growing; trying both orders does it.
     * A kept cgroup may still hold page cache above a lower limit: emptied
     * once, then tried again. */
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (attempt)
            write_at(m, "memory.force_empty", "0");
        ok = write_at(m, "memory.limit_in_bytes", mem) == 0;
        if (r->host->memsw) {
            bool sw = write_at(m, "memory.memsw.limit_in_bytes", mem) == 0;
            if (!ok)
                ok = write_at(m, "memory.limit_in_bytes", mem) == 0;
            if (!sw)
                sw = write_at(m, "memory.memsw.limit_in_bytes", mem) == 0;
            ok &= sw;
        }
    }
    if (!ok)
        return box_fail(err, errlen, "cannot set the memory limit of %s:", r->dir[CG_MEMORY]);
    write_at(m, "memory.swappiness", "0");
    if (write_at(r->dfd[CG_PIDS], "pids.max", pids) < 0)
        return box_fail(err, errlen, "cannot set %s/pids.max:", r->dir[CG_PIDS]);
    snprintf(r->limits, sizeof r->limits, "%s", key);
    return 0;
}

void cg_run_start(cg_run *r)
{
    r->cpu_base = 0;
    r->cpu_base = cg_run_cpu_ns(r);
    r->oom_before = keyed_fd(r->oom_fd, "oom_kill");
    /* Writing resets the high-water mark to the current usage (v2: where
     * it cannot, the peak counts from the cgroup's creation, and the
     * cgroup is not kept). */
    write_fd(r->peak_fd, "0");
    write_fd(r->usage_fd, "0");
}

int cg_run_attach(cg_run *r, pid_t pid, char *err, size_t errlen)
{
    char val[32];
    snprintf(val, sizeof val, "%d", (int)pid);
    FOR_EACH_HIER(r->host, c)
    {
        if (write_fd(r->procs_fd[c], val) < 0)
            return box_fail(err, errlen, "cannot move pid %d into %s:", (int)pid, r->dir[c]);
    }
    return 0;
}

uint64_t cg_run_cpu_ns(cg_run *r)
{
    char buf[512];
    if (read_fd(r->cpu_fd, buf, sizeof buf) < 0 || !buf[0])
        return 0;
    uint64_t ns;
    if (r->host->version == 1) {
        ns = strtoull(buf, NULL, 10);
    } else {
        const char *p = strstr(buf, "usage_usec ");
        ns = p ? strtoull(p + 11, NULL, 10) * 1000 : 0;
    }
    return ns > r->cpu_base ? ns - r->cpu_base : 0;
}

void cg_run_memory(cg_run *r, uint64_t *peak, uint64_t *oom_kills)
{
    char buf[64];
    if ((read_fd(r->peak_fd, buf, sizeof buf) < 0 || !buf[0]) &&
        (r->host->version == 1 || read_at(r->dfd[0], "memory.peak", buf, sizeof buf) < 0))
        buf[0] = 0;
    *peak = strtoull(buf, NULL, 10);
    uint64_t oom = keyed_fd(r->oom_fd, "oom_kill");
    *oom_kills = oom > r->oom_before ? oom - r->oom_before : 0;
}

int cg_run_kill(cg_run *r)
{
    const cg_host *h = r->host;
    const char *freezer = h->version == 1 && r->dir[CG_FREEZER][0] ? r->dir[CG_FREEZER] : NULL;
    return kill_dir(h, r->dir[procs_hier(h)], freezer);
}

int cg_run_recycle(cg_run *r)
{
    if (!r->host || !r->reusable)
        return -1;
    char buf[64];
    if (read_fd(r->procs_fd[procs_hier(r->host)], buf, sizeof buf) < 0)
        return -1;
    if (buf[0] && cg_run_kill(r) < 0)
        return -1; /* something would not die: a fresh cgroup for the next step */
    return 0;
}

void cg_run_destroy(cg_run *r)
{
    if (!r->host)
        return;
    cg_run_kill(r);
    FOR_EACH_HIER(r->host, c)
    {
        if (r->dir[c][0])
            rmdir_retry(r->dir[c]);
    }
    cleanup_closep(&r->cpu_fd);
    cleanup_closep(&r->peak_fd);
    cleanup_closep(&r->usage_fd);
    cleanup_closep(&r->oom_fd);
    for (int c = 0; c < CG_NCTL; c++) {
        cleanup_closep(&r->dfd[c]);
        cleanup_closep(&r->procs_fd[c]);
        r->dfd[c] = r->procs_fd[c] = -1;
    }
    r->cpu_fd = r->peak_fd = r->usage_fd = r->oom_fd = -1;
    r->host = NULL;
}

void cg_teardown(const cg_host *h, unsigned nslots)
{
    FOR_EACH_HIER(h, c)
    {
        for (unsigned s = 0; s < nslots; s++) {
            char dir[PATH_MAX + 80];
            slot_dir(h, c, s, NULL, dir, sizeof dir);
            rmdir_retry(dir);
        }
        char top[PATH_MAX + 80];
        snprintf(top, sizeof top, "%s/%s", h->mount[c], h->name);
        rmdir(top);
    }
}

/* pool.c — the slots: made once, leased one run at a time, cleaned on every
 * path; and the start-up check of what the host offers.
 *
 * Theory of operation. box_pool_open moves the process into a private mount
 * namespace, so every workspace mount dies with the process even if it
 * crashes; removes what an earlier instance left (mounts under the state
 * directory, run cgroups with processes in them); and makes each slot's
 * directories, cgroup parents, network namespace and template root (a
 * mount namespace every box of the slot starts in a copy of). The slot's
 * workspace is a tmpfs; box_exec (exec.c) clones a box onto it;
 * box_release hands the slot to the warmer thread, which detaches the
 * tmpfs (every file of the run goes at once, without the host ever walking
 * a directory the box wrote), mounts the next one and binds it into the
 * box parked in the slot (the last step's, when it ended cleanly: exec.c),
 * or else parks a new init. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int box_fail(char *err, size_t errlen, const char *fmt, ...)
{
    int saved = errno;
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        size_t fl = strlen(fmt);
        if (n >= 0 && (size_t)n < errlen && fl && fmt[fl - 1] == ':')
            snprintf(err + n, errlen - (size_t)n, " %s", strerrordesc_np(saved));
    }
    errno = saved;
    return -1;
}

box_limits box_limits_default(void)
{
    return (box_limits){
        .wall_ms = 60000,
        .cpu_ms = 30000,
        .memory_bytes = 1024ULL << 20,
        .processes = 256,
        .output_bytes = 16ULL << 20,
        .file_bytes = 256ULL << 20,
        .tmpfs_bytes = 512ULL << 20,
        .open_files = 1024,
    };
}

void box_limits_clamp(box_limits *l, const box_limits *max)
{
    uint64_t *f = (uint64_t *)l;
    const uint64_t *m = (const uint64_t *)max;
    for (size_t i = 0; i < sizeof *l / sizeof(uint64_t); i++)
        if (f[i] == 0 || f[i] > m[i])
            f[i] = m[i];
}

static int read_int_file(const char *path, long *out)
{
    char buf[64];
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    *out = strtol(buf, NULL, 10);
    return 0;
}

static void slot_close(box_slot *s)
{
    if (s->warm_ready)
        warm_discard(s, &s->warm);
    s->warm_ready = false;
    if (s->cg_kept)
        cg_run_destroy(&s->cg);
    s->cg_kept = false;
    if (s->work_fd >= 0)
        fs_workspace_umount(s->work, &s->work_fd);
    cleanup_closep(&s->netns_fd);
    cleanup_closep(&s->ipcns_fd);
    cleanup_closep(&s->tmpl_fd);
    cleanup_closep(&s->cancel_fd);
    s->netns_fd = s->ipcns_fd = s->tmpl_fd = s->cancel_fd = -1;
    rmdir(s->work);
    rmdir(s->root);
    rmdir(s->dir);
}

static int slot_open(box_pool *p, unsigned i, char *err, size_t errlen)
{
    box_slot *s = &p->slots[i];
    s->pool = p;
    s->index = i;
    s->uid = p->first_uid + i;
    s->work_fd = -1;
    s->netns_fd = s->ipcns_fd = s->tmpl_fd = s->cancel_fd = -1;
    s->step_pidfd = s->step_ctl = -1;
    pthread_mutex_init(&s->step_mu, NULL);
    pthread_mutex_init(&s->ctl_write_mu, NULL);
    snprintf(s->dir, sizeof s->dir, "%s/slot-%u", p->state_dir, i);
    snprintf(s->work, sizeof s->work, "%s/slot-%u/work", p->state_dir, i);
    snprintf(s->root, sizeof s->root, "%s/slot-%u/root", p->state_dir, i);
    if ((mkdir(s->dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir(s->work, 0700) < 0 && errno != EEXIST) ||
        (mkdir(s->root, 0700) < 0 && errno != EEXIST))
        return box_fail(err, errlen, "cannot create %s:", s->dir);
    /* The box user must reach its workspace through the slot directory. */
    if (chmod(s->dir, 0711) < 0 || chmod(s->work, 0711) < 0 || chmod(s->root, 0711) < 0)
        return box_fail(err, errlen, "cannot chmod %s:", s->dir);
    s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->cancel_fd < 0)
        return box_fail(err, errlen, "eventfd:");
    s->netns_fd = netns_create(err, errlen);
    if (s->netns_fd < 0 || (s->ipcns_fd = ipcns_create(err, errlen)) < 0)
        return -1;
    s->work_bytes = p->max.tmpfs_bytes;
    if (fs_workspace_mount(s->work, s->work_bytes, s->uid, &s->work_fd, err, errlen) < 0 ||
        slot_template_build(s, err, errlen) < 0)
        return -1;
    return cg_slot_setup(&p->cg, i, err, errlen);
}

/* Wipes a released slot's workspace (the files of the run go in one detach)
 * and mounts the next lease's, in place of the last one in the box parked
 * in the slot, if any; then returns the slot to the free list. */
static void slot_reset(box_slot *s)
{
    box_pool *p = s->pool;
    fs_workspace_umount(s->work, &s->work_fd);
    char err[256];
    s->work_bytes = p->max.tmpfs_bytes;
    if (fs_workspace_mount(s->work, s->work_bytes, s->uid, &s->work_fd, err, sizeof err) < 0)
        fprintf(stderr, "xxx: slot %u: %s\n", s->index, err);
    /* The parked box still holds the last workspace's binds (and through
     * them its files), and its pid counter counts the lease's processes:
     * new binds and the counter back, or no box. */
    if (s->warm_ready && (s->work_fd < 0 || box_rebind(s, s->warm.pid, err, sizeof err) < 0 ||
                          box_pid_reset(s, &s->warm, err, sizeof err) < 0)) {
        if (s->work_fd >= 0)
            fprintf(stderr, "xxx: slot %u: %s\n", s->index, err);
        warm_discard(s, &s->warm);
        s->warm_ready = false;
    }
    pthread_mutex_lock(&p->mu);
    s->busy = false;
    s->warm_failed = false;
    p->free++;
    pthread_cond_broadcast(&p->cv);
    pthread_cond_signal(&p->warm_cv);
    pthread_mutex_unlock(&p->mu);
}

/* A warmer: parks a ready init in every free slot that lacks one (several
 * run at once, each on its own slot: s->warming). */
static void *warmer_main(void *arg)
{
    box_pool *p = arg;
    /* A thread of its own root and cwd: box_rebind enters boxes' mount
     * namespaces (without this setns refuses, and boxes are not reused). */
    if (unshare(CLONE_FS) < 0)
        perror("xxx: warmer: unshare(CLONE_FS)");
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        /* Released slots first: a wiped slot is a free one. */
        box_slot *s = NULL;
        for (unsigned i = 0; i < p->nslots && !s; i++)
            if (p->slots[i].dirty)
                s = &p->slots[i];
        if (s) {
            s->dirty = false;
            pthread_mutex_unlock(&p->mu);
            slot_reset(s);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        for (unsigned i = 0; i < p->nslots && !s; i++) {
            box_slot *c = &p->slots[i];
            if (!c->busy && !c->warming && !c->warm_ready && !c->warm_failed && c->work_fd >= 0)
                s = c;
        }
        if (!s) {
            pthread_cond_wait(&p->warm_cv, &p->mu);
            continue;
        }
        s->warming = true;
        pthread_mutex_unlock(&p->mu);
        warm_box w;
        char err[256];
        int rc = warm_spawn(s, &w, err, sizeof err);
        w.by_warmer = true;
        if (rc < 0)
            fprintf(stderr, "xxx: slot %u: cannot prepare a box ahead: %s\n", s->index, err);
        pthread_mutex_lock(&p->mu);
        s->warming = false;
        if (rc == 0) {
            s->warm = w;
            s->warm_ready = true;
        } else {
            s->warm_failed = true; /* box_exec will build one and say why */
        }
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int box_pool_open(const box_config *cfg, box_pool **out, char *err, size_t errlen)
{
    *out = NULL;
    if (geteuid() != 0)
        return box_fail(err, errlen,
                        "boxes need root (namespaces, cgroups, per-slot uids): run xxxd as root");
    /* A closed client connection must be an error value, never a signal. */
    signal(SIGPIPE, SIG_IGN);
    /* A daemon started with stdio closed would get box pipes as fds 0-2,
     * which the init's dup2 onto 0-2 would then clobber. */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            return box_fail(err, errlen, "cannot open /dev/null for fd %d:", fd);

    _cleanup_free_ box_pool *p = calloc(1, sizeof *p);
    if (!p)
        return box_fail(err, errlen, "out of memory");
    p->lock_fd = p->host_netns_fd = p->host_ipcns_fd = p->host_mntns_fd = p->host_pidns_fd =
        p->init_fd = -1;
    p->max = box_limits_default();
    if (cfg) {
        box_limits m = cfg->max;
        box_limits_clamp(&m, &p->max);
        p->max = m;
    }
    p->first_uid = cfg && cfg->first_uid ? cfg->first_uid : 60000;
    const char *state = cfg && cfg->state_dir ? cfg->state_dir : "/run/xxx";
    if (strlen(state) >= sizeof p->state_dir || state[0] != '/')
        return box_fail(err, errlen, "state directory must be an absolute path under %zu bytes",
                        sizeof p->state_dir);
    snprintf(p->state_dir, sizeof p->state_dir, "%s", state);
    p->ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->nslots = cfg && cfg->slots ? cfg->slots : (unsigned)(p->ncpus < 2 ? 2 : p->ncpus);
    long cap_last = 40;
    read_int_file("/proc/sys/kernel/cap_last_cap", &cap_last);
    p->cap_last = (int)cap_last;

    /* Our mounts die with us: a crash leaves no workspace mounted on the
     * host. Fails (EINVAL) once threads exist; then mounts stay visible and
     * the next start removes them. */
    if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return box_fail(err, errlen, "cannot make the mount namespace private:");

    if (mkdir(p->state_dir, 0711) < 0 && errno != EEXIST)
        return box_fail(err, errlen, "cannot create the state directory %s:", p->state_dir);
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s/lock", p->state_dir);
    p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (p->lock_fd < 0)
        return box_fail(err, errlen, "cannot open %s:", lock);
    if (flock(p->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        box_fail(err, errlen,
                 "another xxxd uses the state directory %s (its slot uids would collide)",
                 p->state_dir);
        close(p->lock_fd);
        return -1;
    }
    fs_umount_below(p->state_dir);
    /* From here every failure goes through box_pool_close. The held fds
     * first, while fd numbers are low. */
    if (launch_reserve(p, err, errlen) < 0)
        goto fail;
    cpu_set_t allowed;
    p->cpus = calloc(CPU_SETSIZE, sizeof *p->cpus);
    p->cpu_load = calloc(CPU_SETSIZE, sizeof *p->cpu_load);
    if (!p->cpus || !p->cpu_load) {
        box_fail(err, errlen, "out of memory");
        goto fail;
    }
    if (sched_getaffinity(0, sizeof allowed, &allowed) < 0) {
        box_fail(err, errlen, "sched_getaffinity:");
        goto fail;
    }
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed))
            p->cpus[p->ncpu_allowed++] = c;
    p->pin_from = cfg && cfg->pin_from ? cfg->pin_from : p->ncpu_allowed;

    const char *cg_name = cfg && cfg->cgroup_name ? cfg->cgroup_name : "xxx";
    if (cg_detect(&p->cg, cg_name, err, errlen) < 0 || seccomp_build(&p->filter, err, errlen) < 0 ||
        fs_plan_build(&p->plan, cfg ? cfg->etc : NULL, err, errlen) < 0 ||
        init_conf_encode(p, err, errlen) < 0 || (p->init_fd = init_image_open(err, errlen)) < 0)
        goto fail;
    cg_cleanup_stale(&p->cg);

    p->host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    p->host_ipcns_fd = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
    p->host_mntns_fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    p->host_pidns_fd = open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (p->host_netns_fd < 0 || p->host_ipcns_fd < 0 || p->host_mntns_fd < 0 ||
        p->host_pidns_fd < 0) {
        box_fail(err, errlen, "cannot open the host's network, IPC, mount and pid namespaces:");
        goto fail;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->warm_cv, NULL);
    p->slots = calloc(p->nslots, sizeof *p->slots);
    if (!p->slots) {
        box_fail(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < p->nslots; i++) {
        box_slot *s = &p->slots[i];
        s->work_fd = s->netns_fd = s->ipcns_fd = s->tmpl_fd = s->cancel_fd = -1;
        if (slot_open(p, i, err, errlen) < 0)
            goto fail;
    }
    p->free = p->nslots;
    p->keep_boxes = cg_peak_resettable(&p->cg, 0);
    /* The warmer takes no signals (it inherits the mask it is created
     * with): they are the server's to handle on its own threads, and a
     * signal must not interrupt a half-made box. The inits it clones reset
     * their mask before anything runs in them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int trc = 0;
    unsigned want = p->ncpu_allowed < 2 ? 2 : (unsigned)p->ncpu_allowed;
    want = want > POOL_MAX_WARMERS ? POOL_MAX_WARMERS : want;
    while (p->nwarmers < want && p->nwarmers < p->nslots &&
           (trc = pthread_create(&p->warmers[p->nwarmers], NULL, warmer_main, p)) == 0)
        p->nwarmers++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (trc != 0) {
        box_fail(err, errlen, "cannot start the warmer threads");
        goto fail;
    }
    *out = steal_pointer(&p);
    return 0;
fail:
    box_pool_close(steal_pointer(&p));
    return -1;
}

void box_pool_close(box_pool *p)
{
    if (!p)
        return;
    if (p->nwarmers) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_cond_broadcast(&p->warm_cv);
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->nwarmers; i++)
            pthread_join(p->warmers[i], NULL);
    }
    if (p->slots) {
        for (unsigned i = 0; i < p->nslots; i++)
            slot_close(&p->slots[i]);
        cg_teardown(&p->cg, p->nslots);
    }
    free(p->slots);
    free(p->cpus);
    free(p->cpu_load);
    free(p->filter.filter);
    free(p->plan.ops);
    free(p->init_conf);
    cleanup_closep(&p->init_fd);
    cleanup_closep(&p->host_netns_fd);
    cleanup_closep(&p->host_ipcns_fd);
    cleanup_closep(&p->host_mntns_fd);
    cleanup_closep(&p->host_pidns_fd);
    launch_release(p);
    if (p->lock_fd >= 0) {
        char lock[PATH_MAX + 8];
        snprintf(lock, sizeof lock, "%s/lock", p->state_dir);
        unlink(lock);
        close(p->lock_fd);
        rmdir(p->state_dir);
    }
    free(p);
}

unsigned box_pool_slots(const box_pool *p)
{
    return p->nslots;
}

const box_limits *box_pool_max(const box_pool *p)
{
    return &p->max;
}

bool box_pool_keeps_boxes(const box_pool *p)
{
    return p->keep_boxes;
}

const char *box_pool_cgroup_version(const box_pool *p)
{
    return p->cg.version == 2 ? "v2" : "v1";
}

box_slot *box_acquire(box_pool *p, uint64_t tmpfs_bytes, int timeout_ms, char *err, size_t errlen)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&p->mu);
    while (p->free == 0) {
        if (timeout_ms == 0 ||
            (timeout_ms > 0 && pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)) {
            pthread_mutex_unlock(&p->mu);
            box_fail(err, errlen, "no free slot");
            return NULL;
        }
        if (timeout_ms < 0)
            pthread_cond_wait(&p->cv, &p->mu);
    }
    /* Prefer a slot with an init parked and ready. */
    box_slot *s = NULL;
    for (unsigned i = 0; i < p->nslots; i++) {
        box_slot *c = &p->slots[i];
        if (!c->busy && (!s || (c->warm_ready && !s->warm_ready)))
            s = c;
    }
    s->busy = true;
    p->free--;
    pthread_mutex_unlock(&p->mu);

    atomic_store(&s->cancelled, false);
    uint64_t v;
    if (read(s->cancel_fd, &v, sizeof v) < 0) {
        /* nothing pending */
    }
    if (tmpfs_bytes == 0 || tmpfs_bytes > p->max.tmpfs_bytes)
        tmpfs_bytes = p->max.tmpfs_bytes;
    int rc = 0;
    if (s->work_fd < 0) /* a failed release left it unmounted */
        rc = fs_workspace_mount(s->work, tmpfs_bytes, s->uid, &s->work_fd, err, errlen);
    else if (tmpfs_bytes != s->work_bytes && fs_workspace_resize(s->work, tmpfs_bytes) < 0)
        rc = box_fail(err, errlen, "cannot resize the workspace:");
    if (rc < 0) {
        box_release(s);
        return NULL;
    }
    s->work_bytes = tmpfs_bytes;
    return s;
}

unsigned box_slot_index(const box_slot *s)
{
    return s->index;
}

void box_release(box_slot *s)
{
    box_pool *p = s->pool;
    /* box_exec leaves no process behind but a parked init, whose workspace
     * slot_reset replaces (or it goes). The warmer wipes the workspace: the
     * detach waits for an RCU grace period, idle time the caller would
     * otherwise spend instead of taking its next run. */
    pthread_mutex_lock(&p->mu);
    while (s->warming)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->nwarmers && !p->stopping) {
        s->dirty = true;
        pthread_cond_signal(&p->warm_cv);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    /* Only a warmer thread can enter a box's mount namespace. */
    bool discard = s->warm_ready;
    s->warm_ready = false;
    pthread_mutex_unlock(&p->mu);
    if (discard)
        warm_discard(s, &s->warm);
    slot_reset(s);
}

/* Opens (creating when asked) each directory of path's parent beneath the
 * workdir; returns the last one and points *leaf at the file name. */
static int open_parent(box_slot *s, const char *path, bool create, const char **leaf, char *err,
                       size_t errlen)
{
    if (fs_check_relpath(path, err, errlen) < 0)
        return -1;
    int dir = fs_open_beneath(s->work_fd, "box", O_RDONLY | O_DIRECTORY, 0);
    if (dir < 0)
        return box_fail(err, errlen, "cannot open the workdir:");
    const char *p = path;
    for (const char *slash; (slash = strchr(p, '/'));) {
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)(slash - p), p);
        if (create && mkdirat(dir, part, 0755) == 0) {
            int fd = fs_open_beneath(dir, part, O_RDONLY | O_DIRECTORY, 0);
            /* Ours and new: fchown through the fd we hold, never a path. */
            if (fd >= 0 && fchown(fd, s->uid, s->uid) < 0) {
                close(fd);
                fd = -1;
            }
            close(dir);
            dir = fd;
        } else {
            int fd = fs_open_beneath(dir, part, O_RDONLY | O_DIRECTORY, 0);
            close(dir);
            dir = fd;
        }
        if (dir < 0)
            return box_fail(err, errlen, "cannot open directory '%s' in '%s':", part, path);
        p = slash + 1;
    }
    *leaf = p;
    return dir;
}

int box_put_file(box_slot *s, const char *path, const void *data, size_t len, mode_t mode,
                 char *err, size_t errlen)
{
    const char *leaf;
    _cleanup_close_ int dir = open_parent(s, path, true, &leaf, err, errlen);
    if (dir < 0)
        return -1;
    /* O_NONBLOCK: a FIFO planted by a box must not hang the server. */
    _cleanup_close_ int fd =
        fs_open_beneath(dir, leaf, O_WRONLY | O_CREAT | O_NONBLOCK, mode & 0777);
    if (fd < 0)
        return box_fail(err, errlen, "cannot create '%s':", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return box_fail(err, errlen, "'%s' exists and is not a regular file", path);
    if (ftruncate(fd, 0) < 0 || fchown(fd, s->uid, s->uid) < 0 || fchmod(fd, mode & 0777) < 0)
        return box_fail(err, errlen, "cannot prepare '%s':", path);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return box_fail(err, errlen, "cannot write '%s':", path);
        off += (size_t)n;
    }
    return 0;
}

int box_get_file(box_slot *s, const char *path, size_t max, char **data, size_t *len, char *err,
                 size_t errlen)
{
    *data = NULL;
    *len = 0;
    const char *leaf;
    _cleanup_close_ int dir = open_parent(s, path, false, &leaf, err, errlen);
    if (dir < 0)
        return -1;
    _cleanup_close_ int fd = fs_open_beneath(dir, leaf, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0)
        return box_fail(err, errlen, "cannot open '%s':", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return box_fail(err, errlen, "'%s' is not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return box_fail(err, errlen, "'%s' is larger than %zu bytes", path, max);
    _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return box_fail(err, errlen, "out of memory");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return box_fail(err, errlen, "cannot read '%s':", path);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    *len = got;
    *data = steal_pointer(&buf);
    return 0;
}

/* Does a child manage to unshare a user namespace? (Some hosts forbid it.) */
static bool userns_works(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int box_check_host(char *buf, size_t len)
{
    size_t n = 0;
    bool ok = true;
#define SAY(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                            \
        if (w_ > 0)                                                                                \
            n += (size_t)w_;                                                                       \
    } while (0)
    struct utsname u;
    uname(&u);
    SAY("kernel:           %s %s\n", u.sysname, u.release);
    bool root = geteuid() == 0;
    ok &= root;
    SAY("root:             %s\n", root ? "yes" : "NO (xxxd needs root to build boxes)");
    cg_host h;
    char e[256];
    if (cg_detect(&h, "xxx", e, sizeof e) == 0) {
        char d[512];
        cg_describe(&h, d, sizeof d);
        SAY("cgroups:          %s\n", d);
    } else {
        ok = false;
        SAY("cgroups:          UNUSABLE: %s\n", e);
    }
    long maxns = 0;
    read_int_file("/proc/sys/user/max_user_namespaces", &maxns);
    bool userns = maxns > 0 && userns_works();
    ok &= userns;
    SAY("user namespaces:  %s\n",
        userns ? "yes" : "NO (max_user_namespaces is 0 or unshare fails)");
    bool seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    ok &= seccomp;
    SAY("seccomp filters:  %s\n", seccomp ? "yes" : "NO");
    int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    bool pidfd = pfd >= 0 || errno != ENOSYS;
    if (pfd >= 0)
        close(pfd);
    ok &= pidfd;
    SAY("clone3 + pidfd:   %s\n", pidfd ? "yes" : "NO (Linux 5.3 or later is needed)");
    char ierr[200];
    int ifd = init_image_open(ierr, sizeof ierr);
    ok &= ifd >= 0;
    SAY("xxx-init memfd:   %s\n", ifd >= 0 ? "yes" : ierr);
    if (ifd >= 0)
        close(ifd);
    /* A box's clone: its own fd table from the first call, the workspace
     * binds through the new mount API (launch.c). */
    errno = 0;
    bool mount_api = (syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) >= 0 || errno != ENOSYS) &&
                     syscall(SYS_close_range, ~0U, ~0U, CLOSE_RANGE_UNSHARE) == 0;
    ok &= mount_api;
    SAY("mount_setattr:    %s\n",
        mount_api ? "yes (and close_range unshare)" : "NO (Linux 5.12 or later is needed)");
    errno = 0;
    bool openat2 = syscall(SYS_openat2, -1, "", NULL, 0) >= 0 || errno != ENOSYS;
    SAY("openat2:          %s\n", openat2 ? "yes" : "no (falls back to O_NOFOLLOW walks)");
    SAY("seccomp policy (refused calls):\n");
    if (n < len)
        seccomp_describe(buf + n, len - n);
    n = strlen(buf);
    SAY("verdict:          %s\n", ok ? "xxx can run boxes safely here" : "xxx CANNOT run here");
#undef SAY
    return ok ? 0 : -1;
}

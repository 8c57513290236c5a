/* internal.h — what the files of src/box share; not part of the public API. */
#ifndef XXX_BOX_INTERNAL_H
#define XXX_BOX_INTERNAL_H

#include "box/box.h"
#include "boxinit/boxinit.h"

#include <limits.h>
#include <linux/filter.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

/* ---- errors ---------------------------------------------------------- */

/* Formats into err (if any) and returns -1; appends strerror(errno) when
 * the format ends in ':' (the errno of the moment of the call). */
int box_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes val to dir/file (a cgroup or /proc/sys file; no link followed); 0 or -1. */
int box_write_file(const char *dir, const char *file, const char *val);

/* ---- cgroups (cgroup.c) ---------------------------------------------- */

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_FREEZER, CG_NCTL };

typedef struct cg_host {
    int version;                   /* 1 or 2 */
    char mount[CG_NCTL][PATH_MAX]; /* v1: per controller ("" if absent); v2: [0] only */
    bool memsw;                    /* v1 memory.memsw.* present */
    char name[64];                 /* our directory under each hierarchy */
} cg_host;

typedef struct cg_run {
    const cg_host *host;
    char dir[CG_NCTL][PATH_MAX]; /* the run's directory in each hierarchy in use */
    int dfd[CG_NCTL];            /* the same, open (v2: [0], also for CLONE_INTO_CGROUP) */
    int procs_fd[CG_NCTL];       /* cgroup.procs in each, read and written (attach) */
    int cpu_fd;                  /* cpuacct.usage (ns) or cpu.stat (usage_usec) */
    int peak_fd;                 /* v2: memory.peak, reset through this fd (Linux 6.12+);
                                    v1: memory[.memsw].max_usage_in_bytes, reset by a write */
    int usage_fd;                /* v1 with swap accounting: memory.max_usage_in_bytes */
    int oom_fd;                  /* memory.events (v2) or memory.oom_control (v1) */
    bool reusable;               /* its counters can be reset: kept for the slot's next step */
    char limits[48];             /* the limits last written ("" none) */
    uint64_t oom_before;
    uint64_t cpu_base; /* ns used before the step started (the init's set-up) */
} cg_run;

/* Finds a usable cgroup layout; -1 when memory and pids cannot be limited. */
int cg_detect(cg_host *h, const char *name, char *err, size_t errlen);

/* Describes the layout in one line ("v1 hybrid: memory pids cpuacct freezer"). */
void cg_describe(const cg_host *h, char *buf, size_t len);

/* Creates the slot's parent directories (kept for the pool's life). */
int cg_slot_setup(const cg_host *h, unsigned slot, char *err, size_t errlen);

/* Whether a cgroup's peak memory can be reset (v1; v2 from Linux 6.12),
 * probed on the slot's directory (cg_slot_setup first). */
bool cg_peak_resettable(const cg_host *h, unsigned slot);

/* Kills what a crashed instance left in our hierarchy and removes it. */
void cg_cleanup_stale(const cg_host *h);

/* Makes the run's cgroup under the slot (no limits yet). */
int cg_run_create(const cg_host *h, unsigned slot, cg_run *r, char *err, size_t errlen);

/* Writes the step's memory and process limits into the run's cgroup. */
int cg_run_set_limits(cg_run *r, const box_limits *l, char *err, size_t errlen);

/* Marks the start of the step: CPU and peak memory count from here. */
void cg_run_start(cg_run *r);

/* Moves pid into the run's cgroup in every hierarchy (v1, or v2 without CLONE_INTO_CGROUP). */
int cg_run_attach(cg_run *r, pid_t pid, char *err, size_t errlen);

/* Returns CPU time used so far by the run, in ns. */
uint64_t cg_run_cpu_ns(cg_run *r);

/* Reads peak memory (bytes) and the number of OOM kills during the run. */
void cg_run_memory(cg_run *r, uint64_t *peak, uint64_t *oom_kills);

/* Kills every process in the run's cgroup and waits until it is empty. */
int cg_run_kill(cg_run *r);

/* After a step: 0 when the run's cgroup is empty and can serve the slot's
 * next step (cg_run_start resets its counters), -1 when it must be destroyed. */
int cg_run_recycle(cg_run *r);

/* Kills what is left, then removes the run's cgroup; closes fds. */
void cg_run_destroy(cg_run *r);

/* Removes the slot parents and our top directory (at pool close). */
void cg_teardown(const cg_host *h, unsigned nslots);

/* ---- seccomp (seccomp.c) --------------------------------------------- */

/* Compiles the policy into a BPF program (heap; free prog->filter). */
int seccomp_build(struct sock_fprog *prog, char *err, size_t errlen);

/* Writes the policy table, one line per rule, for `xxxd box check`. */
void seccomp_describe(char *buf, size_t len);

/* ---- a slot's network and IPC namespaces (netns.c) -------------------- */

/* Creates a network namespace with only loopback up; returns its fd. */
int netns_create(char *err, size_t errlen);

/* Creates an IPC namespace; returns its fd. */
int ipcns_create(char *err, size_t errlen);

/* Removes every SysV object of the calling thread's IPC namespace; returns how many. */
int ipcns_empty(void);

/* Puts the calling thread back in the server's namespace host_fd (of type,
 * a CLONE_NEW* flag; what names it) or aborts: a server thread left in a
 * box's namespace would go on serving from there. */
void ns_return(int host_fd, int type, const char *what);

/* ---- filesystem (fs.c) ----------------------------------------------- */

/* One step of assembling a box root, computed once per pool. */
typedef struct plan_op {
    plan_kind kind;
    char dst[256];        /* relative to the new root */
    char src[PATH_MAX];   /* host path (BIND), link target (SYMLINK), content (FILE) */
    bool is_dir;          /* BIND: source is a directory */
    unsigned long locked; /* BIND: mount flags of the source that a remount must keep */
} plan_op;

typedef struct root_plan {
    plan_op *ops;
    size_t n;
} root_plan;

/* Computes the root plan: /usr, the /bin /lib* links, /etc entries. */
int fs_plan_build(root_plan *plan, const char *const *etc, char *err, size_t errlen);

/* Mounts a fresh workspace tmpfs at dir: box/, home/, tmp/, shm/ owned by uid. */
int fs_workspace_mount(const char *dir, uint64_t bytes, uid_t uid, int *dirfd, char *err,
                       size_t errlen);

/* Changes a mounted workspace's size (a tmpfs remount, seen by every bind of it). */
int fs_workspace_resize(const char *dir, uint64_t bytes);

/* Detaches the workspace tmpfs (its pages are freed with it). */
void fs_workspace_umount(const char *dir, int *dirfd);

/* Opens a relative path beneath dirfd, never through a symlink. */
int fs_open_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* Validates a relative box path: no "/", "..", "." components, no NUL. */
int fs_check_relpath(const char *path, char *err, size_t errlen);

/* Unmounts every mount at or below prefix (deepest first), from mountinfo. */
void fs_umount_below(const char *prefix);

/* ---- pool and slots (pool.c) ----------------------------------------- */

/* A box's init, cloned ahead of time into its namespaces and cgroup, parked
 * until it receives a step's spec. Moving a task into a cgroup v1 can wait
 * for an RCU grace period (percpu_down_write on cgroup_threadgroup_rwsem):
 * 5 to 15 ms on the kernels this was first measured on, about 0.3 ms on
 * 6.18. The pool's warmer thread does it, and the rest of a box's set-up,
 * while the slot is free. A box whose step ended cleanly parks again and
 * serves the slot's next step, and after a release the next lease, with
 * the new workspace bound in (box_rebind). */
typedef struct warm_box {
    pid_t pid;
    int pidfd, sync_w, status_r;
    bool by_warmer; /* cloned by a warmer thread (its death signal is tied to
                       the thread that cloned it: only those outlive a step) */
    bool pinned;    /* its affinity is one CPU (cpu_place) */
    cg_run cg;
} warm_box;

/* Builds the slot's root once, in a mount namespace of its own, and keeps
 * it in s->tmpl_fd: every box of the slot starts in a copy. -1 on error. */
int slot_template_build(box_slot *s, char *err, size_t errlen);

/* Clones a parked init for the slot; -1 on error. */
int warm_spawn(box_slot *s, warm_box *w, char *err, size_t errlen);

/* Puts the slot's current workspace in place of the last one in the
 * mount namespace of the parked box whose init is init (a warmer thread,
 * with its own fs_struct); -1 on error. */
int box_rebind(box_slot *s, pid_t init, char *err, size_t errlen);

/* Sets the pid counter of a parked box's pid namespace back so that its
 * next program is pid 2 again (a warmer thread, between leases: no count
 * of one lease's processes reaches the next); -1 on error. */
int box_pid_reset(box_slot *s, const warm_box *w, char *err, size_t errlen);

/* Kills a parked init and frees what it holds (its cgroup goes back to the slot). */
void warm_discard(box_slot *s, warm_box *w);

/* Keeps a step's run cgroup for the slot's next step, or destroys it. */
void slot_cg_keep(box_slot *s, cg_run *cg);

struct box_slot {
    box_pool *pool;
    unsigned index;
    uid_t uid;
    int netns_fd;
    int ipcns_fd;  /* emptied before each box is cloned into it (ipcns_empty) */
    int tmpl_fd;   /* the slot's template mount namespace (slot_template_build) */
    int cancel_fd; /* eventfd that wakes box_exec on box_cancel */
    atomic_bool cancelled;
    bool busy;
    bool warming;     /* the warmer is making s->warm (pool mutex) */
    bool warm_ready;  /* s->warm holds a parked init (pool mutex) */
    bool warm_failed; /* the warmer failed here; retried after the next release */
    bool dirty;       /* released, its workspace not yet wiped (the warmer does it) */
    /* The running step, for box_interrupt and box_ctl_send (step_mu). */
    pthread_mutex_t step_mu;
    pthread_mutex_t ctl_write_mu; /* one box_ctl_send at a time */
    int step_pidfd, step_ctl;
    warm_box warm;
    cg_run cg;           /* a run cgroup kept from the last step, if cg_kept */
    bool cg_kept;        /* (saves its mkdir and rmdir: both take the cgroup mutex) */
    uint64_t work_bytes; /* size the workspace is mounted with */
    int work_fd;         /* the workspace's root (always mounted) */
    char dir[256];
    char work[256];
    char root[256];
};

/* Threads that wipe released slots and park inits in free ones: one per
 * CPU we may use (at least 2, at most this, no more than slots). Most of a
 * box's making is waiting, not CPU (the kernel's RCU grace periods: an
 * unmount's, a v1 cgroup attach's, milliseconds each), so one thread
 * falls behind what several cores run; several overlap their waits. */
#define POOL_MAX_WARMERS 16

struct box_pool {
    box_limits max;
    unsigned nslots;
    box_slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a slot came free, or a warm-up finished */
    pthread_cond_t warm_cv; /* the warmer has work */
    pthread_t warmers[POOL_MAX_WARMERS];
    unsigned nwarmers; /* running */
    bool stopping;
    unsigned free;
    int host_netns_fd, host_ipcns_fd, host_mntns_fd, host_pidns_fd;
    bool keep_boxes; /* a box that ended cleanly serves the slot's next step */
    int lock_fd;
    cg_host cg;
    struct sock_fprog filter;
    root_plan plan;
    int init_fd; /* xxx-init, sealed */
    /* Low fd numbers held (on /dev/null) for what a box's clone takes with
     * it: its pipes, the image, the template, the workspace. The clone
     * shares the fd table and copies only the fds below them
     * (CLOSE_RANGE_UNSHARE), not the server's hundreds. launch_mu. */
    int launch_fds[BOXINIT_NFDS + 3];
    int launch_null;
    pthread_mutex_t launch_mu;
    char *init_conf; /* the conf's pool part (init_conf_encode) */
    size_t init_conf_len;
    int cap_last;
    long ncpus;
    /* CPU placement (box_exec): the CPUs we may use, the pinned steps on
     * each, the steps running (pool mutex). */
    int *cpus;
    unsigned ncpu_allowed, *cpu_load, running, pin_from;
    uid_t first_uid;
    char state_dir[200]; /* short: slot paths are built from it */
};

/* ---- starting a box's init (launch.c) -------------------------------- */

/* A sealed memfd holding xxx-init (CLOEXEC); -1 on error. */
int init_image_open(char *err, size_t errlen);

/* Holds p->launch_fds (call first thing, while fd numbers are low); -1 on error. */
int launch_reserve(box_pool *p, char *err, size_t errlen);

/* Closes what launch_reserve holds. */
void launch_release(box_pool *p);

/* Encodes the pool's part of the init's conf (seccomp filter, root plan)
 * into p->init_conf; -1 when it exceeds what xxx-init accepts. */
int init_conf_encode(box_pool *p, char *err, size_t errlen);

/* Formats why an init failed from its status pipe (what it said there, if
 * it said anything yet) or else otherwise; returns -1. */
int init_failure(int status_r, char *err, size_t errlen, const char *otherwise);

/* Waits up to timeout_ms for the init's message: 0 when it is of kind want,
 * else -1 with why, as init_failure says it. */
int init_message(int status_r, int timeout_ms, char want, char *err, size_t errlen,
                 const char *otherwise);

/* Writes the slot's whole conf (mode: BOXINIT_RUN or BOXINIT_TEMPLATE) to
 * the init's sync pipe; -1 on error. */
int init_conf_send(const box_slot *s, int fd, uint32_t mode);

/* Clones xxx-init into new namespaces (ns_flags: CLONE_NEW*) with fds as
 * its BOXINIT_SYNC_FD..., born in the cgroup v2 directory cgroup_fd when it
 * is not -1 and the platform allows (*in_cgroup says); returns its pid and
 * sets *pidfd, or -1. With tmpl_fd (a slot's template mount namespace) not
 * -1, the child first moves into a copy of it with a fresh /proc and the
 * workspace under work_fd bound in, then into a new user namespace. */
pid_t init_clone(box_pool *p, const int fds[BOXINIT_NFDS], unsigned long ns_flags, int cgroup_fd,
                 bool *in_cgroup, int *pidfd, int tmpl_fd, int work_fd);

/* Serialises what the init needs of a step (argv, envp, cwd, limits) into
 * a malloc'd blob for the sync pipe; -1 when it is too large. */
int box_spec_encode(const box_spec *sp, const box_limits *l, char **blob, size_t *len, char *err,
                    size_t errlen);

#endif

/* box.h — the sandbox: a fresh, isolated, resource-limited box for each run.
 *
 * A pool holds a fixed number of slots. Each slot owns a host uid, a
 * cgroup parent and a network namespace (loopback only), all made once at
 * start. A run acquires a slot, puts files into its private tmpfs workspace,
 * executes one or more steps in it (compile, then run) and releases it:
 * release kills whatever is left and throws the workspace away.
 *
 * Every step runs in new user, pid, mount, ipc, uts and cgroup namespaces,
 * joins its slot's network namespace, sees a read-only root assembled from
 * the host's /usr and a few /etc files, has no capabilities, no_new_privs
 * and a seccomp filter (policy in seccomp.c). The box knows nothing of HTTP,
 * JSON or languages.
 *
 * Threads: box_pool_open must be called before the process starts threads
 * (it moves the process into a private mount namespace). After that every
 * function is thread-safe; one slot is used by one thread at a time, except
 * box_cancel, which any thread may call.
 *
 * Errors: functions that can fail return 0 or -1 and write a one-line
 * reason into err (errlen bytes). */
#ifndef XXX_BOX_H
#define XXX_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits of one step. A field left 0 takes the pool's maximum. */
typedef struct box_limits {
    uint64_t wall_ms;      /* wall-clock time */
    uint64_t cpu_ms;       /* CPU time summed over every thread and process */
    uint64_t memory_bytes; /* RAM, swap included */
    uint64_t processes;    /* processes and threads alive at once */
    uint64_t output_bytes; /* stdout plus stderr, counted as read */
    uint64_t file_bytes;   /* largest file the step may write (RLIMIT_FSIZE) */
    uint64_t tmpfs_bytes;  /* writable space: workdir, home, /tmp, /dev/shm (per slot lease) */
    uint64_t open_files;   /* open descriptors per process (RLIMIT_NOFILE) */
} box_limits;

typedef struct box_config {
    unsigned slots;          /* 0: one per core, at least 2 */
    uid_t first_uid;         /* 0: 60000. Slot i's box user is host uid first_uid + i, its
                                inside root (who builds the slot's root, and each box's
                                init until it drops) first_uid + slots + i: reserve
                                2 x slots uids no one else uses */
    const char *state_dir;   /* host directory for slot mounts; NULL: /run/xxx */
    const char *cgroup_name; /* cgroup directory under each hierarchy; NULL: "xxx" */
    const char *const *etc;  /* /etc entries bound read-only; NULL: box_default_etc */
    box_limits max;          /* server-wide maxima; 0 fields: box_limits_default() */
    unsigned pin_from;       /* from this many steps running (not BOX_SPEC_NO_WALL ones),
                                each step that starts is pinned to the CPU with the fewest
                                pinned steps; 0: the number of CPUs we may use */
} box_config;

typedef enum box_status {
    BOX_OK,             /* exited 0 */
    BOX_RUNTIME_ERROR,  /* exited non-zero */
    BOX_SIGNALED,       /* killed by a signal it did not ask for from a limit */
    BOX_TIMEOUT,        /* wall or CPU limit: see box_result.limit */
    BOX_MEMORY_LIMIT,   /* the cgroup's OOM killer fired */
    BOX_OUTPUT_LIMIT,   /* stdout + stderr passed output_bytes */
    BOX_CANCELLED,      /* box_cancel was called */
    BOX_INTERNAL_ERROR, /* the box could not be built or watched; see message */
} box_status;

typedef enum box_limit_kind { BOX_LIMIT_NONE, BOX_LIMIT_WALL, BOX_LIMIT_CPU } box_limit_kind;

typedef enum box_stream { BOX_STDOUT = 1, BOX_STDERR = 2 } box_stream;

typedef struct box_buf {
    char *data; /* NUL-terminated for convenience; may hold NULs */
    size_t len;
    bool truncated; /* the stream was cut at the output cap */
} box_buf;

typedef struct box_result {
    box_status status;
    box_limit_kind limit; /* which limit ended a BOX_TIMEOUT */
    int exit_code;        /* -1 unless the program exited */
    int signal;           /* 0 unless a signal ended the program */
    uint64_t wall_ms, cpu_ms, memory_bytes;
    box_buf out, err;
    char message[256]; /* why, for BOX_INTERNAL_ERROR */
} box_result;

/* Called from box_exec's thread for each chunk, in the order read per stream. */
typedef void (*box_output_fn)(void *ctx, box_stream stream, const char *data, size_t len);

/* Called from box_exec's thread with bytes the program wrote to its control
 * socket (BOX_CTL_FD), after every byte of output it wrote before them;
 * len 0 once: the program side closed it. */
typedef void (*box_ctl_fn)(void *ctx, const char *data, size_t len);

/* box_spec.flags */
#define BOX_SPEC_CTL 1u         /* the program gets a control socket as fd BOX_CTL_FD */
#define BOX_SPEC_STREAM_ONLY 2u /* output goes to on_output only: not kept, not capped */
#define BOX_SPEC_NO_WALL 4u     /* no wall-clock limit: the caller ends it (box_cancel) */

/* The program's end of the control socket, with BOX_SPEC_CTL. */
#define BOX_CTL_FD 3

typedef struct box_spec {
    const char *const *argv; /* argv[0]: absolute path, or a name looked up in envp's PATH */
    const char *const *envp; /* the whole environment; nothing else is inherited */
    const char *cwd;         /* NULL: BOX_WORKDIR */
    const void *stdin_data;  /* bytes fed to stdin, then EOF */
    size_t stdin_len;
    int stdin_fd; /* >= 0: forward this fd's bytes live instead (0 is a valid fd; set -1) */
    box_limits limits;
    box_output_fn on_output; /* optional */
    box_ctl_fn on_ctl;       /* with BOX_SPEC_CTL */
    unsigned flags;          /* BOX_SPEC_* */
    void *ctx;
} box_spec;

typedef struct box_pool box_pool;
typedef struct box_slot box_slot;

/* Paths inside every box. */
#define BOX_WORKDIR "/box"
#define BOX_HOME "/home/box"
#define BOX_USER "box"
#define BOX_INSIDE_UID 1000

extern const char *const box_default_etc[];

/* Returns the built-in default maxima (used for 0 fields of box_config.max). */
box_limits box_limits_default(void);

/* Fills 0 fields of *l from *max and lowers each field to at most *max. */
void box_limits_clamp(box_limits *l, const box_limits *max);

/* Checks the host and builds the pool; refuses (-1) when memory and pids
 * cannot be limited, user namespaces or seccomp are missing, or not root. */
int box_pool_open(const box_config *cfg, box_pool **out, char *err, size_t errlen);

/* Kills every running box, removes every slot's mounts, cgroups and netns. */
void box_pool_close(box_pool *p);

/* Returns the number of slots. */
unsigned box_pool_slots(const box_pool *p);

/* Returns the pool's effective maxima. */
const box_limits *box_pool_max(const box_pool *p);

/* Returns "v1" or "v2": the cgroup layout in use. */
const char *box_pool_cgroup_version(const box_pool *p);

/* Whether a box whose step ended cleanly serves its slot's next step, and
 * next lease (false where a cgroup's peak memory cannot be reset: cgroup
 * v2 before Linux 6.12; then every step gets a new box). */
bool box_pool_keeps_boxes(const box_pool *p);

/* Takes a free slot, waiting up to timeout_ms (-1: forever, 0: no wait),
 * and gives it a fresh workspace of tmpfs_bytes (0: the maximum). NULL when
 * none came free in time, or on error (err says which). */
box_slot *box_acquire(box_pool *p, uint64_t tmpfs_bytes, int timeout_ms, char *err, size_t errlen);

/* Returns the slot's index (0-based). */
unsigned box_slot_index(const box_slot *s);

/* Writes a file at a relative path under the workdir (parents made as
 * needed), owned by the box user. Refuses absolute paths, "..", and any
 * symlink on the way. */
int box_put_file(box_slot *s, const char *path, const void *data, size_t len, mode_t mode,
                 char *err, size_t errlen);

/* Reads a regular file from the workdir, at most max bytes. Never follows a
 * symlink, never opens a FIFO or device. *data is malloc'd, NUL-terminated. */
int box_get_file(box_slot *s, const char *path, size_t max, char **data, size_t *len, char *err,
                 size_t errlen);

/* Runs one step in the slot and fills *res (always, even on error: then
 * status BOX_INTERNAL_ERROR). Blocks until the step and all it started are
 * gone. Returns 0, or -1 when res->status is BOX_INTERNAL_ERROR. */
int box_exec(box_slot *s, const box_spec *spec, box_result *res);

/* Ends the slot's running step (if any) with BOX_CANCELLED; any thread. */
void box_cancel(box_slot *s);

/* Sends SIGINT to the running step's program (not to what it started);
 * any thread. -1 when no step is running. */
int box_interrupt(box_slot *s);

/* Writes all of data to the running step's control socket (BOX_SPEC_CTL),
 * waiting up to timeout_ms for room; any thread, one writer at a time. */
int box_ctl_send(box_slot *s, const void *data, size_t len, int timeout_ms, char *err,
                 size_t errlen);

/* Kills everything left, wipes the workspace and returns the slot. */
void box_release(box_slot *s);

/* Frees the buffers of a result. */
void box_result_free(box_result *res);

/* Returns "ok", "runtime_error", ... for a status. */
const char *box_status_name(box_status st);

/* Returns "SIGKILL", ... for a signal number; "" for 0. */
const char *box_signal_name(int sig);

/* Writes a human report of what the host offers into buf; returns 0 when xxx
 * can run safely here, -1 when it cannot (the report says why). */
int box_check_host(char *buf, size_t len);

#endif

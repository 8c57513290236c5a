/* boxinit.h — the contract between the supervisor (src/box) and xxx-init,
 * the small static program every box starts as.
 *
 * The supervisor clones a child into the box's new namespaces that shares
 * its memory only until it execs xxx-init (posix_spawn's way), so no box
 * ever holds a copy of the server's memory: not the other requests' code
 * and output on its heap, and not the page tables whose copy would cost
 * more CPU than the whole rest of a box. xxx-init is built static, from
 * libc alone, and travels inside xxxd (src/box/init_image.S); the pool
 * writes it into a sealed memfd and execs it from there.
 *
 * It runs in one of two modes (boxinit_conf.mode):
 *   BOXINIT_TEMPLATE  once per slot: in its own user and mount namespaces,
 *                     build the box's root from the plan (read-only binds,
 *                     /etc files, /dev), pivot into it, say 'R' and wait for
 *                     EOF. The supervisor keeps the mount namespace (its fd)
 *                     as the slot's template and lets this process go.
 *   BOXINIT_RUN       a box: the supervisor's clone already stands in a
 *                     copy of the template with its /proc and the slot's
 *                     workspace mounted (launch.c), in a fresh user
 *                     namespace; park until a spec comes, start the
 *                     program, and when it ends kill whatever it left in
 *                     the pid namespace, report, and park again. One box
 *                     serves the slot's steps until the supervisor closes
 *                     the sync socket or kills it.
 *
 * xxx-init starts with these fds and nothing else above 2 (and closes 0-2):
 *   BOXINIT_SYNC_FD    a stream socket, read: a boxinit_conf once the cgroup
 *                      and id maps are set, then, whenever a step comes, a
 *                      spec (spec_hdr) whose header carries (SCM_RIGHTS) the
 *                      program's stdin, stdout, stderr and, with
 *                      BOX_SPEC_CTL, its end of the control socket
 *   BOXINIT_STATUS_FD  write: per step, 'E' if the program's set-up failed,
 *                      then 'S' once the program and all it left are gone
 *                      (a template: 'R'; the init's own failure: 'E') */
#ifndef XXX_BOXINIT_H
#define XXX_BOXINIT_H

#include <stdint.h>

enum {
    BOXINIT_SYNC_FD = 3,
    BOXINIT_STATUS_FD,
    BOXINIT_NFDS = 2, /* fds 3 .. 3 + BOXINIT_NFDS - 1 */
};

/* The fds a spec carries: stdin, stdout, stderr, then the control socket. */
enum { BOXINIT_STEP_FDS = 4 };

/* What the root is built from, in order (relative to the new root). */
typedef enum { PLAN_DIR, PLAN_SYMLINK, PLAN_BIND_RO, PLAN_FILE } plan_kind;

#define BOXINIT_MAGIC 0x78786931u /* "xxi1" */
#define BOXINIT_CONF_MAX (256 * 1024)
#define BOXINIT_MAX_OPS 1024
#define BOXINIT_MAX_FILTER 4096

/* The conf: this header, nfilter struct sock_filter (the seccomp program),
 * nops times (boxinit_op, dst, NUL, src, NUL), then the directory the
 * template builds the slot's root on, NUL-terminated. */
enum { BOXINIT_RUN, BOXINIT_TEMPLATE };

typedef struct boxinit_conf {
    uint32_t magic;
    uint32_t len; /* bytes after this header */
    int32_t cap_last;
    uint32_t nfilter;
    uint32_t nops; /* the plan: BOXINIT_TEMPLATE only */
    uint32_t mode; /* BOXINIT_RUN or BOXINIT_TEMPLATE */
} boxinit_conf;

typedef struct boxinit_op {
    uint32_t kind; /* plan_kind */
    uint32_t is_dir;
    uint64_t locked; /* BIND: mount flags of the source a remount must keep */
} boxinit_op;

/* A step's spec: this header, then argc + envc + 1 NUL-terminated strings
 * (argv..., envp..., cwd; an empty cwd is the working directory). */
#define SPEC_MAX (256 * 1024)
#define SPEC_MAX_STRINGS 4096

typedef struct spec_hdr {
    uint32_t len; /* bytes of strings after the header */
    uint32_t argc, envc;
    uint32_t flags; /* BOX_SPEC_* */
    uint64_t cpu_ms, file_bytes, open_files;
} spec_hdr;

/* What xxx-init reports on BOXINIT_STATUS_FD. */
typedef struct boxinit_msg {
    char kind; /* 'S': program's wait status, 'E': set-up failed, 'R': template ready */
    int value; /* wait status, or errno */
    char what[120];
} boxinit_msg;

#endif

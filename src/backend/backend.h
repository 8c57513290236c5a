/* backend.h — where a run's steps execute: xxx's own boxes or Podman.
 *
 * The run layer speaks to one backend through this table of functions and
 * box.h's vocabulary (box_spec, box_result, box_limits, box_status), so a
 * result has the same fields and statuses whichever backend made it. A
 * lease is one workspace that outlives its steps (compile, then run) and
 * holds one of the backend's slots until released.
 *
 * Threads: as box.h: a lease is used by one thread at a time, except
 * cancel, which any thread may call. Errors: 0 or -1 with a one-line reason
 * in err (errlen bytes). */
#ifndef XXX_BACKEND_H
#define XXX_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "box/box.h"

typedef struct backend_lease backend_lease;

typedef struct backend {
    const char *name; /* "native", "podman" */
    void *self;       /* the implementation's state */
    /* Takes a free slot for a program of this image (NULL: the backend's
     * default; the native backend ignores it), waiting up to timeout_ms. */
    backend_lease *(*acquire)(void *self, const char *image, uint64_t tmpfs_bytes, int timeout_ms,
                              char *err, size_t errlen);
    /* Writes a file at a relative path under the workdir (as box_put_file). */
    int (*put_file)(backend_lease *l, const char *path, const void *data, size_t len, mode_t mode,
                    char *err, size_t errlen);
    /* Reads a regular file from the workdir, at most max bytes (as box_get_file). */
    int (*get_file)(backend_lease *l, const char *path, size_t max, char **data, size_t *len,
                    char *err, size_t errlen);
    /* Runs one step and fills *res, always (as box_exec). */
    int (*exec)(backend_lease *l, const box_spec *spec, box_result *res);
    /* Ends the lease's running step with BOX_CANCELLED; any thread. */
    void (*cancel)(backend_lease *l);
    /* Kills what is left, wipes the workspace, frees the slot. */
    void (*release)(backend_lease *l);
    /* The maxima requests are capped to. */
    const box_limits *(*max)(const void *self);
    /* How many leases may be held at once. */
    unsigned (*slots)(const void *self);
    /* The lease's slot index (0-based). */
    unsigned (*index)(const backend_lease *l);
} backend;

/* Fills *b with the native backend over an open box pool (borrowed). */
void backend_native(backend *b, box_pool *pool);

#endif

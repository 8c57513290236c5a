/* podman.h — the Podman backend: each step a fresh OCI container.
 *
 * Speaks Podman's REST API (libpod endpoints, v4) over a unix socket or
 * http:// with libcurl. A lease is a slot: a host uid (first_uid + index)
 * and a host-side workspace, a tmpfs of the lease's size mounted at
 * state_dir/podman/<index> and bind-mounted as the workdir of every step,
 * so a compile step's output is there for the run step. Each step is one
 * container (create, attach, start, wait, inspect, remove) with the step's
 * limits, no network, a read-only root, tmpfs /tmp and home, all
 * capabilities dropped and no-new-privileges; xxx kills it at the wall
 * limit or the output limit. Every container carries the label
 * xxx.instance=<instance>; podman_open removes those left by a crash.
 *
 * The workspace is a host mount, so Podman must run on this machine (its
 * socket, or a loopback http:// address). Threads and errors: as box.h. */
#ifndef XXX_PODMAN_H
#define XXX_PODMAN_H

#include <stddef.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "box/box.h"

typedef struct podman_config {
    const char *url;       /* "http://127.0.0.1:8085", "unix:///run/podman/podman.sock" or a path */
    const char *registry;  /* "localhost:5001": where missing images are pulled from; NULL: none */
    const char *state_dir; /* NULL: /run/xxx; workspaces go under <state_dir>/podman */
    const char *instance;  /* label value of our containers; NULL: "xxx" */
    unsigned slots;        /* 0: one per core, at least 2 */
    uid_t first_uid;       /* 0: 60000; slot i runs as host uid first_uid + i */
    box_limits max;        /* 0 fields: box_limits_default() */
} podman_config;

typedef struct podman podman;

/* Pings Podman, removes containers a previous run of this instance left,
 * and makes the slots' workspace directories. -1 with err when Podman does
 * not answer or the state directory cannot be made. */
int podman_open(const podman_config *cfg, podman **out, char *err, size_t errlen);

/* Removes every container of this instance and every workspace mount. */
void podman_close(podman *p);

/* Fills *b with the backend over p (borrowed). */
void podman_backend(backend *b, podman *p);

/* Reassembles Docker's multiplexed attach stream: frames of an 8-byte
 * header (byte 0: 1 stdout, 2 stderr; bytes 4-7: payload length,
 * big-endian) and the payload, split anywhere by the transport. Zero it to start. */
typedef struct podman_demux {
    unsigned char hdr[8];
    size_t hdr_got;
    size_t left; /* payload bytes still to come in this frame */
    int stream;
} podman_demux;

/* Feeds len bytes; calls out(ctx, stream, piece, n) for each payload piece, in order. */
void podman_demux_feed(podman_demux *d, const char *data, size_t len,
                       void (*out)(void *ctx, int stream, const char *data, size_t len), void *ctx);

/* Returns Podman's version ("4.3.1"), as read by podman_open. */
const char *podman_version(const podman *p);

/* Removes every container labelled xxx.instance=<instance>; returns how many, or -1 with err. */
int podman_remove_labelled(podman *p, char *err, size_t errlen);

#endif

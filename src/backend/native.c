/* native.c — the native backend: a thin adapter over src/box.
 *
 * A lease is a box_slot: the casts below are the whole adapter. */
#include "backend/backend.h"

static backend_lease *native_acquire(void *self, const char *image, uint64_t tmpfs_bytes,
                                     int timeout_ms, char *err, size_t errlen)
{
    (void)image; /* the boxes run the host's own runtimes */
    return (backend_lease *)box_acquire(self, tmpfs_bytes, timeout_ms, err, errlen);
}

static int native_put_file(backend_lease *l, const char *path, const void *data, size_t len,
                           mode_t mode, char *err, size_t errlen)
{
    return box_put_file((box_slot *)l, path, data, len, mode, err, errlen);
}

static int native_get_file(backend_lease *l, const char *path, size_t max, char **data, size_t *len,
                           char *err, size_t errlen)
{
    return box_get_file((box_slot *)l, path, max, data, len, err, errlen);
}

static int native_exec(backend_lease *l, const box_spec *spec, box_result *res)
{
    return box_exec((box_slot *)l, spec, res);
}

static void native_cancel(backend_lease *l)
{
    box_cancel((box_slot *)l);
}

static void native_release(backend_lease *l)
{
    box_release((box_slot *)l);
}

static const box_limits *native_max(const void *self)
{
    return box_pool_max(self);
}

static unsigned native_slots(const void *self)
{
    return box_pool_slots(self);
}

static unsigned native_index(const backend_lease *l)
{
    return box_slot_index((const box_slot *)l);
}

void backend_native(backend *b, box_pool *pool)
{
    *b = (backend){
        .name = "native",
        .self = pool,
        .acquire = native_acquire,
        .put_file = native_put_file,
        .get_file = native_get_file,
        .exec = native_exec,
        .cancel = native_cancel,
        .release = native_release,
        .max = native_max,
        .slots = native_slots,
        .index = native_index,
    };
}

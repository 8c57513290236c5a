/* cleanup.h — scope-bound ownership helpers (after bubblewrap/crun).
 *
 * A local declared `_cleanup_free_ char *p` is freed when it leaves scope;
 * `steal_pointer(&p)` hands ownership on and leaves NULL behind. */
#ifndef XXX_CLEANUP_H
#define XXX_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))

/* Returns *pp and leaves NULL behind: ownership moves to the caller. */
#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) _p = *(pp);                                                              \
        *(pp) = NULL;                                                                              \
        _p;                                                                                        \
    })

/* Returns *fdp and leaves -1 behind. */
static inline int steal_fd(int *fdp)
{
    int fd = *fdp;
    *fdp = -1;
    return fd;
}

#endif

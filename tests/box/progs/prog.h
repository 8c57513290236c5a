/* prog.h — what every program run inside a test box shares.
 *
 * Each program attempts one attack and prints one `key=value` line per
 * observation on stdout: value 0 when a call succeeded, the errno name
 * (EPERM, ENOENT, ...) when it failed, or a plain word or number. The tests
 * in tests/box/ parse these lines. Lines go out with one write(2) each, so
 * they are never duplicated by fork() nor reordered by stdio buffering. */
#ifndef XXX_BOX_PROG_H
#define XXX_BOX_PROG_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Returns "EPERM", ... for an errno value, or its number for an unknown one. */
static inline const char *errname(int e)
{
    static __thread char num[16];
    const char *name = strerrorname_np(e);
    if (name)
        return name;
    snprintf(num, sizeof(num), "%d", e);
    return num;
}

/* Prints "key=value" formatted like printf, as one write. */
__attribute__((format(printf, 2, 3))) static inline void sayf(const char *key, const char *fmt, ...)
{
    char line[4096];
    int n = snprintf(line, sizeof(line), "%s=", key);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDOUT_FILENO, line, (size_t)n) < 0)
        _exit(120);
}

/* Prints "key=0" when rc >= 0, else "key=ERRNO" from errno; returns rc. */
static inline long report(const char *key, long rc)
{
    int e = errno;
    if (rc >= 0)
        sayf(key, "0");
    else
        sayf(key, "%s", errname(e));
    errno = e;
    return rc;
}

/* Writes 64 KiB blocks to fd until a write fails; returns the bytes
 * written and leaves the failing errno in *err. */
static inline long long write_until_refused(int fd, int *err)
{
    static char block[64 * 1024];
    memset(block, 'f', sizeof(block));
    long long total = 0;
    for (;;) {
        ssize_t n = write(fd, block, sizeof(block));
        if (n < 0) {
            *err = errno;
            return total;
        }
        total += n;
    }
}

#endif

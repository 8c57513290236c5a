/* bytebuf.h — a growable byte buffer, always NUL-terminated, that may hold NULs.
 *
 * A zeroed bytebuf is empty and valid. Functions that grow it return 0, or
 * -1 with errno ENOMEM (or EOVERFLOW) and leave the contents as they were. */
#ifndef XXX_BYTEBUF_H
#define XXX_BYTEBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct bytebuf {
    char *data; /* NULL while empty and never grown */
    size_t len;
    size_t cap;
} bytebuf;

/* Appends n bytes. */
int bytebuf_append(bytebuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without its NUL). */
int bytebuf_puts(bytebuf *b, const char *s);

/* Appends printf-formatted text. */
int bytebuf_printf(bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drops the first n bytes (all when n >= len). */
void bytebuf_consume(bytebuf *b, size_t n);

/* Returns the contents (never NULL: "" when empty) and leaves b empty; caller frees. */
char *bytebuf_steal(bytebuf *b, size_t *len);

/* Frees the storage and leaves b empty. */
void bytebuf_free(bytebuf *b);

#endif

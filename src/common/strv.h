/* strv.h — NULL-terminated arrays of heap strings ("string vectors"). */
#ifndef XXX_STRV_H
#define XXX_STRV_H

#include <stdbool.h>
#include <stddef.h>

/* Returns the number of strings before the terminating NULL (0 for NULL). */
size_t strv_len(const char *const *v);

/* Returns a deep copy (NULL for NULL input or on ENOMEM). */
char **strv_dup(const char *const *v);

/* Appends a copy of s, growing *v; returns 0 or -1 on ENOMEM. */
int strv_push(char ***v, const char *s);

/* Returns true when v holds a string equal to s. */
bool strv_contains(const char *const *v, const char *s);

/* Frees every string and the array; NULL is fine. */
void strv_free(char **v);

static inline void cleanup_strvp(char ***v)
{
    strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

#endif

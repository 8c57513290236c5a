/* strv.c — string vectors (see strv.h). */
#include "common/strv.h"

#include <stdlib.h>
#include <string.h>

size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

char **strv_dup(const char *const *v)
{
    if (!v)
        return NULL;
    size_t n = strv_len(v);
    char **r = calloc(n + 1, sizeof *r);
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        r[i] = strdup(v[i]);
        if (!r[i]) {
            strv_free(r);
            return NULL;
        }
    }
    return r;
}

int strv_push(char ***v, const char *s)
{
    size_t n = strv_len((const char *const *)*v);
    char *copy = strdup(s);
    if (!copy)
        return -1;
    char **r = realloc(*v, (n + 2) * sizeof *r);
    if (!r) {
        free(copy);
        return -1;
    }
    r[n] = copy;
    r[n + 1] = NULL;
    *v = r;
    return 0;
}

bool strv_contains(const char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

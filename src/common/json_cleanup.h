/* json_cleanup.h — scope-bound ownership of jansson values. */
#ifndef XXX_JSON_CLEANUP_H
#define XXX_JSON_CLEANUP_H

#include <jansson.h>

static inline void cleanup_jsonp(json_t **j)
{
    if (*j)
        json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

#endif

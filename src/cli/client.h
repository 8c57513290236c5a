/* client.h — the CLI's HTTP client (libcurl): plain requests and SSE streams. */
#ifndef XXX_CLI_CLIENT_H
#define XXX_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/bytebuf.h"
#include "sse/sse.h"

/* Exit status of the CLI itself when the service cannot be used
 * (unreachable, error answer, unreadable answer), as `docker run` does. */
#define CLI_EXIT_SERVICE 125
#define CLI_EXIT_USAGE 2

typedef struct client {
    char base[1024]; /* API URL without a trailing slash */
} client;

/* Sends method path with body (JSON text, or NULL). On success returns 0 and
 * fills *status and *answer (malloc'd, NUL-terminated). On a transport
 * failure prints a clear message and returns -1. */
int client_call(const client *c, const char *method, const char *path, const char *body,
                long *status, bytebuf *answer);

/* POSTs body to path and feeds a 200 answer to fn as SSE events. A non-200
 * answer is collected into *answer instead. Returns 0 (with *status) or -1
 * after printing why. */
int client_stream(const client *c, const char *path, const char *body, sse_event_fn fn, void *ctx,
                  long *status, bytebuf *answer);

/* Prints an error answer ({"error": {code, message}} or anything else) for
 * a call to path; returns CLI_EXIT_SERVICE. */
int client_report_error(const client *c, const char *path, long status, const bytebuf *answer);

/* Parses a JSON answer; prints why and returns NULL when it is not JSON. */
json_t *client_parse(const bytebuf *answer);

#endif

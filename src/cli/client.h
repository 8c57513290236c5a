/* client.h — the CLI's HTTP client (libcurl): plain requests and SSE streams. */
#ifndef XXX_CLI_CLIENT_H
#define XXX_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* The same, calling tick(ctx) now and then (at least once a second) while
 * waiting: a place to notice a signal and act on it (another call). */
int client_call_watch(const client *c, const char *method, const char *path, const char *body,
                      long *status, bytebuf *answer, void (*tick)(void *ctx), void *ctx);

/* Helpers shared by the commands (main.c): write a JSON string field (or
 * its exact _base64 twin) to f; the exit status for a run's result; say on
 * stderr what a non-plain ending means. */
void write_field(json_t *obj, const char *key, FILE *f);
int exit_status_of(json_t *res);
void report_outcome(json_t *res);

/* xxx repl execute --interactive: runs req over a WebSocket with this
 * process's stdin forwarded live; Ctrl-C sends SIGINT, a second SIGKILL. */
int cli_interactive(const client *c, json_t *req, bool json_out);

/* xxx repl shell. */
int cmd_shell(client *c, int argc, char **argv);

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

/* ---- WebSocket (ws_client.c) ---- */

typedef struct cli_ws cli_ws;

/* Called for each whole message received. */
typedef void (*cli_ws_msg_fn)(void *ctx, bool text, const char *data, size_t len);

/* Connects to path and does the handshake; NULL after printing why (an
 * error answer is reported as client_report_error does). */
cli_ws *cli_ws_open(const client *c, const char *path, cli_ws_msg_fn fn, void *ctx);

/* Returns the socket to poll, and the poll events it waits for now. */
int cli_ws_fd(const cli_ws *w);
short cli_ws_events(const cli_ws *w);

/* Queues a text or binary message; 0 or -1. */
int cli_ws_send(cli_ws *w, bool text, const void *data, size_t len);
int cli_ws_send_json(cli_ws *w, json_t *msg);

/* Reads what revents says is there (call once with 0 right after opening),
 * calls fn per message and sends what is queued. Returns 0, or 1 when the
 * connection is over, with the close code (1006: dropped) in *close_code. */
int cli_ws_pump(cli_ws *w, short revents, int *close_code);

/* Closes and frees. */
void cli_ws_free(cli_ws *w);

#endif

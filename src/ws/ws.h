/* ws.h — interactive runs over WebSocket: GET /api/repl/connect.
 *
 * One connection carries one execution. The client's first message is
 * {"type": "execute", ...the body of POST /api/repl/execute...} (or, for a
 * session, {"type": "execute", "session": id, "code": ...}); then, while
 * the program runs, stdin ({"type": "stdin", "data"} or binary frames),
 * {"type": "stdin_close"} and {"type": "signal", "signal": "SIGINT" |
 * "SIGKILL"}. The server answers with "stage" (queued, compile, run),
 * "stdout"/"stderr" chunks as the box reads them, "error" and finally
 * "result", then closes (README "WebSocket" lists messages and close codes).
 *
 * Framing is wslay's; the socket comes from libmicrohttpd's upgrade. Each
 * connection has one thread of its own (bounded by max_connections) that
 * polls the socket, a wake-up pipe the run's observer writes to, and the
 * write end of the program's stdin pipe. The observer (a run worker)
 * queues messages under the connection's lock and never touches the
 * socket; unsent output per connection is bounded (out_buffer): past it the
 * run is cancelled and the client told "slow_reader".
 *
 * The pure parts (ws_accept_key, ws_output_msg, ...) are used by the
 * connection code and by tests. */
#ifndef XXX_WS_H
#define XXX_WS_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "run/run.h"

/* The route. */
#define WS_PATH "/api/repl/connect"

/* Close codes of our own: 4000 + the HTTP status the same error has over
 * REST (4400 bad request, 4404 unknown session, 4408 no first message in
 * time, 4429 queue full, 4501 sessions not served, 4503 unavailable or
 * shutting down). RFC 6455 codes keep their meaning (1000 after the
 * result, 1001 server stopping, 1002 bad framing, 1009 message too big,
 * 1011 internal error). */
#define WS_CLOSE_APP_BASE 4000

typedef struct ws_config {
    unsigned max_connections;  /* open WebSocket connections; 0: 64 */
    size_t max_message;        /* largest message accepted (1009 above it); 0: 1 MiB */
    size_t out_buffer;         /* unsent bytes one connection may hold; 0: 8 MiB */
    size_t stdin_buffer;       /* stdin bytes waiting for the program; 0: 1 MiB */
    unsigned first_message_ms; /* wait for the first message; 0: 10000 */
} ws_config;

typedef struct ws_hub ws_hub;

/* Progress of a session execution, reported by ws_session_hooks.start's
 * execution on any thread; none after hooks.end returns. */
typedef struct ws_sink {
    void (*stage)(void *conn, const char *stage);
    void (*output)(void *conn, box_stream stream, const char *data, size_t len);
    void (*done)(void *conn, json_t *result); /* the execution's answer (borrowed) */
    /* An "error" message that ends nothing (e.g. stdin the cell cannot take). */
    void (*warn)(void *conn, const char *code, const char *message);
    void *conn;
} ws_sink;

/* The hook for session executions, set by whoever serves sessions. start:
 * begins msg's code (msg is the first message, "session" in it) with stdin
 * fed live from stdin_fd (ownership moves, also on failure; its EOF is the
 * client's stdin_close); 0 with *exec,
 * or -1 with *e (its status picks the close code). signal: SIGINT or
 * SIGKILL to the execution, from any thread, also from inside a sink
 * callback (a client that reads too slowly). end: no sink call after it
 * returns; an execution still running is cancelled. */
typedef struct ws_session_hooks {
    int (*start)(void *ctx, json_t *msg, int stdin_fd, const ws_sink *sink, void **exec,
                 api_error *e);
    int (*signal)(void *exec, int sig);
    void (*end)(void *exec);
    void *ctx;
} ws_session_hooks;

/* Makes a hub for the connections of one HTTP server. Returns 0 or -1 with err. */
int ws_hub_new(const ws_config *cfg, run_engine *engine, const runtime_set *rts, ws_hub **out,
               char *err, size_t errlen);

/* Routes session executions to hooks (copied); NULL: refuse them (4501). */
void ws_hub_set_sessions(ws_hub *h, const ws_session_hooks *hooks);

/* Checks a GET on WS_PATH and returns the 101 response that upgrades it
 * (the caller queues it with MHD_HTTP_SWITCHING_PROTOCOLS and destroys it),
 * or NULL with *e: 400 not a WebSocket handshake, 426 wrong version, 503
 * too many connections or out of memory. */
struct MHD_Response *ws_handshake(ws_hub *h, struct MHD_Connection *conn, api_error *e);

/* Returns the number of open WebSocket connections. */
size_t ws_hub_count(ws_hub *h);

/* Closes every connection (1001, runs cancelled), waits for their threads
 * and frees the hub. Call before MHD_stop_daemon. */
void ws_hub_free(ws_hub *h);

/* ---- pure parts ---- */

/* Writes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455
 * 4.2.2) into out. Returns 0, or -1 when key is not 16 bytes of base64. */
int ws_accept_key(const char *key, char out[29]);

/* The UTF-8 sequences cut at a chunk boundary, per stream, held for the next chunk. */
typedef struct ws_utf8 {
    char carry[2][4];
    size_t ncarry[2];
} ws_utf8;

/* Builds the message for one output chunk into *msg: {"type": "stdout" |
 * "stderr", "data"} or, when the chunk is not UTF-8, "data_base64"; *msg is
 * NULL when the whole chunk is held back. Returns 0 or -1 (ENOMEM). */
int ws_output_msg(ws_utf8 *u, box_stream stream, const char *data, size_t len, json_t **msg);

/* Builds the message for bytes still held for stream (base64), or NULL. */
json_t *ws_output_flush(ws_utf8 *u, box_stream stream);

/* Reads a "signal" value: "SIGINT", "INT", 2, "SIGKILL", "KILL", 9.
 * Returns SIGINT or SIGKILL, or -1. */
int ws_signal_parse(const json_t *v);

/* Returns the close code for an error with this HTTP status. */
unsigned ws_close_code(unsigned http_status);

/* Builds {"type": "error", "error": {"code", "message"}}. */
json_t *ws_error_msg(const api_error *e);

#endif

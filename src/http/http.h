/* http.h — the HTTP API of xxxd on libmicrohttpd: routes, JSON, SSE.
 *
 * Routes (README "API"): GET /health, GET /api/repl/languages,
 * GET/POST /api/repl/sessions, GET/DELETE /api/repl/sessions/{id},
 * POST /api/repl/sessions/{id}/execute[/stream] (session/session.h),
 * POST /api/repl/execute, POST /api/repl/execute/stream (SSE),
 * POST /api/containers/create, POST /api/containers/create/stream (SSE),
 * GET /api/containers/list, DELETE /api/containers/{id}, and GET
 * /api/repl/connect, upgraded to a WebSocket (src/ws); with a web_dir,
 * GET/HEAD of any other path outside /api/ serves the playground's files
 * (http_static_*). Every error is {"error": {"code", "message"}} with its
 * status.
 *
 * Threads: libmicrohttpd's own polling thread(s) (epoll) run every
 * callback; nothing there blocks. A request waiting for its run is
 * suspended (MHD_suspend_connection) and resumed by the run's observer on a
 * worker thread; a stream's bytes wait in a per-request buffer filled by
 * the worker and drained by the connection as fast as the client reads, so
 * a slow reader holds its own bytes and nothing else. Those bytes are
 * bounded per stream and over all streams (stream_buffer, stream_budget): a
 * client that falls further behind has its run cancelled and is told so in
 * an "error" event; one that stops reading altogether is dropped after the
 * idle timeout. A heartbeat thread sends an SSE comment to idle streams every
 * heartbeat_ms so a vanished client is noticed and its run cancelled.
 *
 * The api_* functions are the pure parts (parsing and JSON building), used
 * by the server and by tests. */
#ifndef XXX_HTTP_H
#define XXX_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytebuf.h"
#include "run/run.h"
#include "runtime/runtime.h"
#include "session/session.h"

/* A reverse proxy for one path prefix (repl-api's /api/repl/sessions): such
 * requests go to forward() instead of the run engine. forward must not
 * block; from any thread it then calls, for the call it was given:
 * head() once with the answer's status and content type, data() for each
 * piece of the body (-1: the client is gone or too far behind, stop), and
 * end() exactly once (ok false: the answer broke off). A 200
 * text/event-stream answer is passed on as it comes; others when ended. */
typedef struct http_proxy_sink {
    void (*head)(void *call, unsigned status, const char *content_type);
    int (*data)(void *call, const char *data, size_t len);
    void (*end)(void *call, bool ok);
} http_proxy_sink;

typedef struct http_proxy {
    const char *prefix; /* the path itself and everything under prefix/ */
    void (*forward)(void *ctx, const char *method, const char *path, const char *body, size_t len,
                    const http_proxy_sink *sink, void *call);
    void *ctx;
} http_proxy;

typedef struct http_config {
    const char *host; /* numeric address or name to bind; NULL: 127.0.0.1 */
    uint16_t port;    /* 0: any free port (see http_port) */
    size_t max_body;  /* request bodies above it get 413 */
    unsigned threads; /* polling threads; 0: 1 */
    unsigned max_connections;
    unsigned idle_timeout_s;     /* an idle connection is closed after it */
    unsigned heartbeat_ms;       /* SSE keep-alive comment period; 0: 1000 */
    size_t stream_buffer;        /* unsent SSE bytes one stream may hold; 0: 8 MiB */
    size_t stream_budget;        /* unsent SSE bytes all streams may hold; 0: 256 MiB */
    const char *web_dir;         /* static files served at / (the playground); NULL: none */
    unsigned ws_max_connections; /* open WebSocket connections (src/ws); 0: 64 */
    const http_proxy *proxy;     /* NULL: none */
    session_mgr *sessions;       /* REPL sessions (/api/repl/sessions); NULL: 503 there */
} http_config;

typedef struct http_server http_server;

/* Binds and starts serving. Returns 0, or -1 with err. */
int http_start(const http_config *cfg, run_engine *engine, const runtime_set *runtimes,
               http_server **out, char *err, size_t errlen);

/* Returns the server's WebSocket hub (ws/ws.h), e.g. to set its session hooks. */
struct ws_hub *http_ws(http_server *s);

/* Returns the port the server listens on. */
uint16_t http_port(const http_server *s);

/* Stops accepting connections; requests that still arrive get 503. */
void http_quiesce(http_server *s);

/* Returns when no request is in flight or at deadline_ms (CLOCK_MONOTONIC
 * ms); returns the number still in flight. */
size_t http_wait_idle(http_server *s, uint64_t deadline_ms);

/* Stops the server and frees it (requests still open are cut). */
void http_stop(http_server *s);

/* ---- pure parts ---- */

/* An error answer: HTTP status, a stable code ("invalid_json", ...), a sentence. */
typedef struct api_error {
    unsigned status;
    const char *code;
    char message[512];
} api_error;

/* Parses a POST /api/repl/execute body into *req (zeroed on failure).
 * Returns 0, or -1 with *e filled (400 and why). */
int api_parse_execute(const char *body, size_t len, const runtime_set *rts, run_request *req,
                      api_error *e);

/* Parses a POST /api/containers/create body ({image, command, stdin?, limits?}). */
int api_parse_container(const char *body, size_t len, const runtime_set *rts, run_request *req,
                        api_error *e);

/* What api_result_json puts in. */
enum {
    API_OUTPUT = 1,    /* result/stdout/stderr (buffered answers, not SSE) */
    API_CONTAINER = 2, /* the container API's id/message/output */
};

/* Builds the answer for a finished run. */
json_t *api_result_json(const char *id, const runtime *rt, const run_result *res, int flags);

/* Builds {"languages": [...], "runtimes": [...]}. */
json_t *api_languages_json(const runtime_set *rts);

/* Builds {"error": {"code", "message"}}. */
json_t *api_error_json(const api_error *e);

/* Sets obj[key] to data as a JSON string; when data is not UTF-8, the
 * string has U+FFFD for each bad sequence and obj[key + "_base64"] holds
 * the exact bytes. Returns 0 or -1 (ENOMEM). */
int api_set_output(json_t *obj, const char *key, const char *data, size_t len);

/* The SSE side of one streamed run: event ids and, per stream, the bytes
 * of a UTF-8 sequence cut at a chunk boundary, held for the next chunk. */
typedef struct api_sse {
    uint64_t next_id;
    char carry[2][4];
    size_t ncarry[2];
} api_sse;

/* Appends the events for one output chunk: "stdout"/"stderr" with the text,
 * or "stdout_base64"/"stderr_base64" when the chunk is not SSE-safe text. */
int api_sse_output(api_sse *s, bytebuf *out, box_stream stream, const char *data, size_t len);

/* Appends what is still held, then "result" with result (compact JSON) and "done". */
int api_sse_finish(api_sse *s, bytebuf *out, json_t *result);

/* Fills *h with the hook that runs session executions over the WebSocket
 * (ws_session.c): stdin is the request's, then live where the language's
 * driver takes it, SIGINT interrupts the cell, SIGKILL ends the session.
 * http_start sets it when cfg.sessions is set. */
typedef struct ws_session_hooks ws_session_hooks;
void http_ws_session_hooks(ws_session_hooks *h, session_mgr *m);

/* ---- sessions (pure parts) ---- */

#define API_SESSION_IDLE_MAX_S 86400

/* A POST /api/repl/sessions body: {language, limits?, idle_timeout_s?}. */
typedef struct api_session_create {
    const runtime *rt;
    box_limits limits; /* the request's; 0 fields: defaults */
    uint64_t idle_ms;  /* 0: the server's default */
} api_session_create;

/* Parses a session create body; a language without a driver is 400
 * "sessions_unsupported". Returns 0, or -1 with *e. */
int api_parse_session_create(const char *body, size_t len, const runtime_set *rts,
                             api_session_create *out, api_error *e);

/* A POST /api/repl/sessions/{id}/execute body: {code, stdin?, timeout_ms?}. */
typedef struct api_session_exec {
    char *code;
    size_t code_len;
    char *stdin_data; /* NULL: none */
    size_t stdin_len;
    uint64_t timeout_ms; /* 0: the session's default */
} api_session_exec;

/* Parses an execute body into *out (owning its strings). Returns 0, or -1 with *e. */
int api_parse_session_execute(const char *body, size_t len, api_session_exec *out, api_error *e);

/* Frees what *x owns and zeroes it. */
void api_session_exec_clear(api_session_exec *x);

/* Writes the names of the languages with sessions, comma-separated, into buf. */
void api_session_languages(const runtime_set *rts, char *buf, size_t len);

/* Builds {id, language, version, status, created_at, expires_at, ...} for a session. */
json_t *api_session_json(const session_info *info, const runtime *rt);

/* Builds an execution's answer: api_result_json's fields plus session_id,
 * execution_count, value, error ({name, message, traceback} or null) and
 * session_ended. */
json_t *api_session_result_json(const char *session_id, const runtime *rt, const session_result *r,
                                int flags);
/* ---- static files (the playground; reusable by any MHD server) ---- */

struct MHD_Response;

/* A directory of static files, named by path: it is opened again for each
 * request, so a rebuild that swaps it in whole is served at once. */
typedef struct http_static http_static;

/* Opens dir (the operator's choice: it may itself be a symlink; nothing
 * under it is followed). Returns 0, or -1 with err. */
int http_static_open(const char *dir, http_static **out, char *err, size_t errlen);

/* Closes it (NULL is fine). */
void http_static_close(http_static *st);

/* One file found under the directory: an open descriptor the caller owns. */
typedef struct http_static_file {
    int fd;
    uint64_t size;
    const char *content_type; /* from the name's extension; static storage */
} http_static_file;

/* Finds the regular file for URL path (already %-decoded, "/" = index.html,
 * a trailing "/" adds index.html), opening each component with O_NOFOLLOW
 * from the directory's descriptor: a symlink anywhere, "..", ".", an empty
 * or dot-prefixed component, a backslash or a path over 1024 bytes is
 * refused (404 not_found, or 400 invalid_path for ".." and backslashes).
 * Returns 0 with *f filled, or -1 with *e. */
int http_static_lookup(const http_static *st, const char *path, http_static_file *f, api_error *e);

/* Returns the content type of a file name ("index.html" -> text/html; charset=utf-8). */
const char *http_static_content_type(const char *name);

/* Builds the MHD answer to GET/HEAD path: the file with its Content-Type,
 * nosniff, no-cache and (HTML) a same-origin-only Content-Security-Policy,
 * or an {"error"} JSON body. *status gets the HTTP status, *e the error
 * (e->code NULL on success). Returns NULL only when out of memory. */
struct MHD_Response *http_static_response(const http_static *st, const char *path, unsigned *status,
                                          api_error *e);

#endif

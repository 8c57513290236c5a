/* server.c — libmicrohttpd glue: routing, suspension, streaming, logging (see http.h).
 *
 * A request's life: the first access-handler call routes it and refuses
 * early (404, 405, 413 by Content-Length, 503 while draining); upload calls
 * collect the body up to max_body (past it, the rest is read and dropped
 * and the answer is 413); the last call answers at once or submits a run
 * and suspends the connection. The run's observer (a worker thread) records
 * progress under the request's lock and resumes the connection if we had
 * suspended it; MHD then calls the handler (buffered: answer with the
 * result) or the stream's content reader (copy bytes out; suspend again
 * when there are none yet). "suspended" is only ever changed under the
 * request's lock, and resume is only called when it is set, so a resume can
 * never come before its suspend. The completed callback detaches the
 * observer, cancels the run if the client went away early, logs one JSON
 * line and frees the request. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec/codec.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "http/http.h"
#include "sse/sse.h"
#include "ws/ws.h"

typedef enum route {
    R_NONE,
    R_HEALTH,
    R_LANGUAGES,
    R_EXECUTE,
    R_EXECUTE_STREAM,
    R_CREATE,
    R_CREATE_STREAM,
    R_LIST,
    R_CONTAINER,           /* /api/containers/{id} */
    R_SESSIONS,            /* /api/repl/sessions */
    R_SESSION,             /* /api/repl/sessions/{id} */
    R_SESSION_EXEC,        /* /api/repl/sessions/{id}/execute */
    R_SESSION_EXEC_STREAM, /* /api/repl/sessions/{id}/execute/stream */
    R_SESSION_INTERRUPT,   /* /api/repl/sessions/{id}/interrupt */
    R_CONNECT,             /* WebSocket (src/ws) */
    R_PROXY,               /* under cfg.proxy->prefix */
    R_STATIC,              /* the playground's files: GET/HEAD outside /api/ */
} route;

typedef struct proxy_call proxy_call;

typedef struct request request;

struct http_server {
    struct MHD_Daemon *d;
    run_engine *engine;
    const runtime_set *rts;
    http_static *web; /* NULL: no playground */
    http_config cfg;
    uint16_t port;
    atomic_bool draining;

    pthread_mutex_t mu; /* streams, inflight */
    pthread_cond_t idle;
    request *streams; /* live SSE responses, for heartbeats */
    size_t inflight;

    pthread_t heartbeat;
    bool heartbeat_started, stopping;
    pthread_cond_t tick;

    pthread_mutex_t log_mu;
    atomic_size_t sse_pending; /* unsent SSE bytes over all streams */
    ws_hub *ws;
};

struct request {
    http_server *srv;
    struct MHD_Connection *conn;
    char id[17];
    route route;
    bool stream;
    char method[16];
    char *path;
    uint64_t start_ms;
    bytebuf body;
    size_t body_seen; /* bytes received, kept or not */
    bool too_large;
    bool answered; /* a response was queued */
    unsigned status;
    size_t bytes_out;
    char error_code[32];

    run *run;
    proxy_call *proxy;  /* a proxied request waiting for, or holding, its answer */
    session *sess;      /* POST /api/repl/sessions: waiting for the driver */
    session_exec *sx;   /* a session execution */
    char sid[65];       /* the session id in the path */
    pthread_mutex_t mu; /* everything below */
    bool suspended;
    bool started, done;
    bool streaming; /* the SSE response is queued */
    bytebuf sse;
    size_t sse_off; /* bytes of sse already handed to MHD */
    api_sse sse_state;
    bool sse_failed;
    bool overflow; /* the client fell too far behind: output dropped, run cancelled */
    request *snext, *sprev;
};

/* ---- logging ---- */

/* Writes {"ts", fields of line...} as one line on stderr. */
static void log_json(http_server *srv, json_t *fields)
{
    char ts[64];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);
    _cleanup_json_ json_t *line = json_pack("{s:s}", "ts", ts);
    if (!line || json_object_update(line, fields) < 0)
        return;
    _cleanup_free_ char *text = json_dumps(line, JSON_COMPACT);
    if (!text)
        return;
    pthread_mutex_lock(&srv->log_mu);
    fprintf(stderr, "%s\n", text);
    fflush(stderr);
    pthread_mutex_unlock(&srv->log_mu);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    http_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    bool lossy;
    _cleanup_free_ char *clean = codec_utf8_repair(msg, n, NULL, &lossy);
    _cleanup_json_ json_t *line = json_pack("{s:s, s:s, s:s}", "level", "warn", "msg",
                                            "libmicrohttpd", "detail", clean ? clean : "");
    if (line)
        log_json(srv, line);
}

/* ---- answers ---- */

static enum MHD_Result queue_json(request *req, unsigned status, json_t *body)
{
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!text) {
        status = 500;
        text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
        if (!text)
            return MHD_NO;
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    text = NULL; /* MHD owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (status == 429)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == 405) {
        bool post = req->route == R_EXECUTE || req->route == R_EXECUTE_STREAM ||
                    req->route == R_CREATE || req->route == R_CREATE_STREAM;
        post = post || req->route == R_SESSION_EXEC || req->route == R_SESSION_EXEC_STREAM;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                post                        ? "POST"
                                : req->route == R_CONTAINER ? "DELETE"
                                : req->route == R_SESSIONS  ? "GET, HEAD, POST"
                                : req->route == R_SESSION   ? "GET, HEAD, DELETE"
                                                            : "GET, HEAD");
    }
    req->status = status;
    req->bytes_out = len;
    req->answered = true;
    enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result queue_error(request *req, unsigned status, const char *code, const char *fmt,
                                   ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result queue_error(request *req, unsigned status, const char *code, const char *fmt,
                                   ...)
{
    api_error e = {.status = status, .code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    snprintf(req->error_code, sizeof req->error_code, "%s", code);
    _cleanup_json_ json_t *body = api_error_json(&e);
    return queue_json(req, status, body);
}

static enum MHD_Result queue_api_error(request *req, const api_error *e)
{
    snprintf(req->error_code, sizeof req->error_code, "%s", e->code);
    if (strcmp(e->code, "internal") == 0)
        return queue_error(req, 500, e->code, "%s", e->message);
    _cleanup_json_ json_t *body = api_error_json(e);
    return queue_json(req, e->status, body);
}

/* ---- routing ---- */

/* /api/repl/sessions/{id}[/execute[/stream]]: the id into sid. */
static route match_session_route(const char *url, char sid[65])
{
    static const char prefix[] = "/api/repl/sessions/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return R_NONE;
    const char *id = url + sizeof prefix - 1;
    size_t n = strcspn(id, "/");
    if (n == 0 || n > 64)
        return R_NONE;
    memcpy(sid, id, n);
    sid[n] = '\0';
    const char *rest = id + n;
    if (!*rest)
        return R_SESSION;
    if (strcmp(rest, "/execute") == 0)
        return R_SESSION_EXEC;
    if (strcmp(rest, "/execute/stream") == 0)
        return R_SESSION_EXEC_STREAM;
    if (strcmp(rest, "/interrupt") == 0)
        return R_SESSION_INTERRUPT;
    return R_NONE;
}

static route match_route(const char *url)
{
    static const struct {
        const char *path;
        route r;
    } table[] = {
        {"/health", R_HEALTH},
        {"/api/repl/languages", R_LANGUAGES},
        {"/api/repl/execute", R_EXECUTE},
        {"/api/repl/execute/stream", R_EXECUTE_STREAM},
        {"/api/containers/create", R_CREATE},
        {"/api/containers/create/stream", R_CREATE_STREAM},
        {"/api/containers/list", R_LIST},
        {WS_PATH, R_CONNECT},
        {"/api/repl/sessions", R_SESSIONS},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(url, table[i].path) == 0)
            return table[i].r;
    static const char prefix[] = "/api/containers/";
    const char *id = url + sizeof prefix - 1;
    if (strncmp(url, prefix, sizeof prefix - 1) == 0 && *id && !strchr(id, '/'))
        return R_CONTAINER;
    return R_NONE;
}

static bool method_ok(route r, const char *method)
{
    switch (r) {
    case R_HEALTH:
    case R_LANGUAGES:
    case R_LIST:
    case R_CONNECT:
    case R_STATIC:
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    case R_EXECUTE:
    case R_EXECUTE_STREAM:
    case R_CREATE:
    case R_CREATE_STREAM:
        return strcmp(method, "POST") == 0;
    case R_CONTAINER:
        return strcmp(method, "DELETE") == 0;
    case R_PROXY:
        return strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ||
               strcmp(method, "DELETE") == 0;
    case R_SESSIONS:
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
               strcmp(method, "POST") == 0;
    case R_SESSION:
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
               strcmp(method, "DELETE") == 0;
    case R_SESSION_EXEC:
    case R_SESSION_EXEC_STREAM:
    case R_SESSION_INTERRUPT:
        return strcmp(method, "POST") == 0;
    case R_NONE:
        break;
    }
    return false;
}

/* ---- observer (worker threads) ---- */

/* Resumes the connection if we suspended it; req->mu held. */
static void wake_locked(request *req)
{
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
}

static void obs_start(void *ctx)
{
    request *req = ctx;
    pthread_mutex_lock(&req->mu);
    req->started = true;
    if (req->stream)
        wake_locked(req);
    pthread_mutex_unlock(&req->mu);
}

/* Counts bytes appended to req->sse since it was before_len long; req->mu held. */
static void account_locked(request *req, size_t before_len)
{
    atomic_fetch_add(&req->srv->sse_pending, req->sse.len - before_len);
}

static void obs_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    request *req = ctx;
    http_server *srv = req->srv;
    bool cancel = false;
    pthread_mutex_lock(&req->mu);
    if (!req->sse_failed && !req->overflow) {
        size_t before = req->sse.len;
        if (api_sse_output(&req->sse_state, &req->sse, stream, data, len) < 0)
            req->sse_failed = true;
        account_locked(req, before);
        /* Never let a client that does not read make us hold unbounded
         * output: past the limits its run ends, and it is told why. */
        if (req->sse.len - req->sse_off > srv->cfg.stream_buffer ||
            atomic_load(&srv->sse_pending) > srv->cfg.stream_budget)
            req->overflow = cancel = true;
    }
    wake_locked(req);
    pthread_mutex_unlock(&req->mu);
    if (cancel && req->run)
        run_cancel(req->run); /* a session's cell is bounded by its output cap instead */
}

static void obs_done(void *ctx)
{
    request *req = ctx;
    json_t *result = NULL;
    if (req->stream && req->sx) {
        result =
            api_session_result_json(session_exec_session_id(req->sx), session_exec_runtime(req->sx),
                                    session_exec_result(req->sx), 0);
    } else if (req->stream) {
        /* Built outside the lock: it only reads the finished run. */
        int flags = req->route == R_CREATE_STREAM ? API_CONTAINER : 0;
        result = api_result_json(run_id(req->run), run_runtime(req->run), run_get_result(req->run),
                                 flags);
    }
    pthread_mutex_lock(&req->mu);
    req->done = true;
    size_t before = req->sse.len;
    if (req->overflow) {
        static const char slow[] =
            "{\"error\":{\"code\":\"slow_reader\",\"message\":\"the client read the stream too "
            "slowly; the rest of the output was dropped and the run cancelled\"}}";
        if (sse_format_event(&req->sse, ++req->sse_state.next_id, "error", slow, sizeof slow - 1) <
            0)
            req->sse_failed = true;
    }
    if (req->stream && (!result || api_sse_finish(&req->sse_state, &req->sse, result) < 0))
        req->sse_failed = true;
    account_locked(req, before);
    wake_locked(req);
    pthread_mutex_unlock(&req->mu);
    if (result)
        json_decref(result);
}

/* ---- streaming ---- */

/* MHD_ContentReaderCallback: hands out buffered SSE bytes. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    request *req = cls;
    pthread_mutex_lock(&req->mu);
    size_t avail = req->sse.len - req->sse_off;
    if (avail) {
        size_t n = avail < max ? avail : max;
        memcpy(buf, req->sse.data + req->sse_off, n);
        req->sse_off += n;
        atomic_fetch_sub(&req->srv->sse_pending, n);
        if (req->sse_off == req->sse.len) {
            bytebuf_consume(&req->sse, req->sse.len);
            req->sse_off = 0;
        } else if (req->sse_off > 65536 && req->sse_off > req->sse.len / 2) {
            bytebuf_consume(&req->sse, req->sse_off);
            req->sse_off = 0;
        }
        req->bytes_out += n;
        pthread_mutex_unlock(&req->mu);
        return (ssize_t)n;
    }
    if (req->sse_failed) {
        pthread_mutex_unlock(&req->mu);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (req->done) {
        pthread_mutex_unlock(&req->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    /* Nothing yet: park the connection until the run writes (or a heartbeat). */
    MHD_suspend_connection(req->conn);
    req->suspended = true;
    pthread_mutex_unlock(&req->mu);
    return 0;
}

static enum MHD_Result queue_stream(request *req)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, req, NULL);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (req->run)
        MHD_add_response_header(resp, "X-Run-Id", run_id(req->run));
    if (req->sx)
        MHD_add_response_header(resp, "X-Session-Id", session_exec_session_id(req->sx));
    http_server *srv = req->srv;
    pthread_mutex_lock(&srv->mu);
    req->snext = srv->streams;
    if (srv->streams)
        srv->streams->sprev = req;
    srv->streams = req;
    pthread_mutex_unlock(&srv->mu);
    req->status = 200;
    req->answered = true;
    pthread_mutex_lock(&req->mu);
    req->streaming = true;
    pthread_mutex_unlock(&req->mu);
    enum MHD_Result r = MHD_queue_response(req->conn, 200, resp);
    MHD_destroy_response(resp);
    return r;
}

static void *heartbeat_main(void *arg)
{
    http_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)srv->cfg.heartbeat_ms * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&srv->tick, &srv->mu, &ts);
        if (srv->stopping)
            break;
        /* A comment on a parked stream: if the client left, the write fails
         * and the completed callback cancels the run. */
        for (request *req = srv->streams; req; req = req->snext) {
            pthread_mutex_lock(&req->mu);
            size_t before = req->sse.len;
            if (req->streaming && req->suspended && !req->done &&
                sse_format_comment(&req->sse, "keep-alive") == 0) {
                account_locked(req, before);
                wake_locked(req);
            }
            pthread_mutex_unlock(&req->mu);
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* ---- handlers ---- */

static enum MHD_Result answer_health(request *req)
{
    http_server *srv = req->srv;
    size_t queued, running, capacity, workers;
    run_counts(srv->engine, &queued, &running, &capacity, &workers);
    _cleanup_json_ json_t *body =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "status", "ok", "slots", (json_int_t)workers,
                  "running", (json_int_t)running, "queued", (json_int_t)queued, "queue_capacity",
                  (json_int_t)capacity, "languages", (json_int_t)runtime_set_served(srv->rts));
    if (body && srv->cfg.sessions) {
        size_t live, max;
        session_counts(srv->cfg.sessions, &live, &max);
        json_object_set_new(body, "sessions", json_integer((json_int_t)live));
        json_object_set_new(body, "max_sessions", json_integer((json_int_t)max));
    }
    return queue_json(req, 200, body);
}

static enum MHD_Result answer_list(request *req)
{
    size_t n;
    _cleanup_free_ run_info *v = run_list(req->srv->engine, &n);
    json_t *list = json_array();
    for (size_t i = 0; v && i < n; i++) {
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:o, s:I, s:s}", "id", v[i].id, "language", v[i].language,
                      "state", v[i].state == RUN_QUEUED ? "queued" : "running", "slot",
                      v[i].slot >= 0 ? json_integer(v[i].slot) : json_null(), "age_ms",
                      (json_int_t)v[i].age_ms, "kind", v[i].container ? "container" : "repl"));
    }
    _cleanup_json_ json_t *body = json_pack("{s:o}", "containers", list);
    return queue_json(req, 200, body);
}

static enum MHD_Result answer_delete(request *req)
{
    const char *id = req->path + strlen("/api/containers/");
    if (run_cancel_id(req->srv->engine, id) < 0)
        return queue_error(req, 404, "not_found", "no queued or running container has this id");
    _cleanup_json_ json_t *body =
        json_pack("{s:s, s:s}", "id", id, "message", "Container cancelled and removed");
    return queue_json(req, 200, body);
}

/* Upgrades to a WebSocket (src/ws), or says why not. */
static enum MHD_Result answer_connect(request *req)
{
    api_error e = {0};
    struct MHD_Response *resp = ws_handshake(req->srv->ws, req->conn, &e);
    if (!resp)
        return queue_api_error(req, &e);
    req->status = MHD_HTTP_SWITCHING_PROTOCOLS;
    req->answered = true;
    enum MHD_Result r = MHD_queue_response(req->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Answers a finished buffered run. */
static enum MHD_Result answer_result(request *req)
{
    const run_result *res = run_get_result(req->run);
    if (res->no_box)
        return queue_error(req, 503, "unavailable", "%s", res->message);
    int flags = API_OUTPUT | (req->route == R_CREATE ? API_CONTAINER : 0);
    _cleanup_json_ json_t *body =
        api_result_json(run_id(req->run), run_runtime(req->run), res, flags);
    if (!body)
        return queue_error(req, 500, "internal", "out of memory building the answer");
    return queue_json(req, 200, body);
}

static enum MHD_Result answer_session_done(request *req);

static enum MHD_Result answer_static(request *req)
{
    unsigned status = 500;
    api_error e;
    struct MHD_Response *resp = http_static_response(req->srv->web, req->path, &status, &e);
    if (!resp)
        return queue_error(req, 500, "internal", "out of memory");
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (e.code)
        snprintf(req->error_code, sizeof req->error_code, "%s", e.code);
    req->status = status;
    req->answered = true;
    enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Called on the last handler call and again after each resume: answers
 * when it can, otherwise parks the connection. */
static enum MHD_Result advance_run(request *req)
{
    pthread_mutex_lock(&req->mu);
    bool done = req->done, started = req->started;
    if (!done && !(req->stream && started)) {
        MHD_suspend_connection(req->conn);
        req->suspended = true;
        pthread_mutex_unlock(&req->mu);
        return MHD_YES;
    }
    pthread_mutex_unlock(&req->mu);
    if (!req->run && !req->stream)
        return answer_session_done(req);
    if (!req->stream)
        return answer_result(req);
    const run_result *res = done && req->run ? run_get_result(req->run) : NULL;
    if (res && res->no_box)
        return queue_error(req, 503, "unavailable", "%s", res->message);
    return queue_stream(req);
}

static enum MHD_Result start_run(request *req)
{
    http_server *srv = req->srv;
    if (req->too_large)
        return queue_error(req, 413, "payload_too_large",
                           "the body is larger than the limit of %zu bytes", srv->cfg.max_body);
    run_request rr;
    api_error e = {0};
    bool container = req->route == R_CREATE || req->route == R_CREATE_STREAM;
    int rc = container ? api_parse_container(req->body.data ? req->body.data : "", req->body.len,
                                             srv->rts, &rr, &e)
                       : api_parse_execute(req->body.data ? req->body.data : "", req->body.len,
                                           srv->rts, &rr, &e);
    bytebuf_free(&req->body);
    if (rc < 0)
        return queue_api_error(req, &e);
    run_observer obs = {
        .on_start = obs_start,
        .on_output = req->stream ? obs_output : NULL,
        .on_done = obs_done,
        .ctx = req,
    };
    switch (run_submit(srv->engine, &rr, &obs, &req->run)) {
    case RUN_SUBMIT_OK:
        break;
    case RUN_SUBMIT_QUEUE_FULL:
        run_request_clear(&rr);
        return queue_error(req, 429, "queue_full",
                           "every slot is busy and the queue is full; retry later");
    case RUN_SUBMIT_CLOSED:
        run_request_clear(&rr);
        return queue_error(req, 503, "shutting_down", "the server is shutting down");
    case RUN_SUBMIT_NOMEM:
        run_request_clear(&rr);
        return queue_error(req, 500, "internal", "out of memory");
    }
    return advance_run(req);
}

/* ---- proxied requests (cfg.proxy) ----
 *
 * The call outlives whichever of its two holders ends first: the request
 * (freed by on_completed, maybe before the answer comes) and the forwarder
 * (which may answer after the client left). call->req is cleared under
 * call->mu when the request goes, so the sink never touches a freed
 * request. A streamed answer goes through the request's SSE buffer and
 * stream_read, like a run's, but is not registered for heartbeats: the
 * bytes are someone else's events, and a comment could land inside one
 * (the executor sends its own keep-alives). */
#define PROXY_MAX_BODY (32u << 20)

struct proxy_call {
    atomic_int refs;
    pthread_mutex_t mu;
    request *req;
    bool head, stream, done, ok;
    unsigned status;
    char ctype[128];
    bytebuf body; /* a buffered answer */
};

static void proxy_unref(proxy_call *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    bytebuf_free(&c->body);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void proxy_head(void *arg, unsigned status, const char *ctype)
{
    proxy_call *c = arg;
    pthread_mutex_lock(&c->mu);
    c->head = true;
    c->status = status;
    snprintf(c->ctype, sizeof c->ctype, "%s", ctype ? ctype : "application/json");
    c->stream = status == 200 && strncmp(c->ctype, "text/event-stream", 17) == 0;
    if (c->stream && c->req) {
        pthread_mutex_lock(&c->req->mu);
        wake_locked(c->req);
        pthread_mutex_unlock(&c->req->mu);
    }
    pthread_mutex_unlock(&c->mu);
}

static int proxy_data(void *arg, const char *data, size_t len)
{
    proxy_call *c = arg;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    request *req = c->req;
    if (!req) {
        rc = -1;
    } else if (!c->stream) {
        if (c->body.len + len > PROXY_MAX_BODY || bytebuf_append(&c->body, data, len) < 0)
            rc = -1;
    } else {
        http_server *srv = req->srv;
        pthread_mutex_lock(&req->mu);
        size_t before = req->sse.len;
        if (req->sse.len - req->sse_off + len > srv->cfg.stream_buffer ||
            bytebuf_append(&req->sse, data, len) < 0) {
            req->sse_failed = true; /* the client fell behind: cut its stream */
            rc = -1;
        }
        account_locked(req, before);
        wake_locked(req);
        pthread_mutex_unlock(&req->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void proxy_end(void *arg, bool ok)
{
    proxy_call *c = arg;
    pthread_mutex_lock(&c->mu);
    c->done = true;
    c->ok = ok;
    if (c->req) {
        pthread_mutex_lock(&c->req->mu);
        if (c->stream) {
            c->req->done = true;
            if (!ok)
                c->req->sse_failed = true; /* end the response with an error, not cleanly */
        }
        wake_locked(c->req);
        pthread_mutex_unlock(&c->req->mu);
    }
    pthread_mutex_unlock(&c->mu);
    proxy_unref(c);
}

static const http_proxy_sink proxy_sink = {
    .head = proxy_head, .data = proxy_data, .end = proxy_end};

static bool proxy_matches(const http_server *srv, const char *url)
{
    const http_proxy *p = srv->cfg.proxy;
    if (!p || !p->prefix)
        return false;
    size_t n = strlen(p->prefix);
    return strncmp(url, p->prefix, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

static enum MHD_Result start_proxy(request *req)
{
    if (req->too_large)
        return queue_error(req, 413, "payload_too_large",
                           "the body is larger than the limit of %zu bytes",
                           req->srv->cfg.max_body);
    proxy_call *c = calloc(1, sizeof *c);
    if (!c)
        return queue_error(req, 500, "internal", "out of memory");
    atomic_init(&c->refs, 2);
    pthread_mutex_init(&c->mu, NULL);
    c->req = req;
    req->proxy = c;
    pthread_mutex_lock(&req->mu);
    MHD_suspend_connection(req->conn);
    req->suspended = true;
    pthread_mutex_unlock(&req->mu);
    const http_proxy *p = req->srv->cfg.proxy;
    p->forward(p->ctx, req->method, req->path, req->body.data ? req->body.data : "", req->body.len,
               &proxy_sink, c);
    return MHD_YES;
}

/* Called again after the forwarder resumed the connection: a stream that
 * began, or a buffered answer that ended. */
static enum MHD_Result answer_proxy(request *req)
{
    proxy_call *c = req->proxy;
    pthread_mutex_lock(&c->mu);
    if (c->stream) {
        char ctype[sizeof c->ctype];
        snprintf(ctype, sizeof ctype, "%s", c->ctype);
        pthread_mutex_unlock(&c->mu);
        struct MHD_Response *resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, req, NULL);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(resp, "X-Request-Id", req->id);
        req->status = 200;
        req->answered = true;
        enum MHD_Result rc = MHD_queue_response(req->conn, 200, resp);
        MHD_destroy_response(resp);
        return rc;
    }
    if (!c->done) {
        pthread_mutex_lock(&req->mu);
        MHD_suspend_connection(req->conn);
        req->suspended = true;
        pthread_mutex_unlock(&req->mu);
        pthread_mutex_unlock(&c->mu);
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        c->body.len, c->body.data ? c->body.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    unsigned status = c->head && c->ok ? c->status : 502;
    char ctype[sizeof c->ctype];
    snprintf(ctype, sizeof ctype, "%s", c->head ? c->ctype : "application/json");
    size_t len = c->body.len;
    pthread_mutex_unlock(&c->mu);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    req->status = status;
    req->bytes_out = len;
    req->answered = true;
    enum MHD_Result rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* ---- sessions (/api/repl/sessions) ---- */

/* Answers a refusal of the session layer. */
static enum MHD_Result session_refusal(request *req, session_error e, const char *why)
{
    switch (e) {
    case SESSION_OK:
        break;
    case SESSION_FULL:
        return queue_error(req, 429, "too_many_sessions",
                           "the server holds its maximum number of sessions; retry later");
    case SESSION_NOT_FOUND:
        return queue_error(req, 404, "not_found", "no session has this id");
    case SESSION_GONE:
        return queue_error(req, 410, "session_ended", "the session has ended (%s)", why);
    case SESSION_BUSY:
        return queue_error(req, 409, "session_busy", "the session runs one execution at a time: %s",
                           why);
    case SESSION_STARTING:
        return queue_error(req, 409, "session_starting", "the session is still starting");
    case SESSION_UNSUPPORTED:
        return queue_error(req, 400, "sessions_unsupported", "this language has no sessions");
    case SESSION_CLOSED:
        return queue_error(req, 503, "shutting_down", "the server is shutting down");
    case SESSION_NOMEM:
    case SESSION_NO_STDIN: /* live stdin only: not an HTTP answer */
    case SESSION_STDIN_LIMIT:
        break;
    }
    return queue_error(req, 500, "internal", "out of memory");
}

static const runtime *session_runtime(request *req, const session_info *info)
{
    return runtime_find(req->srv->rts, info->language);
}

static enum MHD_Result answer_session_list(request *req)
{
    size_t n;
    _cleanup_free_ session_info *v = session_list(req->srv->cfg.sessions, &n);
    json_t *list = json_array();
    for (size_t i = 0; v && i < n; i++)
        json_array_append_new(list, api_session_json(&v[i], session_runtime(req, &v[i])));
    size_t live, max;
    session_counts(req->srv->cfg.sessions, &live, &max);
    _cleanup_json_ json_t *body = json_pack("{s:o, s:I, s:I}", "sessions", list, "count",
                                            (json_int_t)live, "max_sessions", (json_int_t)max);
    return queue_json(req, 200, body);
}

static enum MHD_Result start_session(request *req)
{
    http_server *srv = req->srv;
    api_session_create c;
    api_error e = {0};
    int rc = api_parse_session_create(req->body.data ? req->body.data : "", req->body.len, srv->rts,
                                      &c, &e);
    bytebuf_free(&req->body);
    if (rc < 0)
        return queue_api_error(req, &e);
    run_observer obs = {.on_done = obs_done, .ctx = req};
    session_error se =
        session_create(srv->cfg.sessions, c.rt, &c.limits, c.idle_ms, &obs, &req->sess);
    if (se != SESSION_OK)
        return session_refusal(req, se, "");
    return advance_run(req);
}

static enum MHD_Result start_session_exec(request *req)
{
    http_server *srv = req->srv;
    api_session_exec x;
    api_error e = {0};
    int rc = api_parse_session_execute(req->body.data ? req->body.data : "", req->body.len, &x, &e);
    bytebuf_free(&req->body);
    if (rc < 0)
        return queue_api_error(req, &e);
    run_observer obs = {
        .on_output = req->stream ? obs_output : NULL,
        .on_done = obs_done,
        .ctx = req,
    };
    char why[320] = "";
    req->started = true; /* the session's box is there: a stream may begin at once */
    session_error se =
        session_execute(srv->cfg.sessions, req->sid, x.code, x.code_len, x.stdin_data, x.stdin_len,
                        false, x.timeout_ms, &obs, &req->sx, why, sizeof why);
    api_session_exec_clear(&x);
    if (se != SESSION_OK)
        return session_refusal(req, se, why);
    return advance_run(req);
}

/* Answers a finished session start or buffered execution. */
static enum MHD_Result answer_session_done(request *req)
{
    if (req->sx) {
        _cleanup_json_ json_t *body =
            api_session_result_json(session_exec_session_id(req->sx), session_exec_runtime(req->sx),
                                    session_exec_result(req->sx), API_OUTPUT);
        if (!body)
            return queue_error(req, 500, "internal", "out of memory building the answer");
        return queue_json(req, 200, body);
    }
    session_info info;
    session_get_info(req->sess, &info);
    if (info.state == SESSION_STATE_ENDED)
        return queue_error(req, 503, "unavailable", "the session could not start: %s: %s",
                           info.status, info.message);
    _cleanup_json_ json_t *body = api_session_json(&info, session_runtime(req, &info));
    return queue_json(req, 201, body);
}

static enum MHD_Result answer_session(request *req)
{
    http_server *srv = req->srv;
    if (!srv->cfg.sessions)
        return queue_error(req, 503, "unavailable", "this server runs no sessions");
    if (req->too_large)
        return queue_error(req, 413, "payload_too_large",
                           "the body is larger than the limit of %zu bytes", srv->cfg.max_body);
    bool post = strcmp(req->method, "POST") == 0;
    switch (req->route) {
    case R_SESSIONS:
        return post ? start_session(req) : answer_session_list(req);
    case R_SESSION_EXEC:
    case R_SESSION_EXEC_STREAM:
        return start_session_exec(req);
    case R_SESSION_INTERRUPT: {
        char why[320] = "";
        bool interrupted;
        session_error se =
            session_interrupt(srv->cfg.sessions, req->sid, &interrupted, why, sizeof why);
        if (se != SESSION_OK)
            return session_refusal(req, se, why);
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:b}", "id", req->sid, "interrupted", interrupted);
        return queue_json(req, 200, body);
    }
    default:
        break;
    }
    char why[320] = "";
    session_info info;
    session_error se = strcmp(req->method, "DELETE") == 0
                           ? session_delete(srv->cfg.sessions, req->sid, why, sizeof why)
                           : session_lookup(srv->cfg.sessions, req->sid, &info);
    if (se == SESSION_GONE && !why[0])
        snprintf(why, sizeof why, "%s: %s", info.status, info.message);
    if (se != SESSION_OK)
        return session_refusal(req, se, why);
    if (strcmp(req->method, "DELETE") == 0) {
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:s}", "id", req->sid, "message", "Session ended and removed");
        return queue_json(req, 200, body);
    }
    _cleanup_json_ json_t *body = api_session_json(&info, session_runtime(req, &info));
    return queue_json(req, 200, body);
}

static enum MHD_Result answer(request *req)
{
    switch (req->route) {
    case R_HEALTH:
        return answer_health(req);
    case R_LANGUAGES: {
        _cleanup_json_ json_t *body = api_languages_json(req->srv->rts);
        return queue_json(req, 200, body);
    }
    case R_LIST:
        return answer_list(req);
    case R_CONTAINER:
        return answer_delete(req);
    case R_CONNECT:
        return answer_connect(req);
    case R_STATIC:
        return answer_static(req);
    case R_EXECUTE:
    case R_EXECUTE_STREAM:
    case R_CREATE:
    case R_CREATE_STREAM:
        return start_run(req);
    case R_PROXY:
        return start_proxy(req);
    case R_SESSIONS:
    case R_SESSION:
    case R_SESSION_EXEC:
    case R_SESSION_EXEC_STREAM:
    case R_SESSION_INTERRUPT:
        return answer_session(req);
    case R_NONE:
        break;
    }
    return queue_error(req, 404, "not_found", "no such endpoint");
}

static void make_request_id(char id[17])
{
    static atomic_ullong counter;
    unsigned long long n = atomic_fetch_add(&counter, 1);
    snprintf(id, 17, "%08llx%08x", n & 0xffffffffull, (unsigned)getpid());
}

/* First call for a request: route it, refuse what can be refused now. */
static enum MHD_Result begin(http_server *srv, struct MHD_Connection *conn, const char *url,
                             const char *method, void **con_cls)
{
    request *req = calloc(1, sizeof *req);
    if (!req)
        return MHD_NO;
    req->srv = srv;
    req->conn = conn;
    req->start_ms = run_now_ms();
    req->path = strdup(url);
    snprintf(req->method, sizeof req->method, "%s", method);
    make_request_id(req->id);
    pthread_mutex_init(&req->mu, NULL);
    *con_cls = req;
    pthread_mutex_lock(&srv->mu);
    srv->inflight++;
    pthread_mutex_unlock(&srv->mu);
    if (!req->path)
        return queue_error(req, 500, "internal", "out of memory");

    req->route = proxy_matches(srv, url) ? R_PROXY : match_route(url);
    if (req->route == R_NONE)
        req->route = match_session_route(url, req->sid);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (req->route == R_NONE && srv->web && get && strncmp(url, "/api/", 5) != 0)
        req->route = R_STATIC;
    req->stream = req->route == R_EXECUTE_STREAM || req->route == R_CREATE_STREAM ||
                  req->route == R_SESSION_EXEC_STREAM;
    if (atomic_load(&srv->draining))
        return queue_error(req, 503, "shutting_down", "the server is shutting down");
    if (req->route == R_NONE && !srv->web && get && strcmp(url, "/") == 0)
        return queue_error(
            req, 404, "not_found",
            "the playground is not served: build it (make) or point --web-dir at it");
    if (req->route == R_NONE)
        return queue_error(req, 404, "not_found", "no such endpoint: %s %.200s", method, url);
    if (!method_ok(req->route, method))
        return queue_error(req, 405, "method_not_allowed", "%s is not allowed on %.200s", method,
                           url);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && *end == '\0' && n > srv->cfg.max_body) {
            /* With "Expect: 100-continue" the client waits for our word:
             * answer now and it never sends the body. Otherwise it is already
             * sending, and answering mid-upload makes many clients see a
             * reset instead of our 413: read and drop the body first. */
            const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
            if (expect && strcasecmp(expect, "100-continue") == 0)
                return queue_error(req, 413, "payload_too_large",
                                   "the body is larger than the limit of %zu bytes",
                                   srv->cfg.max_body);
            req->too_large = true;
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    request *req = *con_cls;
    if (!req)
        return begin(srv, conn, url, method, con_cls);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        req->body_seen += n;
        if (req->answered || req->too_large)
            return MHD_YES;
        if (req->body.len + n > srv->cfg.max_body) {
            req->too_large = true;
            bytebuf_free(&req->body);
            return MHD_YES;
        }
        if (bytebuf_append(&req->body, upload_data, n) < 0)
            return queue_error(req, 500, "internal", "out of memory reading the body");
        return MHD_YES;
    }
    if (req->answered)
        return MHD_YES;
    if (req->run || req->sx || req->sess)
        return advance_run(req); /* resumed */
    if (req->proxy)
        return answer_proxy(req); /* resumed */
    return answer(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    http_server *srv = cls;
    request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    static const char *const toe_names[] = {"ok",       "error",      "timeout",
                                            "shutdown", "read_error", "client_abort"};
    _cleanup_json_ json_t *line =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I}", "level", "info", "msg",
                  "request", "req", req->id, "method", req->method, "path", "", "status",
                  (int)req->status, "ms", (json_int_t)(run_now_ms() - req->start_ms), "bytes_in",
                  (json_int_t)req->body_seen, "bytes_out", (json_int_t)req->bytes_out);
    if (line && req->path)
        api_set_output(line, "path", req->path, strlen(req->path));
    if (line && req->error_code[0])
        json_object_set_new(line, "error", json_string(req->error_code));
    if (line && (unsigned)toe < sizeof toe_names / sizeof toe_names[0] &&
        toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        json_object_set_new(line, "end", json_string(toe_names[toe]));
    if (req->run) {
        run_detach(req->run);
        const run_result *res = run_get_result(req->run);
        if (!res && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            run_cancel(req->run); /* the client is gone: free its slot */
        if (line) {
            json_object_set_new(line, "run", json_string(run_id(req->run)));
            json_object_set_new(line, "language", json_string(run_runtime(req->run)->name));
            if (res) {
                json_object_set_new(line, "run_status", json_string(res->status));
                if (res->ran && res->exec.box.exit_code >= 0)
                    json_object_set_new(line, "exit_code", json_integer(res->exec.box.exit_code));
                json_object_set_new(line, "queue_ms", json_integer((json_int_t)res->queue_ms));
                json_object_set_new(line, "run_ms",
                                    json_integer((json_int_t)res->exec.box.wall_ms));
            } else {
                json_object_set_new(line, "run_status", json_string("cancelled"));
            }
        }
        run_unref(req->run);
    }
    if (req->sess) {
        session_detach(req->sess);
        session_unref(req->sess);
    }
    if (req->sx) {
        /* A client that left does not end the cell: the session keeps going. */
        session_exec_detach(req->sx);
        const session_result *sr = session_exec_result(req->sx);
        if (line) {
            json_object_set_new(line, "session", json_string(session_exec_session_id(req->sx)));
            json_object_set_new(line, "language", json_string(session_exec_runtime(req->sx)->name));
            if (sr)
                json_object_set_new(line, "run_status", json_string(sr->res.status));
        }
        session_exec_unref(req->sx);
    }
    if (line) {
        char addr[INET6_ADDRSTRLEN] = "";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                          sizeof addr);
        }
        json_object_set_new(line, "remote", json_string(addr));
        log_json(srv, line);
    }
    if (req->proxy) {
        pthread_mutex_lock(&req->proxy->mu);
        req->proxy->req = NULL;
        pthread_mutex_unlock(&req->proxy->mu);
        proxy_unref(req->proxy);
    }
    pthread_mutex_lock(&srv->mu);
    if (req->streaming) {
        if (req->sprev)
            req->sprev->snext = req->snext;
        else
            srv->streams = req->snext;
        if (req->snext)
            req->snext->sprev = req->sprev;
    }
    srv->inflight--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    atomic_fetch_sub(&srv->sse_pending, req->sse.len - req->sse_off);
    bytebuf_free(&req->body);
    bytebuf_free(&req->sse);
    pthread_mutex_destroy(&req->mu);
    free(req->path);
    free(req);
}

/* ---- lifecycle ---- */

int http_start(const http_config *cfg, run_engine *engine, const runtime_set *runtimes,
               http_server **out, char *err, size_t errlen)
{
    http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    srv->engine = engine;
    srv->rts = runtimes;
    srv->cfg = *cfg;
    if (!srv->cfg.host)
        srv->cfg.host = "127.0.0.1";
    if (!srv->cfg.heartbeat_ms)
        srv->cfg.heartbeat_ms = 1000;
    if (!srv->cfg.threads)
        srv->cfg.threads = 1;
    if (!srv->cfg.stream_buffer)
        srv->cfg.stream_buffer = 8u << 20;
    if (!srv->cfg.stream_budget)
        srv->cfg.stream_budget = 256u << 20;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->idle, &ca);
    pthread_cond_init(&srv->tick, &ca);
    pthread_condattr_destroy(&ca);

    if (cfg->web_dir && http_static_open(cfg->web_dir, &srv->web, err, errlen) < 0) {
        http_stop(srv);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)cfg->port);
    int gai = getaddrinfo(srv->cfg.host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve --host %s: %s", srv->cfg.host, gai_strerror(gai));
        http_stop(srv);
        return -1;
    }
    ws_config wc = {.max_connections = cfg->ws_max_connections,
                    .max_message = srv->cfg.max_body,
                    .out_buffer = srv->cfg.stream_buffer};
    if (ws_hub_new(&wc, engine, runtimes, &srv->ws, err, errlen) < 0) {
        freeaddrinfo(ai);
        http_stop(srv);
        return -1;
    }
    if (cfg->sessions) {
        ws_session_hooks hooks;
        http_ws_session_hooks(&hooks, cfg->sessions);
        ws_hub_set_sessions(srv->ws, &hooks);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv},
        {MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->idle_timeout_s, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
        {srv->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)srv->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    int saved = errno;
    freeaddrinfo(ai);
    if (!srv->d) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", srv->cfg.host, (unsigned)cfg->port,
                 saved ? strerror(saved) : "libmicrohttpd refused to start");
        http_stop(srv);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cfg->port;
    int rc = pthread_create(&srv->heartbeat, NULL, heartbeat_main, srv);
    if (rc != 0) {
        snprintf(err, errlen, "starting the heartbeat thread: %s", strerror(rc));
        http_stop(srv);
        return -1;
    }
    srv->heartbeat_started = true;
    *out = srv;
    return 0;
}

ws_hub *http_ws(http_server *s)
{
    return s->ws;
}

uint16_t http_port(const http_server *s)
{
    return s->port;
}

void http_quiesce(http_server *s)
{
    atomic_store(&s->draining, true);
    if (s->d) {
        MHD_socket fd = MHD_quiesce_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

size_t http_wait_idle(http_server *s, uint64_t deadline_ms)
{
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0 && run_now_ms() < deadline_ms) {
        struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                              .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    }
    size_t left = s->inflight;
    pthread_mutex_unlock(&s->mu);
    return left;
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    if (s->heartbeat_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->tick);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->heartbeat, NULL);
    }
    ws_hub_free(s->ws); /* libmicrohttpd wants upgraded sockets closed before it stops */
    if (s->d)
        MHD_stop_daemon(s->d);
    http_static_close(s->web);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->tick);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->log_mu);
    free(s);
}

/* ws_session.c — session executions over the WebSocket (ws.h's hook).
 *
 * The first message {"type": "execute", "session": id, "code", "stdin"?,
 * "timeout_ms"?} runs code in that session as POST .../execute would; the
 * output streams as it comes and the answer is the execution's JSON. A
 * session execution takes its stdin with the request (the driver gives the
 * cell exactly those bytes, then EOF), so the live stdin pipe is closed at
 * once and later "stdin" messages find no reader. SIGINT interrupts the
 * cell (the session lives on); SIGKILL ends the session. */
#include "http/http.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "ws/ws.h"

typedef struct ws_sx {
    session_mgr *m;
    session_exec *x;
    ws_sink sink;
    atomic_bool staged;
    char sid[65];
} ws_sx;

static void sx_stage(ws_sx *w)
{
    if (!atomic_exchange(&w->staged, true))
        w->sink.stage(w->sink.conn, "run");
}

static void sx_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    ws_sx *w = ctx;
    sx_stage(w);
    w->sink.output(w->sink.conn, stream, data, len);
}

static void sx_done(void *ctx)
{
    ws_sx *w = ctx;
    sx_stage(w);
    _cleanup_json_ json_t *res = api_session_result_json(
        session_exec_session_id(w->x), session_exec_runtime(w->x), session_exec_result(w->x), 0);
    w->sink.done(w->sink.conn, res);
}

static int refuse(api_error *e, unsigned status, const char *code, const char *fmt, const char *why)
{
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, fmt, why);
    return -1;
}

static int sx_start(void *ctx, json_t *msg, int stdin_fd, const ws_sink *sink, void **exec,
                    api_error *e)
{
    close(stdin_fd);
    session_mgr *m = ctx;
    const char *sid = json_string_value(json_object_get(msg, "session"));
    if (!sid || strlen(sid) > 64)
        return refuse(e, 400, "invalid_field", "%s", "field \"session\" must be a session id");
    _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
    api_session_exec x;
    if (!text)
        return refuse(e, 500, "internal", "%s", "out of memory");
    if (api_parse_session_execute(text, strlen(text), &x, e) < 0)
        return -1;
    ws_sx *w = calloc(1, sizeof *w);
    if (!w) {
        api_session_exec_clear(&x);
        return refuse(e, 500, "internal", "%s", "out of memory");
    }
    w->m = m;
    w->sink = *sink;
    snprintf(w->sid, sizeof w->sid, "%s", sid);
    run_observer obs = {.on_output = sx_output, .on_done = sx_done, .ctx = w};
    char why[320] = "";
    session_error se = session_execute(m, sid, x.code, x.code_len, x.stdin_data, x.stdin_len,
                                       x.timeout_ms, &obs, &w->x, why, sizeof why);
    api_session_exec_clear(&x);
    switch (se) {
    case SESSION_OK:
        *exec = w;
        return 0;
    case SESSION_NOT_FOUND:
        refuse(e, 404, "not_found", "%s", "no session has this id");
        break;
    case SESSION_GONE:
        refuse(e, 410, "session_ended", "the session has ended (%s)", why);
        break;
    case SESSION_BUSY:
    case SESSION_STARTING:
        refuse(e, 409, "session_busy", "the session runs one execution at a time: %s", why);
        break;
    case SESSION_CLOSED:
        refuse(e, 503, "shutting_down", "%s", "the server is shutting down");
        break;
    default:
        refuse(e, 500, "internal", "%s", "the session could not take the execution");
        break;
    }
    free(w);
    return -1;
}

static int sx_signal(void *exec, int sig)
{
    ws_sx *w = exec;
    char why[320];
    if (sig == SIGINT) {
        bool interrupted;
        return session_interrupt(w->m, w->sid, &interrupted, why, sizeof why) == SESSION_OK &&
                       interrupted
                   ? 0
                   : -1;
    }
    return session_delete(w->m, w->sid, why, sizeof why) == SESSION_OK ? 0 : -1;
}

static void sx_end(void *exec)
{
    ws_sx *w = exec;
    session_exec_detach(w->x);
    session_exec_unref(w->x);
    free(w);
}

void http_ws_session_hooks(ws_session_hooks *h, session_mgr *m)
{
    *h = (ws_session_hooks){.start = sx_start, .signal = sx_signal, .end = sx_end, .ctx = m};
}

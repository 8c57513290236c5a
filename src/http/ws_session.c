/* ws_session.c — session executions over the WebSocket (ws.h's hook).
 *
 * The first message {"type": "execute", "session": id, "code", "stdin"?,
 * "timeout_ms"?} runs code in that session as POST .../execute would; the
 * output streams as it comes and the answer is the execution's JSON. Stdin
 * is live as for one-shot runs when the language's driver takes it
 * ("live_stdin"): the cell reads the request's "stdin" first, then what the
 * client sends while it runs, until stdin_close (EOF) or the cell's end. A
 * thread of the execution's own forwards the client's stdin (the pipe ws.c
 * fills, bounded there) to session_exec_stdin; in a language without live
 * stdin the cell gets the request's stdin, then EOF, and stdin the client
 * sends is answered with a "stdin_unsupported" error. SIGINT interrupts the
 * cell (the session lives on); SIGKILL ends the session. */
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
    int stdin_fd; /* the client's stdin (ws.c's pipe), read by the stdin thread */
    int wake[2];  /* end() stops the stdin thread through it */
    pthread_t stdin_thread;
    bool stdin_started;
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

/* The stdin thread: forwards the client's stdin to the execution until EOF
 * (the client's stdin_close, then the cell's) or end(). Blocks in poll
 * between chunks; each kind of refusal is told once. */
static void *sx_stdin_main(void *arg)
{
    ws_sx *w = arg;
    char buf[16384];
    bool told_unsupported = false, told_limit = false;
    for (;;) {
        struct pollfd p[2] = {{w->stdin_fd, POLLIN, 0}, {w->wake[0], POLLIN, 0}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!p[0].revents)
            continue;
        ssize_t got = read(w->stdin_fd, buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            session_exec_stdin_close(w->x);
            break;
        }
        char why[320];
        switch (session_exec_stdin(w->x, buf, (size_t)got, why, sizeof why)) {
        case SESSION_UNSUPPORTED:
            if (!told_unsupported)
                w->sink.warn(w->sink.conn, "stdin_unsupported", why);
            told_unsupported = true;
            break;
        case SESSION_STDIN_LIMIT:
            if (!told_limit)
                w->sink.warn(w->sink.conn, "stdin_limit", why);
            told_limit = true;
            break;
        default: /* the cell ended: like writing to a closed pipe */
            break;
        }
    }
    return NULL;
}

static int refuse(api_error *e, unsigned status, const char *code, const char *fmt, const char *why)
{
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, fmt, why);
    return -1;
}

static void sx_free(ws_sx *w)
{
    if (w->stdin_fd >= 0)
        close(w->stdin_fd);
    for (int i = 0; i < 2; i++)
        if (w->wake[i] >= 0)
            close(w->wake[i]);
    free(w);
}

/* Starts the stdin thread; without one the cell gets EOF after the
 * request's stdin, and what the client sends finds no reader. */
static void sx_start_stdin(ws_sx *w)
{
    int rc = pipe2(w->wake, O_CLOEXEC) < 0
                 ? errno
                 : pthread_create(&w->stdin_thread, NULL, sx_stdin_main, w);
    if (rc == 0) {
        w->stdin_started = true;
        return;
    }
    fprintf(stderr, "xxxd: session %s: no stdin thread: %s\n", w->sid, strerror(rc));
    session_exec_stdin_close(w->x);
    close(w->stdin_fd);
    w->stdin_fd = -1;
}

static int sx_start(void *ctx, json_t *msg, int stdin_fd, const ws_sink *sink, void **exec,
                    api_error *e)
{
    _cleanup_close_ int fd = stdin_fd;
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
    w->stdin_fd = w->wake[0] = w->wake[1] = -1;
    snprintf(w->sid, sizeof w->sid, "%s", sid);
    run_observer obs = {.on_output = sx_output, .on_done = sx_done, .ctx = w};
    char why[320] = "";
    session_error se = session_execute(m, sid, x.code, x.code_len, x.stdin_data, x.stdin_len, true,
                                       x.timeout_ms, &obs, &w->x, why, sizeof why);
    api_session_exec_clear(&x);
    switch (se) {
    case SESSION_OK:
        w->stdin_fd = steal_fd(&fd);
        sx_start_stdin(w);
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
    sx_free(w);
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
    if (w->stdin_started) {
        /* The thread wakes from poll at once; a send in progress ends
         * within the session's send timeout. */
        char b = 1;
        while (write(w->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(w->stdin_thread, NULL);
    }
    session_exec_detach(w->x);
    session_exec_unref(w->x);
    sx_free(w);
}

void http_ws_session_hooks(ws_session_hooks *h, session_mgr *m)
{
    *h = (ws_session_hooks){.start = sx_start, .signal = sx_signal, .end = sx_end, .ctx = m};
}

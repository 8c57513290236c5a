/* ws.c — WebSocket connections: handshake, one thread per connection,
 * wslay framing, the run's observer (see ws.h).
 *
 * Theory of operation. ws_handshake checks the request and answers 101
 * with an upgrade handler. libmicrohttpd then hands us the socket (and any
 * bytes it already read past the headers) on its polling thread, which
 * must not block: we start the connection's thread and return. The thread
 * owns the socket and the wslay context; it polls the socket, a wake-up
 * pipe and, when stdin bytes wait, the program's stdin pipe. Observer
 * callbacks arrive on a run worker: they queue messages into the wslay
 * context under the connection's lock and poke the wake-up pipe; only the
 * connection's thread sends. The connection ends once the close handshake
 * is done (or the peer vanished, or a close went unanswered for
 * CLOSE_WAIT_MS): the run is detached, cancelled if it has not ended, and
 * the socket handed back to libmicrohttpd to close.
 *
 * Locks: conn mu is never held while calling run_detach (which waits for a
 * callback in progress, and callbacks take conn mu). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "codec/codec.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "ws/ws.h"

#define CLOSE_WAIT_MS 2000

typedef struct ws_conn ws_conn;

struct ws_hub {
    ws_config cfg;
    run_engine *engine;
    const runtime_set *rts;
    ws_session_hooks sessions;
    bool have_sessions;

    pthread_mutex_t mu;
    pthread_cond_t gone; /* a connection ended */
    ws_conn *conns;
    size_t n;
    bool stopping;
};

struct ws_conn {
    ws_hub *hub;
    struct MHD_UpgradeResponseHandle *urh;
    int sock;
    int wake[2];
    pthread_t thread;
    char *extra; /* bytes libmicrohttpd read past the headers */
    size_t nextra, extra_off;

    pthread_mutex_t mu; /* everything below */
    wslay_event_context_ptr ctx;
    bool started;      /* the first message was taken */
    run *run;          /* one-shot execution */
    void *sexec;       /* session execution (hub->sessions) */
    bool done;         /* the result (or a fatal error) is queued */
    bool close_queued; /* a close is decided: nothing more is queued */
    unsigned close_code;
    char close_reason[64];
    uint64_t close_at;  /* when the close was decided */
    bool close_sent;    /* handed to wslay */
    bool overflow;      /* the client read too slowly: run cancelled */
    int stdin_w;        /* write end of the program's stdin, -1 */
    bytebuf stdin_buf;  /* bytes waiting for the program */
    bool stdin_closing; /* close stdin_w once stdin_buf is written */
    ws_utf8 utf8;
    ws_conn *next, *prev;
};

/* ---- sending (conn mu held) ---- */

static void poke(ws_conn *c)
{
    char b = 1;
    ssize_t n = write(c->wake[1], &b, 1);
    (void)n; /* a full pipe already wakes the thread */
}

/* Decides the close. wslay sends control frames ahead of queued messages,
 * so the frame itself is queued by the connection's thread once the
 * messages before it are out (send_close_locked). */
static void queue_close_locked(ws_conn *c, unsigned code, const char *reason)
{
    if (c->close_queued)
        return;
    c->close_queued = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    c->close_at = run_now_ms();
}

/* Queues the decided close frame once the data before it is sent, or when
 * the client has not read it for CLOSE_WAIT_MS. */
static void send_close_locked(ws_conn *c, uint64_t now)
{
    if (!c->close_queued || c->close_sent)
        return;
    if (wslay_event_get_queued_msg_count(c->ctx) && now < c->close_at + CLOSE_WAIT_MS)
        return;
    wslay_event_queue_close(c->ctx, (uint16_t)c->close_code, (const uint8_t *)c->close_reason,
                            strlen(c->close_reason));
    c->close_sent = true;
    c->close_at = now;
}

/* Queues msg as a text message; steals it. */
static void queue_msg_locked(ws_conn *c, json_t *msg)
{
    if (!msg) {
        queue_close_locked(c, 1011, "out of memory");
        return;
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text) {
        queue_close_locked(c, 1011, "out of memory");
        return;
    }
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text)};
    int rc = wslay_event_queue_msg(c->ctx, &m); /* copies */
    free(text);
    if (rc == WSLAY_ERR_NOMEM)
        queue_close_locked(c, 1011, "out of memory");
}

/* Queues an error message and closes with its code. */
static void fail_locked(ws_conn *c, const api_error *e)
{
    queue_msg_locked(c, ws_error_msg(e));
    char reason[64];
    snprintf(reason, sizeof reason, "%s", e->code);
    queue_close_locked(c, ws_close_code(e->status), reason);
    c->done = true;
}

static void failf_locked(ws_conn *c, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void failf_locked(ws_conn *c, unsigned status, const char *code, const char *fmt, ...)
{
    api_error e = {.status = status, .code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    fail_locked(c, &e);
}

/* An error that does not end the connection (a bad message during a run). */
static void warnf_locked(ws_conn *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warnf_locked(ws_conn *c, const char *code, const char *fmt, ...)
{
    api_error e = {.status = 400, .code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    queue_msg_locked(c, ws_error_msg(&e));
}

/* ---- observer and session sink (a worker thread) ---- */

static void cancel_exec(ws_conn *c);

static void on_stage(void *ctx, const char *stage)
{
    ws_conn *c = ctx;
    pthread_mutex_lock(&c->mu);
    queue_msg_locked(c, json_pack("{s:s, s:s}", "type", "stage", "stage", stage));
    poke(c);
    pthread_mutex_unlock(&c->mu);
}

static void on_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    ws_conn *c = ctx;
    bool cancel = false;
    pthread_mutex_lock(&c->mu);
    if (!c->overflow && !c->close_queued) {
        json_t *msg;
        if (ws_output_msg(&c->utf8, stream, data, len, &msg) < 0)
            queue_close_locked(c, 1011, "out of memory");
        else if (msg)
            queue_msg_locked(c, msg);
        /* Never hold unbounded output for a client that does not read. */
        if (wslay_event_get_queued_msg_length(c->ctx) > c->hub->cfg.out_buffer)
            c->overflow = cancel = true;
    }
    poke(c);
    pthread_mutex_unlock(&c->mu);
    if (cancel)
        cancel_exec(c);
}

/* Queues what ends an execution: held bytes, "result", the close. */
static void finish_locked(ws_conn *c, json_t *result)
{
    for (box_stream s = BOX_STDOUT; s <= BOX_STDERR; s++) {
        json_t *m = ws_output_flush(&c->utf8, s);
        if (m)
            queue_msg_locked(c, m);
    }
    if (c->overflow) {
        api_error e = {.status = 400, .code = "slow_reader"};
        snprintf(e.message, sizeof e.message,
                 "the client read too slowly; the rest of the output was dropped and the run "
                 "cancelled");
        queue_msg_locked(c, ws_error_msg(&e));
    }
    json_t *msg = result ? json_pack("{s:s}", "type", "result") : NULL; /* "type" first */
    if (msg && json_object_update(msg, result) == 0) {
        queue_msg_locked(c, msg);
        queue_close_locked(c, 1000, "done");
    } else {
        json_decref(msg);
        queue_close_locked(c, 1011, "out of memory");
    }
    c->done = true;
    poke(c);
}

static void on_done(void *ctx)
{
    ws_conn *c = ctx;
    const run_result *res = run_get_result(c->run);
    pthread_mutex_lock(&c->mu);
    if (res->no_box) {
        failf_locked(c, 503, "unavailable", "%s", res->message);
        poke(c);
    } else {
        _cleanup_json_ json_t *result =
            api_result_json(run_id(c->run), run_runtime(c->run), res, 0);
        finish_locked(c, result);
    }
    pthread_mutex_unlock(&c->mu);
}

static void sink_stage(void *conn, const char *stage)
{
    on_stage(conn, stage);
}

static void sink_output(void *conn, box_stream stream, const char *data, size_t len)
{
    on_output(conn, stream, data, len);
}

static void sink_warn(void *conn, const char *code, const char *message)
{
    ws_conn *c = conn;
    pthread_mutex_lock(&c->mu);
    if (!c->done) { /* nothing after the result */
        warnf_locked(c, code, "%s", message);
        poke(c);
    }
    pthread_mutex_unlock(&c->mu);
}

static void sink_done(void *conn, json_t *result)
{
    ws_conn *c = conn;
    _cleanup_json_ json_t *copy = result ? json_deep_copy(result) : NULL;
    pthread_mutex_lock(&c->mu);
    finish_locked(c, copy);
    pthread_mutex_unlock(&c->mu);
}

/* Cancels the execution; not with conn mu held (run_cancel takes the engine lock). */
static void cancel_exec(ws_conn *c)
{
    pthread_mutex_lock(&c->mu);
    run *r = c->run;
    if (r)
        run_ref(r);
    void *sexec = c->sexec;
    pthread_mutex_unlock(&c->mu);
    if (r) {
        run_cancel(r);
        run_unref(r);
    } else if (sexec) {
        c->hub->sessions.signal(sexec, SIGKILL);
    }
}

/* ---- client messages (the connection's thread, conn mu held) ---- */

/* Makes the stdin pipe: *rd for the program (blocking), c->stdin_w ours (non-blocking). */
static int make_stdin_locked(ws_conn *c, int *rd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    *rd = p[0];
    c->stdin_w = p[1];
    return 0;
}

static void add_stdin_locked(ws_conn *c, const char *data, size_t len)
{
    if (c->stdin_w < 0 || c->stdin_closing)
        return; /* the program's stdin is closed: like writing to a closed pipe */
    if (c->stdin_buf.len + len > c->hub->cfg.stdin_buffer) {
        warnf_locked(c, "stdin_full",
                     "more than %zu bytes of stdin wait for the program; these %zu were dropped",
                     c->hub->cfg.stdin_buffer, len);
        return;
    }
    if (bytebuf_append(&c->stdin_buf, data, len) < 0)
        queue_close_locked(c, 1011, "out of memory");
}

static void start_session_locked(ws_conn *c, json_t *msg)
{
    if (!c->hub->have_sessions) {
        failf_locked(c, 501, "sessions_unavailable",
                     "this server does not run session executions over WebSocket");
        return;
    }
    int rd;
    if (make_stdin_locked(c, &rd) < 0) {
        failf_locked(c, 503, "unavailable", "no pipe for stdin: %s", strerror(errno));
        return;
    }
    static const ws_sink proto = {sink_stage, sink_output, sink_done, sink_warn, NULL};
    ws_sink sink = proto;
    sink.conn = c;
    api_error e = {0};
    if (c->hub->sessions.start(c->hub->sessions.ctx, msg, rd, &sink, &c->sexec, &e) < 0) {
        fail_locked(c, &e);
        return;
    }
}

static void start_run_locked(ws_conn *c, const char *text, size_t len)
{
    run_request rr;
    api_error e = {0};
    if (api_parse_execute(text, len, c->hub->rts, &rr, &e) < 0) {
        if (strcmp(e.code, "internal") == 0)
            e.status = 500;
        fail_locked(c, &e);
        return;
    }
    int rd;
    if (make_stdin_locked(c, &rd) < 0) {
        run_request_clear(&rr);
        failf_locked(c, 503, "unavailable", "no pipe for stdin: %s", strerror(errno));
        return;
    }
    /* The request's "stdin" is the first thing the program reads. */
    if (rr.stdin_len && bytebuf_append(&c->stdin_buf, rr.stdin_data, rr.stdin_len) < 0) {
        close(rd);
        run_request_clear(&rr);
        failf_locked(c, 500, "internal", "out of memory");
        return;
    }
    free(rr.stdin_data);
    rr.stdin_data = NULL;
    rr.stdin_len = 0;
    rr.stdin_live = true;
    rr.stdin_fd = rd;
    run_observer obs = {
        .on_output = on_output,
        .on_done = on_done,
        .on_stage = on_stage,
        .ctx = c,
    };
    /* Observer callbacks wait for conn mu, which we hold: "queued" goes first. */
    switch (run_submit(c->hub->engine, &rr, &obs, &c->run)) {
    case RUN_SUBMIT_OK:
        queue_msg_locked(c, json_pack("{s:s, s:s, s:s, s:s}", "type", "stage", "stage", "queued",
                                      "id", run_id(c->run), "language", run_runtime(c->run)->name));
        return;
    case RUN_SUBMIT_QUEUE_FULL:
        failf_locked(c, 429, "queue_full", "every slot is busy and the queue is full; retry later");
        break;
    case RUN_SUBMIT_CLOSED:
        failf_locked(c, 503, "shutting_down", "the server is shutting down");
        break;
    case RUN_SUBMIT_NOMEM:
        failf_locked(c, 500, "internal", "out of memory");
        break;
    }
    run_request_clear(&rr);
}

/* The first message: {"type": "execute", ...}. */
static void first_msg_locked(ws_conn *c, json_t *msg, const char *text, size_t len)
{
    c->started = true;
    json_t *type = json_object_get(msg, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "execute") != 0) {
        failf_locked(c, 400, "invalid_message",
                     "the first message must be {\"type\": \"execute\", ...}");
        return;
    }
    json_t *sess = json_object_get(msg, "session");
    if (sess && !json_is_null(sess)) {
        if (!json_is_string(sess))
            failf_locked(c, 400, "invalid_field", "field \"session\" must be a string");
        else
            start_session_locked(c, msg);
        return;
    }
    start_run_locked(c, text, len);
}

/* Sends a signal; returns with conn mu held again. */
static void signal_locked(ws_conn *c, int sig)
{
    run *r = c->run;
    void *sexec = c->sexec;
    if (r)
        run_ref(r);
    pthread_mutex_unlock(&c->mu);
    int rc = 0;
    if (r && sig == SIGKILL)
        run_cancel(r);
    else if (r)
        rc = run_interrupt(r);
    else if (sexec)
        rc = c->hub->sessions.signal(sexec, sig);
    if (r)
        run_unref(r);
    pthread_mutex_lock(&c->mu);
    if (rc < 0)
        warnf_locked(c, "not_running",
                     "SIGINT could not be delivered: no step is running (or this server cannot "
                     "interrupt)");
}

static void text_msg_locked(ws_conn *c, const char *text, size_t len)
{
    json_error_t jerr;
    _cleanup_json_ json_t *msg =
        json_loadb(text, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(msg)) {
        if (!c->started) {
            c->started = true;
            failf_locked(c, 400, "invalid_json", "the message is not a JSON object%s%s",
                         msg ? "" : ": ", msg ? "" : jerr.text);
        } else {
            warnf_locked(c, "invalid_json", "the message is not a JSON object");
        }
        return;
    }
    if (!c->started) {
        first_msg_locked(c, msg, text, len);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type) {
        warnf_locked(c, "invalid_message", "a message needs a \"type\"");
    } else if (strcmp(type, "stdin") == 0) {
        json_t *d = json_object_get(msg, "data");
        json_t *b = json_object_get(msg, "data_base64");
        unsigned char *raw = NULL;
        size_t rawlen;
        if (json_is_string(d))
            add_stdin_locked(c, json_string_value(d), json_string_length(d));
        else if (json_is_string(b) &&
                 codec_base64_decode(json_string_value(b), json_string_length(b), &raw, &rawlen) ==
                     0)
            add_stdin_locked(c, (const char *)raw, rawlen);
        else
            warnf_locked(c, "invalid_field",
                         "a stdin message needs \"data\" (text) or \"data_base64\"");
        free(raw);
    } else if (strcmp(type, "stdin_close") == 0) {
        c->stdin_closing = true;
    } else if (strcmp(type, "signal") == 0) {
        int sig = ws_signal_parse(json_object_get(msg, "signal"));
        if (sig < 0)
            warnf_locked(c, "invalid_signal", "\"signal\" must be \"SIGINT\" or \"SIGKILL\"");
        else if (!c->done)
            signal_locked(c, sig);
    } else if (strcmp(type, "execute") == 0) {
        warnf_locked(c, "already_started", "one connection runs one execution");
    } else {
        warnf_locked(c, "invalid_message", "unknown message type \"%.40s\"", type);
    }
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    (void)ctx;
    ws_conn *c = user; /* conn mu held: we are inside wslay_event_recv */
    if (c->done)
        return;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        text_msg_locked(c, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        if (!c->started) {
            c->started = true;
            failf_locked(c, 400, "invalid_message",
                         "the first message must be a text message {\"type\": \"execute\", ...}");
        } else {
            add_stdin_locked(c, (const char *)arg->msg, arg->msg_length);
        }
    }
}

/* ---- socket I/O for wslay ---- */

static ssize_t io_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    ws_conn *c = user;
    if (c->extra_off < c->nextra) {
        size_t n = c->nextra - c->extra_off < len ? c->nextra - c->extra_off : len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(c->sock, buf, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n <= 0) { /* the peer went away without a close frame */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static ssize_t io_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    ws_conn *c = user;
    int f = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
    ssize_t n = send(c->sock, data, len, f);
    if (n < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                                       ? WSLAY_ERR_WOULDBLOCK
                                       : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

/* Writes waiting stdin to the program without blocking; conn mu held. */
static void flush_stdin_locked(ws_conn *c)
{
    while (c->stdin_w >= 0 && c->stdin_buf.len) {
        ssize_t n = write(c->stdin_w, c->stdin_buf.data, c->stdin_buf.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) { /* EPIPE: the step ended; what was not read is lost, as on a pipe */
            bytebuf_free(&c->stdin_buf);
            close(c->stdin_w);
            c->stdin_w = -1;
            return;
        }
        bytebuf_consume(&c->stdin_buf, (size_t)n);
    }
    if (c->stdin_w >= 0 && c->stdin_closing && !c->stdin_buf.len) {
        close(c->stdin_w);
        c->stdin_w = -1;
    }
}

/* ---- the connection's thread ---- */

static void conn_free(ws_conn *c)
{
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    if (c->stdin_w >= 0)
        close(c->stdin_w);
    bytebuf_free(&c->stdin_buf);
    pthread_mutex_destroy(&c->mu);
    free(c->extra);
    free(c);
}

/* Takes c off the hub's list of connections and wakes whoever waits for
 * them to go (ws_hub_free). */
static void hub_remove(ws_hub *h, ws_conn *c)
{
    pthread_mutex_lock(&h->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->n--;
    pthread_cond_broadcast(&h->gone);
    pthread_mutex_unlock(&h->mu);
}

static void *conn_main(void *arg)
{
    ws_conn *c = arg;
    ws_hub *h = c->hub;
    uint64_t first_deadline = run_now_ms() + h->cfg.first_message_ms;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        uint64_t now = run_now_ms();
        bool stopping = __atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE);
        if (stopping && !c->close_queued) {
            c->done = true;
            queue_close_locked(c, 1001, "server stopping");
            pthread_mutex_unlock(&c->mu);
            cancel_exec(c);
            pthread_mutex_lock(&c->mu);
        }
        if (!c->started && !c->close_queued && now >= first_deadline)
            failf_locked(c, 408, "timeout", "no first message within %u ms",
                         h->cfg.first_message_ms);
        if (wslay_event_get_close_received(c->ctx) && !c->done) {
            /* The client closed first: nobody will read the result. */
            c->done = true;
            pthread_mutex_unlock(&c->mu);
            cancel_exec(c);
            pthread_mutex_lock(&c->mu);
        }
        flush_stdin_locked(c);
        send_close_locked(c, now);
        if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) < 0)
            break;
        if (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx))
            break; /* close handshake complete */
        if (c->close_sent && wslay_event_get_close_sent(c->ctx) &&
            now >= c->close_at + CLOSE_WAIT_MS)
            break; /* the peer never answered our close */
        struct pollfd pfd[3] = {
            {c->sock,
             (short)((wslay_event_want_read(c->ctx) ? POLLIN : 0) |
                     (wslay_event_want_write(c->ctx) ? POLLOUT : 0)),
             0},
            {c->wake[0], POLLIN, 0},
            {c->stdin_w, c->stdin_buf.len ? POLLOUT : 0, 0},
        };
        int timeout = 1000;
        if (c->close_queued && !c->close_sent)
            timeout = 100; /* waiting for the queue to drain */
        if (!c->started && first_deadline > now && first_deadline - now < 1000)
            timeout = (int)(first_deadline - now);
        pthread_mutex_unlock(&c->mu);
        int n = poll(pfd, c->stdin_w >= 0 ? 3 : 2, timeout);
        pthread_mutex_lock(&c->mu);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        if (pfd[1].revents & POLLIN) {
            char buf[64];
            while (read(c->wake[0], buf, sizeof buf) > 0)
                ;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (wslay_event_recv(c->ctx) < 0)
                break;
        }
    }
    /* c->run stays set until run_detach returns: a callback in progress reads it. */
    run *r = c->run;
    void *sexec = c->sexec;
    pthread_mutex_unlock(&c->mu);
    if (r) {
        run_detach(r); /* no callback from here on */
        run_cancel(r); /* no effect once done */
    }
    if (sexec)
        h->sessions.end(sexec);
    pthread_mutex_lock(&c->mu);
    c->run = NULL;
    c->sexec = NULL;
    pthread_mutex_unlock(&c->mu);
    run_unref(r);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    hub_remove(h, c);
    conn_free(c);
    return NULL;
}

/* MHD_UpgradeHandler, on libmicrohttpd's polling thread: must not block. */
static void upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                     const char *extra_in, size_t extra_in_size, MHD_socket sock,
                     struct MHD_UpgradeResponseHandle *urh)
{
    (void)connection;
    (void)con_cls;
    ws_hub *h = cls;
    ws_conn *c = calloc(1, sizeof *c);
    if (!c) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    c->hub = h;
    c->urh = urh;
    c->sock = sock;
    c->stdin_w = -1;
    c->wake[0] = c->wake[1] = -1;
    pthread_mutex_init(&c->mu, NULL);
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = io_recv,
        .send_callback = io_send,
        .on_msg_recv_callback = on_msg,
    };
    int fl = fcntl(sock, F_GETFL);
    if ((extra_in_size && !(c->extra = malloc(extra_in_size))) ||
        pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0 || fl < 0 ||
        fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0 ||
        wslay_event_context_server_init(&c->ctx, &cbs, c) != 0) {
        conn_free(c);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    if (extra_in_size)
        memcpy(c->extra, extra_in, extra_in_size);
    c->nextra = extra_in_size;
    wslay_event_config_set_max_recv_msg_length(c->ctx, h->cfg.max_message);

    pthread_mutex_lock(&h->mu);
    bool full = h->n >= h->cfg.max_connections || h->stopping;
    if (!full) {
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        h->n++;
    }
    pthread_mutex_unlock(&h->mu);
    if (full) {
        /* The handshake saw room, another connection took it since (rare:
         * ws_handshake answers 503 first): drop this one. */
        conn_free(c);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* The thread must not take signals meant for xxxd's main loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, &attr, conn_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        hub_remove(h, c);
        conn_free(c);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    }
}

/* ---- hub ---- */

int ws_hub_new(const ws_config *cfg, run_engine *engine, const runtime_set *rts, ws_hub **out,
               char *err, size_t errlen)
{
    ws_hub *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->cfg = *cfg;
    if (!h->cfg.max_connections)
        h->cfg.max_connections = 64;
    if (!h->cfg.max_message)
        h->cfg.max_message = 1u << 20;
    if (!h->cfg.out_buffer)
        h->cfg.out_buffer = 8u << 20;
    if (!h->cfg.stdin_buffer)
        h->cfg.stdin_buffer = 1u << 20;
    if (!h->cfg.first_message_ms)
        h->cfg.first_message_ms = 10000;
    h->engine = engine;
    h->rts = rts;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->gone, &ca);
    pthread_condattr_destroy(&ca);
    *out = h;
    return 0;
}

void ws_hub_set_sessions(ws_hub *h, const ws_session_hooks *hooks)
{
    pthread_mutex_lock(&h->mu);
    h->have_sessions = hooks != NULL;
    if (hooks)
        h->sessions = *hooks;
    pthread_mutex_unlock(&h->mu);
}

size_t ws_hub_count(ws_hub *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* Returns true when the comma-separated header value holds token (any case). */
static bool has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = end;
    }
    return false;
}

struct MHD_Response *ws_handshake(ws_hub *h, struct MHD_Connection *conn, api_error *e)
{
    const char *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
    const char *connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
    const char *version =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    char accept[29];
    e->status = 400;
    e->code = "invalid_handshake";
    if (!upgrade || !has_token(upgrade, "websocket") || !connection ||
        !has_token(connection, "upgrade")) {
        snprintf(e->message, sizeof e->message,
                 "%s is a WebSocket endpoint: send \"Upgrade: websocket\" and \"Connection: "
                 "Upgrade\"",
                 WS_PATH);
        return NULL;
    }
    if (!version || strcmp(version, "13") != 0) {
        e->status = 426;
        e->code = "unsupported_version";
        snprintf(e->message, sizeof e->message, "only WebSocket version 13 is spoken here");
        return NULL;
    }
    if (!key || ws_accept_key(key, accept) < 0) {
        snprintf(e->message, sizeof e->message,
                 "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.1)");
        return NULL;
    }
    pthread_mutex_lock(&h->mu);
    bool full = h->n >= h->cfg.max_connections;
    pthread_mutex_unlock(&h->mu);
    if (full) {
        e->status = 503;
        e->code = "too_many_connections";
        snprintf(e->message, sizeof e->message,
                 "%u WebSocket connections are open, the most this server takes; retry later",
                 h->cfg.max_connections);
        return NULL;
    }
    struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, h);
    if (!resp) {
        e->status = 503;
        e->code = "unavailable";
        snprintf(e->message, sizeof e->message, "out of memory");
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    return resp;
}

void ws_hub_free(ws_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    __atomic_store_n(&h->stopping, true, __ATOMIC_RELEASE);
    for (ws_conn *c = h->conns; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        poke(c);
        pthread_mutex_unlock(&c->mu);
    }
    /* Each thread sends 1001, cancels its run and waits at most CLOSE_WAIT_MS
     * for the client's close. */
    while (h->n > 0)
        pthread_cond_wait(&h->gone, &h->mu);
    pthread_mutex_unlock(&h->mu);
    pthread_cond_destroy(&h->gone);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

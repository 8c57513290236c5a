/* session.c — the session table, the driver protocol and the manager thread (see session.h).
 *
 * Theory of operation. session_create puts a session on the table (counted
 * against max_sessions) and starts its thread, which takes a box slot,
 * writes the driver's files and sits in ONE box_exec of the driver until
 * the session ends. The driver's first line on the control socket is
 * {"type": "ready"}: the create observer fires. session_execute makes the
 * session's current execution (refusing a second one: 409), and the manager
 * thread writes its frame to the control socket (box_ctl_send may wait for
 * room, which must not happen on an HTTP thread). Output chunks go to the
 * current execution (counted against its output cap); the driver's
 * {"type": "done"} line comes after all of the cell's output (box.h
 * promises that order), so when it arrives the execution is complete. The
 * manager also fires each execution's deadline (box_interrupt), kills a
 * session whose driver does not answer within the grace after it, expires
 * idle and old sessions, repeats box_cancel on sessions asked to end (a
 * cancel that lands before the step starts finds nothing to stop) and joins
 * finished threads. When box_exec returns, the thread records why the
 * session ended (its own limits: from the box result; otherwise the reason
 * the manager or a DELETE set), finishes the current execution with that
 * status, and releases the slot.
 *
 * Locks: m->mu guards the table and every session's state; a session's
 * slot_mu guards its slot pointer and is held around every box call that
 * names the slot from another thread (so the slot cannot be released and
 * handed to someone else under a cancel). Order: m->mu, then slot_mu. The
 * box callbacks take m->mu only. An observer's obs_mu is taken alone.
 *
 * Live stdin. A live execution's exec frame says "stdin_live"; its stdin
 * then goes to the driver as {"type": "stdin", "id", "data" |
 * "data_base64"} frames and ends with {"type": "stdin_close", "id"}. They
 * are written by whoever calls session_exec_stdin (the WebSocket's stdin
 * thread); what comes before the manager has sent the exec frame is kept
 * and sent right after it, so the driver always sees exec first. An
 * execution's stdin_mu orders these writes; it is taken before m->mu and
 * slot_mu, never under them. */
#include "session/session.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "codec/codec.h"
#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"

/* A driver line longer than this is a broken driver, not a big value. */
#define CTL_LINE_MAX (16u << 20)
/* How long the manager waits for room on a control socket. */
#define SEND_TIMEOUT_MS 2000
/* How often a cancel is repeated until the session's step is gone. */
#define CANCEL_REPEAT_MS 100
/* Output kept from a driver's start, to say why it failed. */
#define BOOT_MAX 1024

struct session_exec {
    atomic_int refs;
    session *s; /* holds a reference */

    pthread_mutex_t obs_mu;
    run_observer obs;
    bool detached;

    /* Under m->mu. */
    char *frame; /* the exec line, until sent */
    size_t frame_len;
    bool sent, interrupted;
    uint64_t start_ms, deadline_ms, kill_ms;

    /* The session's thread only, until done. */
    bytebuf out, err, all;
    uint64_t cap, seen;
    bool truncated;

    box_limits limits;
    atomic_bool done;
    session_result r;

    /* Live stdin, under stdin_mu (see the top). */
    pthread_mutex_t stdin_mu;
    bool stdin_live;      /* the driver reads this execution's stdin frames */
    bool on_wire;         /* the exec frame is sent: stdin frames go straight out */
    bool stdin_closed;    /* stdin_close was asked for */
    bytebuf stdin_early;  /* bytes that came before the exec frame was sent */
    uint64_t stdin_total; /* live bytes taken, at most SESSION_STDIN_MAX */
};

struct session {
    atomic_int refs;
    session_mgr *m;
    char id[33];
    const runtime *rt;
    box_limits limits;
    uint64_t idle_ms;
    uint64_t created_ms, created_at, end_ms; /* monotonic, unix, monotonic */

    /* Under m->mu. */
    session_state state;
    char status[32];
    char message[256];
    bool end_requested;
    uint64_t last_cancel_ms;
    session_exec *cur;
    uint64_t last_used_ms, executions, ended_ms;
    pthread_t thread;
    bool thread_started, thread_done, joined;
    int slot_index;
    struct session *next;

    pthread_mutex_t slot_mu;
    box_slot *slot;

    pthread_mutex_t obs_mu;
    run_observer obs;
    bool detached, notified;

    bytebuf ctl;  /* the session's thread only */
    bytebuf boot; /* output before the first execution (start failures) */
};

struct session_mgr {
    box_pool *pool;
    session_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* for the manager */
    pthread_cond_t ended; /* a session thread finished */
    session *head, *tail; /* live and ended, oldest first */
    size_t nlive, ntomb;
    bool closed, stopping;
    pthread_t manager;
    bool manager_started;
};

static uint64_t now_ms(void)
{
    return run_now_ms();
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void make_id(char id[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* Never fails for 16 bytes after boot; still, never reuse an id. */
        static atomic_ullong fallback;
        unsigned long long n = atomic_fetch_add(&fallback, 1) ^ unix_ms();
        memcpy(b, &n, sizeof n);
        memcpy(b + 8, &n, sizeof n);
    }
    for (int i = 0; i < 16; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
}

/* ---- references ---- */

static void session_free(session *s)
{
    bytebuf_free(&s->ctl);
    bytebuf_free(&s->boot);
    pthread_mutex_destroy(&s->slot_mu);
    pthread_mutex_destroy(&s->obs_mu);
    free(s);
}

void session_unref(session *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        session_free(s);
}

void session_exec_unref(session_exec *x)
{
    if (!x || atomic_fetch_sub(&x->refs, 1) != 1)
        return;
    free(x->frame);
    bytebuf_free(&x->out);
    bytebuf_free(&x->err);
    bytebuf_free(&x->all);
    box_result_free(&x->r.res.exec.box);
    bytebuf_free(&x->r.res.exec.all);
    free(x->r.value);
    free(x->r.error_name);
    free(x->r.error_message);
    free(x->r.error_traceback);
    bytebuf_free(&x->stdin_early);
    pthread_mutex_destroy(&x->stdin_mu);
    pthread_mutex_destroy(&x->obs_mu);
    session_unref(x->s);
    free(x);
}

/* ---- ending ---- */

/* Asks a live session to end with status and message; m->mu held. The
 * first reason wins. */
static void end_locked(session *s, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void end_locked(session *s, const char *status, const char *fmt, ...)
{
    if (s->state == SESSION_STATE_ENDED || s->end_requested)
        return;
    s->end_requested = true;
    snprintf(s->status, sizeof s->status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->message, sizeof s->message, fmt, ap);
    va_end(ap);
    s->last_cancel_ms = now_ms();
    /* The manager may hold slot_mu for up to SEND_TIMEOUT_MS in a send; an
     * HTTP thread must not wait for that. The manager's sweep repeats the
     * cancel every CANCEL_REPEAT_MS anyway. */
    if (pthread_mutex_trylock(&s->slot_mu) == 0) {
        if (s->slot)
            box_cancel(s->slot);
        pthread_mutex_unlock(&s->slot_mu);
    } else {
        s->last_cancel_ms = 0;
    }
    pthread_cond_signal(&s->m->wake);
}

/* Calls the create observer's on_done once. */
static void notify_created(session *s)
{
    pthread_mutex_lock(&s->obs_mu);
    if (!s->notified) {
        s->notified = true;
        if (!s->detached && s->obs.on_done)
            s->obs.on_done(s->obs.ctx);
    }
    pthread_mutex_unlock(&s->obs_mu);
}

void session_detach(session *s)
{
    pthread_mutex_lock(&s->obs_mu);
    s->detached = true;
    pthread_mutex_unlock(&s->obs_mu);
}

/* ---- executions ---- */

static char *steal_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    return strndup(json_string_value(v), json_string_length(v));
}

static uint64_t get_u64(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* Completes an execution: status and message, the driver's "done" frame
 * when there was one, whether the session ended under it. Then on_done. */
static void finish_exec(session_exec *x, const char *status, const char *message, json_t *frame,
                        bool ended)
{
    session_result *r = &x->r;
    run_result *res = &r->res;
    res->status = status;
    snprintf(res->message, sizeof res->message, "%s", message ? message : "");
    res->ran = true;
    res->total_ms = now_ms() - x->start_ms;
    box_result *b = &res->exec.box;
    b->status = strcmp(status, "ok") == 0              ? BOX_OK
                : strcmp(status, "runtime_error") == 0 ? BOX_RUNTIME_ERROR
                : strcmp(status, "memory_limit") == 0  ? BOX_MEMORY_LIMIT
                : strcmp(status, "timeout") == 0       ? BOX_TIMEOUT
                                                       : BOX_CANCELLED;
    b->exit_code = -1;
    b->wall_ms = res->total_ms;
    b->out.data = bytebuf_steal(&x->out, &b->out.len);
    b->err.data = bytebuf_steal(&x->err, &b->err.len);
    b->out.truncated = b->err.truncated = x->truncated;
    res->exec.all = x->all;
    memset(&x->all, 0, sizeof x->all);
    res->exec.limits = x->limits;
    r->session_ended = ended;
    if (frame) {
        b->cpu_ms = get_u64(frame, "cpu_ms");
        b->memory_bytes = get_u64(frame, "memory_bytes");
        r->value = steal_str(frame, "value");
        json_t *e = json_object_get(frame, "error");
        if (json_is_object(e)) {
            r->has_error = true;
            r->error_name = steal_str(e, "name");
            r->error_message = steal_str(e, "message");
            r->error_traceback = steal_str(e, "traceback");
        }
    }
    atomic_store(&x->done, true);
    pthread_mutex_lock(&x->obs_mu);
    if (!x->detached && x->obs.on_done)
        x->obs.on_done(x->obs.ctx);
    pthread_mutex_unlock(&x->obs_mu);
}

void session_exec_detach(session_exec *x)
{
    pthread_mutex_lock(&x->obs_mu);
    x->detached = true;
    pthread_mutex_unlock(&x->obs_mu);
}

const session_result *session_exec_result(session_exec *x)
{
    return atomic_load(&x->done) ? &x->r : NULL;
}

const char *session_exec_session_id(const session_exec *x)
{
    return x->s->id;
}

const runtime *session_exec_runtime(const session_exec *x)
{
    return x->s->rt;
}

/* ---- box callbacks (the session's thread) ---- */

static void on_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    session *s = ctx;
    session_mgr *m = s->m;
    pthread_mutex_lock(&m->mu);
    session_exec *x = s->cur;
    if (x)
        atomic_fetch_add(&x->refs, 1);
    pthread_mutex_unlock(&m->mu);
    if (!x) {
        /* Between executions (a thread of the user's): nobody to tell. What
         * a driver says before it is ready explains a failed start. */
        if (s->boot.len < BOOT_MAX)
            bytebuf_append(&s->boot, data,
                           len < BOOT_MAX - s->boot.len ? len : BOOT_MAX - s->boot.len);
        return;
    }
    size_t room = x->seen < x->cap ? (size_t)(x->cap - x->seen) : 0;
    size_t n = len < room ? len : room;
    x->seen += len;
    if (n < len && !x->truncated) {
        /* Past the cap the cell is interrupted like a timeout; what it
         * still writes is dropped. */
        x->truncated = true;
        pthread_mutex_lock(&m->mu);
        if (s->cur == x && !x->interrupted)
            x->deadline_ms = 0;
        pthread_cond_signal(&m->wake);
        pthread_mutex_unlock(&m->mu);
    }
    if (n) {
        if (bytebuf_append(stream == BOX_STDOUT ? &x->out : &x->err, data, n) < 0 ||
            bytebuf_append(&x->all, data, n) < 0)
            fprintf(stderr, "session %s: out of memory keeping output\n", s->id);
        pthread_mutex_lock(&x->obs_mu);
        if (!x->detached && x->obs.on_output)
            x->obs.on_output(x->obs.ctx, stream, data, n);
        pthread_mutex_unlock(&x->obs_mu);
    }
    session_exec_unref(x);
}

/* One line from the driver. */
static void on_line(session *s, const char *line, size_t len)
{
    session_mgr *m = s->m;
    json_error_t jerr;
    _cleanup_json_ json_t *j = json_loadb(line, len, 0, &jerr);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) {
        pthread_mutex_lock(&m->mu);
        end_locked(s, "driver_error", "the session driver sent a line that is not a frame");
        pthread_mutex_unlock(&m->mu);
        return;
    }
    if (strcmp(type, "ready") == 0) {
        pthread_mutex_lock(&m->mu);
        bool fire = s->state == SESSION_STATE_STARTING && !s->end_requested;
        if (fire) {
            s->state = SESSION_STATE_READY;
            s->last_used_ms = now_ms();
        }
        pthread_mutex_unlock(&m->mu);
        if (fire)
            notify_created(s);
        return;
    }
    if (strcmp(type, "done") != 0)
        return;
    pthread_mutex_lock(&m->mu);
    session_exec *x = s->cur;
    uint64_t id = get_u64(j, "id");
    if (!x || id != x->r.execution_count || s->end_requested) {
        /* A late answer, or one for a session being killed: the thread's
         * exit path finishes the execution with the real reason. */
        pthread_mutex_unlock(&m->mu);
        return;
    }
    s->cur = NULL;
    s->state = SESSION_STATE_READY;
    s->last_used_ms = now_ms();
    bool interrupted = x->interrupted;
    uint64_t timeout = x->limits.wall_ms;
    pthread_mutex_unlock(&m->mu);

    bool timed_out = interrupted || json_is_true(json_object_get(j, "timed_out"));
    bool failed = json_is_object(json_object_get(j, "error"));
    char msg[320] = "";
    const char *status = "ok";
    if (x->truncated) {
        status = "output_limit";
        snprintf(msg, sizeof msg,
                 "the execution exceeded the output limit of %llu bytes and was interrupted; the "
                 "session keeps its state",
                 (unsigned long long)x->cap);
    } else if (timed_out) {
        status = "timeout";
        snprintf(msg, sizeof msg,
                 "the execution exceeded its time limit of %llu ms and was interrupted; the "
                 "session keeps its state",
                 (unsigned long long)timeout);
    } else if (failed) {
        status = "runtime_error";
    }
    finish_exec(x, status, msg, j, false);
    session_exec_unref(x);
}

static void on_ctl(void *ctx, const char *data, size_t len)
{
    session *s = ctx;
    if (len == 0)
        return; /* the driver closed it: box_exec returns soon */
    if (bytebuf_append(&s->ctl, data, len) < 0 || s->ctl.len > CTL_LINE_MAX) {
        bytebuf_free(&s->ctl);
        pthread_mutex_lock(&s->m->mu);
        end_locked(s, "driver_error", "the session driver sent an over-long line");
        pthread_mutex_unlock(&s->m->mu);
        return;
    }
    size_t start = 0;
    for (;;) {
        char *nl = memchr(s->ctl.data + start, '\n', s->ctl.len - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - s->ctl.data);
        on_line(s, s->ctl.data + start, end - start);
        start = end + 1;
    }
    bytebuf_consume(&s->ctl, start);
}

/* ---- the session's thread ---- */

static void describe_end(session *s, const box_result *b)
{
    const box_limits *l = &s->limits;
    switch (b->status) {
    case BOX_MEMORY_LIMIT:
        snprintf(s->status, sizeof s->status, "memory_limit");
        snprintf(s->message, sizeof s->message, "the session exceeded its memory limit of %llu MiB",
                 (unsigned long long)(l->memory_bytes >> 20));
        break;
    case BOX_TIMEOUT:
        snprintf(s->status, sizeof s->status, "cpu_limit");
        snprintf(s->message, sizeof s->message, "the session used up its CPU time limit of %llu ms",
                 (unsigned long long)l->cpu_ms);
        break;
    case BOX_OUTPUT_LIMIT:
        snprintf(s->status, sizeof s->status, "output_limit");
        snprintf(s->message, sizeof s->message, "the session exceeded its output limit");
        break;
    case BOX_SIGNALED:
        snprintf(s->status, sizeof s->status, "signaled");
        snprintf(s->message, sizeof s->message, "the session's interpreter was killed by %s",
                 box_signal_name(b->signal));
        break;
    case BOX_OK:
    case BOX_RUNTIME_ERROR:
        snprintf(s->status, sizeof s->status, "exited");
        snprintf(s->message, sizeof s->message, "the session's interpreter exited with code %d",
                 b->exit_code);
        break;
    case BOX_CANCELLED:
        snprintf(s->status, sizeof s->status, "cancelled");
        snprintf(s->message, sizeof s->message, "the session was cancelled");
        break;
    case BOX_INTERNAL_ERROR:
        snprintf(s->status, sizeof s->status, "internal_error");
        snprintf(s->message, sizeof s->message, "the session's box failed: %.200s", b->message);
        break;
    }
}

/* Takes a slot, writes the driver, runs it until the session ends. */
static void run_session(session *s, box_result *res)
{
    session_mgr *m = s->m;
    char err[160] = "";
    box_slot *slot =
        box_acquire(m->pool, s->limits.tmpfs_bytes, m->cfg.acquire_timeout_ms, err, sizeof err);
    if (!slot) {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "no box available: %s",
                 err[0] ? err : "every slot stayed busy");
        return;
    }
    pthread_mutex_lock(&s->slot_mu);
    s->slot = slot;
    pthread_mutex_unlock(&s->slot_mu);
    pthread_mutex_lock(&m->mu);
    s->slot_index = (int)box_slot_index(slot);
    bool ended = s->end_requested;
    pthread_mutex_unlock(&m->mu);

    /* The runtime's support files (e.g. Ruby's sync prelude), then the driver. */
    const runtime *rt = s->rt;
    for (size_t i = 0; !ended && i < rt->nsupport; i++) {
        if (box_put_file(slot, rt->support[i].name, rt->support[i].content, rt->support[i].len,
                         0644, err, sizeof err) < 0) {
            res->status = BOX_INTERNAL_ERROR;
            snprintf(res->message, sizeof res->message, "writing %.60s: %s", rt->support[i].name,
                     err);
            ended = true;
        }
    }
    const runtime_session *rs = rt->session;
    for (size_t i = 0; !ended && i < rs->nfiles; i++) {
        if (box_put_file(slot, rs->files[i].name, rs->files[i].content, rs->files[i].len, 0644, err,
                         sizeof err) < 0) {
            res->status = BOX_INTERNAL_ERROR;
            snprintf(res->message, sizeof res->message, "writing %.60s: %s", rs->files[i].name,
                     err);
            ended = true;
        }
    }
    _cleanup_strv_ char **argv = runtime_expand((const char *const *)rs->run, s->rt->source, NULL);
    if (!ended && !argv) {
        res->status = BOX_INTERNAL_ERROR;
        snprintf(res->message, sizeof res->message, "out of memory");
        ended = true;
    }
    if (!ended) {
        box_spec spec = {
            .argv = (const char *const *)argv,
            .envp = (const char *const *)s->rt->env,
            .stdin_fd = -1,
            .limits = s->limits,
            .on_output = on_output,
            .on_ctl = on_ctl,
            .flags = BOX_SPEC_CTL | BOX_SPEC_STREAM_ONLY | BOX_SPEC_NO_WALL,
            .ctx = s,
        };
        spec.limits.wall_ms = 0;
        box_exec(slot, &spec, res);
    } else if (res->status != BOX_INTERNAL_ERROR) {
        res->status = BOX_CANCELLED;
    }
    pthread_mutex_lock(&s->slot_mu);
    s->slot = NULL;
    pthread_mutex_unlock(&s->slot_mu);
    box_release(slot);
}

static void *session_main(void *arg)
{
    session *s = arg;
    session_mgr *m = s->m;
    box_result res = {0};
    run_session(s, &res);

    pthread_mutex_lock(&m->mu);
    if (!s->end_requested)
        describe_end(s, &res);
    if (s->state == SESSION_STATE_STARTING && s->boot.len) {
        size_t n = strlen(s->message);
        snprintf(s->message + n, sizeof s->message - n, ": %.*s", (int)s->boot.len, s->boot.data);
    }
    s->state = SESSION_STATE_ENDED;
    s->ended_ms = now_ms();
    s->slot_index = -1;
    session_exec *x = s->cur;
    s->cur = NULL;
    m->nlive--;
    m->ntomb++;
    char status[32], message[256];
    snprintf(status, sizeof status, "%s", s->status);
    snprintf(message, sizeof message, "%s", s->message);
    pthread_mutex_unlock(&m->mu);
    box_result_free(&res);

    if (x) {
        char msg[300];
        snprintf(msg, sizeof msg, "%.250s; the session has ended", message);
        finish_exec(x, strcmp(status, "cpu_limit") == 0 ? "timeout" : status, msg, NULL, true);
        session_exec_unref(x);
    }
    notify_created(s);

    pthread_mutex_lock(&m->mu);
    s->thread_done = true;
    pthread_cond_broadcast(&m->ended);
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- the manager thread ---- */

/* Writes one line to the session's driver; m->mu not held. */
static int ctl_send(session *s, const char *line, size_t len, char *err, size_t errlen)
{
    int rc = -1;
    snprintf(err, errlen, "no box");
    pthread_mutex_lock(&s->slot_mu);
    if (s->slot)
        rc = box_ctl_send(s->slot, line, len, SEND_TIMEOUT_MS, err, errlen);
    pthread_mutex_unlock(&s->slot_mu);
    return rc;
}

/* Steals j and returns its compact text plus '\n' (malloc'd), or NULL. */
static char *json_line(json_t *j, size_t *len)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

/* Sends a stdin frame for x with data (text when it is UTF-8, else
 * base64), or stdin_close when data is NULL; stdin_mu held. */
static int send_stdin(session_exec *x, const char *data, size_t len, char *err, size_t errlen)
{
    json_t *j = json_pack("{s:s, s:I}", "type", data ? "stdin" : "stdin_close", "id",
                          (json_int_t)x->r.execution_count);
    if (j && data) {
        const char *key = "data";
        json_t *text = json_stringn(data, len);
        if (!text) { /* not UTF-8, or a character cut at the chunk's end */
            _cleanup_free_ char *b64 = codec_base64_encode(data, len, NULL);
            key = "data_base64";
            text = b64 ? json_string(b64) : NULL;
        }
        if (json_object_set_new(j, key, text) < 0) {
            json_decref(j);
            j = NULL;
        }
    }
    size_t n;
    _cleanup_free_ char *line = json_line(j, &n);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return ctl_send(x->s, line, n, err, errlen);
}

/* Sends x's frame (m->mu held on entry and on return; dropped meanwhile),
 * then the live stdin that came before it. */
static void send_frame(session_mgr *m, session *s, session_exec *x)
{
    char *frame = x->frame;
    size_t len = x->frame_len;
    x->frame = NULL;
    x->sent = true;
    atomic_fetch_add(&x->refs, 1);
    pthread_mutex_unlock(&m->mu);
    char err[256];
    pthread_mutex_lock(&x->stdin_mu);
    int rc = ctl_send(s, frame, len, err, sizeof err);
    free(frame);
    if (rc == 0 && x->stdin_early.len)
        rc = send_stdin(x, x->stdin_early.data, x->stdin_early.len, err, sizeof err);
    if (rc == 0 && x->stdin_live && x->stdin_closed)
        rc = send_stdin(x, NULL, 0, err, sizeof err);
    bytebuf_free(&x->stdin_early);
    x->on_wire = true;
    pthread_mutex_unlock(&x->stdin_mu);
    pthread_mutex_lock(&m->mu);
    /* The deadline counts from when the driver got the cell. */
    if (s->cur == x && x->deadline_ms)
        x->deadline_ms = now_ms() + x->limits.wall_ms;
    if (rc < 0)
        end_locked(s, "internal_error", "could not send the cell to the session's driver: %s", err);
    pthread_mutex_unlock(&m->mu);
    session_exec_unref(x);
    pthread_mutex_lock(&m->mu);
}

/* One pass over the table; returns when the manager should look again. */
static uint64_t sweep(session_mgr *m)
{
again:;
    uint64_t now = now_ms(), next = now + 1000;
    session *prev = NULL;
    for (session *s = m->head; s;) {
        session *nxt = s->next;
        if (s->state == SESSION_STATE_ENDED) {
            if (s->thread_done && !s->joined) {
                s->joined = true;
                pthread_join(s->thread, NULL); /* it has returned or is about to */
            }
            bool old = now - s->ended_ms > SESSION_TOMBSTONE_MS || m->ntomb > SESSION_TOMBSTONES;
            if (s->joined && old) {
                if (prev)
                    prev->next = nxt;
                else
                    m->head = nxt;
                if (m->tail == s)
                    m->tail = prev;
                m->ntomb--;
                session_unref(s);
                s = nxt;
                continue;
            }
            prev = s;
            s = nxt;
            continue;
        }
        session_exec *x = s->cur;
        if (x && !x->sent && !s->end_requested) {
            send_frame(m, s, x);
            goto again; /* the table may have changed while unlocked */
        }
        if (s->end_requested) {
            if (now - s->last_cancel_ms >= CANCEL_REPEAT_MS) {
                s->last_cancel_ms = now;
                pthread_mutex_lock(&s->slot_mu);
                if (s->slot)
                    box_cancel(s->slot);
                pthread_mutex_unlock(&s->slot_mu);
            }
            if (now + CANCEL_REPEAT_MS < next)
                next = now + CANCEL_REPEAT_MS;
        } else if (x && x->sent) {
            if (!x->interrupted && now >= x->deadline_ms) {
                x->interrupted = true;
                x->kill_ms = now + m->cfg.grace_ms;
                pthread_mutex_lock(&s->slot_mu);
                if (s->slot)
                    box_interrupt(s->slot);
                pthread_mutex_unlock(&s->slot_mu);
            } else if (x->interrupted && now >= x->kill_ms) {
                end_locked(s, "timeout",
                           "the execution exceeded its time limit of %llu ms and did not stop "
                           "within %llu ms of the interrupt",
                           (unsigned long long)x->limits.wall_ms,
                           (unsigned long long)m->cfg.grace_ms);
            }
            uint64_t t = x->interrupted ? x->kill_ms : x->deadline_ms;
            if (t < next)
                next = t;
        } else if (s->state == SESSION_STATE_READY) {
            if (now >= s->last_used_ms + s->idle_ms)
                end_locked(s, "expired", "the session was idle for %llu s",
                           (unsigned long long)(s->idle_ms / 1000));
            else if (s->last_used_ms + s->idle_ms < next)
                next = s->last_used_ms + s->idle_ms;
        } else if (s->state == SESSION_STATE_STARTING &&
                   now >= s->created_ms + SESSION_START_TIMEOUT_MS) {
            end_locked(s, "internal_error", "the session's driver did not start within %d ms",
                       SESSION_START_TIMEOUT_MS);
        }
        if (!s->end_requested && now >= s->end_ms)
            end_locked(s, "lifetime", "the session reached its maximum lifetime of %llu s",
                       (unsigned long long)(m->cfg.lifetime_ms / 1000));
        else if (!s->end_requested && s->end_ms < next)
            next = s->end_ms;
        prev = s;
        s = nxt;
    }
    return next;
}

static void *manager_main(void *arg)
{
    session_mgr *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stopping) {
        uint64_t next = sweep(m);
        uint64_t now = now_ms();
        if (next <= now)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (next - now) * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&m->wake, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- public ---- */

int session_mgr_start(box_pool *pool, const session_config *cfg, session_mgr **out, char *err,
                      size_t errlen)
{
    session_mgr *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->pool = pool;
    if (cfg)
        m->cfg = *cfg;
    if (!m->cfg.max_sessions)
        m->cfg.max_sessions = SESSION_DEFAULT_MAX;
    if (!m->cfg.idle_ms)
        m->cfg.idle_ms = SESSION_DEFAULT_IDLE_MS;
    if (!m->cfg.lifetime_ms)
        m->cfg.lifetime_ms = SESSION_DEFAULT_LIFETIME_MS;
    if (!m->cfg.max_idle_ms)
        m->cfg.max_idle_ms = m->cfg.lifetime_ms;
    if (!m->cfg.grace_ms)
        m->cfg.grace_ms = SESSION_DEFAULT_GRACE_MS;
    if (!m->cfg.acquire_timeout_ms)
        m->cfg.acquire_timeout_ms = 5000;
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &ca);
    pthread_cond_init(&m->ended, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&m->manager, NULL, manager_main, m);
    if (rc != 0) {
        snprintf(err, errlen, "starting the session manager: %s", strerror(rc));
        pthread_cond_destroy(&m->wake);
        pthread_cond_destroy(&m->ended);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return -1;
    }
    m->manager_started = true;
    *out = m;
    return 0;
}

void session_mgr_close(session_mgr *m)
{
    pthread_mutex_lock(&m->mu);
    m->closed = true;
    for (session *s = m->head; s; s = s->next)
        end_locked(s, "shutdown", "the server is shutting down");
    for (;;) {
        bool running = false;
        for (session *s = m->head; s; s = s->next)
            running |= s->thread_started && !s->thread_done;
        if (!running)
            break;
        pthread_cond_wait(&m->ended, &m->mu);
    }
    pthread_mutex_unlock(&m->mu);
}

void session_mgr_stop(session_mgr *m)
{
    if (!m)
        return;
    session_mgr_close(m);
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->mu);
    if (m->manager_started)
        pthread_join(m->manager, NULL);
    for (session *s = m->head, *nxt; s; s = nxt) {
        nxt = s->next;
        if (s->thread_started && !s->joined)
            pthread_join(s->thread, NULL);
        session_unref(s);
    }
    pthread_cond_destroy(&m->wake);
    pthread_cond_destroy(&m->ended);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void session_counts(session_mgr *m, size_t *live, size_t *max)
{
    pthread_mutex_lock(&m->mu);
    *live = m->nlive;
    *max = m->cfg.max_sessions;
    pthread_mutex_unlock(&m->mu);
}

session_error session_create(session_mgr *m, const runtime *rt, const box_limits *limits,
                             uint64_t idle_ms, const run_observer *obs, session **out)
{
    if (!rt->session)
        return SESSION_UNSUPPORTED;
    session *s = calloc(1, sizeof *s);
    if (!s)
        return SESSION_NOMEM;
    atomic_init(&s->refs, 2); /* the table's and the caller's */
    s->m = m;
    s->rt = rt;
    make_id(s->id);
    /* Memory, processes and CPU are the whole session's; wall_ms is each
     * execution's default time limit. CPU defaults to the server's cap. */
    const box_limits *max = box_pool_max(m->pool);
    box_limits req = limits ? *limits : (box_limits){0};
    run_effective_limits(&s->limits, false, &rt->run_limits, &req, max);
    if (!req.cpu_ms)
        s->limits.cpu_ms = max->cpu_ms;
    s->idle_ms = idle_ms ? idle_ms : m->cfg.idle_ms;
    if (s->idle_ms > m->cfg.max_idle_ms)
        s->idle_ms = m->cfg.max_idle_ms;
    s->created_ms = s->last_used_ms = now_ms();
    s->created_at = unix_ms();
    s->end_ms = s->created_ms + m->cfg.lifetime_ms;
    s->slot_index = -1;
    if (obs)
        s->obs = *obs;
    pthread_mutex_init(&s->slot_mu, NULL);
    pthread_mutex_init(&s->obs_mu, NULL);

    pthread_mutex_lock(&m->mu);
    session_error e = m->closed                         ? SESSION_CLOSED
                      : m->nlive >= m->cfg.max_sessions ? SESSION_FULL
                                                        : SESSION_OK;
    if (e != SESSION_OK) {
        pthread_mutex_unlock(&m->mu);
        session_free(s);
        return e;
    }
    m->nlive++;
    if (m->tail)
        m->tail->next = s;
    else
        m->head = s;
    m->tail = s;
    *out = s; /* before any callback can run */
    int rc = pthread_create(&s->thread, NULL, session_main, s);
    if (rc != 0) {
        m->nlive--;
        m->ntomb++;
        s->state = SESSION_STATE_ENDED;
        s->ended_ms = now_ms();
        s->thread_done = s->joined = true;
        snprintf(s->status, sizeof s->status, "internal_error");
        snprintf(s->message, sizeof s->message, "cannot start the session thread: %s",
                 strerror(rc));
    } else {
        s->thread_started = true;
    }
    pthread_mutex_unlock(&m->mu);
    if (rc != 0)
        notify_created(s);
    return SESSION_OK;
}

/* Fills *info from s; m->mu held. */
static void info_locked(session *s, session_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->id, sizeof info->id, "%s", s->id);
    snprintf(info->language, sizeof info->language, "%s", s->rt->name);
    static const char *const names[] = {"starting", "ready", "busy", "ended"};
    info->state = s->state;
    if (s->state == SESSION_STATE_ENDED) {
        snprintf(info->status, sizeof info->status, "%s", s->status);
        snprintf(info->message, sizeof info->message, "%s", s->message);
    } else {
        snprintf(info->status, sizeof info->status, "%s", names[s->state]);
    }
    uint64_t now = now_ms(), un = unix_ms();
    info->created_at = s->created_at;
    info->last_used_at = un - (now - s->last_used_ms);
    uint64_t end = s->last_used_ms + s->idle_ms;
    if (s->state == SESSION_STATE_BUSY || end > s->end_ms)
        end = s->end_ms; /* a running cell does not expire; the lifetime still holds */
    info->expires_at = s->state == SESSION_STATE_ENDED ? 0 : un + (end > now ? end - now : 0);
    info->idle_timeout_ms = s->idle_ms;
    info->executions = s->executions;
    info->slot = s->slot_index;
    info->limits = s->limits;
}

void session_get_info(session *s, session_info *info)
{
    pthread_mutex_lock(&s->m->mu);
    info_locked(s, info);
    pthread_mutex_unlock(&s->m->mu);
}

static session *find_locked(session_mgr *m, const char *id)
{
    for (session *s = m->head; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

session_error session_lookup(session_mgr *m, const char *id, session_info *info)
{
    pthread_mutex_lock(&m->mu);
    session *s = find_locked(m, id);
    if (s)
        info_locked(s, info);
    pthread_mutex_unlock(&m->mu);
    if (!s)
        return SESSION_NOT_FOUND;
    return info->state == SESSION_STATE_ENDED ? SESSION_GONE : SESSION_OK;
}

session_info *session_list(session_mgr *m, size_t *n)
{
    pthread_mutex_lock(&m->mu);
    session_info *v = calloc(m->nlive + 1, sizeof *v);
    size_t k = 0;
    for (session *s = m->head; v && s; s = s->next)
        if (s->state != SESSION_STATE_ENDED && k < m->nlive)
            info_locked(s, &v[k++]);
    pthread_mutex_unlock(&m->mu);
    *n = k;
    return v;
}

session_error session_delete(session_mgr *m, const char *id, char *why, size_t whylen)
{
    pthread_mutex_lock(&m->mu);
    session *s = find_locked(m, id);
    session_error e = !s                                ? SESSION_NOT_FOUND
                      : s->state == SESSION_STATE_ENDED ? SESSION_GONE
                                                        : SESSION_OK;
    if (e == SESSION_GONE)
        snprintf(why, whylen, "%s: %s", s->status, s->message);
    else if (e == SESSION_OK)
        end_locked(s, "deleted", "the session was deleted");
    pthread_mutex_unlock(&m->mu);
    return e;
}

session_error session_interrupt(session_mgr *m, const char *id, bool *interrupted, char *why,
                                size_t whylen)
{
    *interrupted = false;
    pthread_mutex_lock(&m->mu);
    session *s = find_locked(m, id);
    session_error e = !s                                ? SESSION_NOT_FOUND
                      : s->state == SESSION_STATE_ENDED ? SESSION_GONE
                                                        : SESSION_OK;
    if (e == SESSION_GONE)
        snprintf(why, whylen, "%s: %s", s->status, s->message);
    else if (e == SESSION_OK && s->cur && s->cur->sent) {
        pthread_mutex_lock(&s->slot_mu);
        if (s->slot && box_interrupt(s->slot) == 0)
            *interrupted = true;
        pthread_mutex_unlock(&s->slot_mu);
    }
    pthread_mutex_unlock(&m->mu);
    return e;
}

/* Builds the exec line for the driver. */
static char *exec_frame(uint64_t n, const char *code, size_t code_len, const char *stdin_data,
                        size_t stdin_len, bool live, uint64_t timeout_ms, size_t *len)
{
    json_t *j = json_pack("{s:s, s:I, s:s%, s:s%, s:b, s:I}", "type", "exec", "id", (json_int_t)n,
                          "code", code ? code : "", code ? code_len : 0, "stdin",
                          stdin_data ? stdin_data : "", stdin_data ? stdin_len : 0, "stdin_live",
                          live, "timeout_ms", (json_int_t)timeout_ms);
    return json_line(j, len);
}

session_error session_execute(session_mgr *m, const char *id, const char *code, size_t code_len,
                              const char *stdin_data, size_t stdin_len, bool live_stdin,
                              uint64_t timeout_ms, const run_observer *obs, session_exec **out,
                              char *why, size_t whylen)
{
    session_exec *x = calloc(1, sizeof *x);
    if (!x)
        return SESSION_NOMEM;
    atomic_init(&x->refs, 2); /* the session's and the caller's */
    pthread_mutex_init(&x->obs_mu, NULL);
    pthread_mutex_init(&x->stdin_mu, NULL);
    if (obs)
        x->obs = *obs;

    pthread_mutex_lock(&m->mu);
    session *s = find_locked(m, id);
    session_error e = m->closed                            ? SESSION_CLOSED
                      : !s                                 ? SESSION_NOT_FOUND
                      : s->state == SESSION_STATE_ENDED    ? SESSION_GONE
                      : s->end_requested                   ? SESSION_GONE
                      : s->state == SESSION_STATE_STARTING ? SESSION_STARTING
                      : s->cur                             ? SESSION_BUSY
                                                           : SESSION_OK;
    if (e == SESSION_GONE)
        snprintf(why, whylen, "%s: %s", s->status, s->message);
    else if (e == SESSION_BUSY)
        snprintf(why, whylen, "execution %llu is still running in this session",
                 (unsigned long long)s->cur->r.execution_count);
    if (e != SESSION_OK) {
        pthread_mutex_unlock(&m->mu);
        pthread_mutex_destroy(&x->stdin_mu);
        pthread_mutex_destroy(&x->obs_mu);
        free(x);
        return e;
    }
    const box_limits *max = box_pool_max(m->pool);
    x->limits = s->limits;
    if (timeout_ms)
        x->limits.wall_ms = timeout_ms < max->wall_ms ? timeout_ms : max->wall_ms;
    x->cap = x->limits.output_bytes;
    uint64_t n = s->executions + 1;
    /* Built under the lock: n must match the table; the copy is one pass. */
    x->stdin_live = live_stdin && s->rt->session->live_stdin;
    x->frame = exec_frame(n, code, code_len, stdin_data, stdin_len, x->stdin_live,
                          x->limits.wall_ms, &x->frame_len);
    if (!x->frame) {
        pthread_mutex_unlock(&m->mu);
        pthread_mutex_destroy(&x->stdin_mu);
        pthread_mutex_destroy(&x->obs_mu);
        free(x);
        return SESSION_NOMEM;
    }
    s->executions = n;
    x->r.execution_count = n;
    atomic_fetch_add(&s->refs, 1);
    x->s = s;
    x->start_ms = now_ms();
    x->deadline_ms = x->start_ms + x->limits.wall_ms;
    s->cur = x;
    s->state = SESSION_STATE_BUSY;
    *out = x; /* before the manager can send it and the driver answer */
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->mu);
    return SESSION_OK;
}

/* Whether x is its session's running execution, and the session not ending. */
static bool exec_running(session_exec *x)
{
    session_mgr *m = x->s->m;
    pthread_mutex_lock(&m->mu);
    bool running = x->s->cur == x && !x->s->end_requested;
    pthread_mutex_unlock(&m->mu);
    return running;
}

/* Sends stdin (or its close, data NULL) once the exec frame is out, else
 * keeps it for send_frame; stdin_mu held. A driver that does not take it
 * is broken: the session ends. */
static int stdin_out(session_exec *x, const char *data, size_t len)
{
    if (!x->on_wire)
        return data && bytebuf_append(&x->stdin_early, data, len) < 0 ? -1 : 0;
    char err[256];
    if (send_stdin(x, data, len, err, sizeof err) == 0)
        return 0;
    pthread_mutex_lock(&x->s->m->mu);
    end_locked(x->s, "internal_error", "could not send stdin to the session's driver: %s", err);
    pthread_mutex_unlock(&x->s->m->mu);
    return -1;
}

session_error session_exec_stdin(session_exec *x, const char *data, size_t len, char *why,
                                 size_t whylen)
{
    if (!x->s->rt->session->live_stdin) {
        snprintf(why, whylen,
                 "the %s session driver takes no live stdin: a cell's stdin comes whole with its "
                 "execute message",
                 x->s->rt->name);
        return SESSION_UNSUPPORTED;
    }
    session_error e = SESSION_OK;
    pthread_mutex_lock(&x->stdin_mu);
    if (!x->stdin_live || x->stdin_closed || !exec_running(x)) {
        snprintf(why, whylen, "execution %llu reads no more stdin",
                 (unsigned long long)x->r.execution_count);
        e = SESSION_NO_STDIN;
    } else {
        size_t room = SESSION_STDIN_MAX - x->stdin_total, n = len < room ? len : room;
        x->stdin_total += n;
        if (n && stdin_out(x, data, n) < 0) {
            snprintf(why, whylen, "the session's driver could not take stdin");
            e = SESSION_NO_STDIN;
        } else if (n < len) {
            snprintf(why, whylen,
                     "an execution takes at most %u bytes of live stdin; %zu bytes were dropped",
                     SESSION_STDIN_MAX, len - n);
            e = SESSION_STDIN_LIMIT;
        }
    }
    pthread_mutex_unlock(&x->stdin_mu);
    return e;
}

void session_exec_stdin_close(session_exec *x)
{
    pthread_mutex_lock(&x->stdin_mu);
    if (x->stdin_live && !x->stdin_closed) {
        x->stdin_closed = true; /* before the exec frame: send_frame sends it after */
        if (exec_running(x))
            stdin_out(x, NULL, 0);
    }
    pthread_mutex_unlock(&x->stdin_mu);
}

/* forward.c — one run sent whole to a container-api node (see remote.h).
 *
 * The run goes as POST /api/repl/execute/stream (or /api/containers/
 * create/stream) whatever the client asked for: the executor's events are
 * the run's output as it happens, its "result" event fills the result, and
 * closing the connection is how a cancel reaches the executor. The
 * executor sends the stream's headers when the run has a box, so "started"
 * means the 200 arrived: before it, a failure is safe to retry elsewhere. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"
#include "remote/internal.h"
#include "sse/sse.h"

#define MAX_ERROR_BODY 65536
#define REMOTE_BUSY_RETRIES 20

/* ---- request ---- */

static json_t *limits_json(const box_limits *l)
{
    json_t *o = json_object();
    if (l->wall_ms)
        json_object_set_new(o, "wall_ms", json_integer((json_int_t)l->wall_ms));
    if (l->cpu_ms)
        json_object_set_new(o, "cpu_ms", json_integer((json_int_t)l->cpu_ms));
    if (l->memory_bytes)
        json_object_set_new(o, "memory_mb", json_integer((json_int_t)(l->memory_bytes >> 20)));
    if (l->processes)
        json_object_set_new(o, "processes", json_integer((json_int_t)l->processes));
    if (l->output_bytes)
        json_object_set_new(o, "output_bytes", json_integer((json_int_t)l->output_bytes));
    return o;
}

static json_t *strv_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *remote_request_json(const run_request *req, bool container)
{
    _cleanup_json_ json_t *o = json_object();
    if (!o)
        return NULL;
    if (container) {
        json_object_set_new(o, "image", json_string(req->rt->name));
        json_object_set_new(o, "command", strv_json(req->command));
    } else {
        /* Code and stdin came in as JSON strings, so they are UTF-8. */
        json_t *code = json_stringn(req->code ? req->code : "", req->code_len);
        if (!code)
            return NULL;
        json_object_set_new(o, "language", json_string(req->rt->name));
        json_object_set_new(o, "code", code);
        if (req->args)
            json_object_set_new(o, "args", strv_json(req->args));
        if (req->nfiles) {
            json_t *files = json_array();
            for (size_t i = 0; i < req->nfiles; i++) {
                _cleanup_free_ char *b64 =
                    codec_base64_encode(req->files[i].data, req->files[i].len, NULL);
                if (!b64)
                    return NULL;
                json_array_append_new(files,
                                      json_pack("{s:s, s:s, s:s}", "name", req->files[i].name,
                                                "content", b64, "encoding", "base64"));
            }
            json_object_set_new(o, "files", files);
        }
    }
    if (req->stdin_data) {
        json_t *in = json_stringn(req->stdin_data, req->stdin_len);
        if (!in)
            return NULL;
        json_object_set_new(o, "stdin", in);
    }
    json_t *lim = limits_json(&req->limits);
    if (json_object_size(lim))
        json_object_set_new(o, "limits", lim);
    else
        json_decref(lim);
    return steal_pointer(&o);
}

/* ---- result ---- */

static const char *const statuses[] = {
    "ok",           "runtime_error", "compile_error", "signaled",       "timeout",
    "memory_limit", "output_limit",  "cancelled",     "internal_error", "executor_lost",
};

/* Returns the static name equal to s, or "internal_error". */
static const char *static_status(const char *s)
{
    for (size_t i = 0; s && i < sizeof statuses / sizeof *statuses; i++)
        if (strcmp(statuses[i], s) == 0)
            return statuses[i];
    return "internal_error";
}

static box_status box_status_of(const char *s)
{
    for (int st = BOX_OK; st <= BOX_INTERNAL_ERROR; st++)
        if (s && strcmp(box_status_name((box_status)st), s) == 0)
            return (box_status)st;
    return BOX_INTERNAL_ERROR;
}

static int signal_of(const char *name)
{
    for (int sig = 1; name && sig < 65; sig++)
        if (strcmp(box_signal_name(sig), name) == 0)
            return sig;
    return 0;
}

static uint64_t u64_of(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

/* Reads o[key] (or its exact twin o[key_base64]) into *out. */
static void bytes_of(json_t *o, const char *key, bytebuf *out)
{
    char k64[64];
    snprintf(k64, sizeof k64, "%s_base64", key);
    const char *b64 = json_string_value(json_object_get(o, k64));
    if (b64) {
        unsigned char *d;
        size_t n;
        if (codec_base64_decode(b64, strlen(b64), &d, &n) == 0) {
            bytebuf_append(out, d, n);
            free(d);
            return;
        }
    }
    json_t *s = json_object_get(o, key);
    if (json_is_string(s))
        bytebuf_append(out, json_string_value(s), json_string_length(s));
}

static void buf_from(box_buf *b, bytebuf *src)
{
    free(b->data);
    b->data = bytebuf_steal(src, &b->len);
}

static void limits_of(json_t *o, box_limits *l)
{
    l->wall_ms = u64_of(o, "wall_ms");
    l->cpu_ms = u64_of(o, "cpu_ms");
    l->memory_bytes = u64_of(o, "memory_mb") << 20;
    l->processes = u64_of(o, "processes");
    l->output_bytes = u64_of(o, "output_bytes");
}

/* Fills a step's box result from {exit_code, signal, truncated, stats}. */
static void step_of(json_t *o, run_step *st)
{
    json_t *ec = json_object_get(o, "exit_code");
    st->box.exit_code = json_is_integer(ec) ? (int)json_integer_value(ec) : -1;
    st->box.signal = signal_of(json_string_value(json_object_get(o, "signal")));
    st->box.out.truncated = json_is_true(json_object_get(o, "truncated"));
    json_t *stats = json_object_get(o, "stats");
    st->box.wall_ms = u64_of(stats, "wall_ms");
    st->box.cpu_ms = u64_of(stats, "cpu_ms");
    st->box.memory_bytes = u64_of(stats, "memory_bytes");
    limits_of(json_object_get(o, "limits"), &st->limits);
}

int remote_result_parse(json_t *j, run_result *res)
{
    const char *status = json_string_value(json_object_get(j, "status"));
    if (!json_is_object(j) || !status)
        return -1;
    res->status = static_status(status);
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (msg && strcmp(res->status, "ok") != 0 && strcmp(res->status, "runtime_error") != 0)
        snprintf(res->message, sizeof res->message, "%s", msg);
    res->queue_ms += u64_of(json_object_get(j, "stats"), "queue_ms");
    if (json_object_get(j, "limits")) {
        res->ran = true;
        step_of(j, &res->exec);
        res->exec.box.status = box_status_of(res->status);
    }
    json_t *c = json_object_get(j, "compile");
    if (json_is_object(c)) {
        res->compiled = true;
        step_of(c, &res->compile);
        res->compile.box.status = box_status_of(json_string_value(json_object_get(c, "status")));
        bytebuf b = {0};
        bytes_of(c, "output", &b);
        bytebuf_free(&res->compile.all);
        res->compile.all = b;
        memset(&b, 0, sizeof b);
        bytes_of(c, "stdout", &b);
        buf_from(&res->compile.box.out, &b);
        bytes_of(c, "stderr", &b);
        buf_from(&res->compile.box.err, &b);
    }
    return 0;
}

/* ---- one attempt ---- */

typedef struct attempt {
    run *r;
    remote *rm;
    long status;     /* the final response's status; 0 before it */
    bool started;    /* a 200 came: the run has a box there */
    bytebuf errbody; /* a non-200 answer's body */
    sse_parser parser;
    bytebuf out, err, all; /* the run step's output so far */
    uint64_t keep;         /* at most this much output is kept */
    json_t *result;
    bool done;
    char stream_error[256];
    uint64_t begin_ms, last_byte_ms;
    bool silent, slow_start;
    const picked *to;       /* the executor it went to */
    uint64_t last_check_ms; /* when the view was last asked about it */
    bool left;              /* it left the registry before starting the run */
} attempt;

static void keep_output(attempt *a, box_stream stream, const char *data, size_t len)
{
    size_t room = a->all.len < a->keep ? (size_t)(a->keep - a->all.len) : 0;
    size_t n = len < room ? len : room;
    bytebuf_append(&a->all, data, n);
    bytebuf_append(stream == BOX_STDERR ? &a->err : &a->out, data, n);
    run_exec_output(a->r, stream, data, len);
}

static void on_event(void *ctx, const char *event, const char *id, const char *data, size_t len)
{
    (void)id;
    attempt *a = ctx;
    if (strcmp(event, "stdout") == 0 || strcmp(event, "stderr") == 0) {
        keep_output(a, event[3] == 'e' ? BOX_STDERR : BOX_STDOUT, data, len);
    } else if (strcmp(event, "stdout_base64") == 0 || strcmp(event, "stderr_base64") == 0) {
        unsigned char *d;
        size_t n;
        if (codec_base64_decode(data, len, &d, &n) == 0) {
            keep_output(a, event[3] == 'e' ? BOX_STDERR : BOX_STDOUT, (const char *)d, n);
            free(d);
        }
    } else if (strcmp(event, "result") == 0) {
        json_error_t je;
        json_decref(a->result);
        a->result = json_loadb(data, len, 0, &je);
    } else if (strcmp(event, "done") == 0) {
        a->done = true;
    } else if (strcmp(event, "error") == 0) {
        snprintf(a->stream_error, sizeof a->stream_error, "%.*s", (int)(len < 200 ? len : 200),
                 data);
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    attempt *a = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    } else if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
        /* The end of a header block: 1xx blocks are interim. */
        if (a->status == 200 && !a->started) {
            a->started = true;
            run_exec_start(a->r);
        }
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    attempt *a = ctx;
    size_t n = size * nmemb;
    a->last_byte_ms = remote_now_ms();
    if (!a->started) {
        size_t room = a->errbody.len < MAX_ERROR_BODY ? MAX_ERROR_BODY - a->errbody.len : 0;
        bytebuf_append(&a->errbody, data, n < room ? n : room);
        return n;
    }
    if (sse_parser_feed(&a->parser, data, n, on_event, a) < 0)
        return 0;
    return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    attempt *a = ctx;
    if (run_exec_cancelled(a->r))
        return 1;
    uint64_t now = remote_now_ms();
    /* The executor sends a comment every second on a stream: silence
     * means it is gone without a reset (a partition, a frozen host). */
    if (a->started && now - a->last_byte_ms > a->rm->cfg.silence_ms) {
        a->silent = true;
        return 1;
    }
    if (!a->started && now - a->begin_ms > a->rm->cfg.start_timeout_ms) {
        a->slow_start = true;
        return 1;
    }
    /* A frozen executor still accepts connections (the kernel does) but
     * never answers; once its lease has expired it is out of the view, and
     * a run it never started can go elsewhere instead of waiting out
     * start_timeout_ms. */
    if (!a->started && now - a->last_check_ms >= 500) {
        a->last_check_ms = now;
        char url[REMOTE_MAX_URL];
        if (remote_lookup(a->rm, a->to->id, url) < 0) {
            a->left = true;
            return 1;
        }
    }
    return 0;
}

static void attempt_free(attempt *a)
{
    bytebuf_free(&a->errbody);
    sse_parser_free(&a->parser);
    bytebuf_free(&a->out);
    bytebuf_free(&a->err);
    bytebuf_free(&a->all);
    json_decref(a->result);
}

/* Each worker keeps one handle, so its connections to executors stay open
 * between runs (a new TCP connection per run costs more than the hop's
 * whole budget); the key's destructor frees it when the worker ends. */
static pthread_key_t curl_key;
static pthread_once_t curl_key_once = PTHREAD_ONCE_INIT;

static void curl_key_free(void *h)
{
    curl_easy_cleanup(h);
}

static void curl_key_make(void)
{
    pthread_key_create(&curl_key, curl_key_free);
}

static CURL *worker_curl(void)
{
    pthread_once(&curl_key_once, curl_key_make);
    CURL *h = pthread_getspecific(curl_key);
    if (!h && (h = curl_easy_init()))
        pthread_setspecific(curl_key, h);
    return h;
}

/* Sends body to p; returns the curl code, fills *a. */
static CURLcode send_run(attempt *a, const picked *p, const char *path, const char *body)
{
    CURL *h = worker_curl();
    if (!h)
        return CURLE_FAILED_INIT;
    curl_easy_reset(h);
    char url[REMOTE_MAX_URL + 64];
    snprintf(url, sizeof url, "%s%s", p->url, path);
    /* No "Expect: 100-continue": it costs a round trip on every large body. */
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    a->begin_ms = a->last_byte_ms = a->last_check_ms = remote_now_ms();
    a->to = p;
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    return cc;
}

/* Writes an executor's error answer as a sentence. */
static void describe_refusal(const attempt *a, const picked *p, CURLcode cc, char *msg, size_t len)
{
    if (cc != CURLE_OK && cc != CURLE_WRITE_ERROR) {
        snprintf(msg, len, "executor %s: %s", p->url, curl_easy_strerror(cc));
        return;
    }
    json_error_t je;
    _cleanup_json_ json_t *j =
        a->errbody.data ? json_loadb(a->errbody.data, a->errbody.len, 0, &je) : NULL;
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(msg, len, "executor %s answered %ld: %s", p->url, a->status, m ? m : "(no message)");
}

void remote_execute(void *ctx, run *r)
{
    remote *rm = ctx;
    run_result *res = run_exec_result(r);
    const run_request *req = run_exec_request(r);
    bool container = run_exec_container(r);
    _cleanup_json_ json_t *body = remote_request_json(req, container);
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!text) {
        res->status = "internal_error";
        snprintf(res->message, sizeof res->message, "out of memory");
        return;
    }
    const char *path = container ? "/api/containers/create/stream" : "/api/repl/execute/stream";
    picked tried[8];
    size_t ntried = 0;
    char last[320] = "";
    bool busy = false;
    uint64_t deadline = remote_now_ms() + rm->cfg.start_timeout_ms;
    unsigned max = rm->cfg.max_attempts < 8 ? rm->cfg.max_attempts : 8;
    unsigned busy_retries = 0;
    while (ntried < max) {
        picked p;
        if (remote_pick(rm, req->rt->name, tried, ntried, r, deadline, &p) < 0)
            break;
        tried[ntried++] = p;
        attempt a = {.r = r, .rm = rm, .keep = box_limits_default().output_bytes};
        CURLcode cc = send_run(&a, &p, path, text);
        bool cancelled = run_exec_cancelled(r);
        /* A refused or failed connection means the executor is gone for
         * now: no more runs there until down_ms passes or it re-registers. */
        bool down = !a.started && !cancelled &&
                    (a.left || cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
                     cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
                     a.status == 503);
        remote_release(rm, &p, down);
        if (a.result && remote_result_parse(a.result, res) == 0) {
            buf_from(&res->exec.box.out, &a.out);
            buf_from(&res->exec.box.err, &a.err);
            bytebuf_free(&res->exec.all);
            res->exec.all = a.all;
            memset(&a.all, 0, sizeof a.all);
            attempt_free(&a);
            return;
        }
        if (cancelled) {
            res->status = "cancelled";
            snprintf(res->message, sizeof res->message, "cancelled");
            res->exec.all = a.all;
            memset(&a.all, 0, sizeof a.all);
            attempt_free(&a);
            return;
        }
        if (a.started) {
            /* It had a box there: it may have had effects, so it is not
             * run again. Whatever it printed stays in the answer. */
            res->status = "executor_lost";
            snprintf(res->message, sizeof res->message,
                     "the executor running this program was lost (%.120s: %.120s)", p.url,
                     a.silent            ? "silent for too long"
                     : a.stream_error[0] ? a.stream_error
                     : cc != CURLE_OK    ? curl_easy_strerror(cc)
                                         : "the stream ended without a result");
            buf_from(&res->exec.box.out, &a.out);
            buf_from(&res->exec.box.err, &a.err);
            res->exec.all = a.all;
            memset(&a.all, 0, sizeof a.all);
            attempt_free(&a);
            return;
        }
        if (a.left)
            snprintf(last, sizeof last, "executor %.200s left the registry before starting it",
                     p.url);
        else
            describe_refusal(&a, &p, a.slow_start ? CURLE_OPERATION_TIMEDOUT : cc, last,
                             sizeof last);
        busy = a.status == 429;
        attempt_free(&a);
        if (busy && busy_retries < REMOTE_BUSY_RETRIES && remote_now_ms() < deadline) {
            /* Full for a moment (other clients use it too): offer it again
             * after a pause, without counting an attempt. */
            busy_retries++;
            ntried--;
            struct timespec pause = {.tv_nsec = 50 * 1000000L};
            nanosleep(&pause, NULL);
        }
    }
    /* Never started anywhere: the HTTP layer answers 503, as for "no box". */
    if (run_exec_cancelled(r)) {
        res->status = "cancelled";
        snprintf(res->message, sizeof res->message, "cancelled");
        return;
    }
    res->status = "internal_error";
    res->no_box = true;
    if (!ntried)
        snprintf(res->message, sizeof res->message, "no executor serving %s is available",
                 req->rt->name);
    else
        snprintf(res->message, sizeof res->message, "%s%.280s",
                 busy ? "every executor is busy: " : "no executor could run it: ", last);
}

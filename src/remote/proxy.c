/* proxy.c — repl-api's sessions: each call forwarded to the executor that
 * holds the session (see remote.h). One thread per call in progress,
 * bounded by REMOTE_MAX_PROXIED: session calls wait on a program, and the
 * HTTP layer's threads must never block. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "remote/internal.h"

#define MAX_ANSWER (32u << 20)
#define SESSION_CALL_TIMEOUT_MS 600000L /* an execute waits for its program */

typedef struct pjob {
    remote *rm;
    char method[16];
    char *path;
    char *body;
    size_t len;
    remote_sink sink;
    void *ctx;
} pjob;

typedef struct answer {
    long status;
    char content_type[128];
    bytebuf body;
    const pjob *stream_to; /* set: a 200 event stream goes there as it comes */
    bool streaming;
    bool client_gone;
} answer;

static void reply(pjob *j, unsigned status, const char *ctype, bytebuf *b)
{
    j->sink.head(j->ctx, status, ctype);
    if (b->len)
        j->sink.data(j->ctx, b->data, b->len);
    bytebuf_free(b);
    j->sink.end(j->ctx, true);
}

static void reply_error(pjob *j, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_error(pjob *j, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    _cleanup_json_ json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    _cleanup_free_ char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    bytebuf b = {0};
    bytebuf_puts(&b, text ? text : "{}");
    reply(j, status, "application/json", &b);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    answer *a = ctx;
    size_t n = size * nmemb;
    if (a->streaming) {
        if (a->stream_to->sink.data(a->stream_to->ctx, data, n) < 0) {
            a->client_gone = true;
            return 0; /* closing the connection tells the executor */
        }
        return n;
    }
    if (a->body.len + n > MAX_ANSWER || bytebuf_append(&a->body, data, n) < 0)
        return 0;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    answer *a = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        a->content_type[0] = '\0';
    } else if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
        if (a->stream_to && a->status == 200 &&
            strncmp(a->content_type, "text/event-stream", 17) == 0) {
            a->streaming = true;
            a->stream_to->sink.head(a->stream_to->ctx, 200, a->content_type);
        }
    } else if (n > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
        size_t k = 13;
        while (k < n && data[k] == ' ')
            k++;
        size_t m = n - k;
        while (m && (data[k + m - 1] == '\r' || data[k + m - 1] == '\n'))
            m--;
        snprintf(a->content_type, sizeof a->content_type, "%.*s", (int)m, data + k);
    }
    return n;
}

/* One HTTP call; returns the curl code (CURLE_OK: *a holds the answer). */
static CURLcode call(const char *method, const char *url, const char *body, size_t len,
                     long timeout_ms, answer *a)
{
    CURL *h = curl_easy_init();
    if (!h)
        return CURLE_FAILED_INIT;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return cc;
}

/* Rewrites o.id and o.session_id from the executor's session id to
 * "{exid}~{sid}". */
static void rewrite_id(json_t *o, const char *exid)
{
    static const char *const keys[] = {"id", "session_id"};
    for (size_t i = 0; i < 2; i++) {
        const char *sid = json_string_value(json_object_get(o, keys[i]));
        if (!sid)
            continue;
        char buf[256];
        snprintf(buf, sizeof buf, "%s~%s", exid, sid);
        json_object_set_new(o, keys[i], json_string(buf));
    }
}

/* Passes an executor's answer on, with the session id made routable. */
static void relay(pjob *j, answer *a, const char *exid)
{
    bool json = strncmp(a->content_type, "application/json", 16) == 0;
    json_error_t je;
    _cleanup_json_ json_t *o =
        json && a->body.data ? json_loadb(a->body.data, a->body.len, 0, &je) : NULL;
    if (json_is_object(o) && a->status < 300) {
        rewrite_id(o, exid);
        _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
        if (text) {
            bytebuf_free(&a->body);
            bytebuf_puts(&a->body, text);
        }
    }
    reply(j, (unsigned)a->status, a->content_type[0] ? a->content_type : "application/json",
          &a->body);
}

static bool sid_ok(const char *s)
{
    if (!*s || strlen(s) > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static void create(pjob *j)
{
    remote *rm = j->rm;
    json_error_t je;
    _cleanup_json_ json_t *req = json_loadb(j->body, j->len, 0, &je);
    const char *lang = json_string_value(json_object_get(req, "language"));
    const runtime *rt = lang && rm->rts ? runtime_find(rm->rts, lang) : NULL;
    picked tried[8];
    size_t ntried = 0;
    char last[300] = "";
    uint64_t deadline = remote_now_ms() + 5000;
    while (ntried < rm->cfg.max_attempts && ntried < 8) {
        picked p;
        if (remote_pick(rm, rt ? rt->name : NULL, tried, ntried, NULL, deadline, &p) < 0)
            break;
        tried[ntried++] = p;
        char url[REMOTE_MAX_URL + 32];
        snprintf(url, sizeof url, "%s" REMOTE_SESSIONS_PREFIX, p.url);
        answer a = {0};
        CURLcode cc = call("POST", url, j->body, j->len, SESSION_CALL_TIMEOUT_MS, &a);
        bool unreachable = cc != CURLE_OK && a.status == 0;
        remote_release(rm, &p, unreachable);
        if (!unreachable) {
            relay(j, &a, p.id);
            return;
        }
        snprintf(last, sizeof last, "%s: %s", p.url, curl_easy_strerror(cc));
        bytebuf_free(&a.body);
    }
    reply_error(j, 503, "unavailable", "no executor could start a %s session%s%s",
                rt ? rt->name : "", last[0] ? ": " : "", last);
}

static void list(pjob *j)
{
    picked ex[REMOTE_MAX_EXECUTORS];
    size_t n = remote_snapshot(j->rm, ex, REMOTE_MAX_EXECUTORS);
    json_t *all = json_array();
    json_int_t count = 0;
    size_t answered = 0;
    for (size_t i = 0; i < n; i++) {
        char url[REMOTE_MAX_URL + 32];
        snprintf(url, sizeof url, "%s" REMOTE_SESSIONS_PREFIX, ex[i].url);
        answer a = {0};
        json_error_t je;
        if (call("GET", url, NULL, 0, 5000, &a) == CURLE_OK && a.status == 200) {
            _cleanup_json_ json_t *o =
                json_loadb(a.body.data ? a.body.data : "", a.body.len, 0, &je);
            json_t *s = json_object_get(o, "sessions");
            size_t k;
            json_t *v;
            json_array_foreach(s, k, v)
            {
                rewrite_id(v, ex[i].id);
                json_array_append(all, v);
            }
            count += json_integer_value(json_object_get(o, "count"));
            answered++;
        }
        bytebuf_free(&a.body);
    }
    _cleanup_json_ json_t *o =
        json_pack("{s:o, s:I, s:I, s:I}", "sessions", all, "count", count, "executors",
                  (json_int_t)n, "executors_answered", (json_int_t)answered);
    _cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    bytebuf b = {0};
    bytebuf_puts(&b, text ? text : "{}");
    reply(j, 200, "application/json", &b);
}

static void one(pjob *j, const char *rest)
{
    /* rest: "{exid}~{sid}" then "" or "/execute" or "/execute/stream" */
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *tail = slash ? slash : "";
    char cid[256];
    if (idlen == 0 || idlen >= sizeof cid) {
        reply_error(j, 404, "not_found", "no session has this id");
        return;
    }
    memcpy(cid, rest, idlen);
    cid[idlen] = '\0';
    char *tilde = strchr(cid, '~');
    if (!tilde || !sid_ok(tilde + 1) ||
        (strcmp(tail, "") != 0 && strcmp(tail, "/execute") != 0 &&
         strcmp(tail, "/execute/stream") != 0)) {
        reply_error(j, 404, "not_found", "no session has this id");
        return;
    }
    *tilde = '\0';
    const char *exid = cid, *sid = tilde + 1;
    char base[REMOTE_MAX_URL];
    if (remote_lookup(j->rm, exid, base) < 0) {
        reply_error(j, 410, "session_gone",
                    "the executor that held this session (%s) is gone, and the session with it",
                    exid);
        return;
    }
    char url[REMOTE_MAX_URL + 300];
    snprintf(url, sizeof url, "%s" REMOTE_SESSIONS_PREFIX "/%s%s", base, sid, tail);
    answer a = {0};
    if (strcmp(tail, "/execute/stream") == 0)
        a.stream_to = j;
    CURLcode cc = call(j->method, url, j->body, j->len, SESSION_CALL_TIMEOUT_MS, &a);
    if (a.streaming) {
        bool ok = cc == CURLE_OK;
        if (!ok && !a.client_gone) {
            /* The stream had begun: say why it ends instead of cutting it. */
            char ev[512];
            int n = snprintf(ev, sizeof ev,
                             "event: error\ndata: {\"error\":{\"code\":\"session_gone\","
                             "\"message\":\"the executor that held this session was lost "
                             "(%.200s)\"}}\n\n",
                             curl_easy_strerror(cc));
            ok = j->sink.data(j->ctx, ev, (size_t)n) == 0;
        }
        j->sink.end(j->ctx, ok);
        bytebuf_free(&a.body);
        return;
    }
    if (cc != CURLE_OK && a.status == 0) {
        picked p = {0};
        snprintf(p.id, sizeof p.id, "%.64s", exid);
        remote_release(j->rm, &p, true); /* (no run was counted: only marks it down) */
        reply_error(j, 410, "session_gone", "the executor that held this session is gone (%s: %s)",
                    base, curl_easy_strerror(cc));
        bytebuf_free(&a.body);
        return;
    }
    if (cc != CURLE_OK) {
        /* It answered and then broke off: the session's executor died mid-call. */
        reply_error(j, 410, "session_gone", "the executor that held this session was lost (%s: %s)",
                    base, curl_easy_strerror(cc));
        bytebuf_free(&a.body);
        return;
    }
    relay(j, &a, exid);
}

static void *proxy_main(void *arg)
{
    pjob *j = arg;
    const char *rest = j->path + strlen(REMOTE_SESSIONS_PREFIX);
    if (*rest == '\0') {
        if (strcmp(j->method, "POST") == 0)
            create(j);
        else if (strcmp(j->method, "GET") == 0)
            list(j);
        else
            reply_error(j, 405, "method_not_allowed", "%s is not allowed here", j->method);
    } else {
        one(j, rest + 1);
    }
    atomic_fetch_sub(&j->rm->proxy_threads, 1);
    free(j->path);
    free(j->body);
    free(j);
    return NULL;
}

void remote_proxy(remote *rm, const char *method, const char *path, const char *body, size_t len,
                  const remote_sink *sink, void *ctx)
{
    pjob *j = calloc(1, sizeof *j);
    if (j) {
        j->rm = rm;
        snprintf(j->method, sizeof j->method, "%s", method);
        j->path = strdup(path);
        j->body = malloc(len + 1);
        j->sink = *sink;
        j->ctx = ctx;
        if (j->body) {
            memcpy(j->body, body, len);
            j->body[len] = '\0';
            j->len = len;
        }
    }
    if (!j || !j->path || !j->body) {
        if (j) {
            free(j->path);
            free(j->body);
            free(j);
        }
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        sink->head(ctx, 500, "application/json");
        sink->data(ctx, oom, sizeof oom - 1);
        sink->end(ctx, true);
        return;
    }
    if (atomic_fetch_add(&rm->proxy_threads, 1) >= REMOTE_MAX_PROXIED) {
        atomic_fetch_sub(&rm->proxy_threads, 1);
        reply_error(j, 503, "unavailable", "too many session calls in progress; retry later");
        free(j->path);
        free(j->body);
        free(j);
        return;
    }
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &at, proxy_main, j);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        atomic_fetch_sub(&rm->proxy_threads, 1);
        reply_error(j, 503, "unavailable", "cannot start a thread: %s", strerror(rc));
        free(j->path);
        free(j->body);
        free(j);
    }
}

/* client.c — libcurl calls for the CLI (see client.h). */
#include "cli/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "common/json_cleanup.h"

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    bytebuf *b = userdata;
    return bytebuf_append(b, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

static void report_transport(const client *c, CURLcode rc, const char *detail)
{
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        fprintf(stderr,
                "xxx: cannot reach the xxx service at %s (%s).\n"
                "     Is xxxd running? Start it with `make run`, or point --api-url or "
                "XXX_API_URL at it.\n",
                c->base, detail[0] ? detail : curl_easy_strerror(rc));
    else
        fprintf(stderr, "xxx: talking to %s failed: %s\n", c->base,
                detail[0] ? detail : curl_easy_strerror(rc));
}

/* Sets up a handle for method base+path with body. */
static CURL *prepare(const client *c, const char *method, const char *path, const char *body,
                     struct curl_slist **headers, char *errbuf)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "xxx-cli/1");
    *headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    if (body) {
        *headers = curl_slist_append(*headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    return h;
}

typedef struct tick_ctx {
    void (*fn)(void *ctx);
    void *ctx;
} tick_ctx;

static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    tick_ctx *t = p;
    t->fn(t->ctx);
    return 0;
}

int client_call(const client *c, const char *method, const char *path, const char *body,
                long *status, bytebuf *answer)
{
    return client_call_watch(c, method, path, body, status, answer, NULL, NULL);
}

int client_call_watch(const client *c, const char *method, const char *path, const char *body,
                      long *status, bytebuf *answer, void (*tick)(void *ctx), void *ctx)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    CURL *h = prepare(c, method, path, body, &headers, errbuf);
    if (!h) {
        fprintf(stderr, "xxx: cannot start libcurl\n");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
    tick_ctx t = {tick, ctx};
    if (tick) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    else
        report_transport(c, rc, errbuf);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

typedef struct stream_ctx {
    CURL *h;
    sse_parser parser;
    sse_event_fn fn;
    void *ctx;
    bytebuf *answer;
    bool failed;
} stream_ctx;

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    stream_ctx *s = userdata;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return bytebuf_append(s->answer, ptr, n) < 0 ? 0 : n;
    if (sse_parser_feed(&s->parser, ptr, n, s->fn, s->ctx) < 0) {
        s->failed = true;
        return 0;
    }
    return n;
}

int client_stream(const client *c, const char *path, const char *body, sse_event_fn fn, void *ctx,
                  long *status, bytebuf *answer)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    CURL *h = prepare(c, "POST", path, body, &headers, errbuf);
    if (!h) {
        fprintf(stderr, "xxx: cannot start libcurl\n");
        return -1;
    }
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    stream_ctx s = {.h = h, .fn = fn, .ctx = ctx, .answer = answer};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    else if (s.failed)
        fprintf(stderr, "xxx: out of memory reading the stream\n");
    else
        report_transport(c, rc, errbuf);
    sse_parser_free(&s.parser);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

int client_report_error(const client *c, const char *path, long status, const bytebuf *answer)
{
    json_error_t jerr;
    _cleanup_json_ json_t *j = answer->len ? json_loadb(answer->data, answer->len, 0, &jerr) : NULL;
    json_t *e = j ? json_object_get(j, "error") : NULL;
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (code && msg) {
        fprintf(stderr, "xxx: %s%s answered %ld %s: %s\n", c->base, path, status, code, msg);
        if (status == 429)
            fprintf(stderr, "xxx: every slot is busy; try again in a moment\n");
    } else {
        fprintf(stderr, "xxx: %s%s answered %ld: %.300s\n", c->base, path, status,
                answer->data ? answer->data : "");
    }
    return CLI_EXIT_SERVICE;
}

json_t *client_parse(const bytebuf *answer)
{
    json_error_t jerr;
    json_t *j = json_loadb(answer->data ? answer->data : "", answer->len, JSON_ALLOW_NUL, &jerr);
    if (!j)
        fprintf(stderr, "xxx: the service answered something that is not JSON: %s\n", jerr.text);
    return j;
}

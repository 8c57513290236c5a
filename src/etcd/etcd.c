/* etcd.c — etcd v3 gateway calls over libcurl (see etcd.h). */
#include "etcd/etcd.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_MAX_ANSWER (16u << 20) /* a range of every service fits easily */

struct etcd {
    pthread_mutex_t mu;
    CURL *curl;
    char *urls[ETCD_MAX_ENDPOINTS];
    size_t nurls;
    size_t current; /* the endpoint that answered last */
    unsigned timeout_ms;
};

int etcd_open(const char *endpoints, unsigned timeout_ms, etcd **out, char *err, size_t errlen)
{
    etcd *c = calloc(1, sizeof *c);
    _cleanup_free_ char *copy = endpoints ? strdup(endpoints) : NULL;
    if (!c || !copy) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->timeout_ms = timeout_ms ? timeout_ms : 3000;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (c->nurls == ETCD_MAX_ENDPOINTS) {
            snprintf(err, errlen, "more than %d etcd endpoints", ETCD_MAX_ENDPOINTS);
            etcd_close(c);
            return -1;
        }
        bool scheme = strncmp(tok, "http://", 7) == 0 || strncmp(tok, "https://", 8) == 0;
        size_t n = strlen(tok);
        while (n > 0 && tok[n - 1] == '/')
            tok[--n] = '\0';
        if (asprintf(&c->urls[c->nurls], "%s%s", scheme ? "" : "http://", tok) < 0) {
            c->urls[c->nurls] = NULL;
            snprintf(err, errlen, "out of memory");
            etcd_close(c);
            return -1;
        }
        c->nurls++;
    }
    if (c->nurls == 0) {
        snprintf(err, errlen, "no etcd endpoint in '%s'", endpoints ? endpoints : "");
        etcd_close(c);
        return -1;
    }
    c->curl = curl_easy_init();
    if (!c->curl) {
        snprintf(err, errlen, "curl_easy_init failed");
        etcd_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void etcd_close(etcd *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    for (size_t i = 0; i < c->nurls; i++)
        free(c->urls[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    bytebuf *b = ctx;
    size_t n = size * nmemb;
    if (b->len + n > ETCD_MAX_ANSWER || bytebuf_append(b, data, n) < 0)
        return 0; /* makes curl fail the call */
    return n;
}

/* POSTs body to path on the first endpoint that answers; *answer gets the
 * parsed JSON of a 200. Returns 0, ETCD_NOT_FOUND (gRPC code 5: lease not
 * found), or ETCD_UNAVAILABLE with err. */
static int call(etcd *c, const char *path, json_t *body, json_t **answer, char *err, size_t errlen)
{
    _cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return ETCD_UNAVAILABLE;
    }
    pthread_mutex_lock(&c->mu);
    int rc = ETCD_UNAVAILABLE;
    snprintf(err, errlen, "no etcd endpoint");
    for (size_t k = 0; k < c->nurls; k++) {
        size_t i = (c->current + k) % c->nurls;
        char url[512];
        snprintf(url, sizeof url, "%s%s", c->urls[i], path);
        bytebuf got = {0};
        CURL *h = c->curl;
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        CURLcode cc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK) {
            snprintf(err, errlen, "etcd at %s: %s", c->urls[i], curl_easy_strerror(cc));
            bytebuf_free(&got);
            continue; /* the next endpoint may answer */
        }
        json_error_t je;
        json_t *j = got.data ? json_loadb(got.data, got.len, 0, &je) : NULL;
        bytebuf_free(&got);
        c->current = i;
        if (status == 200 && j) {
            *answer = j;
            rc = 0;
            break;
        }
        json_t *code = j ? json_object_get(j, "code") : NULL;
        const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
        snprintf(err, errlen, "etcd at %s answered %ld: %s", c->urls[i], status,
                 msg ? msg : "(no message)");
        rc = json_integer_value(code) == 5 ? ETCD_NOT_FOUND : ETCD_UNAVAILABLE;
        json_decref(j);
        break; /* an answer, even an error, means etcd is there */
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Reads an int64 the gateway sends as a decimal string (or a number). */
static int64_t get_i64(json_t *o, const char *key, bool *present)
{
    json_t *v = json_object_get(o, key);
    if (present)
        *present = v != NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static json_t *i64_string(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_string(buf);
}

static json_t *b64(const char *data, size_t len)
{
    _cleanup_free_ char *e = codec_base64_encode(data, len, NULL);
    return e ? json_string(e) : NULL;
}

int etcd_lease_grant(etcd *c, int64_t ttl_s, int64_t *id, char *err, size_t errlen)
{
    _cleanup_json_ json_t *body = json_pack("{s:o}", "TTL", i64_string(ttl_s));
    _cleanup_json_ json_t *ans = NULL;
    int rc = body ? call(c, "/v3/lease/grant", body, &ans, err, errlen) : ETCD_UNAVAILABLE;
    if (rc < 0)
        return rc;
    bool have;
    *id = get_i64(ans, "ID", &have);
    if (!have || *id == 0) {
        snprintf(err, errlen, "etcd granted no lease id");
        return ETCD_UNAVAILABLE;
    }
    return 0;
}

int etcd_lease_keepalive(etcd *c, int64_t id, int64_t *ttl_s, char *err, size_t errlen)
{
    _cleanup_json_ json_t *body = json_pack("{s:o}", "ID", i64_string(id));
    _cleanup_json_ json_t *ans = NULL;
    int rc = body ? call(c, "/v3/lease/keepalive", body, &ans, err, errlen) : ETCD_UNAVAILABLE;
    if (rc < 0)
        return rc;
    /* keepalive is a gRPC stream: the answer sits in "result"; a dead lease
     * still answers 200, only without a TTL. */
    json_t *res = json_object_get(ans, "result");
    int64_t ttl = res ? get_i64(res, "TTL", NULL) : 0;
    if (ttl_s)
        *ttl_s = ttl;
    if (ttl <= 0) {
        snprintf(err, errlen, "lease %" PRId64 " is gone", id);
        return ETCD_NOT_FOUND;
    }
    return 0;
}

int etcd_lease_revoke(etcd *c, int64_t id, char *err, size_t errlen)
{
    _cleanup_json_ json_t *body = json_pack("{s:o}", "ID", i64_string(id));
    _cleanup_json_ json_t *ans = NULL;
    return body ? call(c, "/v3/lease/revoke", body, &ans, err, errlen) : ETCD_UNAVAILABLE;
}

int etcd_put(etcd *c, const char *key, const char *value, size_t len, int64_t lease, char *err,
             size_t errlen)
{
    _cleanup_json_ json_t *body =
        json_pack("{s:o, s:o}", "key", b64(key, strlen(key)), "value", b64(value, len));
    if (body && lease)
        json_object_set_new(body, "lease", i64_string(lease));
    _cleanup_json_ json_t *ans = NULL;
    return body ? call(c, "/v3/kv/put", body, &ans, err, errlen) : ETCD_UNAVAILABLE;
}

size_t etcd_prefix_end(const char *prefix, size_t len, char *end)
{
    memcpy(end, prefix, len);
    while (len > 0) {
        unsigned char last = (unsigned char)end[len - 1];
        if (last < 0xff) {
            end[len - 1] = (char)(last + 1);
            end[len] = '\0';
            return len;
        }
        len--;
    }
    end[0] = '\0';
    return 1; /* "\0": every key from prefix on */
}

void etcd_kvs_free(etcd_kv *kvs, size_t n)
{
    for (size_t i = 0; kvs && i < n; i++) {
        free(kvs[i].key);
        free(kvs[i].value);
    }
    free(kvs);
}

/* Decodes a base64 field into a NUL-terminated malloc'd string. */
static char *unb64(json_t *o, const char *key, size_t *len)
{
    const char *t = json_string_value(json_object_get(o, key));
    unsigned char *out = NULL;
    size_t n = 0;
    if (!t) {
        out = (unsigned char *)strdup("");
    } else if (codec_base64_decode(t, strlen(t), &out, &n) < 0) {
        return NULL;
    }
    if (len)
        *len = n;
    return (char *)out;
}

int etcd_get(etcd *c, const char *prefix, int exact, etcd_kv **kvs, size_t *n, char *err,
             size_t errlen)
{
    *kvs = NULL;
    *n = 0;
    size_t plen = strlen(prefix);
    _cleanup_free_ char *end = malloc(plen + 2);
    if (!end) {
        snprintf(err, errlen, "out of memory");
        return ETCD_UNAVAILABLE;
    }
    size_t elen = etcd_prefix_end(prefix, plen, end);
    _cleanup_json_ json_t *body = json_pack("{s:o}", "key", b64(prefix, plen));
    if (body && !exact)
        json_object_set_new(body, "range_end", b64(end, elen));
    _cleanup_json_ json_t *ans = NULL;
    int rc = body ? call(c, "/v3/kv/range", body, &ans, err, errlen) : ETCD_UNAVAILABLE;
    if (rc < 0)
        return rc;
    json_t *arr = json_object_get(ans, "kvs"); /* absent when nothing matched */
    size_t count = json_array_size(arr);
    etcd_kv *v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return ETCD_UNAVAILABLE;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *kv = json_array_get(arr, i);
        v[i].key = unb64(kv, "key", NULL);
        v[i].value = unb64(kv, "value", &v[i].value_len);
        v[i].lease = get_i64(kv, "lease", NULL);
        if (!v[i].key || !v[i].value) {
            etcd_kvs_free(v, i + 1);
            snprintf(err, errlen, "etcd sent a key or value that is not base64");
            return ETCD_UNAVAILABLE;
        }
    }
    *kvs = v;
    *n = count;
    return 0;
}

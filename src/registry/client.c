/* client.c — the registry's HTTP client (libcurl; see registry.h).
 *
 * Every call is bounded (connect 1 s, whole call 3 s unless told). A call
 * is a few per executor every few seconds: each makes its own handle (and
 * loopback or LAN connection) rather than keep per-thread state. */
#include "registry/registry.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"

#define MAX_ANSWER (8u << 20)

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    bytebuf *b = ctx;
    size_t n = size * nmemb;
    if (b->len + n > MAX_ANSWER || bytebuf_append(b, data, n) < 0)
        return 0;
    return n;
}

/* Calls method url with body (NULL: GET); *answer gets the JSON answer of
 * any status. Returns the HTTP status, or -1 with err when none came. */
static long call(const char *url, json_t *body, unsigned timeout_ms, json_t **answer, char *err,
                 size_t errlen)
{
    *answer = NULL;
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    bytebuf got = {0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (text) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 3000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    long status = -1;
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        json_error_t je;
        *answer = got.data ? json_loadb(got.data, got.len, 0, &je) : NULL;
        if (status != 200) {
            const char *m =
                json_string_value(json_object_get(json_object_get(*answer, "error"), "message"));
            snprintf(err, errlen, "%s answered %ld: %s", url, status, m ? m : "(no message)");
        }
    }
    bytebuf_free(&got);
    curl_easy_cleanup(h);
    return status;
}

static int status_rc(long status)
{
    return status == 200   ? 0
           : status == 404 ? REGISTRY_NOT_FOUND
           : status == 400 ? REGISTRY_INVALID
                           : REGISTRY_UNAVAILABLE;
}

int registry_client_register(const char *url, json_t *instance, char id_out[REGISTRY_MAX_ID + 1],
                             int64_t *lease, char *err, size_t errlen)
{
    char u[600];
    snprintf(u, sizeof u, "%s/api/registry/register", url);
    _cleanup_json_ json_t *ans = NULL;
    long st = call(u, instance, 0, &ans, err, errlen);
    if (st != 200)
        return status_rc(st);
    const char *id = json_string_value(json_object_get(ans, "id"));
    const char *l = json_string_value(json_object_get(ans, "lease_id"));
    if (!id || !l || strlen(id) > REGISTRY_MAX_ID) {
        snprintf(err, errlen, "%s answered without id and lease_id", u);
        return REGISTRY_UNAVAILABLE;
    }
    snprintf(id_out, REGISTRY_MAX_ID + 1, "%s", id);
    *lease = strtoll(l, NULL, 10);
    return 0;
}

static json_t *lease_string(int64_t lease)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, lease);
    return json_string(buf);
}

int registry_client_keepalive(const char *url, int64_t lease, const char *name, const char *id,
                              json_t *metadata, char *err, size_t errlen)
{
    char u[600];
    snprintf(u, sizeof u, "%s/api/registry/keepalive", url);
    _cleanup_json_ json_t *body = json_pack("{s:o}", "lease_id", lease_string(lease));
    if (body && name && id && metadata) {
        json_object_set_new(body, "name", json_string(name));
        json_object_set_new(body, "id", json_string(id));
        json_object_set(body, "metadata", metadata);
    }
    _cleanup_json_ json_t *ans = NULL;
    return status_rc(call(u, body, 0, &ans, err, errlen));
}

int registry_client_deregister(const char *url, int64_t lease, char *err, size_t errlen)
{
    char u[600];
    snprintf(u, sizeof u, "%s/api/registry/deregister", url);
    _cleanup_json_ json_t *body = json_pack("{s:o}", "lease_id", lease_string(lease));
    _cleanup_json_ json_t *ans = NULL;
    return status_rc(call(u, body, 0, &ans, err, errlen));
}

json_t *registry_client_instances(const char *url, const char *name, unsigned timeout_ms, char *err,
                                  size_t errlen)
{
    char u[600];
    snprintf(u, sizeof u, "%s/api/registry/services/%s", url, name);
    _cleanup_json_ json_t *ans = NULL;
    if (call(u, NULL, timeout_ms, &ans, err, errlen) != 200)
        return NULL;
    json_t *inst = json_object_get(ans, "instances");
    if (!json_is_array(inst)) {
        snprintf(err, errlen, "%s answered without instances", u);
        return NULL;
    }
    return json_incref(inst);
}

/* server.c — the registry's HTTP face on libmicrohttpd (see registry.h).
 *
 * Registry traffic is a few requests per executor every few seconds, and
 * each may wait on etcd for up to its call bound: one thread per connection
 * keeps that simple without blocking other clients. */
#include "registry/registry.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytebuf.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"

#define MAX_BODY (REGISTRY_MAX_INSTANCE_BYTES + 4096)

struct registry_server {
    struct MHD_Daemon *d;
    registry_store *store;
    uint16_t port;
};

typedef struct conn_state {
    bytebuf body;
    bool too_large;
} conn_state;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!text)
        text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    if (!text)
        return MHD_NO;
    size_t n = strlen(text);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, steal_pointer(&text), MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    _cleanup_json_ json_t *b = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    return send_json(c, status, b);
}

/* Answers a store error. */
static enum MHD_Result send_store_error(struct MHD_Connection *c, int rc, const char *err)
{
    if (rc == REGISTRY_NOT_FOUND)
        return send_error(c, 404, "not_found", "%s", err);
    if (rc == REGISTRY_INVALID)
        return send_error(c, 400, "invalid_field", "%s", err);
    if (rc == REGISTRY_FULL)
        return send_error(c, 429, "registry_full", "%s", err);
    return send_error(c, 503, "unavailable", "the registry's store cannot be reached: %s", err);
}

/* Reads lease_id as a decimal string or an integer; 0 when absent or bad. */
static int64_t lease_of(json_t *j)
{
    json_t *v = json_object_get(j, "lease_id");
    if (json_is_integer(v))
        return json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s || !*s)
        return 0;
    char *end;
    long long n = strtoll(s, &end, 10);
    return *end ? 0 : n;
}

static enum MHD_Result post(registry_server *srv, struct MHD_Connection *c, const char *url,
                            const bytebuf *body)
{
    json_error_t je;
    _cleanup_json_ json_t *j =
        json_loadb(body->data ? body->data : "", body->len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j))
        return send_error(c, 400, "invalid_json", "the body must be a JSON object");
    char err[512] = "";
    if (strcmp(url, "/api/registry/register") == 0) {
        char id[REGISTRY_MAX_ID + 1];
        int64_t lease;
        int rc = registry_register(srv->store, j, id, &lease, err, sizeof err);
        if (rc < 0)
            return send_store_error(c, rc, err);
        char ls[32];
        snprintf(ls, sizeof ls, "%" PRId64, lease);
        _cleanup_json_ json_t *ans = json_pack("{s:s, s:s}", "id", id, "lease_id", ls);
        return send_json(c, 200, ans);
    }
    int64_t lease = lease_of(j);
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *id = json_string_value(json_object_get(j, "id"));
    if (strcmp(url, "/api/registry/keepalive") == 0) {
        if (!lease)
            return send_error(c, 400, "missing_field", "\"lease_id\" is required");
        int rc = registry_keepalive(srv->store, lease, name, id, json_object_get(j, "metadata"),
                                    err, sizeof err);
        if (rc < 0)
            return send_store_error(c, rc, err);
        _cleanup_json_ json_t *ans = json_pack("{s:s}", "status", "ok");
        return send_json(c, 200, ans);
    }
    int rc = registry_deregister(srv->store, lease, name, id, err, sizeof err);
    if (rc < 0)
        return send_store_error(c, rc, err);
    _cleanup_json_ json_t *ans = json_pack("{s:s}", "status", "deregistered");
    return send_json(c, 200, ans);
}

static enum MHD_Result get(registry_server *srv, struct MHD_Connection *c, const char *url)
{
    char err[512] = "";
    if (strcmp(url, "/health") == 0) {
        /* Healthy means the store answers: a registry without etcd cannot
         * tell anyone where anything is. */
        _cleanup_json_ json_t *all = registry_list(srv->store, NULL, err, sizeof err);
        _cleanup_json_ json_t *b =
            json_pack("{s:s, s:s, s:b}", "status", all ? "ok" : "degraded", "store",
                      registry_store_kind(srv->store), "store_reachable", all != NULL);
        if (!all)
            json_object_set_new(b, "message", json_string(err));
        return send_json(c, all ? 200 : 503, b);
    }
    const char *name = NULL;
    if (strncmp(url, "/api/registry/services/", 23) == 0) {
        name = url + 23;
        if (!registry_name_ok(name))
            return send_error(c, 400, "invalid_field", "bad service name");
    }
    _cleanup_json_ json_t *list = registry_list(srv->store, name, err, sizeof err);
    if (!list)
        return send_store_error(c, REGISTRY_UNAVAILABLE, err);
    if (name) {
        _cleanup_json_ json_t *b = json_pack("{s:s, s:O}", "name", name, "instances", list);
        return send_json(c, 200, b);
    }
    /* {"services": {name: [instances]}} */
    json_t *by = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (!n)
            continue;
        json_t *arr = json_object_get(by, n);
        if (!arr) {
            arr = json_array();
            json_object_set_new(by, n, arr);
        }
        json_array_append(arr, v);
    }
    _cleanup_json_ json_t *b = json_pack("{s:o}", "services", by);
    return send_json(c, 200, b);
}

static bool is_post_route(const char *url)
{
    return strcmp(url, "/api/registry/register") == 0 ||
           strcmp(url, "/api/registry/keepalive") == 0 ||
           strcmp(url, "/api/registry/deregister") == 0;
}

static bool is_get_route(const char *url)
{
    return strcmp(url, "/health") == 0 || strcmp(url, "/api/registry/services") == 0 ||
           strncmp(url, "/api/registry/services/", 23) == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    registry_server *srv = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->body.len + *upload_size > MAX_BODY || st->too_large)
            st->too_large = true;
        else if (bytebuf_append(&st->body, upload, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    bool p = is_post_route(url), g = is_get_route(url);
    if (!p && !g)
        return send_error(c, 404, "not_found", "no such endpoint");
    if (p && strcmp(method, "POST") != 0)
        return send_error(c, 405, "method_not_allowed", "use POST");
    if (g && strcmp(method, "GET") != 0)
        return send_error(c, 405, "method_not_allowed", "use GET");
    if (st->too_large)
        return send_error(c, 413, "payload_too_large", "the body is larger than %d bytes",
                          MAX_BODY);
    return p ? post(srv, c, url, &st->body) : get(srv, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        bytebuf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

int registry_http_start(registry_store *s, const char *host, uint16_t port, registry_server **out,
                        char *err, size_t errlen)
{
    registry_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    srv->store = s;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM},
                    *ai = NULL;
    char portbuf[8];
    snprintf(portbuf, sizeof portbuf, "%u", port);
    int gai = getaddrinfo(host ? host : "127.0.0.1", portbuf, &hints, &ai);
    if (gai != 0) {
        hints.ai_flags = AI_PASSIVE;
        gai = getaddrinfo(host, portbuf, &hints, &ai);
    }
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        free(srv);
        return -1;
    }
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    freeaddrinfo(ai);
    srv->d = MHD_start_daemon(flags, port, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
                              MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
                              1000u, MHD_OPTION_END);
    if (!srv->d) {
        snprintf(err, errlen, "cannot listen on %s:%u", host ? host : "127.0.0.1", port);
        free(srv);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : port;
    *out = srv;
    return 0;
}

uint16_t registry_http_port(const registry_server *srv)
{
    return srv->port;
}

void registry_http_stop(registry_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->d);
    free(srv);
}

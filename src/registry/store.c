/* store.c — the registry's two stores, etcd and memory (see registry.h).
 *
 * Both validate and shape an instance the same way (make_value); they
 * differ only in where the value and its lease live. In etcd, each
 * instance has a lease of its own, so one executor's death expires one key. */
#include "registry/registry.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "etcd/etcd.h"

#define PREFIX "/services/"

typedef struct mem_entry {
    char name[REGISTRY_MAX_NAME + 1];
    char id[REGISTRY_MAX_ID + 1];
    int64_t lease;
    unsigned ttl_s;
    uint64_t expires_ms;
    json_t *value;
} mem_entry;

struct registry_store {
    unsigned default_ttl;
    etcd *etcd; /* NULL: memory */
    pthread_mutex_t mu;
    mem_entry *mem;
    size_t nmem, capmem;
    int64_t next_lease;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool registry_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > REGISTRY_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static registry_store *store_new(unsigned ttl)
{
    registry_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->default_ttl = ttl ? ttl : 15;
    pthread_mutex_init(&s->mu, NULL);
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (uint32_t)wall_ms();
    s->next_lease = ((int64_t)r << 20) + 1;
    return s;
}

registry_store *registry_store_memory(unsigned default_ttl_s)
{
    return store_new(default_ttl_s);
}

int registry_store_etcd(const char *endpoints, unsigned default_ttl_s, registry_store **out,
                        char *err, size_t errlen)
{
    registry_store *s = store_new(default_ttl_s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (etcd_open(endpoints, 0, &s->etcd, err, errlen) < 0) {
        registry_store_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

const char *registry_store_kind(const registry_store *s)
{
    return s->etcd ? "etcd" : "memory";
}

void registry_store_free(registry_store *s)
{
    if (!s)
        return;
    etcd_close(s->etcd);
    for (size_t i = 0; i < s->nmem; i++)
        json_decref(s->mem[i].value);
    free(s->mem);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int map_etcd(int rc)
{
    return rc == ETCD_NOT_FOUND ? REGISTRY_NOT_FOUND : rc < 0 ? REGISTRY_UNAVAILABLE : 0;
}

/* Validates instance and builds the stored value; fills name, id and ttl. */
static json_t *make_value(registry_store *s, json_t *in, char name[REGISTRY_MAX_NAME + 1],
                          char id[REGISTRY_MAX_ID + 1], unsigned *ttl, char *err, size_t errlen)
{
    if (!json_is_object(in)) {
        snprintf(err, errlen, "the body must be a JSON object");
        return NULL;
    }
    const char *n = json_string_value(json_object_get(in, "name"));
    const char *addr = json_string_value(json_object_get(in, "address"));
    json_t *port = json_object_get(in, "port");
    json_t *jid = json_object_get(in, "id");
    json_t *jttl = json_object_get(in, "ttl");
    json_t *meta = json_object_get(in, "metadata");
    json_t *url = json_object_get(in, "url");
    if (!registry_name_ok(n)) {
        snprintf(err, errlen, "\"name\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
        return NULL;
    }
    if (!addr || !*addr || strlen(addr) > 255 || strpbrk(addr, "/ \t\r\n")) {
        snprintf(err, errlen, "\"address\" must be a host name or address");
        return NULL;
    }
    if (!json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > 65535) {
        snprintf(err, errlen, "\"port\" must be an integer from 1 to 65535");
        return NULL;
    }
    if (jid && !registry_name_ok(json_string_value(jid))) {
        snprintf(err, errlen, "\"id\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
        return NULL;
    }
    if (jttl && (!json_is_integer(jttl) || json_integer_value(jttl) < REGISTRY_MIN_TTL ||
                 json_integer_value(jttl) > REGISTRY_MAX_TTL)) {
        snprintf(err, errlen, "\"ttl\" must be an integer from %d to %d seconds", REGISTRY_MIN_TTL,
                 REGISTRY_MAX_TTL);
        return NULL;
    }
    if (meta && !json_is_object(meta)) {
        snprintf(err, errlen, "\"metadata\" must be an object");
        return NULL;
    }
    if (url && (!json_is_string(url) || json_string_length(url) > 512)) {
        snprintf(err, errlen, "\"url\" must be a string");
        return NULL;
    }
    snprintf(name, REGISTRY_MAX_NAME + 1, "%s", n);
    if (jid) {
        snprintf(id, REGISTRY_MAX_ID + 1, "%s", json_string_value(jid));
    } else {
        unsigned char b[6];
        if (getrandom(b, sizeof b, 0) != sizeof b)
            memset(b, 0, sizeof b);
        snprintf(id, REGISTRY_MAX_ID + 1, "%.40s-%02x%02x%02x%02x%02x%02x", n, b[0], b[1], b[2],
                 b[3], b[4], b[5]);
    }
    *ttl = jttl ? (unsigned)json_integer_value(jttl) : s->default_ttl;
    json_t *v = json_pack("{s:s, s:s, s:s, s:O, s:I, s:I, s:I}", "id", id, "name", name, "address",
                          addr, "port", port, "ttl", (json_int_t)*ttl, "registered_at",
                          (json_int_t)wall_ms(), "updated_at", (json_int_t)wall_ms());
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (url) {
        json_object_set(v, "url", url);
    } else {
        char buf[300];
        bool v6 = strchr(addr, ':') != NULL;
        snprintf(buf, sizeof buf, "http://%s%s%s:%d", v6 ? "[" : "", addr, v6 ? "]" : "",
                 (int)json_integer_value(port));
        json_object_set_new(v, "url", json_string(buf));
    }
    json_object_set_new(v, "metadata", meta ? json_deep_copy(meta) : json_object());
    _cleanup_free_ char *text = json_dumps(v, JSON_COMPACT);
    if (!text || strlen(text) > REGISTRY_MAX_INSTANCE_BYTES) {
        snprintf(err, errlen, "the instance is larger than %d bytes", REGISTRY_MAX_INSTANCE_BYTES);
        json_decref(v);
        return NULL;
    }
    return v;
}

static void key_of(char *key, size_t len, const char *name, const char *id)
{
    snprintf(key, len, PREFIX "%s/%s", name, id);
}

/* ---- memory ---- */

/* Drops expired entries; s->mu held. */
static void mem_expire(registry_store *s)
{
    uint64_t now = mono_ms();
    size_t k = 0;
    for (size_t i = 0; i < s->nmem; i++) {
        if (s->mem[i].expires_ms <= now) {
            json_decref(s->mem[i].value);
            continue;
        }
        s->mem[k++] = s->mem[i];
    }
    s->nmem = k;
}

static mem_entry *mem_find(registry_store *s, int64_t lease, const char *name, const char *id)
{
    for (size_t i = 0; i < s->nmem; i++) {
        mem_entry *m = &s->mem[i];
        if (lease ? m->lease == lease : (strcmp(m->name, name) == 0 && strcmp(m->id, id) == 0))
            return m;
    }
    return NULL;
}

static void mem_remove(registry_store *s, mem_entry *m)
{
    json_decref(m->value);
    *m = s->mem[--s->nmem];
}

static int cmp_entry(const void *a, const void *b)
{
    const mem_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

/* ---- the contract ---- */

int registry_register(registry_store *s, json_t *instance, char id_out[REGISTRY_MAX_ID + 1],
                      int64_t *lease, char *err, size_t errlen)
{
    char name[REGISTRY_MAX_NAME + 1], id[REGISTRY_MAX_ID + 1];
    unsigned ttl;
    _cleanup_json_ json_t *v = make_value(s, instance, name, id, &ttl, err, errlen);
    if (!v)
        return REGISTRY_INVALID;
    if (s->etcd) {
        _cleanup_free_ char *text = json_dumps(v, JSON_COMPACT);
        char key[160];
        key_of(key, sizeof key, name, id);
        int64_t l;
        int rc = etcd_lease_grant(s->etcd, ttl, &l, err, errlen);
        if (rc == 0)
            rc = etcd_put(s->etcd, key, text, strlen(text), l, err, errlen);
        if (rc < 0)
            return REGISTRY_UNAVAILABLE;
        *lease = l;
        snprintf(id_out, REGISTRY_MAX_ID + 1, "%s", id);
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    mem_expire(s);
    mem_entry *old = mem_find(s, 0, name, id);
    if (old)
        mem_remove(s, old);
    if (s->nmem >= REGISTRY_MAX_INSTANCES) {
        pthread_mutex_unlock(&s->mu);
        snprintf(err, errlen, "the registry holds its maximum of %d instances",
                 REGISTRY_MAX_INSTANCES);
        return REGISTRY_FULL;
    }
    if (s->nmem == s->capmem) {
        size_t cap = s->capmem ? 2 * s->capmem : 16;
        mem_entry *m = realloc(s->mem, cap * sizeof *m);
        if (!m) {
            pthread_mutex_unlock(&s->mu);
            snprintf(err, errlen, "out of memory");
            return REGISTRY_UNAVAILABLE;
        }
        s->mem = m;
        s->capmem = cap;
    }
    mem_entry *m = &s->mem[s->nmem++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->id, sizeof m->id, "%s", id);
    m->lease = s->next_lease++;
    m->ttl_s = ttl;
    m->expires_ms = mono_ms() + (uint64_t)ttl * 1000;
    m->value = steal_pointer(&v);
    *lease = m->lease;
    pthread_mutex_unlock(&s->mu);
    snprintf(id_out, REGISTRY_MAX_ID + 1, "%s", id);
    return 0;
}

int registry_keepalive(registry_store *s, int64_t lease, const char *name, const char *id,
                       json_t *metadata, char *err, size_t errlen)
{
    if (metadata && !json_is_object(metadata)) {
        snprintf(err, errlen, "\"metadata\" must be an object");
        return REGISTRY_INVALID;
    }
    bool update = metadata && name && id;
    if (update && (!registry_name_ok(name) || !registry_name_ok(id))) {
        snprintf(err, errlen, "bad \"name\" or \"id\"");
        return REGISTRY_INVALID;
    }
    if (s->etcd) {
        int rc = etcd_lease_keepalive(s->etcd, lease, NULL, err, errlen);
        if (rc < 0 || !update)
            return map_etcd(rc);
        char key[160];
        key_of(key, sizeof key, name, id);
        etcd_kv *kvs;
        size_t n;
        rc = etcd_get(s->etcd, key, 1, &kvs, &n, err, errlen);
        if (rc < 0)
            return map_etcd(rc);
        json_error_t je;
        _cleanup_json_ json_t *v = n == 1 && kvs[0].lease == lease
                                       ? json_loadb(kvs[0].value, kvs[0].value_len, 0, &je)
                                       : NULL;
        etcd_kvs_free(kvs, n);
        if (!json_is_object(v)) {
            snprintf(err, errlen, "no instance %s/%s holds lease %" PRId64, name, id, lease);
            return REGISTRY_NOT_FOUND;
        }
        json_object_set_new(v, "metadata", json_deep_copy(metadata));
        json_object_set_new(v, "updated_at", json_integer((json_int_t)wall_ms()));
        _cleanup_free_ char *text = json_dumps(v, JSON_COMPACT);
        if (!text || strlen(text) > REGISTRY_MAX_INSTANCE_BYTES) {
            snprintf(err, errlen, "the instance would be larger than %d bytes",
                     REGISTRY_MAX_INSTANCE_BYTES);
            return REGISTRY_INVALID;
        }
        return map_etcd(etcd_put(s->etcd, key, text, strlen(text), lease, err, errlen));
    }
    pthread_mutex_lock(&s->mu);
    mem_expire(s);
    mem_entry *m = mem_find(s, lease, NULL, NULL);
    int rc = 0;
    if (!m) {
        snprintf(err, errlen, "lease %" PRId64 " is gone", lease);
        rc = REGISTRY_NOT_FOUND;
    } else {
        m->expires_ms = mono_ms() + (uint64_t)m->ttl_s * 1000;
        if (update && strcmp(m->name, name) == 0 && strcmp(m->id, id) == 0) {
            json_object_set_new(m->value, "metadata", json_deep_copy(metadata));
            json_object_set_new(m->value, "updated_at", json_integer((json_int_t)wall_ms()));
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int registry_deregister(registry_store *s, int64_t lease, const char *name, const char *id,
                        char *err, size_t errlen)
{
    if (!lease && (!registry_name_ok(name) || !registry_name_ok(id))) {
        snprintf(err, errlen, "give \"lease_id\", or \"name\" and \"id\"");
        return REGISTRY_INVALID;
    }
    if (s->etcd) {
        if (!lease) {
            char key[160];
            key_of(key, sizeof key, name, id);
            etcd_kv *kvs;
            size_t n;
            int rc = etcd_get(s->etcd, key, 1, &kvs, &n, err, errlen);
            if (rc < 0)
                return map_etcd(rc);
            lease = n == 1 ? kvs[0].lease : 0;
            etcd_kvs_free(kvs, n);
            if (!lease) {
                snprintf(err, errlen, "no instance %s/%s", name, id);
                return REGISTRY_NOT_FOUND;
            }
        }
        return map_etcd(etcd_lease_revoke(s->etcd, lease, err, errlen));
    }
    pthread_mutex_lock(&s->mu);
    mem_expire(s);
    mem_entry *m = mem_find(s, lease, name, id);
    if (m)
        mem_remove(s, m);
    else
        snprintf(err, errlen, "no such registration");
    pthread_mutex_unlock(&s->mu);
    return m ? 0 : REGISTRY_NOT_FOUND;
}

static json_t *with_lease(json_t *v, int64_t lease)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, lease);
    json_object_set_new(v, "lease_id", json_string(buf));
    return v;
}

json_t *registry_list(registry_store *s, const char *name, char *err, size_t errlen)
{
    if (name && !registry_name_ok(name)) {
        snprintf(err, errlen, "bad service name");
        return NULL;
    }
    json_t *out = json_array();
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (s->etcd) {
        char prefix[160];
        if (name)
            snprintf(prefix, sizeof prefix, PREFIX "%s/", name);
        else
            snprintf(prefix, sizeof prefix, PREFIX);
        etcd_kv *kvs;
        size_t n;
        if (etcd_get(s->etcd, prefix, 0, &kvs, &n, err, errlen) < 0) {
            json_decref(out);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            json_error_t je;
            json_t *v = json_loadb(kvs[i].value, kvs[i].value_len, 0, &je);
            if (json_is_object(v))
                json_array_append_new(out, with_lease(v, kvs[i].lease));
            else
                json_decref(v); /* not ours: someone else wrote under /services/ */
        }
        etcd_kvs_free(kvs, n);
        return out;
    }
    pthread_mutex_lock(&s->mu);
    mem_expire(s);
    if (s->nmem)
        qsort(s->mem, s->nmem, sizeof *s->mem, cmp_entry);
    for (size_t i = 0; i < s->nmem; i++)
        if (!name || strcmp(s->mem[i].name, name) == 0)
            json_array_append_new(out,
                                  with_lease(json_deep_copy(s->mem[i].value), s->mem[i].lease));
    pthread_mutex_unlock(&s->mu);
    return out;
}

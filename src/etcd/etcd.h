/* etcd.h — a small etcd v3 client over etcd's HTTP/JSON gateway (libcurl).
 *
 * Speaks the /v3/ gateway of etcd 3.4+ (docs: /work/shared/reference
 * etcd-podman.md, part C): every call is one POST with a JSON body; keys and
 * values travel base64-encoded; int64 fields (lease ids) are sent and read
 * as decimal strings because they exceed 2^53. Several endpoints may be
 * given: a call that cannot reach one tries the next, and the one that
 * answered is tried first next time. Each call is bounded (connect 1 s,
 * whole call 3 s by default).
 *
 * Threads: one etcd handle may be used from any thread; calls are
 * serialised on its mutex (they are short, and the registry makes few). */
#ifndef XXX_ETCD_H
#define XXX_ETCD_H

#include <stddef.h>
#include <stdint.h>

/* What a call returns besides 0. */
#define ETCD_UNAVAILABLE -1 /* no endpoint answered, or it answered an error */
#define ETCD_NOT_FOUND -2   /* the lease does not exist (expired or revoked) */

typedef struct etcd etcd;

/* One key and its value (both NUL-terminated copies), and its lease (0: none). */
typedef struct etcd_kv {
    char *key;
    char *value;
    size_t value_len;
    int64_t lease;
} etcd_kv;

/* Parses endpoints ("host:port" or "http://host:port", comma-separated) and
 * makes a handle; connects nothing yet. timeout_ms bounds each call (0: 3000).
 * Returns 0, or -1 with err. */
int etcd_open(const char *endpoints, unsigned timeout_ms, etcd **out, char *err, size_t errlen);

/* Frees the handle. */
void etcd_close(etcd *c);

/* Grants a lease of ttl_s seconds; *id gets its id. */
int etcd_lease_grant(etcd *c, int64_t ttl_s, int64_t *id, char *err, size_t errlen);

/* Refreshes a lease once; *ttl_s gets the TTL now left. ETCD_NOT_FOUND when
 * the lease is gone (the gateway then answers with no TTL). */
int etcd_lease_keepalive(etcd *c, int64_t id, int64_t *ttl_s, char *err, size_t errlen);

/* Revokes a lease: its keys go at once. ETCD_NOT_FOUND when already gone. */
int etcd_lease_revoke(etcd *c, int64_t id, char *err, size_t errlen);

/* Puts key = value, attached to lease (0: none). ETCD_NOT_FOUND: no such lease. */
int etcd_put(etcd *c, const char *key, const char *value, size_t len, int64_t lease, char *err,
             size_t errlen);

/* Reads every key that starts with prefix (or exactly key when exact);
 * *kvs (malloc'd, free with etcd_kvs_free) and *n get them, in key order. */
int etcd_get(etcd *c, const char *prefix, int exact, etcd_kv **kvs, size_t *n, char *err,
             size_t errlen);

/* Frees what etcd_get returned. */
void etcd_kvs_free(etcd_kv *kvs, size_t n);

/* Writes the range_end that makes [prefix, end) the keys starting with
 * prefix (last byte below 0xff incremented, 0xff bytes dropped; "\0" when
 * every byte is 0xff) into end (at least len + 1 bytes); returns its length. */
size_t etcd_prefix_end(const char *prefix, size_t len, char *end);

#endif

/* registry.h — the service registry: who is running where, with leases.
 *
 * An instance is a JSON object {id, name, address, port, url, metadata,
 * registered_at, updated_at} stored under /services/{name}/{id}, attached
 * to a lease of its own with a TTL; keepalives refresh the lease (and may
 * replace metadata, which is how executors report their load); when
 * keepalives stop, the lease and the key expire. Two stores keep the same
 * contract: etcd (through src/etcd, the key's lease is an etcd lease) and
 * memory (for a registry with no etcd configured; expiry checked on read).
 *
 * The HTTP face (registry_http_start) serves the system description's
 * routes on libmicrohttpd: POST /api/registry/register -> {id, lease_id},
 * POST /api/registry/keepalive {lease_id[, name, id, metadata]},
 * POST /api/registry/deregister {lease_id | name + id},
 * GET /api/registry/services, GET /api/registry/services/{name},
 * GET /health. lease_id is a decimal string (etcd ids exceed 2^53).
 *
 * The client half (registry_client_*) is what container-api registers
 * with and repl-api discovers through.
 *
 * Threads: every function is thread-safe. */
#ifndef XXX_REGISTRY_H
#define XXX_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What store calls return besides 0. */
#define REGISTRY_UNAVAILABLE -1 /* the backing store (etcd) cannot be reached */
#define REGISTRY_NOT_FOUND -2   /* no such lease or instance */
#define REGISTRY_INVALID -3     /* a request the registry refuses (message in err) */
#define REGISTRY_FULL -4        /* the memory store holds REGISTRY_MAX_INSTANCES */

/* Bounds on what a client may register. */
#define REGISTRY_MAX_NAME 64
#define REGISTRY_MAX_ID 64
#define REGISTRY_MAX_INSTANCE_BYTES 65536
#define REGISTRY_MIN_TTL 2 /* etcd's own minimum */
#define REGISTRY_MAX_TTL 3600
#define REGISTRY_MAX_INSTANCES 10000 /* in the memory store (etcd has its own quota) */

typedef struct registry_store registry_store;

/* A store kept in this process; default_ttl_s for registrations that name none. */
registry_store *registry_store_memory(unsigned default_ttl_s);

/* A store in etcd at endpoints (ETCD_ENDPOINTS syntax). Returns 0, or -1 with err. */
int registry_store_etcd(const char *endpoints, unsigned default_ttl_s, registry_store **out,
                        char *err, size_t errlen);

/* "etcd" or "memory". */
const char *registry_store_kind(const registry_store *s);

/* Frees the store (leases in etcd are left to expire). */
void registry_store_free(registry_store *s);

/* Registers instance (an object with name, address, port; optional id,
 * ttl, url, metadata); writes its id into id_out and its lease into *lease. */
int registry_register(registry_store *s, json_t *instance, char id_out[REGISTRY_MAX_ID + 1],
                      int64_t *lease, char *err, size_t errlen);

/* Refreshes a lease; with name and id and metadata, also stores that
 * metadata in the instance. REGISTRY_NOT_FOUND when the lease is gone. */
int registry_keepalive(registry_store *s, int64_t lease, const char *name, const char *id,
                       json_t *metadata, char *err, size_t errlen);

/* Ends a registration: by lease, or (lease 0) by name and id. */
int registry_deregister(registry_store *s, int64_t lease, const char *name, const char *id,
                        char *err, size_t errlen);

/* Returns a new array of the live instances of name (NULL name: every
 * service), in key order; NULL with err when the store cannot be read. */
json_t *registry_list(registry_store *s, const char *name, char *err, size_t errlen);

/* Checks a service name or id: 1-64 bytes of [A-Za-z0-9._-]. */
bool registry_name_ok(const char *s);

/* ---- HTTP face ---- */

typedef struct registry_server registry_server;

/* Serves the store on host:port (0: any free port). Returns 0, or -1 with err. */
int registry_http_start(registry_store *s, const char *host, uint16_t port, registry_server **out,
                        char *err, size_t errlen);

/* Returns the port it listens on. */
uint16_t registry_http_port(const registry_server *srv);

/* Stops serving and frees the server (not the store). */
void registry_http_stop(registry_server *srv);

/* ---- client (container-api registers, repl-api discovers) ---- */

/* POSTs instance to {url}/api/registry/register; fills id_out and *lease. */
int registry_client_register(const char *url, json_t *instance, char id_out[REGISTRY_MAX_ID + 1],
                             int64_t *lease, char *err, size_t errlen);

/* POSTs a keepalive carrying metadata (may be NULL). REGISTRY_NOT_FOUND
 * when the registry no longer knows the lease: register again. */
int registry_client_keepalive(const char *url, int64_t lease, const char *name, const char *id,
                              json_t *metadata, char *err, size_t errlen);

/* POSTs a deregister for the lease. */
int registry_client_deregister(const char *url, int64_t lease, char *err, size_t errlen);

/* GETs {url}/api/registry/services/{name}; returns its "instances" array
 * (new reference) or NULL with err. timeout_ms bounds the call. */
json_t *registry_client_instances(const char *url, const char *name, unsigned timeout_ms, char *err,
                                  size_t errlen);

#endif

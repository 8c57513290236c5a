/* remote.h — repl-api's executors: runs forwarded to container-api nodes.
 *
 * In a cluster, repl-api's runs go to a third backend behind the run
 * engine's interface (run_engine_start_executor): each run is sent whole
 * (language, code, stdin, args, files, limits; or a container command) as
 * one streaming request to a container-api node, whose SSE events are
 * turned back into the run's output and result, so the HTTP layer answers
 * as if the run were local.
 *
 * Executors come from the service registry (instances of container-api,
 * refreshed every refresh_ms; their metadata carries slots, free slots,
 * queue and languages) or from a fixed list (CONTAINERS_API_URL), which
 * bypasses discovery. A run goes to the least-loaded executor that is not
 * marked down and serves its language (load: this repl-api's runs in flight
 * there plus the executor's reported queue, over its slots). When the
 * registry cannot be read, the last view stays.
 *
 * Failure rules. A run that never started on an executor (connection
 * refused or reset, timeout, 429 or 5xx before the answer's first byte) is
 * retried on another, up to max_attempts; a refused or failed connection
 * also marks the executor down for down_ms. A run whose executor is lost
 * after it started (the stream breaks before its result, or stays silent
 * for silence_ms) ends with status "executor_lost"; it is never retried,
 * since it may have had effects. A cancelled run closes its connection,
 * which the executor sees as a vanished client and cancels there.
 *
 * Threads: remote_execute runs on the run engine's workers (one blocking
 * libcurl transfer each); one refresher thread reads the registry. */
#ifndef XXX_REMOTE_H
#define XXX_REMOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "run/run.h"
#include "runtime/runtime.h"

typedef struct remote_config {
    const char *registry_url;  /* SERVICE_REGISTRY_URL; NULL when static_urls */
    const char *static_urls;   /* CONTAINERS_API_URL: comma-separated base URLs */
    const char *service;       /* registry name of executors; NULL: "container-api" */
    unsigned refresh_ms;       /* 0: 1000 */
    unsigned down_ms;          /* 0: 3000 */
    unsigned max_attempts;     /* 0: 3 */
    unsigned silence_ms;       /* a started run with no byte for this long is lost; 0: 15000 */
    unsigned start_timeout_ms; /* waiting for an executor to start a run; 0: 120000 */
} remote_config;

typedef struct remote remote;

/* Starts the refresher (registry mode). Returns 0, or -1 with err. */
int remote_open(const remote_config *cfg, remote **out, char *err, size_t errlen);

/* Stops the refresher and frees everything (after the engine is stopped);
 * waits up to 5 s for proxied calls, and leaves rm allocated if one is
 * still running (the process is exiting). */
void remote_close(remote *rm);

/* The run engine's executor hook: forwards r and fills its result. ctx is the remote. */
void remote_execute(void *ctx, run *r);

/* Waits until at least one executor is known or timeout_ms; returns how many are. */
size_t remote_wait(remote *rm, unsigned timeout_ms);

/* Serves the languages of rts that some executor reports, each with the
 * version first reported for it, and hides the rest (runtime_show); again
 * after every refresh of the view, so a language appears when an executor
 * serving it registers and goes when the last one leaves. While no
 * executor reports its languages (none yet, or CONTAINERS_API_URL), what
 * is served stays as it was: at first every definition. rts is borrowed
 * until remote_close (it also lets session creation resolve aliases).
 * Returns how many are served. */
size_t remote_serve_runtimes(remote *rm, runtime_set *rts);

/* Returns [{id, url, slots, free_slots, queued, in_flight, down, languages}]. */
json_t *remote_view_json(remote *rm);

/* ---- sessions (/api/repl/sessions*, proxied) ----
 *
 * A session lives on the executor that created it. repl-api answers its
 * id as "{executor id}~{the executor's session id}", so every later call
 * goes to that executor with no state kept here (a repl-api restart loses
 * nothing). When that executor is no longer registered, or does not
 * answer, the call is 410 "session_gone". POST creates on the least-loaded
 * executor serving the language (retried elsewhere if it cannot be
 * reached); GET lists the sessions of every executor. */

#define REMOTE_SESSIONS_PREFIX "/api/repl/sessions"
#define REMOTE_MAX_PROXIED 256 /* proxied calls at once; past it 503 */

/* Receives a proxied call's answer (from the call's thread): head() once,
 * data() per piece (-1: stop, the client is gone), end() exactly once. */
typedef struct remote_sink {
    void (*head)(void *ctx, unsigned status, const char *content_type);
    int (*data)(void *ctx, const char *data, size_t len);
    void (*end)(void *ctx, bool ok);
} remote_sink;

/* Forwards one call under REMOTE_SESSIONS_PREFIX on a thread of its own
 * and gives the answer to sink (copied). A session's execute/stream answer
 * is passed on as it comes; if its executor is lost meanwhile, the stream
 * ends with an "error" event (session_gone). */
void remote_proxy(remote *rm, const char *method, const char *path, const char *body, size_t len,
                  const remote_sink *sink, void *ctx);

/* ---- pure parts (tests/remote) ---- */

/* Builds the container-api request body for a run. */
json_t *remote_request_json(const run_request *req, bool container);

/* Fills res from an executor's "result" event (the answer of api_result_json
 * without output); the output buffers are filled by the caller. Returns 0
 * or -1 when the JSON is not a result. */
int remote_result_parse(json_t *j, run_result *res);

#endif

/* cluster.c — the three roles of a cluster: service-registry, container-api
 * (the all-in-one server plus registration) and repl-api (the HTTP layer
 * over remote executors). See README "Running as a cluster".
 *
 * The roles that build no boxes (registry, repl-api) block SIGTERM/SIGINT
 * before any thread starts and wait for them with sigwait; container-api
 * is serve.c with hooks, and keeps serve's signal handling. */
#include "xxxd/cluster.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "http/http.h"
#include "registry/registry.h"
#include "remote/remote.h"
#include "run/run.h"
#include "runtime/runtime.h"
#include "xxxd/serve.h"

#ifndef XXX_VERSION
#define XXX_VERSION "0.1.0"
#endif

/* ---- shared: options, logging, signals ---- */

typedef struct copt {
    const char *name, *env, *def;
    bool num;
    unsigned long long lo, hi;
    const char *help;
    const char **str;          /* where a string goes */
    unsigned long long *value; /* where a number goes */
} copt;

static void log_json(const char *level, const char *msg, json_t *extra)
{
    char ts[64];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);
    _cleanup_json_ json_t *line =
        json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
    if (line && extra)
        json_object_update(line, extra);
    json_decref(extra);
    _cleanup_free_ char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text)
        fprintf(stderr, "%s\n", text);
    fflush(stderr);
}

static int set_copt(const copt *o, const char *v, const char *from)
{
    if (!o->num) {
        if (!*v) {
            fprintf(stderr, "xxxd: %s: empty value\n", from);
            return -1;
        }
        *o->str = v;
        return 0;
    }
    return serve_parse_num(v, o->lo, o->hi, from, o->value);
}

static void copt_usage(const char *role, const char *what, const copt *o, size_t n)
{
    printf("usage: xxxd %s [options]     %s\n\noptions (each also read from its environment "
           "variable; flags win):\n",
           role, what);
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", o[i].name, o[i].num ? "N" : "S");
        printf("  %-26s %s\n  %-26s   env %s%s%s\n", left, o[i].help, "", o[i].env,
               o[i].def ? ", default " : "", o[i].def ? o[i].def : "");
    }
}

/* Defaults, then environment, then flags. Returns 0, 1 after --help, or 2. */
static int copt_parse(const char *role, const char *what, const copt *o, size_t n, int argc,
                      char **argv)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i].def && set_copt(&o[i], o[i].def, "default") < 0)
            return 2;
        const char *env = getenv(o[i].env);
        if (env && *env && set_copt(&o[i], env, o[i].env) < 0)
            return 2;
    }
    struct option *l = calloc(n + 2, sizeof *l);
    if (!l)
        return 2;
    for (size_t i = 0; i < n; i++)
        l[i] = (struct option){o[i].name, required_argument, NULL, (int)(i + 1)};
    l[n] = (struct option){"help", no_argument, NULL, 'h'};
    int ch, rc = 0;
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", l, NULL)) != -1) {
        if (ch == 'h') {
            copt_usage(role, what, o, n);
            rc = 1;
        } else if (ch <= 0 || (size_t)ch > n) {
            fprintf(stderr, "xxxd %s: try --help\n", role);
            rc = 2;
        } else {
            char from[80];
            snprintf(from, sizeof from, "--%s", o[ch - 1].name);
            if (set_copt(&o[ch - 1], optarg, from) < 0)
                rc = 2;
        }
    }
    free(l);
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "xxxd %s: unexpected argument '%s'; try --help\n", role, argv[optind]);
        rc = 2;
    }
    return rc;
}

/* Blocks SIGTERM and SIGINT in this thread and every thread it starts. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static const char *wait_stop_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

/* ---- service-registry ---- */

int registry_role_main(int argc, char **argv)
{
    const char *host = NULL, *etcd = NULL;
    unsigned long long port = 0, ttl = 0;
    const copt o[] = {
        {"host", "XXX_HOST", "127.0.0.1", false, 0, 0, "address to listen on", &host, NULL},
        {"port", "XXX_PORT", "3003", true, 0, 65535, "TCP port (0: any free port)", NULL, &port},
        {"etcd-endpoints", "ETCD_ENDPOINTS", NULL, false, 0, 0,
         "comma-separated etcd endpoints (host:port or URL); unset: keep registrations in memory",
         &etcd, NULL},
        {"ttl", "XXX_REGISTRY_TTL", "15", true, REGISTRY_MIN_TTL, REGISTRY_MAX_TTL,
         "lease TTL in seconds of a registration that names none", NULL, &ttl},
    };
    int rc = copt_parse("service-registry", "the service registry (HTTP, port 3003)", o,
                        sizeof o / sizeof *o, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    sigset_t set;
    block_stop_signals(&set);
    char err[512];
    registry_store *store = NULL;
    if (etcd) {
        if (registry_store_etcd(etcd, (unsigned)ttl, &store, err, sizeof err) < 0) {
            fprintf(stderr, "xxxd service-registry: %s\n", err);
            return 1;
        }
    } else if (!(store = registry_store_memory((unsigned)ttl))) {
        fprintf(stderr, "xxxd service-registry: out of memory\n");
        return 1;
    }
    registry_server *srv = NULL;
    if (registry_http_start(store, host, (uint16_t)port, &srv, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd service-registry: %s\n", err);
        registry_store_free(store);
        return 1;
    }
    log_json("info", "listening",
             json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "role", "service-registry", "host", host,
                       "port", (int)registry_http_port(srv), "store", registry_store_kind(store),
                       "etcd", etcd ? etcd : "", "ttl", (json_int_t)ttl));
    printf("xxxd service-registry: listening on http://%s:%u (%s store%s%s, TTL %llu s)\n", host,
           (unsigned)registry_http_port(srv), registry_store_kind(store), etcd ? " at " : "",
           etcd ? etcd : "", ttl);
    fflush(stdout);
    const char *sig = wait_stop_signal(&set);
    log_json("info", "shutting down", json_pack("{s:s}", "signal", sig));
    registry_http_stop(srv);
    registry_store_free(store);
    return 0;
}

/* ---- container-api ---- */

typedef struct announcer {
    const char *registry_url;
    const char *advertise;
    unsigned long long keepalive_ms, ttl;
    char host[256];
    unsigned port;
    run_engine *engine;
    const runtime_set *rts;
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    char id[REGISTRY_MAX_ID + 1];
    int64_t lease; /* 0: not registered */
} announcer;

/* The load and what this node offers: its keepalives carry it. */
static json_t *node_metadata(announcer *a)
{
    size_t q, running, cap, workers;
    run_counts(a->engine, &q, &running, &cap, &workers);
    json_t *rts = json_array();
    for (size_t i = 0; i < a->rts->n; i++)
        json_array_append_new(
            rts, json_pack("{s:s, s:s}", "language", a->rts->items[i]->name, "version",
                           a->rts->items[i]->version ? a->rts->items[i]->version : ""));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:s}", "slots", (json_int_t)workers,
                     "free_slots", (json_int_t)(workers > running ? workers - running : 0),
                     "running", (json_int_t)running, "queued", (json_int_t)q, "queue_capacity",
                     (json_int_t)cap, "runtimes", rts, "backend", run_engine_backend(a->engine),
                     "version", XXX_VERSION);
}

static json_t *node_instance(announcer *a)
{
    json_t *inst = json_pack("{s:s, s:s, s:i, s:o}", "name", "container-api", "address", a->host,
                             "port", (int)a->port, "metadata", node_metadata(a));
    if (inst && a->ttl)
        json_object_set_new(inst, "ttl", json_integer((json_int_t)a->ttl));
    /* Registering again after a lost lease keeps the id the registry gave
     * first: repl-api's view (runs in flight, down marks) and session ids
     * ("{executor}~{session}") stay valid. */
    if (inst && a->id[0])
        json_object_set_new(inst, "id", json_string(a->id));
    return inst;
}

static void *announcer_main(void *arg)
{
    announcer *a = arg;
    bool failing = false;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        pthread_mutex_unlock(&a->mu);
        char err[512] = "", id[REGISTRY_MAX_ID + 1];
        int rc;
        if (!a->lease) {
            int64_t lease = 0;
            _cleanup_json_ json_t *inst = node_instance(a);
            rc = inst ? registry_client_register(a->registry_url, inst, id, &lease, err, sizeof err)
                      : REGISTRY_UNAVAILABLE;
            pthread_mutex_lock(&a->mu);
            if (rc == 0) {
                snprintf(a->id, sizeof a->id, "%s", id);
                a->lease = lease;
            }
            pthread_mutex_unlock(&a->mu);
            if (rc == 0)
                log_json("info", "registered",
                         json_pack("{s:s, s:s, s:I}", "registry", a->registry_url, "id", id,
                                   "lease_id", (json_int_t)lease));
        } else {
            _cleanup_json_ json_t *meta = node_metadata(a);
            rc = registry_client_keepalive(a->registry_url, a->lease, "container-api", a->id, meta,
                                           err, sizeof err);
            if (rc == REGISTRY_NOT_FOUND) {
                /* The lease expired (registry or etcd was away longer than
                 * the TTL): register again at once. */
                log_json("warn", "registration lost; registering again",
                         json_pack("{s:s}", "error", err));
                pthread_mutex_lock(&a->mu);
                a->lease = 0;
                continue; /* the loop starts with a->mu held */
            }
        }
        if (rc < 0 && !failing)
            log_json("warn", "registry unreachable; retrying", json_pack("{s:s}", "error", err));
        else if (rc == 0 && failing)
            log_json("info", "registry reachable again", NULL);
        failing = rc < 0;
        pthread_mutex_lock(&a->mu);
        /* Until registered, retry every second; then keep alive on the period. */
        uint64_t wait_ms = a->lease && !failing ? a->keepalive_ms : 1000;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(wait_ms / 1000);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!a->stop)
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void announce_listening(void *ctx, const char *host, unsigned port, run_engine *e,
                               const runtime_set *rts)
{
    announcer *a = ctx;
    if (!a->registry_url)
        return;
    const char *adv = a->advertise;
    char hn[256];
    if (!adv && (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0))
        adv = gethostname(hn, sizeof hn) == 0 ? hn : "127.0.0.1";
    snprintf(a->host, sizeof a->host, "%s", adv ? adv : host);
    a->port = port;
    a->engine = e;
    a->rts = rts;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&a->th, NULL, announcer_main, a);
    if (rc != 0)
        log_json("error", "cannot start the registration thread",
                 json_pack("{s:s}", "error", strerror(rc)));
    a->started = rc == 0;
}

static void announce_stopping(void *ctx)
{
    announcer *a = ctx;
    if (!a->started)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    a->started = false;
    if (a->lease) {
        /* Leave the registry first, so repl-api stops sending runs while
         * the ones here drain. */
        char err[512];
        int rc = registry_client_deregister(a->registry_url, a->lease, err, sizeof err);
        log_json(rc == 0 ? "info" : "warn", rc == 0 ? "deregistered" : "deregister failed",
                 json_pack("{s:s, s:s}", "id", a->id, "error", rc == 0 ? "" : err));
    }
}

/* Takes out of argv the options serve does not know; returns -1 on a bad one. */
static int take_option(int *argc, char **argv, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
            continue;
        int used;
        if (arg[2 + n] == '=') {
            *value = arg + 3 + n;
            used = 1;
        } else if (arg[2 + n] == '\0') {
            if (i + 1 >= *argc) {
                fprintf(stderr, "xxxd container-api: --%s needs a value\n", name);
                return -1;
            }
            *value = argv[i + 1];
            used = 2;
        } else {
            continue;
        }
        memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof *argv);
        *argc -= used;
        return 0;
    }
    return 0;
}

int container_api_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: xxxd container-api [serve options] [cluster options]\n"
                   "  the all-in-one server (xxxd --help lists its options) on port 3001 by\n"
                   "  default, registered with the service registry:\n"
                   "  --registry-url URL     env SERVICE_REGISTRY_URL; unset: do not register\n"
                   "  --advertise-host H     env XXX_ADVERTISE_HOST; the address repl-api\n"
                   "                         reaches this node at (default: --host, or the\n"
                   "                         host name when listening on every address)\n"
                   "  --keepalive-ms N       env XXX_KEEPALIVE_MS, default 5000\n"
                   "  --registry-ttl N       env XXX_REGISTRY_TTL; lease TTL asked for, in\n"
                   "                         seconds (default: the registry's)\n");
            return 0;
        }
    }
    static announcer a;
    pthread_mutex_init(&a.mu, NULL);
    a.registry_url = getenv("SERVICE_REGISTRY_URL");
    a.advertise = getenv("XXX_ADVERTISE_HOST");
    const char *ka = getenv("XXX_KEEPALIVE_MS"), *ttl = getenv("XXX_REGISTRY_TTL");
    if (take_option(&argc, argv, "registry-url", &a.registry_url) < 0 ||
        take_option(&argc, argv, "advertise-host", &a.advertise) < 0 ||
        take_option(&argc, argv, "keepalive-ms", &ka) < 0 ||
        take_option(&argc, argv, "registry-ttl", &ttl) < 0)
        return 2;
    a.keepalive_ms = 5000;
    if ((ka && *ka && serve_parse_num(ka, 100, 3600000, "--keepalive-ms", &a.keepalive_ms) < 0) ||
        (ttl && *ttl &&
         serve_parse_num(ttl, REGISTRY_MIN_TTL, REGISTRY_MAX_TTL, "--registry-ttl", &a.ttl) < 0))
        return 2;
    if (a.registry_url && !*a.registry_url)
        a.registry_url = NULL;
    /* The description's port for container-api; XXX_PORT or --port win. */
    setenv("XXX_PORT", "3001", 0);
    serve_hooks hooks = {.listening = announce_listening, .stopping = announce_stopping, .ctx = &a};
    return serve_run(argc, argv, &hooks);
}

/* ---- repl-api ---- */

/* The sessions proxy: the HTTP layer's sink is remote's sink (the same
 * three calls), so the call goes straight through. */
static void session_forward(void *ctx, const char *method, const char *path, const char *body,
                            size_t len, const http_proxy_sink *sink, void *call)
{
    remote_sink rs = {.head = sink->head, .data = sink->data, .end = sink->end};
    remote_proxy(ctx, method, path, body, len, &rs, call);
}

int repl_api_main(int argc, char **argv)
{
    const char *host = NULL, *registry = NULL, *containers = NULL, *runtimes = NULL,
               *languages = NULL;
    unsigned long long port = 0, workers = 0, queue = 0, max_body = 0, http_threads = 0,
                       max_conn = 0, idle = 0, wait_ms = 0, grace_ms = 0, refresh_ms = 0,
                       attempts = 0, silence_ms = 0;
    const copt o[] = {
        {"host", "XXX_HOST", "127.0.0.1", false, 0, 0, "address to listen on", &host, NULL},
        {"port", "XXX_PORT", "3002", true, 0, 65535, "TCP port (0: any free port)", NULL, &port},
        {"registry-url", "SERVICE_REGISTRY_URL", NULL, false, 0, 0,
         "service registry to discover container-api executors through", &registry, NULL},
        {"containers-api-url", "CONTAINERS_API_URL", NULL, false, 0, 0,
         "comma-separated container-api URLs; bypasses discovery", &containers, NULL},
        {"runtimes", "XXX_RUNTIMES", "runtimes", false, 0, 0, "directory of language definitions",
         &runtimes, NULL},
        {"languages", "XXX_LANGUAGES", NULL, false, 0, 0,
         "comma-separated languages to serve (default: what the executors serve)", &languages,
         NULL},
        {"workers", "XXX_REMOTE_WORKERS", "64", true, 1, 4096,
         "runs forwarded at once (each holds a thread and a connection)", NULL, &workers},
        {"queue", "XXX_QUEUE", "256", true, 1, 100000, "runs that may wait for a worker before 429",
         NULL, &queue},
        {"max-body", "XXX_MAX_BODY", "1048576", true, 1, 1ull << 30,
         "largest request body in bytes (413 above)", NULL, &max_body},
        {"http-threads", "XXX_HTTP_THREADS", "2", true, 1, 64, "HTTP polling threads", NULL,
         &http_threads},
        {"max-connections", "XXX_MAX_CONNECTIONS", "10000", true, 1, 1000000,
         "open connections at once", NULL, &max_conn},
        {"idle-timeout", "XXX_IDLE_TIMEOUT", "60", true, 1, 86400,
         "seconds before an idle connection is closed", NULL, &idle},
        {"wait-executors-ms", "XXX_WAIT_EXECUTORS_MS", "10000", true, 0, 600000,
         "at start, how long to wait for a first executor (its languages and versions)", NULL,
         &wait_ms},
        {"refresh-ms", "XXX_REFRESH_MS", "1000", true, 100, 600000,
         "how often the registry is read", NULL, &refresh_ms},
        {"attempts", "XXX_ATTEMPTS", "3", true, 1, 8,
         "executors a run that never started is offered to", NULL, &attempts},
        {"silence-ms", "XXX_SILENCE_MS", "15000", true, 2000, 3600000,
         "a started run whose executor sends nothing for this long is lost (they send a "
         "keep-alive every second)",
         NULL, &silence_ms},
        {"shutdown-grace-ms", "XXX_SHUTDOWN_GRACE_MS", "10000", true, 0, 3600000,
         "on SIGTERM/SIGINT, how long forwarded runs may finish", NULL, &grace_ms},
    };
    int rc = copt_parse("repl-api", "the public REPL API (HTTP, port 3002) over executors", o,
                        sizeof o / sizeof *o, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    sigset_t set;
    block_stop_signals(&set);
    char err[512] = "";
    runtime_set *rts = NULL;
    if (runtime_set_load(runtimes, languages, &rts, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd repl-api: %s\n", err);
        return 1;
    }
    remote_config rcfg = {
        .registry_url = registry,
        .static_urls = containers,
        .refresh_ms = (unsigned)refresh_ms,
        .max_attempts = (unsigned)attempts,
        .silence_ms = (unsigned)silence_ms,
    };
    remote *rm = NULL;
    if (remote_open(&rcfg, &rm, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd repl-api: %s\n", err);
        runtime_set_free(rts);
        return 1;
    }
    size_t seen = remote_wait(rm, (unsigned)wait_ms);
    if (registry && seen == 0)
        log_json("warn", "no executor registered yet; serving every language defined",
                 json_pack("{s:s}", "registry", registry));
    remote_serve_runtimes(rm, rts);
    run_executor ex = {.execute = remote_execute, .ctx = rm, .workers = (unsigned)workers};
    run_config rc_cfg = {.queue = (unsigned)queue};
    run_engine *engine = NULL;
    if (run_engine_start_executor(&ex, &rc_cfg, &engine, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd repl-api: %s\n", err);
        remote_close(rm);
        runtime_set_free(rts);
        return 1;
    }
    http_proxy sessions = {.prefix = REMOTE_SESSIONS_PREFIX, .forward = session_forward, .ctx = rm};
    http_config hc = {
        .proxy = &sessions,
        .host = host,
        .port = (uint16_t)port,
        .max_body = (size_t)max_body,
        .threads = (unsigned)http_threads,
        .max_connections = (unsigned)max_conn,
        .idle_timeout_s = (unsigned)idle,
    };
    http_server *srv = NULL;
    if (http_start(&hc, engine, rts, &srv, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd repl-api: %s\n", err);
        run_engine_stop(engine);
        remote_close(rm);
        runtime_set_free(rts);
        return 1;
    }
    char names[512];
    runtime_set_names(rts, names, sizeof names);
    log_json("info", "listening",
             json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "role", "repl-api", "host", host, "port",
                       (int)http_port(srv), "languages", names, "discovery",
                       containers ? "static" : "registry", "executors", remote_view_json(rm)));
    printf("xxxd repl-api: listening on http://%s:%u (%zu languages: %s; executors from %s)\n",
           host, (unsigned)http_port(srv), runtime_set_served(rts), names,
           containers ? containers : registry);
    fflush(stdout);

    const char *sig = wait_stop_signal(&set);
    log_json("info", "shutting down", json_pack("{s:s}", "signal", sig));
    http_quiesce(srv);
    run_engine_drain(engine, run_now_ms() + grace_ms);
    size_t left = http_wait_idle(srv, run_now_ms() + 5000);
    http_stop(srv);
    run_engine_stop(engine);
    remote_close(rm);
    runtime_set_free(rts);
    log_json("info", "stopped", json_pack("{s:I}", "requests_cut", (json_int_t)left));
    return 0;
}

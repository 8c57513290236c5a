/* serve.c — configuration, start-up and shutdown of the all-in-one server.
 *
 * Order matters: the box pool is opened before any thread exists (it
 * unshares the mount namespace, which a threaded process cannot do), then
 * the run workers start, every runtime is probed in a box (in parallel over
 * the slots) and only those that pass are served, then HTTP starts.
 * SIGTERM/SIGINT: stop accepting, let runs go on until the grace deadline,
 * cancel the rest, let answers drain, close every box, exit 0. Signals are
 * caught by a handler that writes to a pipe (not blocked with sigprocmask),
 * so the boxes' children never inherit a blocked mask. */
#include "xxxd/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "http/http.h"
#include "podman/podman.h"
#include "run/run.h"
#include "runtime/runtime.h"
#include "session/session.h"

typedef struct serve_config {
    const char *host;
    unsigned long long port;
    unsigned long long slots;
    unsigned long long warm_spares;
    unsigned long long queue;
    unsigned long long max_body;
    unsigned long long http_threads;
    unsigned long long max_connections;
    unsigned long long idle_timeout_s;
    unsigned long long ws_connections;
    unsigned long long stream_buffer_mb, stream_budget_mb;
    const char *runtimes;
    const char *languages;
    const char *web_dir;
    unsigned long long max_wall_ms, max_cpu_ms, max_memory_mb, max_processes, max_output_bytes;
    unsigned long long grace_ms;
    const char *state_dir;
    const char *cgroup_name;
    unsigned long long first_uid;
    unsigned long long sessions, session_idle_s, session_lifetime_s;
    const char *backend;
    const char *podman_url;
    const char *image_registry;
} serve_config;

typedef enum opt_kind { OPT_STR, OPT_NUM } opt_kind;

typedef struct opt_def {
    const char *name; /* --name */
    const char *env;  /* environment variable */
    opt_kind kind;
    size_t off;      /* field in serve_config */
    const char *def; /* default, as text; NULL: computed (see help) */
    unsigned long long lo, hi;
    const char *help;
} opt_def;

#define F(field) offsetof(serve_config, field)

static const opt_def opts[] = {
    {"host", "XXX_HOST", OPT_STR, F(host), "127.0.0.1", 0, 0, "address to listen on"},
    {"port", "XXX_PORT", OPT_NUM, F(port), "3002", 0, 65535, "TCP port (0: any free port)"},
    {"slots", "XXX_SLOTS", OPT_NUM, F(slots), "0", 0, 1024,
     "concurrent runs, one box slot each (0: one per core, at least 2)"},
    {"warm-spares", "XXX_WARM_SPARES", OPT_NUM, F(warm_spares), "2", 0, 1024,
     "extra box slots kept warm so a run never waits for its box to be built"},
    {"queue", "XXX_QUEUE", OPT_NUM, F(queue), "0", 0, 100000,
     "runs that may wait for a slot before 429 (0: 4 per slot)"},
    {"max-body", "XXX_MAX_BODY", OPT_NUM, F(max_body), "1048576", 1, 1ull << 30,
     "largest request body in bytes (413 above)"},
    {"http-threads", "XXX_HTTP_THREADS", OPT_NUM, F(http_threads), "2", 1, 64,
     "HTTP polling threads (epoll; each serves many connections)"},
    {"max-connections", "XXX_MAX_CONNECTIONS", OPT_NUM, F(max_connections), "10000", 1, 1000000,
     "open connections at once"},
    {"idle-timeout", "XXX_IDLE_TIMEOUT", OPT_NUM, F(idle_timeout_s), "60", 1, 86400,
     "seconds before an idle connection is closed"},
    {"max-ws-connections", "XXX_MAX_WS_CONNECTIONS", OPT_NUM, F(ws_connections), "64", 1, 100000,
     "open WebSocket connections at once (one thread each)"},
    {"stream-buffer-mb", "XXX_STREAM_BUFFER_MB", OPT_NUM, F(stream_buffer_mb), "8", 1, 4096,
     "unsent stream output one client may fall behind by before its run is cancelled"},
    {"stream-budget-mb", "XXX_STREAM_BUDGET_MB", OPT_NUM, F(stream_budget_mb), "256", 1, 65536,
     "unsent stream output all clients together may fall behind by"},
    {"runtimes", "XXX_RUNTIMES", OPT_STR, F(runtimes), NULL, 0, 0,
     "directory of language definitions (default: runtimes/ beside build/, or ./runtimes)"},
    {"languages", "XXX_LANGUAGES", OPT_STR, F(languages), NULL, 0, 0,
     "comma-separated languages to serve (default: every definition that passes its self-test)"},
    {"web-dir", "XXX_WEB_DIR", OPT_STR, F(web_dir), NULL, 0, 0,
     "the playground's files, served at / (default: web/ beside the binary, if built; \"none\": "
     "off)"},
    {"max-wall-ms", "XXX_MAX_WALL_MS", OPT_NUM, F(max_wall_ms), "0", 0, ULLONG_MAX,
     "cap on a step's wall-clock time; requests ask for less (0: the box's maximum)"},
    {"max-cpu-ms", "XXX_MAX_CPU_MS", OPT_NUM, F(max_cpu_ms), "0", 0, ULLONG_MAX,
     "cap on a step's CPU time over all its threads (0: the box's maximum)"},
    {"max-memory-mb", "XXX_MAX_MEMORY_MB", OPT_NUM, F(max_memory_mb), "0", 0, 1ull << 30,
     "cap on a step's memory, swap included, in MiB (0: the box's maximum)"},
    {"max-processes", "XXX_MAX_PROCESSES", OPT_NUM, F(max_processes), "0", 0, ULLONG_MAX,
     "cap on a step's processes and threads (0: the box's maximum)"},
    {"max-output-bytes", "XXX_MAX_OUTPUT_BYTES", OPT_NUM, F(max_output_bytes), "0", 0, ULLONG_MAX,
     "cap on a step's stdout + stderr in bytes (0: the box's maximum)"},
    {"shutdown-grace-ms", "XXX_SHUTDOWN_GRACE_MS", OPT_NUM, F(grace_ms), "10000", 0, 3600000,
     "on SIGTERM/SIGINT, how long running boxes may finish before they are cancelled"},
    {"state-dir", "XXX_STATE_DIR", OPT_STR, F(state_dir), "/run/xxx", 0, 0,
     "host directory for slot mounts"},
    {"cgroup-name", "XXX_CGROUP_NAME", OPT_STR, F(cgroup_name), "xxx", 0, 0,
     "cgroup directory for the boxes"},
    {"sessions", "XXX_SESSIONS", OPT_NUM, F(sessions), "32", 0, 4096,
     "REPL sessions at once (429 past it); each holds one more box slot (0: no sessions)"},
    {"session-idle-timeout", "XXX_SESSION_IDLE_TIMEOUT", OPT_NUM, F(session_idle_s), "600", 1,
     86400, "seconds an idle session lives when its request sets no idle_timeout_s"},
    {"session-max-lifetime", "XXX_SESSION_MAX_LIFETIME", OPT_NUM, F(session_lifetime_s), "3600", 1,
     604800, "seconds a session may live at most, busy or not"},
    {"first-uid", "XXX_FIRST_UID", OPT_NUM, F(first_uid), "60000", 1, 4000000000ull,
     "host uid of slot 0; the boxes use 2 x (slots + warm-spares + sessions) uids from here"},
    {"backend", "XXX_BACKEND", OPT_STR, F(backend), "native", 0, 0,
     "where runs execute: native (xxx's boxes) or podman (one container per step)"},
    {"podman-url", "PODMAN_URL", OPT_STR, F(podman_url), NULL, 0, 0,
     "Podman's REST API: http://host:port, unix:///path or /path (COREOS_URL also read)"},
    {"image-registry", "XXX_IMAGE_REGISTRY", OPT_STR, F(image_registry), NULL, 0, 0,
     "registry that missing images are pulled from, e.g. localhost:5001 (default: none)"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* Returns the box's built-in maximum behind a --max-* option, or 0. */
static unsigned long long box_maximum(const char *name)
{
    box_limits m = box_limits_default();
    if (strcmp(name, "max-wall-ms") == 0)
        return m.wall_ms;
    if (strcmp(name, "max-cpu-ms") == 0)
        return m.cpu_ms;
    if (strcmp(name, "max-memory-mb") == 0)
        return m.memory_bytes >> 20;
    if (strcmp(name, "max-processes") == 0)
        return m.processes;
    if (strcmp(name, "max-output-bytes") == 0)
        return m.output_bytes;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: xxxd [serve] [options]     the REPL service (HTTP, port 3002)\n"
               "       xxxd box run|check ...     one command in a box; host check\n"
               "\n"
               "options (each also read from its environment variable; flags win):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", opts[i].name, opts[i].kind == OPT_NUM ? "N" : "S");
        fprintf(f, "  %-26s %s\n  %-26s   env %s", left, opts[i].help, "", opts[i].env);
        if (opts[i].def)
            fprintf(f, ", default %s", opts[i].def);
        if (box_maximum(opts[i].name))
            fprintf(f, " (= %llu, the box's maximum)", box_maximum(opts[i].name));
        fputc('\n', f);
    }
    fprintf(f,
            "  %-26s this text\n\n"
            "Needs root (boxes use namespaces and cgroups). Logs one JSON line per\n"
            "request on stderr. See README.md for the API.\n",
            "--help");
}

int serve_parse_num(const char *v, unsigned long long lo, unsigned long long hi, const char *from,
                    unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi) {
        fprintf(stderr, "xxxd: %s: expected a whole number from %llu to %llu, got '%s'\n", from, lo,
                hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int set_opt(serve_config *c, const opt_def *o, const char *value, const char *from)
{
    void *dst = (char *)c + o->off;
    if (o->kind == OPT_STR) {
        if (!*value) {
            fprintf(stderr, "xxxd: %s: empty value\n", from);
            return -1;
        }
        *(const char **)dst = value;
        return 0;
    }
    return serve_parse_num(value, o->lo, o->hi, from, dst);
}

static int parse_config(int argc, char **argv, serve_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].def && set_opt(c, &opts[i], opts[i].def, "default") < 0)
            return -1;
        const char *env = getenv(opts[i].env);
        if (env && *env && set_opt(c, &opts[i], env, opts[i].env) < 0)
            return 2;
    }
    /* The system description calls Podman's address COREOS_URL. */
    const char *coreos = getenv("COREOS_URL");
    if (!c->podman_url && coreos && *coreos)
        c->podman_url = coreos;
    struct option lopts[NOPTS + 2];
    for (size_t i = 0; i < NOPTS; i++)
        lopts[i] = (struct option){opts[i].name, required_argument, NULL, (int)(i + 1)};
    lopts[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[NOPTS + 1] = (struct option){0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch <= 0 || (size_t)ch > NOPTS) {
            fprintf(stderr, "xxxd: try --help\n");
            return 2;
        }
        char from[64];
        snprintf(from, sizeof from, "--%s", opts[ch - 1].name);
        if (set_opt(c, &opts[ch - 1], optarg, from) < 0)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "xxxd: unexpected argument '%s'; try --help\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* ---- logging (JSON lines on stderr) ---- */

/* Writes {"ts", "level", "msg", fields of extra...} as one line; takes extra. */
static void log_line(const char *level, const char *msg, json_t *extra)
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
    if (extra)
        json_decref(extra);
    _cleanup_free_ char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text)
        fprintf(stderr, "%s\n", text);
    fflush(stderr);
}

static void log_probe(void *ctx, const runtime *rt, bool ok, const char *detail)
{
    (void)ctx;
    log_line(ok ? "info" : "warn", ok ? "runtime ready" : "runtime unavailable",
             json_pack("{s:s, s:s}", "language", rt->name, ok ? "version" : "reason",
                       detail ? detail : ""));
}

static bool has_version(const runtime *rt)
{
    return rt->version != NULL;
}

/* ---- signals ---- */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(signal_pipe[1], &b, 1);
    (void)n; /* a full pipe already holds a wake-up */
    errno = saved;
}

static int install_signals(void)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    return 0;
}

/* Waits for SIGTERM or SIGINT; returns the signal number. */
static int wait_signal(void)
{
    for (;;) {
        struct pollfd p = {.fd = signal_pipe[0], .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return 0;
        unsigned char b;
        if (read(signal_pipe[0], &b, 1) == 1)
            return b;
    }
}

/* Finds runtimes/: beside the build directory of this binary, else ./runtimes. */
static const char *default_runtimes_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int n2 = snprintf(buf, len, "%s/../runtimes", exe);
            if (n2 > 0 && (size_t)n2 < len && access(buf, R_OK | X_OK) == 0)
                return buf;
        }
    }
    return "runtimes";
}

/* Finds the built playground: web/ beside this binary (build/web), or NULL. */
static const char *default_web_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    int n2 = snprintf(buf, len, "%s/web", exe);
    if (n2 <= 0 || (size_t)n2 >= len || access(buf, R_OK | X_OK) != 0)
        return NULL;
    return buf;
}

/* Lets the server hold many connections: raise the soft descriptor limit. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int serve_main(int argc, char **argv)
{
    return serve_run(argc, argv, NULL);
}

int serve_run(int argc, char **argv, const serve_hooks *hooks)
{
    serve_config c;
    int rc = parse_config(argc, argv, &c);
    if (rc)
        return rc;
    char err[512], dirbuf[PATH_MAX];
    /* A --web-dir that cannot serve is a typo: say so before the slow start-up. */
    if (c.web_dir && strcmp(c.web_dir, "none") != 0) {
        http_static *probe = NULL;
        if (http_static_open(c.web_dir, &probe, err, sizeof err) < 0) {
            fprintf(stderr, "xxxd: --web-dir: %s\n", err);
            return 2;
        }
        http_static_close(probe);
    }
    const char *dir = c.runtimes ? c.runtimes : default_runtimes_dir(dirbuf, sizeof dirbuf);
    runtime_set *rts = NULL;
    if (runtime_set_load(dir, c.languages, &rts, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd: %s\n", err);
        return 1;
    }
    _cleanup_free_ const char **etc = runtime_set_etc(rts, box_default_etc);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nrun = c.slots ? (unsigned)c.slots : (unsigned)(ncpu < 2 ? 2 : ncpu);
    box_config bc = {
        .slots = nrun + (unsigned)c.warm_spares + (unsigned)c.sessions,
        .first_uid = (uid_t)c.first_uid,
        .state_dir = c.state_dir,
        .cgroup_name = c.cgroup_name,
        .etc = etc,
        .max =
            {
                .wall_ms = c.max_wall_ms,
                .cpu_ms = c.max_cpu_ms,
                .memory_bytes = c.max_memory_mb << 20,
                .processes = c.max_processes,
                .output_bytes = c.max_output_bytes,
            },
    };
    raise_nofile();
    box_pool *pool = NULL;
    podman *pm = NULL;
    backend be;
    if (strcmp(c.backend, "podman") == 0) {
        podman_config pc = {
            .url = c.podman_url,
            .registry = c.image_registry,
            .state_dir = c.state_dir,
            .instance = c.cgroup_name,
            .slots = nrun,
            .first_uid = (uid_t)c.first_uid,
            .max = bc.max,
        };
        if (podman_open(&pc, &pm, err, sizeof err) < 0) {
            fprintf(stderr, "xxxd: cannot use Podman: %s\n", err);
            runtime_set_free(rts);
            return 1;
        }
        podman_backend(&be, pm);
    } else if (strcmp(c.backend, "native") != 0) {
        fprintf(stderr, "xxxd: --backend: expected native or podman, got '%s'\n", c.backend);
        runtime_set_free(rts);
        return 2;
    } else if (!etc || box_pool_open(&bc, &pool, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd: cannot open the box pool: %s\n", etc ? err : "out of memory");
        runtime_set_free(rts);
        return 1;
    } else {
        backend_native(&be, pool);
    }
    if (install_signals() < 0) {
        fprintf(stderr, "xxxd: cannot install signal handlers: %s\n", strerror(errno));
        box_pool_close(pool);
        podman_close(pm);
        runtime_set_free(rts);
        return 1;
    }
    /* Threads start here. */
    run_engine *engine = NULL;
    run_config rc_cfg = {.workers = nrun, .queue = (unsigned)c.queue};
    if (run_engine_start_backend(&be, &rc_cfg, &engine, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd: %s\n", err);
        box_pool_close(pool);
        podman_close(pm);
        runtime_set_free(rts);
        return 1;
    }
    uint64_t t0 = run_now_ms();
    size_t ready = run_probe_runtimes(engine, rts, log_probe, NULL);
    runtime_set_filter(rts, has_version);
    log_line(
        "info", "runtimes probed",
        json_pack("{s:I, s:I}", "ready", (json_int_t)ready, "ms", (json_int_t)(run_now_ms() - t0)));
    if (ready == 0) {
        fprintf(stderr, "xxxd: no language passed its self-test; see the lines above\n");
        run_engine_stop(engine);
        box_pool_close(pool);
        podman_close(pm);
        runtime_set_free(rts);
        return 1;
    }
    char webbuf[PATH_MAX];
    const char *web = c.web_dir ? c.web_dir : default_web_dir(webbuf, sizeof webbuf);
    if (web && strcmp(web, "none") == 0)
        web = NULL;
    else if (!web)
        log_line("warn", "playground not built; / is not served",
                 json_pack("{s:s}", "hint", "run make, or pass --web-dir"));
    http_config hc = {
        .web_dir = web,
        .host = c.host,
        .port = (uint16_t)c.port,
        .max_body = (size_t)c.max_body,
        .threads = (unsigned)c.http_threads,
        .max_connections = (unsigned)c.max_connections,
        .idle_timeout_s = (unsigned)c.idle_timeout_s,
        .stream_buffer = (size_t)c.stream_buffer_mb << 20,
        .stream_budget = (size_t)c.stream_budget_mb << 20,
        .ws_max_connections = (unsigned)c.ws_connections,
    };
    session_mgr *sessions = NULL;
    session_config sc = {
        .max_sessions = (unsigned)c.sessions,
        .idle_ms = c.session_idle_s * 1000,
        .lifetime_ms = c.session_lifetime_s * 1000,
    };
    /* Sessions are boxes of the native pool; under --backend podman there are none. */
    if (c.sessions && pool && session_mgr_start(pool, &sc, &sessions, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd: %s\n", err);
        run_engine_stop(engine);
        box_pool_close(pool);
        runtime_set_free(rts);
        return 1;
    }
    hc.sessions = sessions;
    http_server *srv = NULL;
    if (http_start(&hc, engine, rts, &srv, err, sizeof err) < 0) {
        fprintf(stderr, "xxxd: %s\n", err);
        session_mgr_stop(sessions);
        run_engine_stop(engine);
        box_pool_close(pool);
        podman_close(pm);
        runtime_set_free(rts);
        return 1;
    }
    size_t q, r, cap, workers;
    run_counts(engine, &q, &r, &cap, &workers);
    char names[512];
    runtime_set_names(rts, names, sizeof names);
    log_line("info", "listening",
             json_pack("{s:s, s:i, s:I, s:I, s:s, s:s}", "host", hc.host, "port",
                       (int)http_port(srv), "slots", (json_int_t)workers, "queue", (json_int_t)cap,
                       "languages", names, "cgroup",
                       pool ? box_pool_cgroup_version(pool) : be.name));
    printf("xxxd: listening on http://%s:%u (%zu languages: %s; %zu slots)\n", hc.host,
           (unsigned)http_port(srv), rts->n, names, workers);
    fflush(stdout);
    if (hooks && hooks->listening)
        hooks->listening(hooks->ctx, hc.host, http_port(srv), engine, rts);

    int sig = wait_signal();
    if (hooks && hooks->stopping)
        hooks->stopping(hooks->ctx);
    uint64_t deadline = run_now_ms() + c.grace_ms;
    log_line("info", "shutting down",
             json_pack("{s:s, s:I}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", "grace_ms",
                       (json_int_t)c.grace_ms));
    http_quiesce(srv);
    size_t stuck = run_engine_drain(engine, deadline);
    if (stuck) {
        /* A box that ignores SIGKILL-and-wait has a worker stuck in
         * box_exec: nothing can be freed safely. Exiting kills the boxes
         * (PDEATHSIG) and drops our mount namespace with their mounts. */
        log_line("error", "runs would not end; exiting without cleanup",
                 json_pack("{s:I}", "runs", (json_int_t)stuck));
        _exit(1);
    }
    /* Every run has ended and every waiting connection was resumed; give
     * the answers a moment to reach their clients. */
    if (sessions)
        session_mgr_close(sessions); /* their cells answer "shutdown" */
    size_t left = http_wait_idle(srv, run_now_ms() + 5000);
    http_stop(srv);
    session_mgr_stop(sessions);
    run_engine_stop(engine);
    box_pool_close(pool);
    podman_close(pm);
    runtime_set_free(rts);
    log_line("info", "stopped", json_pack("{s:I}", "requests_cut", (json_int_t)left));
    return 0;
}

/* run.c — queue, workers and steps of a run (see run.h).
 *
 * Theory of operation. run_submit puts a run on a FIFO (refusing when it
 * holds `capacity` runs beyond those the idle workers are about to take:
 * a burst on an idle server is not refused while a worker still wakes up)
 * and on the active list. Each worker pops the
 * oldest run, takes a box slot, executes the steps and finishes the run:
 * state DONE, observer's on_done, off the active list, engine's reference
 * dropped. A "reaper" thread does the two things no worker can: it finishes
 * runs cancelled while still queued (so their clients answer at once, not
 * when a slot frees), and it repeats box_cancel every REAP_MS for cancelled
 * runs still in a box, because a cancel that lands between "slot taken" and
 * "step started" would otherwise find no step to end.
 *
 * Locks: engine mu before run mu; a run's obs_mu is taken alone, around
 * observer callbacks, so run_detach can wait them out. */
#include "run/run.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "common/cleanup.h"
#include "common/strv.h"

#define REAP_MS 50

struct run {
    atomic_int refs;
    char id[33];
    run_engine *e;
    run_request req;
    bool container, probe;

    pthread_mutex_t obs_mu; /* held while calling the observer */
    run_observer obs;
    bool detached;

    pthread_mutex_t mu; /* state, slot, cancelled */
    run_state state;
    backend_lease *slot;
    bool cancelled;

    run_result res;
    uint64_t submitted_ms;
    char probe_version[64];
    bool probe_ok;
    char probe_detail[400];

    struct run *qnext;         /* FIFO or reap list */
    struct run *anext, *aprev; /* active list */
};

struct run_engine {
    backend be;
    run_executor ex; /* execute set: runs go there instead of a backend */
    unsigned nworkers;
    pthread_t *workers;
    pthread_t reaper;
    bool reaper_started;
    int acquire_timeout_ms;

    pthread_mutex_t mu;
    pthread_cond_t work; /* queue not empty, or stopping */
    pthread_cond_t idle; /* a run finished */
    pthread_cond_t reap; /* something for the reaper */
    run *qhead, *qtail;
    size_t qlen, capacity;
    run *reap_head;
    run *active; /* queued and running, newest first */
    size_t nactive, nrunning;
    bool closed, stopping;
};

uint64_t run_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void run_request_clear(run_request *req)
{
    free(req->code);
    strv_free(req->command);
    strv_free(req->args);
    free(req->stdin_data);
    if (req->stdin_live && req->stdin_fd >= 0)
        close(req->stdin_fd);
    for (size_t i = 0; i < req->nfiles; i++) {
        free(req->files[i].name);
        free(req->files[i].data);
    }
    free(req->files);
    memset(req, 0, sizeof *req);
}

bool run_file_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 255 || memchr(name, '\0', len) || name[0] == '/')
        return false;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && name[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && name[i] == '.') ||
            (n == 2 && name[i] == '.' && name[i + 1] == '.'))
            return false;
        if (j == len - 1) /* trailing slash */
            return false;
        i = j + 1;
    }
    return true;
}

static void overlay(box_limits *l, const box_limits *o)
{
    if (!o)
        return;
    if (o->wall_ms)
        l->wall_ms = o->wall_ms;
    if (o->cpu_ms)
        l->cpu_ms = o->cpu_ms;
    if (o->memory_bytes)
        l->memory_bytes = o->memory_bytes;
    if (o->processes)
        l->processes = o->processes;
    if (o->output_bytes)
        l->output_bytes = o->output_bytes;
    if (o->file_bytes)
        l->file_bytes = o->file_bytes;
    if (o->tmpfs_bytes)
        l->tmpfs_bytes = o->tmpfs_bytes;
    if (o->open_files)
        l->open_files = o->open_files;
}

void run_effective_limits(box_limits *eff, bool compile, const box_limits *rt_limits,
                          const box_limits *req_limits, const box_limits *max)
{
    box_limits l = {
        .wall_ms = compile ? RUN_DEFAULT_COMPILE_WALL_MS : RUN_DEFAULT_WALL_MS,
        .cpu_ms = compile ? RUN_DEFAULT_COMPILE_CPU_MS : RUN_DEFAULT_CPU_MS,
        .memory_bytes = compile ? RUN_DEFAULT_COMPILE_MEMORY_BYTES : RUN_DEFAULT_MEMORY_BYTES,
        .processes = compile ? RUN_DEFAULT_COMPILE_PROCESSES : RUN_DEFAULT_PROCESSES,
        .output_bytes = RUN_DEFAULT_OUTPUT_BYTES,
    };
    overlay(&l, rt_limits);
    overlay(&l, req_limits);
    box_limits_clamp(&l, max);
    *eff = l;
}

const char *run_id(const run *r)
{
    return r->id;
}

const runtime *run_runtime(const run *r)
{
    return r->req.rt;
}

run_state run_get_state(run *r)
{
    pthread_mutex_lock(&r->mu);
    run_state st = r->state;
    pthread_mutex_unlock(&r->mu);
    return st;
}

const run_result *run_get_result(run *r)
{
    return run_get_state(r) == RUN_DONE ? &r->res : NULL;
}

void run_ref(run *r)
{
    atomic_fetch_add(&r->refs, 1);
}

static void step_free(run_step *s)
{
    box_result_free(&s->box);
    bytebuf_free(&s->all);
}

void run_unref(run *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    run_request_clear(&r->req);
    step_free(&r->res.compile);
    step_free(&r->res.exec);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->obs_mu);
    free(r);
}

void run_detach(run *r)
{
    pthread_mutex_lock(&r->obs_mu);
    r->detached = true;
    pthread_mutex_unlock(&r->obs_mu);
}

/* Makes a random 128-bit id in hex. */
static void make_id(char id[33])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* getrandom cannot fail on Linux >= 3.17 once seeded; keep ids unique anyway. */
            static atomic_ulong fallback;
            unsigned long v = atomic_fetch_add(&fallback, 1) ^ (unsigned long)run_now_ms();
            memcpy(b, &v, sizeof v);
            break;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
}

static run *run_new(run_engine *e)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->obs_mu, NULL);
    r->e = e;
    r->state = RUN_QUEUED;
    r->submitted_ms = run_now_ms();
    make_id(r->id);
    return r;
}

/* ---- observer ---- */

static void notify_start(run *r)
{
    pthread_mutex_lock(&r->obs_mu);
    if (!r->detached && r->obs.on_start)
        r->obs.on_start(r->obs.ctx);
    pthread_mutex_unlock(&r->obs_mu);
}

static void notify_stage(run *r, const char *stage)
{
    pthread_mutex_lock(&r->obs_mu);
    if (!r->detached && r->obs.on_stage)
        r->obs.on_stage(r->obs.ctx, stage);
    pthread_mutex_unlock(&r->obs_mu);
}

static void notify_done(run *r)
{
    pthread_mutex_lock(&r->obs_mu);
    if (!r->detached && r->obs.on_done)
        r->obs.on_done(r->obs.ctx);
    pthread_mutex_unlock(&r->obs_mu);
}

/* ---- steps ---- */

typedef struct step_sink {
    run *r;
    run_step *step;
    bool forward; /* pass chunks to the observer */
} step_sink;

/* box_output_fn: keeps the chunk in arrival order and forwards it. */
static void on_box_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    step_sink *sink = ctx;
    /* The box caps stdout+stderr at output_bytes; keep the same cap here so a
     * misbehaving box cannot grow this buffer without bound. */
    uint64_t cap = sink->step->limits.output_bytes;
    size_t room = cap && sink->step->all.len < cap ? (size_t)(cap - sink->step->all.len) : 0;
    if (!cap)
        room = len;
    if (bytebuf_append(&sink->step->all, data, len < room ? len : room) < 0)
        fprintf(stderr, "run %s: out of memory keeping output\n", sink->r->id);
    if (!sink->forward)
        return;
    pthread_mutex_lock(&sink->r->obs_mu);
    if (!sink->r->detached && sink->r->obs.on_output)
        sink->r->obs.on_output(sink->r->obs.ctx, stream, data, len);
    pthread_mutex_unlock(&sink->r->obs_mu);
}

/* Runs argv in the slot as one step; fills *step. */
static void exec_step(run *r, backend_lease *s, char *const *argv, const box_limits *limits,
                      const char *stdin_data, size_t stdin_len, int stdin_fd, bool forward,
                      run_step *step)
{
    step->limits = *limits;
    step_sink sink = {.r = r, .step = step, .forward = forward};
    box_spec spec = {
        .argv = (const char *const *)argv,
        .envp = (const char *const *)r->req.rt->env,
        .cwd = NULL,
        .stdin_data = stdin_data,
        .stdin_len = stdin_len,
        .stdin_fd = stdin_fd,
        .limits = *limits,
        .on_output = on_box_output,
        .ctx = &sink,
    };
    r->e->be.exec(s, &spec, &step->box);
}

/* Writes a step's outcome as a sentence into msg when it is not a plain exit. */
static void describe(const run_step *st, const char *what, char *msg, size_t len)
{
    const box_result *b = &st->box;
    switch (b->status) {
    case BOX_OK:
    case BOX_RUNTIME_ERROR:
        msg[0] = '\0';
        break;
    case BOX_TIMEOUT:
        if (b->limit == BOX_LIMIT_CPU)
            snprintf(msg, len, "%s exceeded the CPU time limit of %llu ms", what,
                     (unsigned long long)st->limits.cpu_ms);
        else
            snprintf(msg, len, "%s exceeded the wall-clock limit of %llu ms", what,
                     (unsigned long long)st->limits.wall_ms);
        break;
    case BOX_MEMORY_LIMIT:
        snprintf(msg, len, "%s exceeded the memory limit of %llu MiB", what,
                 (unsigned long long)(st->limits.memory_bytes >> 20));
        break;
    case BOX_OUTPUT_LIMIT:
        snprintf(msg, len, "%s exceeded the output limit of %llu bytes", what,
                 (unsigned long long)st->limits.output_bytes);
        break;
    case BOX_SIGNALED:
        snprintf(msg, len, "%s was killed by %s", what, box_signal_name(b->signal));
        break;
    case BOX_CANCELLED:
        snprintf(msg, len, "cancelled");
        break;
    case BOX_INTERNAL_ERROR:
        snprintf(msg, len, "%s could not run: %s", what, b->message);
        break;
    }
}

static bool is_cancelled(run *r)
{
    pthread_mutex_lock(&r->mu);
    bool c = r->cancelled;
    pthread_mutex_unlock(&r->mu);
    return c;
}

/* Writes the runtime's support files, the source and the request's files. */
static int put_files(run *r, backend_lease *s, const char *code, size_t code_len, char *msg,
                     size_t len)
{
    const runtime *rt = r->req.rt;
    char err[256];
    for (size_t i = 0; i < rt->nsupport; i++) {
        if (r->e->be.put_file(s, rt->support[i].name, rt->support[i].content, rt->support[i].len,
                              0644, err, sizeof err) < 0) {
            snprintf(msg, len, "writing %s: %s", rt->support[i].name, err);
            return -1;
        }
    }
    if (code && r->e->be.put_file(s, rt->source, code, code_len, 0644, err, sizeof err) < 0) {
        snprintf(msg, len, "writing %s: %s", rt->source, err);
        return -1;
    }
    for (size_t i = 0; i < r->req.nfiles; i++) {
        const run_file *f = &r->req.files[i];
        if (r->e->be.put_file(s, f->name, f->data, f->len, 0644, err, sizeof err) < 0) {
            snprintf(msg, len, "writing %s: %s", f->name, err);
            return -1;
        }
    }
    return 0;
}

/* Takes a slot for r; NULL (with the result filled) when none or cancelled. */
static backend_lease *take_slot(run_engine *e, run *r)
{
    char err[256] = "";
    backend_lease *s =
        e->be.acquire(e->be.self, r->req.rt->image, 0, e->acquire_timeout_ms, err, sizeof err);
    if (!s) {
        r->res.status = "internal_error";
        r->res.no_box = true;
        snprintf(r->res.message, sizeof r->res.message, "no box available: %s",
                 err[0] ? err : "every slot stayed busy");
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    bool cancelled = r->cancelled;
    if (!cancelled)
        r->slot = s;
    pthread_mutex_unlock(&r->mu);
    if (cancelled) {
        e->be.release(s);
        r->res.status = "cancelled";
        snprintf(r->res.message, sizeof r->res.message, "cancelled");
        return NULL;
    }
    return s;
}

static void give_back_slot(run *r, backend_lease *s)
{
    pthread_mutex_lock(&r->mu);
    r->slot = NULL; /* no cancel on it from now on */
    pthread_mutex_unlock(&r->mu);
    r->e->be.release(s);
}

/* The compile-then-run body of a request. */
static void execute(run_engine *e, run *r)
{
    run_result *res = &r->res;
    const runtime *rt = r->req.rt;
    _cleanup_strv_ char **cargv = NULL;
    _cleanup_strv_ char **argv = NULL;
    box_limits lim;
    backend_lease *s = take_slot(e, r);
    if (!s)
        return;
    notify_start(r);
    if (put_files(r, s, r->req.code, r->req.code_len, res->message, sizeof res->message) < 0) {
        res->status = "internal_error";
        goto out;
    }
    if (rt->compile && !r->container) {
        cargv = runtime_expand((const char *const *)rt->compile, rt->source, NULL);
        run_effective_limits(&lim, true, &rt->compile_limits, NULL, e->be.max(e->be.self));
        if (!cargv) {
            res->status = "internal_error";
            snprintf(res->message, sizeof res->message, "out of memory");
            goto out;
        }
        notify_stage(r, "compile");
        exec_step(r, s, cargv, &lim, NULL, 0, -1, false, &res->compile);
        res->compiled = true;
        box_status st = res->compile.box.status;
        if (st != BOX_OK) {
            res->status = st == BOX_CANCELLED        ? "cancelled"
                          : st == BOX_INTERNAL_ERROR ? "internal_error"
                                                     : "compile_error";
            describe(&res->compile, "compilation", res->message, sizeof res->message);
            if (st == BOX_RUNTIME_ERROR)
                snprintf(res->message, sizeof res->message, "compilation failed (exit code %d)",
                         res->compile.box.exit_code);
            goto out;
        }
    }
    if (is_cancelled(r)) {
        res->status = "cancelled";
        snprintf(res->message, sizeof res->message, "cancelled");
        goto out;
    }
    argv = r->container ? strv_dup((const char *const *)r->req.command)
                        : runtime_expand((const char *const *)rt->run, rt->source,
                                         (const char *const *)r->req.args);
    if (!argv) {
        res->status = "internal_error";
        snprintf(res->message, sizeof res->message, "out of memory");
        goto out;
    }
    run_effective_limits(&lim, false, &rt->run_limits, &r->req.limits, e->be.max(e->be.self));
    notify_stage(r, "run");
    exec_step(r, s, argv, &lim, r->req.stdin_data, r->req.stdin_len,
              r->req.stdin_live ? r->req.stdin_fd : -1, true, &res->exec);
    if (r->req.stdin_live && r->req.stdin_fd >= 0) {
        /* Now, not at the last unref: the writer learns (EPIPE) that no one reads. */
        close(r->req.stdin_fd);
        r->req.stdin_fd = -1;
    }
    res->ran = true;
    res->status = box_status_name(res->exec.box.status);
    describe(&res->exec, "the program", res->message, sizeof res->message);
out:
    give_back_slot(r, s);
}

/* The self-test body: version command, then the test program. */
static void probe(run_engine *e, run *r)
{
    const runtime *rt = r->req.rt;
    run_result *res = &r->res;
    _cleanup_strv_ char **cargv = NULL;
    _cleanup_strv_ char **argv = NULL;
    backend_lease *s = take_slot(e, r);
    if (!s) {
        snprintf(r->probe_detail, sizeof r->probe_detail, "%s", res->message);
        return;
    }
    box_limits lim;
    run_effective_limits(&lim, true, &rt->compile_limits, NULL, e->be.max(e->be.self));
    exec_step(r, s, rt->version_rule.command, &lim, NULL, 0, -1, false, &res->compile);
    const box_result *v = &res->compile.box;
    if (v->status != BOX_OK) {
        describe(&res->compile, "the version command", r->probe_detail, sizeof r->probe_detail);
        if (v->status == BOX_RUNTIME_ERROR)
            snprintf(r->probe_detail, sizeof r->probe_detail,
                     "the version command exited with %d: %.160s", v->exit_code,
                     res->compile.all.data ? res->compile.all.data : "");
        goto out;
    }
    if (runtime_pick_version(rt, v->out.data, v->out.len, v->err.data, v->err.len, r->probe_version,
                             sizeof r->probe_version) < 0) {
        snprintf(r->probe_detail, sizeof r->probe_detail, "no version in %.160s",
                 res->compile.all.data ? res->compile.all.data : "(no output)");
        goto out;
    }
    step_free(&res->compile);
    memset(&res->compile, 0, sizeof res->compile);
    if (put_files(r, s, rt->test_code, strlen(rt->test_code), r->probe_detail,
                  sizeof r->probe_detail) < 0)
        goto out;
    if (rt->compile) {
        cargv = runtime_expand((const char *const *)rt->compile, rt->source, NULL);
        if (!cargv)
            goto out;
        exec_step(r, s, cargv, &lim, NULL, 0, -1, false, &res->compile);
        if (res->compile.box.status != BOX_OK) {
            describe(&res->compile, "compilation", r->probe_detail, sizeof r->probe_detail);
            if (res->compile.box.status == BOX_RUNTIME_ERROR)
                snprintf(r->probe_detail, sizeof r->probe_detail,
                         "the self-test did not compile: %.200s",
                         res->compile.all.data ? res->compile.all.data : "");
            goto out;
        }
    }
    argv = runtime_expand((const char *const *)rt->run, rt->source, NULL);
    if (!argv)
        goto out;
    run_effective_limits(&lim, false, &rt->run_limits, NULL, e->be.max(e->be.self));
    exec_step(r, s, argv, &lim, NULL, 0, -1, false, &res->exec);
    const box_result *x = &res->exec.box;
    if (x->status != BOX_OK) {
        describe(&res->exec, "the self-test", r->probe_detail, sizeof r->probe_detail);
        if (x->status == BOX_RUNTIME_ERROR)
            snprintf(r->probe_detail, sizeof r->probe_detail,
                     "the self-test exited with %d: %.200s", x->exit_code,
                     res->exec.all.data ? res->exec.all.data : "");
        goto out;
    }
    if (!x->out.data || strcmp(x->out.data, rt->test_stdout) != 0) {
        snprintf(r->probe_detail, sizeof r->probe_detail,
                 "the self-test printed \"%.80s\", expected \"%.80s\"",
                 x->out.data ? x->out.data : "", rt->test_stdout);
        goto out;
    }
    r->probe_ok = true;
out:
    give_back_slot(r, s);
}

/* ---- engine ---- */

static void active_remove(run_engine *e, run *r)
{
    if (r->aprev)
        r->aprev->anext = r->anext;
    else
        e->active = r->anext;
    if (r->anext)
        r->anext->aprev = r->aprev;
    r->anext = r->aprev = NULL;
    e->nactive--;
}

/* Marks r done, tells the observer, drops it from the engine. */
static void finish(run_engine *e, run *r, bool was_running)
{
    r->res.total_ms = run_now_ms() - r->submitted_ms;
    pthread_mutex_lock(&r->mu);
    r->state = RUN_DONE;
    r->slot = NULL;
    pthread_mutex_unlock(&r->mu);
    notify_done(r);
    pthread_mutex_lock(&e->mu);
    active_remove(e, r);
    if (was_running)
        e->nrunning--;
    pthread_cond_broadcast(&e->idle);
    pthread_mutex_unlock(&e->mu);
    run_unref(r);
}

static void *worker_main(void *arg)
{
    run_engine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (!e->qhead && !e->stopping)
            pthread_cond_wait(&e->work, &e->mu);
        run *r = e->qhead;
        if (!r) {
            pthread_mutex_unlock(&e->mu);
            return NULL;
        }
        e->qhead = r->qnext;
        if (!e->qhead)
            e->qtail = NULL;
        r->qnext = NULL;
        if (!r->probe)
            e->qlen--;
        e->nrunning++;
        pthread_mutex_lock(&r->mu);
        r->state = RUN_RUNNING;
        bool cancelled = r->cancelled;
        pthread_mutex_unlock(&r->mu);
        pthread_mutex_unlock(&e->mu);

        r->res.queue_ms = run_now_ms() - r->submitted_ms;
        if (cancelled) {
            r->res.status = "cancelled";
            snprintf(r->res.message, sizeof r->res.message, "cancelled");
        } else if (e->ex.execute) {
            e->ex.execute(e->ex.ctx, r);
        } else if (r->probe) {
            probe(e, r);
        } else {
            execute(e, r);
        }
        finish(e, r, true);
    }
}

/* Repeats box_cancel for cancelled runs in a box; finishes cancelled queued runs. */
static void *reaper_main(void *arg)
{
    run_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stopping || e->reap_head) {
        if (e->reap_head) {
            run *list = e->reap_head;
            e->reap_head = NULL;
            pthread_mutex_unlock(&e->mu);
            while (list) {
                run *r = list;
                list = r->qnext;
                r->qnext = NULL;
                r->res.status = "cancelled";
                snprintf(r->res.message, sizeof r->res.message, "cancelled while queued");
                r->res.queue_ms = run_now_ms() - r->submitted_ms;
                finish(e, r, false);
            }
            pthread_mutex_lock(&e->mu);
            continue;
        }
        bool pending = false;
        for (run *r = e->active; r; r = r->anext) {
            pthread_mutex_lock(&r->mu);
            if (r->cancelled && r->state == RUN_RUNNING && r->slot) {
                e->be.cancel(r->slot);
                pending = true;
            }
            pthread_mutex_unlock(&r->mu);
        }
        if (pending) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += REAP_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&e->reap, &e->mu, &ts);
        } else {
            pthread_cond_wait(&e->reap, &e->mu);
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Starts an engine whose workers use be, or ex when be is NULL. */
static int engine_start(const backend *be, const run_executor *ex, const run_config *cfg,
                        run_engine **out, char *err, size_t errlen)
{
    run_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ex) {
        e->ex = *ex;
        box_limits d = box_limits_default();
        box_limits_clamp(&e->ex.max, &d);
        e->nworkers = ex->workers ? ex->workers : 1;
    } else {
        e->be = *be;
        e->nworkers = be->slots(be->self);
        if (cfg && cfg->workers && cfg->workers < e->nworkers)
            e->nworkers = cfg->workers;
    }
    e->capacity = cfg && cfg->queue ? cfg->queue : 4 * (size_t)e->nworkers;
    e->acquire_timeout_ms = cfg && cfg->acquire_timeout_ms ? cfg->acquire_timeout_ms : 30000;
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->work, &ca);
    pthread_cond_init(&e->idle, &ca);
    pthread_cond_init(&e->reap, &ca);
    pthread_condattr_destroy(&ca);
    e->workers = calloc(e->nworkers, sizeof *e->workers);
    if (!e->workers) {
        snprintf(err, errlen, "out of memory");
        free(e);
        return -1;
    }
    int rc = pthread_create(&e->reaper, NULL, reaper_main, e);
    if (rc != 0) {
        snprintf(err, errlen, "starting the reaper thread: %s", strerror(rc));
        free(e->workers);
        free(e);
        return -1;
    }
    e->reaper_started = true;
    for (unsigned i = 0; i < e->nworkers; i++) {
        rc = pthread_create(&e->workers[i], NULL, worker_main, e);
        if (rc != 0) {
            snprintf(err, errlen, "starting worker %u: %s", i, strerror(rc));
            e->nworkers = i;
            run_engine_stop(e);
            return -1;
        }
    }
    *out = e;
    return 0;
}

int run_engine_start(box_pool *pool, const run_config *cfg, run_engine **out, char *err,
                     size_t errlen)
{
    backend be;
    backend_native(&be, pool);
    return engine_start(&be, NULL, cfg, out, err, errlen);
}

int run_engine_start_backend(const backend *be, const run_config *cfg, run_engine **out, char *err,
                             size_t errlen)
{
    return engine_start(be, NULL, cfg, out, err, errlen);
}

int run_engine_start_executor(const run_executor *ex, const run_config *cfg, run_engine **out,
                              char *err, size_t errlen)
{
    return engine_start(NULL, ex, cfg, out, err, errlen);
}

const box_limits *run_engine_max(const run_engine *e)
{
    return e->ex.execute ? &e->ex.max : e->be.max(e->be.self);
}

const char *run_engine_backend(const run_engine *e)
{
    return e->ex.execute ? "remote" : e->be.name;
}

const run_request *run_exec_request(const run *r)
{
    return &r->req;
}

bool run_exec_container(const run *r)
{
    return r->container;
}

bool run_exec_cancelled(run *r)
{
    return is_cancelled(r);
}

run_result *run_exec_result(run *r)
{
    return &r->res;
}

void run_exec_start(run *r)
{
    notify_start(r);
}

void run_exec_output(run *r, box_stream stream, const char *data, size_t len)
{
    pthread_mutex_lock(&r->obs_mu);
    if (!r->detached && r->obs.on_output)
        r->obs.on_output(r->obs.ctx, stream, data, len);
    pthread_mutex_unlock(&r->obs_mu);
}

/* Puts r on the queue and the active list; e->mu held. */
static void enqueue_locked(run_engine *e, run *r)
{
    if (e->qtail)
        e->qtail->qnext = r;
    else
        e->qhead = r;
    e->qtail = r;
    if (!r->probe)
        e->qlen++;
    r->anext = e->active;
    if (e->active)
        e->active->aprev = r;
    e->active = r;
    e->nactive++;
    run_ref(r); /* the engine's reference, dropped by finish() */
    pthread_cond_signal(&e->work);
}

run_submit_error run_submit(run_engine *e, run_request *req, const run_observer *obs, run **out)
{
    run *r = run_new(e);
    if (!r)
        return RUN_SUBMIT_NOMEM;
    pthread_mutex_lock(&e->mu);
    /* The first runs queued are the free workers' even before they wake. */
    size_t free_workers = e->nworkers > e->nrunning ? e->nworkers - e->nrunning : 0;
    run_submit_error why = e->closed                               ? RUN_SUBMIT_CLOSED
                           : e->qlen >= e->capacity + free_workers ? RUN_SUBMIT_QUEUE_FULL
                                                                   : RUN_SUBMIT_OK;
    if (why == RUN_SUBMIT_OK) {
        r->req = *req;
        memset(req, 0, sizeof *req);
        r->container = r->req.command != NULL;
        if (obs)
            r->obs = *obs;
        /* Before a worker can see the run: observers may read *out. */
        *out = r;
        enqueue_locked(e, r);
    }
    pthread_mutex_unlock(&e->mu);
    if (why != RUN_SUBMIT_OK) {
        run_unref(r);
        return why;
    }
    return RUN_SUBMIT_OK;
}

/* e->mu held. */
static void cancel_locked(run_engine *e, run *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->state == RUN_DONE || r->cancelled) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    r->cancelled = true;
    if (r->state == RUN_QUEUED) {
        /* Off the FIFO now, so the queue frees up and the client hears at once. */
        run **pp = &e->qhead;
        run *prev = NULL;
        while (*pp && *pp != r) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = r->qnext;
            if (e->qtail == r)
                e->qtail = prev;
            r->qnext = e->reap_head;
            e->reap_head = r;
            if (!r->probe)
                e->qlen--;
        }
    } else if (r->slot) {
        e->be.cancel(r->slot);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_cond_signal(&e->reap);
}

void run_cancel(run *r)
{
    run_engine *e = r->e;
    pthread_mutex_lock(&e->mu);
    cancel_locked(e, r);
    pthread_mutex_unlock(&e->mu);
}

int run_interrupt(run *r)
{
    int rc = -1;
    pthread_mutex_lock(&r->mu);
    if (r->slot && r->state == RUN_RUNNING && r->e->be.interrupt)
        rc = r->e->be.interrupt(r->slot);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int run_cancel_id(run_engine *e, const char *id)
{
    int rc = -1;
    pthread_mutex_lock(&e->mu);
    for (run *r = e->active; r; r = r->anext) {
        if (!r->probe && strcmp(r->id, id) == 0) {
            cancel_locked(e, r);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

run_info *run_list(run_engine *e, size_t *n)
{
    pthread_mutex_lock(&e->mu);
    run_info *v = calloc(e->nactive + 1, sizeof *v);
    size_t k = 0;
    uint64_t now = run_now_ms();
    /* The active list is newest first; fill from the back for oldest first. */
    size_t count = 0;
    for (run *r = e->active; r; r = r->anext)
        if (!r->probe)
            count++;
    k = count;
    for (run *r = e->active; v && r; r = r->anext) {
        if (r->probe)
            continue;
        run_info *i = &v[--k];
        snprintf(i->id, sizeof i->id, "%s", r->id);
        snprintf(i->language, sizeof i->language, "%s", r->req.rt->name);
        pthread_mutex_lock(&r->mu);
        i->state = r->state;
        i->slot = r->slot ? (int)e->be.index(r->slot) : -1;
        pthread_mutex_unlock(&r->mu);
        i->age_ms = now - r->submitted_ms;
        i->container = r->container;
    }
    pthread_mutex_unlock(&e->mu);
    *n = v ? count : 0;
    return v;
}

void run_counts(run_engine *e, size_t *queued, size_t *running, size_t *capacity, size_t *workers)
{
    pthread_mutex_lock(&e->mu);
    *queued = e->qlen;
    *running = e->nrunning;
    *capacity = e->capacity;
    *workers = e->nworkers;
    pthread_mutex_unlock(&e->mu);
}

size_t run_probe_runtimes(run_engine *e, runtime_set *set,
                          void (*log)(void *ctx, const runtime *rt, bool ok, const char *detail),
                          void *ctx)
{
    run **probes = calloc(set->n ? set->n : 1, sizeof *probes);
    if (!probes)
        return 0;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < set->n; i++) {
        run *r = run_new(e);
        if (!r)
            continue;
        r->probe = true;
        r->req.rt = set->items[i];
        probes[i] = r;
        enqueue_locked(e, r);
    }
    for (;;) {
        size_t pending = 0;
        for (size_t i = 0; i < set->n; i++)
            if (probes[i] && run_get_state(probes[i]) != RUN_DONE)
                pending++;
        if (!pending)
            break;
        pthread_cond_wait(&e->idle, &e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    size_t ok = 0;
    for (size_t i = 0; i < set->n; i++) {
        run *r = probes[i];
        runtime *rt = set->items[i];
        if (r && r->probe_ok && (rt->version = strdup(r->probe_version))) {
            ok++;
            if (log)
                log(ctx, rt, true, rt->version);
        } else if (log) {
            log(ctx, rt, false, r ? r->probe_detail : "out of memory");
        }
        run_unref(r);
    }
    free(probes);
    return ok;
}

/* Waits on e->idle until no run is active or deadline_ms; e->mu held. */
static void wait_idle_locked(run_engine *e, uint64_t deadline_ms)
{
    while (e->nactive > 0 && run_now_ms() < deadline_ms) {
        struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                              .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
        pthread_cond_timedwait(&e->idle, &e->mu, &ts);
    }
}

size_t run_engine_drain(run_engine *e, uint64_t deadline_ms)
{
    pthread_mutex_lock(&e->mu);
    e->closed = true;
    wait_idle_locked(e, deadline_ms);
    for (run *r = e->active; r; r = r->anext)
        cancel_locked(e, r);
    wait_idle_locked(e, run_now_ms() + RUN_CANCEL_WAIT_MS);
    size_t left = e->nactive;
    pthread_mutex_unlock(&e->mu);
    return left;
}

int run_engine_stop(run_engine *e)
{
    if (!e)
        return 0;
    if (run_engine_drain(e, 0) > 0)
        return -1;
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_broadcast(&e->work);
    pthread_cond_broadcast(&e->reap);
    pthread_mutex_unlock(&e->mu);
    for (unsigned i = 0; i < e->nworkers; i++)
        pthread_join(e->workers[i], NULL);
    if (e->reaper_started)
        pthread_join(e->reaper, NULL);
    pthread_cond_destroy(&e->work);
    pthread_cond_destroy(&e->idle);
    pthread_cond_destroy(&e->reap);
    pthread_mutex_destroy(&e->mu);
    free(e->workers);
    free(e);
    return 0;
}

/* view.c — repl-api's view of its executors: refresh, pick, release. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"
#include "registry/registry.h"
#include "remote/internal.h"

uint64_t remote_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void executor_clear(executor *e)
{
    strv_free(e->languages);
    json_decref(e->runtimes);
    memset(e, 0, sizeof *e);
}

static unsigned uint_of(json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 && v < 1000000 ? (unsigned)v : 0;
}

/* Fills e from a registry instance; -1 when it has no usable url. */
static int executor_from_instance(executor *e, json_t *inst)
{
    const char *id = json_string_value(json_object_get(inst, "id"));
    const char *url = json_string_value(json_object_get(inst, "url"));
    if (!id || !url || strlen(id) >= sizeof e->id || strlen(url) >= sizeof e->url ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return -1;
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->url, sizeof e->url, "%s", url);
    json_t *m = json_object_get(inst, "metadata");
    e->slots = uint_of(m, "slots");
    e->queued = uint_of(m, "queued");
    e->free_slots = uint_of(m, "free_slots");
    unsigned qcap = uint_of(m, "queue_capacity");
    /* Half the queue it has: the other half absorbs the moment between a
     * run ending there and its worker taking the next one, which would
     * otherwise answer 429. Runs beyond wait here, where they can still go
     * to whichever executor frees up first. */
    e->capacity = e->slots ? e->slots + (qcap / 2 ? qcap / 2 : 1) : 0;
    json_t *rts = json_object_get(m, "runtimes");
    if (json_is_array(rts)) {
        e->runtimes = json_incref(rts);
        size_t i, k = 0;
        json_t *rt;
        e->languages = calloc(json_array_size(rts) + 1, sizeof *e->languages);
        json_array_foreach(rts, i, rt)
        {
            const char *name = json_string_value(json_object_get(rt, "language"));
            if (e->languages && name)
                e->languages[k++] = strdup(name);
        }
    }
    return 0;
}

/* Serves what the executors report (remote_serve_runtimes); with mu held.
 * Logs the served languages when they change. */
static size_t sync_runtimes_locked(remote *rm)
{
    runtime_set *rts = rm->rts;
    if (!rts)
        return 0;
    bool any_report = false;
    for (size_t j = 0; j < rm->nex; j++)
        any_report |= rm->ex[j].runtimes != NULL;
    if (!any_report)
        return runtime_set_served(rts);
    char before[512], after[512];
    runtime_set_names(rts, before, sizeof before);
    for (size_t i = 0; i < rts->n; i++) {
        runtime *rt = rts->items[i];
        bool reported = false;
        for (size_t j = 0; j < rm->nex; j++) {
            size_t k;
            json_t *v;
            json_array_foreach(rm->ex[j].runtimes, k, v)
            {
                const char *name = json_string_value(json_object_get(v, "language"));
                const char *ver = json_string_value(json_object_get(v, "version"));
                if (name && ver && strcmp(name, rt->name) == 0) {
                    reported = runtime_note_version(rt, ver) == 0;
                    break;
                }
            }
            if (reported)
                break;
        }
        runtime_show(rt, reported);
    }
    runtime_set_names(rts, after, sizeof after);
    if (strcmp(before, after) != 0) {
        _cleanup_json_ json_t *line = json_pack("{s:s, s:s, s:s}", "level", "info", "msg",
                                                "languages served", "languages", after);
        _cleanup_free_ char *t = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (t)
            fprintf(stderr, "%s\n", t);
    }
    return runtime_set_served(rts);
}

/* Replaces the view with instances, keeping the counts of known ids. */
static void view_replace(remote *rm, json_t *instances)
{
    size_t n = json_array_size(instances);
    if (n > REMOTE_MAX_EXECUTORS)
        n = REMOTE_MAX_EXECUTORS;
    executor *nv = calloc(n ? n : 1, sizeof *nv);
    if (!nv)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (executor_from_instance(&nv[k], json_array_get(instances, i)) == 0)
            k++;
        else
            executor_clear(&nv[k]);
    pthread_mutex_lock(&rm->mu);
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < rm->nex; j++) {
            if (strcmp(rm->ex[j].id, nv[i].id) == 0) {
                nv[i].in_flight = rm->ex[j].in_flight;
                nv[i].down_until_ms = rm->ex[j].down_until_ms;
                nv[i].last_pick = rm->ex[j].last_pick;
                break;
            }
        }
    }
    for (size_t j = 0; j < rm->nex; j++)
        executor_clear(&rm->ex[j]);
    free(rm->ex);
    rm->ex = nv;
    rm->nex = k;
    rm->have_view = true;
    sync_runtimes_locked(rm);
    pthread_cond_broadcast(&rm->changed);
    pthread_mutex_unlock(&rm->mu);
}

static void *refresher_main(void *arg)
{
    remote *rm = arg;
    bool failing = false;
    pthread_mutex_lock(&rm->mu);
    while (!rm->stopping) {
        pthread_mutex_unlock(&rm->mu);
        char err[256];
        json_t *inst =
            registry_client_instances(rm->registry_url, rm->service, 2000, err, sizeof err);
        if (inst) {
            view_replace(rm, inst);
            json_decref(inst);
            if (failing)
                fprintf(stderr, "{\"level\":\"info\",\"msg\":\"registry reachable again\"}\n");
            failing = false;
        } else if (!failing) {
            /* Keep routing with the last view: executors still answer even
             * when the registry or etcd does not. */
            _cleanup_json_ json_t *line =
                json_pack("{s:s, s:s, s:s}", "level", "warn", "msg",
                          "registry unreachable; keeping the last view of executors", "error", err);
            _cleanup_free_ char *t = line ? json_dumps(line, JSON_COMPACT) : NULL;
            if (t)
                fprintf(stderr, "%s\n", t);
            failing = true;
        }
        pthread_mutex_lock(&rm->mu);
        if (!inst)
            snprintf(rm->last_error, sizeof rm->last_error, "%s", err);
        uint64_t until = remote_now_ms() + rm->cfg.refresh_ms;
        while (!rm->stopping && remote_now_ms() < until) {
            struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                                  .tv_nsec = (long)(until % 1000) * 1000000L};
            pthread_cond_timedwait(&rm->changed, &rm->mu, &ts);
        }
    }
    pthread_mutex_unlock(&rm->mu);
    return NULL;
}

/* Adds the fixed executors of CONTAINERS_API_URL. */
static int view_static(remote *rm, char *err, size_t errlen)
{
    _cleanup_free_ char *copy = strdup(rm->static_urls);
    if (!copy)
        return -1;
    size_t n = 1;
    for (const char *p = copy; *p; p++)
        n += *p == ',';
    rm->ex = calloc(n, sizeof *rm->ex);
    if (!rm->ex)
        return -1;
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        size_t len = strlen(t);
        while (len && t[len - 1] == '/')
            t[--len] = '\0';
        if ((strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) ||
            len >= REMOTE_MAX_URL) {
            snprintf(err, errlen, "CONTAINERS_API_URL: '%s' is not an http:// URL", t);
            return -1;
        }
        executor *e = &rm->ex[rm->nex];
        /* An id that can sit in a session id ("{executor}~{session}"). */
        snprintf(e->id, sizeof e->id, "static-%zu", rm->nex++);
        snprintf(e->url, sizeof e->url, "%s", t);
    }
    if (!rm->nex) {
        snprintf(err, errlen, "CONTAINERS_API_URL names no URL");
        return -1;
    }
    rm->have_view = true;
    return 0;
}

int remote_open(const remote_config *cfg, remote **out, char *err, size_t errlen)
{
    remote *rm = calloc(1, sizeof *rm);
    if (!rm) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rm->cfg = *cfg;
    rm->cfg.refresh_ms = cfg->refresh_ms ? cfg->refresh_ms : 1000;
    rm->cfg.down_ms = cfg->down_ms ? cfg->down_ms : 3000;
    rm->cfg.max_attempts = cfg->max_attempts ? cfg->max_attempts : 3;
    rm->cfg.silence_ms = cfg->silence_ms ? cfg->silence_ms : 15000;
    rm->cfg.start_timeout_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms : 120000;
    rm->service = strdup(cfg->service ? cfg->service : "container-api");
    pthread_mutex_init(&rm->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rm->changed, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->static_urls && *cfg->static_urls) {
        rm->static_urls = strdup(cfg->static_urls);
        if (!rm->static_urls || view_static(rm, err, errlen) < 0) {
            if (!err[0])
                snprintf(err, errlen, "out of memory");
            remote_close(rm);
            return -1;
        }
    } else if (cfg->registry_url && *cfg->registry_url) {
        rm->registry_url = strdup(cfg->registry_url);
        size_t n = rm->registry_url ? strlen(rm->registry_url) : 0;
        while (n && rm->registry_url[n - 1] == '/')
            rm->registry_url[--n] = '\0';
        int rc = rm->registry_url ? pthread_create(&rm->refresher, NULL, refresher_main, rm) : -1;
        if (rc != 0) {
            snprintf(err, errlen, "starting the registry refresher: %s",
                     rc > 0 ? strerror(rc) : "out of memory");
            remote_close(rm);
            return -1;
        }
        rm->refresher_started = true;
    } else {
        snprintf(err, errlen, "no executors: set SERVICE_REGISTRY_URL or CONTAINERS_API_URL");
        remote_close(rm);
        return -1;
    }
    *out = rm;
    return 0;
}

void remote_close(remote *rm)
{
    if (!rm)
        return;
    pthread_mutex_lock(&rm->mu);
    rm->stopping = true;
    pthread_cond_broadcast(&rm->changed);
    pthread_mutex_unlock(&rm->mu);
    if (rm->refresher_started)
        pthread_join(rm->refresher, NULL);
    /* Proxied session calls run on detached threads that use rm: give them
     * a moment, and if one is still waiting on an executor, leave rm to
     * the exiting process rather than free it under that thread. */
    for (int i = 0; i < 500 && atomic_load(&rm->proxy_threads); i++) {
        struct timespec ts = {.tv_nsec = 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&rm->proxy_threads))
        return;
    for (size_t i = 0; i < rm->nex; i++)
        executor_clear(&rm->ex[i]);
    free(rm->ex);
    free(rm->registry_url);
    free(rm->static_urls);
    free(rm->service);
    pthread_cond_destroy(&rm->changed);
    pthread_mutex_destroy(&rm->mu);
    free(rm);
}

size_t remote_wait(remote *rm, unsigned timeout_ms)
{
    uint64_t until = remote_now_ms() + timeout_ms;
    pthread_mutex_lock(&rm->mu);
    while (rm->nex == 0 && !rm->stopping && remote_now_ms() < until) {
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&rm->changed, &rm->mu, &ts);
    }
    size_t n = rm->nex;
    pthread_mutex_unlock(&rm->mu);
    return n;
}

static bool serves(const executor *e, const char *language)
{
    if (!e->languages)
        return true;
    for (size_t i = 0; e->languages[i]; i++)
        if (strcmp(e->languages[i], language) == 0)
            return true;
    return false;
}

static bool was_tried(const executor *e, const picked *tried, size_t ntried)
{
    for (size_t i = 0; i < ntried; i++)
        if (strcmp(tried[i].id, e->id) == 0)
            return true;
    return false;
}

int remote_pick(remote *rm, const char *language, picked *tried, size_t ntried, run *r,
                uint64_t deadline_ms, picked *p)
{
    pthread_mutex_lock(&rm->mu);
    for (;;) {
        uint64_t now = remote_now_ms();
        executor *best = NULL;
        double best_score = 0;
        bool full_seen = false;
        /* First executors that are up; only when none is, one marked down
         * (a failed connect costs little and the mark may be stale). */
        for (int pass = 0; pass < 2 && !best; pass++) {
            for (size_t i = 0; i < rm->nex; i++) {
                executor *e = &rm->ex[i];
                if ((language && !serves(e, language)) || was_tried(e, tried, ntried))
                    continue;
                if (pass == 0 && e->down_until_ms > now)
                    continue;
                if (e->capacity && e->in_flight >= e->capacity) {
                    full_seen = true;
                    continue;
                }
                unsigned slots = e->slots ? e->slots : 1;
                /* Our own runs there count at once; the reported queue
                 * breaks ties (it lags by up to a keepalive). */
                double score = (double)e->in_flight / slots + (double)e->queued / (100.0 * slots);
                /* Equal load (an idle cluster, sessions that outlive their
                 * calls): take turns. */
                if (!best || score < best_score ||
                    (score == best_score && e->last_pick < best->last_pick)) {
                    best = e;
                    best_score = score;
                }
            }
        }
        if (best) {
            best->in_flight++;
            best->last_pick = ++rm->picks;
            snprintf(p->id, sizeof p->id, "%s", best->id);
            snprintf(p->url, sizeof p->url, "%s", best->url);
            pthread_mutex_unlock(&rm->mu);
            return 0;
        }
        if (!full_seen || now >= deadline_ms || rm->stopping || (r && run_exec_cancelled(r)))
            break;
        /* Every candidate holds as many of our runs as it has room for:
         * wait for one to come back rather than make it answer 429. */
        uint64_t until = now + 200 < deadline_ms ? now + 200 : deadline_ms;
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&rm->changed, &rm->mu, &ts);
    }
    pthread_mutex_unlock(&rm->mu);
    return -1;
}

void remote_release(remote *rm, const picked *p, bool down)
{
    pthread_mutex_lock(&rm->mu);
    for (size_t i = 0; i < rm->nex; i++) {
        executor *e = &rm->ex[i];
        if (strcmp(e->id, p->id) != 0)
            continue;
        if (e->in_flight)
            e->in_flight--;
        if (down)
            e->down_until_ms = remote_now_ms() + rm->cfg.down_ms;
        break;
    }
    pthread_cond_broadcast(&rm->changed);
    pthread_mutex_unlock(&rm->mu);
}

size_t remote_serve_runtimes(remote *rm, runtime_set *rts)
{
    pthread_mutex_lock(&rm->mu);
    rm->rts = rts;
    size_t n = sync_runtimes_locked(rm);
    pthread_mutex_unlock(&rm->mu);
    return n;
}

json_t *remote_view_json(remote *rm)
{
    json_t *a = json_array();
    pthread_mutex_lock(&rm->mu);
    uint64_t now = remote_now_ms();
    for (size_t i = 0; a && i < rm->nex; i++) {
        executor *e = &rm->ex[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:b}", "id", e->id, "url", e->url, "slots",
                         (int)e->slots, "free_slots", (int)e->free_slots, "queued", (int)e->queued,
                         "in_flight", (int)e->in_flight, "down", e->down_until_ms > now));
    }
    pthread_mutex_unlock(&rm->mu);
    return a;
}

int remote_lookup(remote *rm, const char *id, char url[REMOTE_MAX_URL])
{
    int rc = -1;
    pthread_mutex_lock(&rm->mu);
    for (size_t i = 0; i < rm->nex; i++) {
        if (strcmp(rm->ex[i].id, id) == 0) {
            snprintf(url, REMOTE_MAX_URL, "%s", rm->ex[i].url);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&rm->mu);
    return rc;
}

size_t remote_snapshot(remote *rm, picked *out, size_t max)
{
    pthread_mutex_lock(&rm->mu);
    size_t n = rm->nex < max ? rm->nex : max;
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i].id, sizeof out[i].id, "%s", rm->ex[i].id);
        snprintf(out[i].url, sizeof out[i].url, "%s", rm->ex[i].url);
    }
    pthread_mutex_unlock(&rm->mu);
    return n;
}

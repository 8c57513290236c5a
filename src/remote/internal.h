/* internal.h — what view.c and forward.c share inside src/remote. */
#ifndef XXX_REMOTE_INTERNAL_H
#define XXX_REMOTE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "remote/remote.h"

#define REMOTE_MAX_URL 256
#define REMOTE_MAX_EXECUTORS 256

typedef struct executor {
    char id[65];
    char url[REMOTE_MAX_URL];
    unsigned slots;    /* reported; 0: unknown */
    unsigned capacity; /* slots + queue it reported; 0: unknown (no bound) */
    unsigned queued;   /* reported */
    unsigned free_slots;
    char **languages;   /* reported names and aliases; NULL: unknown (any) */
    json_t *runtimes;   /* reported [{language, version}] or NULL */
    unsigned in_flight; /* this repl-api's runs there now */
    uint64_t down_until_ms;
    uint64_t last_pick; /* rm->picks when last chosen: ties go to the least recent */
} executor;

struct remote {
    remote_config cfg;
    char *registry_url, *static_urls, *service;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* view refreshed, a run released, or stopping */
    executor *ex;
    size_t nex;
    bool have_view; /* the registry answered at least once */
    bool stopping;
    bool refresher_started;
    pthread_t refresher;
    char last_error[256];
    runtime_set *rts; /* served as the executors report (remote_serve_runtimes); may be NULL */
    uint64_t picks;
    atomic_uint proxy_threads; /* proxied calls in progress */
};

/* What remote_pick chose: a copy, valid after the view changes. */
typedef struct picked {
    char id[65];
    char url[REMOTE_MAX_URL];
} picked;

/* Chooses the least-loaded executor for language, skipping ids in tried
 * (ntried of them); waits while every candidate is full, until deadline_ms
 * or cancelled(r). Returns 0 with *p (its in_flight counted), or -1: none. */
int remote_pick(remote *rm, const char *language, picked *tried, size_t ntried, run *r,
                uint64_t deadline_ms, picked *p);

/* Uncounts a run on p; down: mark it down for cfg.down_ms. */
void remote_release(remote *rm, const picked *p, bool down);

uint64_t remote_now_ms(void);

/* Copies the URL of executor id into url; -1 when it is not in the view. */
int remote_lookup(remote *rm, const char *id, char url[REMOTE_MAX_URL]);

/* Copies up to max executors (id and url) into out; returns how many. */
size_t remote_snapshot(remote *rm, picked *out, size_t max);

#endif

/* run.h — the run layer: a bounded queue in front of the box pool.
 *
 * A run is one request turned into box steps: take a slot, write the
 * runtime's support files, the source and the request's files, compile
 * (when the language has a compile step, with its own limits), run, give
 * the slot back. A fixed set of worker threads, one per slot, takes runs
 * from a FIFO queue of bounded length; a full queue refuses new runs at
 * once (the HTTP layer answers 429). Output goes to an observer as it is
 * read, and is also kept (stdout and stderr interleaved in arrival order)
 * for the final result. Any thread may cancel a run, queued or running.
 *
 * Threads: run_engine_start starts the workers (after box_pool_open, as
 * box.h requires). Observer callbacks run on a worker thread, one at a
 * time per run, and never after run_detach returns. Everything else is
 * thread-safe. */
#ifndef XXX_RUN_H
#define XXX_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "box/box.h"
#include "common/bytebuf.h"
#include "runtime/runtime.h"

/* Limits of a step when neither the request nor the runtime sets them. */
#define RUN_DEFAULT_WALL_MS 10000
#define RUN_DEFAULT_CPU_MS 10000
#define RUN_DEFAULT_MEMORY_BYTES (256ull << 20)
#define RUN_DEFAULT_PROCESSES 32
#define RUN_DEFAULT_OUTPUT_BYTES (1ull << 20)
#define RUN_DEFAULT_COMPILE_WALL_MS 30000
#define RUN_DEFAULT_COMPILE_CPU_MS 30000
#define RUN_DEFAULT_COMPILE_MEMORY_BYTES (512ull << 20)
#define RUN_DEFAULT_COMPILE_PROCESSES 64

/* Bounds on what a request may carry, checked by run_request_check. */
#define RUN_MAX_ARGS 256
#define RUN_MAX_FILES 64

typedef struct run_file {
    char *name; /* relative path under the workdir */
    char *data;
    size_t len;
} run_file;

/* What to run. Strings are owned by the request (run_request_clear frees them). */
typedef struct run_request {
    const runtime *rt; /* borrowed; outlives the engine */
    char *code;        /* program source; NULL for a container command */
    size_t code_len;
    char **command; /* container API: argv run as is, no compile step */
    char **args;    /* NULL-terminated, may be NULL */
    char *stdin_data;
    size_t stdin_len;
    bool stdin_live; /* the run step's stdin is stdin_fd's bytes, live (stdin_data unused) */
    int stdin_fd;    /* with stdin_live: owned by the request, closed when the step ends */
    run_file *files;
    size_t nfiles;
    box_limits limits; /* the request's wishes for the run step; 0 fields: defaults */
} run_request;

/* One box step as it ended. */
typedef struct run_step {
    box_result box;    /* status, exit code, signal, stats, stdout and stderr */
    bytebuf all;       /* stdout and stderr interleaved in arrival order */
    box_limits limits; /* the limits it ran under */
} run_step;

typedef struct run_result {
    const char *status; /* "ok", "compile_error", "timeout", ... (static) */
    bool compiled;      /* a compile step ran: see compile */
    run_step compile;
    bool ran; /* the run step ran: see exec */
    run_step exec;
    bool no_box;       /* no slot could be had: the HTTP layer answers 503 */
    char message[320]; /* why, when the status is not ok or runtime_error */
    uint64_t queue_ms; /* waiting in the queue */
    uint64_t total_ms; /* queue to result */
} run_result;

typedef enum run_state { RUN_QUEUED, RUN_RUNNING, RUN_DONE } run_state;

typedef struct run run;
typedef struct run_engine run_engine;

/* Callbacks on a worker thread. on_start: the run has a box (before its
 * first step). on_stage: a step begins ("compile" or "run"). on_output: a
 * chunk of the run step's output. on_done: the result is final
 * (run_get_result). Any may be NULL. */
typedef struct run_observer {
    void (*on_start)(void *ctx);
    void (*on_output)(void *ctx, box_stream stream, const char *data, size_t len);
    void (*on_done)(void *ctx);
    void *ctx;
    void (*on_stage)(void *ctx, const char *stage); /* last: positional initializers stay valid */
} run_observer;

typedef struct run_config {
    unsigned workers;       /* concurrent runs; 0: one per pool slot. Fewer than the
                               slots leaves warm spares (box.h: the warmer parks an init
                               in each free slot while the others run) */
    unsigned queue;         /* runs that may wait for a slot; 0: 4 per worker */
    int acquire_timeout_ms; /* waiting for a slot once at the head; 0: 30000 */
} run_config;

/* Why run_submit refused. */
typedef enum run_submit_error {
    RUN_SUBMIT_OK,
    RUN_SUBMIT_QUEUE_FULL, /* try again later */
    RUN_SUBMIT_CLOSED,     /* shutting down */
    RUN_SUBMIT_NOMEM,
} run_submit_error;

/* Starts one worker per slot of pool (the native backend). Returns 0, or -1 with err. */
int run_engine_start(box_pool *pool, const run_config *cfg, run_engine **out, char *err,
                     size_t errlen);

/* Starts one worker per slot of a backend (copied; its self is borrowed and
 * must outlive the engine). Returns 0, or -1 with err. */
int run_engine_start_backend(const backend *be, const run_config *cfg, run_engine **out, char *err,
                             size_t errlen);

/* Returns where runs execute: the backend's name ("native", "podman") or "remote". */
const char *run_engine_backend(const run_engine *e);

/* Returns the box pool's maxima: what requests are capped to. */
const box_limits *run_engine_max(const run_engine *e);

/* Queues a run. On success the request's contents move into the run (req is
 * zeroed) and *out holds a reference the caller must run_unref; *out is
 * written before any observer callback can run. */
run_submit_error run_submit(run_engine *e, run_request *req, const run_observer *obs, run **out);

/* Stops calling the observer; returns after any callback in progress ended. */
void run_detach(run *r);

/* Cancels a run: a queued one ends without a box, a running one is killed.
 * Its status becomes "cancelled". No effect once done. */
void run_cancel(run *r);

/* Sends SIGINT to the program of the run's current step (box_interrupt);
 * -1 when no step is running. */
int run_interrupt(run *r);

/* Cancels the queued or running run with this id; -1 when there is none. */
int run_cancel_id(run_engine *e, const char *id);

/* Returns the run's id (32 hex digits, made at submit). */
const char *run_id(const run *r);

/* Returns the runtime the run uses. */
const runtime *run_runtime(const run *r);

/* Returns where the run is. */
run_state run_get_state(run *r);

/* Returns the result once the state is RUN_DONE (else NULL); valid until run_unref. */
const run_result *run_get_result(run *r);

/* Takes and drops references. */
void run_ref(run *r);
void run_unref(run *r);

/* A snapshot of one queued or running run. */
typedef struct run_info {
    char id[33];
    char language[33];
    run_state state;
    int slot;        /* -1 while queued */
    uint64_t age_ms; /* since submit */
    bool container;  /* came from the container API */
} run_info;

/* Returns a malloc'd snapshot of the queued and running runs (oldest first). */
run_info *run_list(run_engine *e, size_t *n);

/* Counts: queued, running, queue capacity, workers. */
void run_counts(run_engine *e, size_t *queued, size_t *running, size_t *capacity, size_t *workers);

/* Runs every runtime's version command and self-test, spread over the
 * slots, and records the version (rt->version) of those that pass. Each
 * outcome is reported through log (may be NULL). Returns the number that passed. */
size_t run_probe_runtimes(run_engine *e, runtime_set *set,
                          void (*log)(void *ctx, const runtime *rt, bool ok, const char *detail),
                          void *ctx);

/* How long cancelled runs get to end before a drain gives up on them. */
#define RUN_CANCEL_WAIT_MS 10000

/* Refuses new runs from now on (run_submit returns RUN_SUBMIT_CLOSED), lets
 * queued and running ones go on until deadline_ms (CLOCK_MONOTONIC ms),
 * cancels what is left then, and waits for them up to RUN_CANCEL_WAIT_MS.
 * Returns the number of runs still not ended: 0, unless a box would not stop. */
size_t run_engine_drain(run_engine *e, uint64_t deadline_ms);

/* Drains with no grace, stops the workers and frees the engine. Returns 0,
 * or -1 when a run would not end: then the engine is left as it is (its
 * workers are stuck in box_exec) and the caller should exit. */
int run_engine_stop(run_engine *e);

/* ---- runs executed elsewhere (a cluster's repl-api: src/remote) ----
 *
 * An executor replaces the box pool: each worker hands its run to
 * execute(), which runs the whole request somewhere else, reports through
 * run_exec_start/run_exec_output as a box step would, fills
 * run_exec_result and returns when the result is final. Queue, cancel,
 * list, counts and drain behave as with boxes; cancel only sets the flag
 * that run_exec_cancelled reads. */
typedef struct run_executor {
    void (*execute)(void *ctx, run *r);
    void *ctx;
    unsigned workers; /* runs executed at once */
    box_limits max;   /* what run_engine_max returns; 0 fields: box_limits_default() */
} run_executor;

/* Starts `workers` workers that call ex->execute. Returns 0, or -1 with err. */
int run_engine_start_executor(const run_executor *ex, const run_config *cfg, run_engine **out,
                              char *err, size_t errlen);

/* For an executor: the run's request (read-only), whether it came from the
 * container API, whether it was cancelled, its result to fill. */
const run_request *run_exec_request(const run *r);
bool run_exec_container(const run *r);
bool run_exec_cancelled(run *r);
run_result *run_exec_result(run *r);

/* For an executor: the run has started (observer's on_start); a chunk of
 * the run step's output (observer's on_output; not kept: the executor
 * fills the result's buffers). */
void run_exec_start(run *r);
void run_exec_output(run *r, box_stream stream, const char *data, size_t len);

/* Fills *eff with the limits a step runs under: base (RUN_DEFAULT_* for
 * compile or run), overlaid by the runtime's and then the request's
 * non-zero fields, capped by max. */
void run_effective_limits(box_limits *eff, bool compile, const box_limits *rt_limits,
                          const box_limits *req_limits, const box_limits *max);

/* Checks a request file name: a relative path of plain components, at most
 * 255 bytes, none "." or "..", no NUL. */
bool run_file_name_ok(const char *name, size_t len);

/* Frees what a request owns and zeroes it. */
void run_request_clear(run_request *req);

/* Returns CLOCK_MONOTONIC in milliseconds. */
uint64_t run_now_ms(void);

#endif

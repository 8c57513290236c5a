/* session.h — stateful REPL sessions: one box and one driver program per session.
 *
 * A session takes a box slot for its whole life and runs the language's
 * driver (runtime.session: argv and files) in it as ONE long box step with
 * a control socket (BOX_SPEC_CTL), no wall limit and streamed output. The
 * driver and the server speak JSON lines on that socket (runtimes/README.md,
 * "Sessions"): "ready" once, then "exec" -> "done" per execution. Memory,
 * processes and CPU time are the box step's limits, so they cover the whole
 * session; each execution has its own time limit: past it the driver gets
 * SIGINT (box_interrupt: KeyboardInterrupt in Python), and if it does not
 * answer within a grace period the session is killed (status "timeout").
 * One execution at a time: a second one while one runs is refused
 * (SESSION_BUSY, HTTP 409). An execution with live stdin (the WebSocket's,
 * in a language whose driver says "live_stdin") gets its request's stdin
 * first, then what session_exec_stdin sends while it runs, until
 * session_exec_stdin_close or its end; otherwise its stdin is the request's,
 * then EOF. A session that ended (its limits, idle timeout,
 * maximum lifetime, deletion, the driver exiting) stays known for a while
 * as a tombstone with its reason, so later calls can answer 410.
 *
 * Threads: one thread per session sits in box_exec (and calls the output
 * and control callbacks); one manager thread sends execution frames, fires
 * time limits, expires idle and old sessions and joins finished threads.
 * Observer callbacks run on a session's thread (on_done of a timed-out
 * start on the manager's), never after session_*_detach returns.
 * Everything else is thread-safe and never blocks on a box. */
#ifndef XXX_SESSION_H
#define XXX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "box/box.h"
#include "run/run.h"
#include "runtime/runtime.h"

#define SESSION_DEFAULT_MAX 128
#define SESSION_DEFAULT_IDLE_MS (10 * 60 * 1000ull)
#define SESSION_DEFAULT_LIFETIME_MS (60 * 60 * 1000ull)
#define SESSION_DEFAULT_GRACE_MS 2000
#define SESSION_START_TIMEOUT_MS 20000
/* Ended sessions remembered for 410 answers. */
#define SESSION_TOMBSTONES 1024
#define SESSION_TOMBSTONE_MS (30 * 60 * 1000ull)
/* Live stdin one execution may take in all (the driver holds what its cell
 * has not read yet). */
#define SESSION_STDIN_MAX (1u << 20)

typedef struct session_config {
    unsigned max_sessions;  /* live sessions at once; 0: SESSION_DEFAULT_MAX */
    uint64_t idle_ms;       /* default idle timeout; 0: SESSION_DEFAULT_IDLE_MS */
    uint64_t max_idle_ms;   /* cap on a request's idle timeout; 0: the lifetime */
    uint64_t lifetime_ms;   /* maximum age of a session; 0: SESSION_DEFAULT_LIFETIME_MS */
    uint64_t grace_ms;      /* after an interrupt, before the kill; 0: SESSION_DEFAULT_GRACE_MS */
    int acquire_timeout_ms; /* waiting for a box slot; 0: 5000 */
} session_config;

typedef enum session_error {
    SESSION_OK,
    SESSION_FULL,        /* max_sessions live already (429) */
    SESSION_NOT_FOUND,   /* no such id (404) */
    SESSION_GONE,        /* ended; why says how (410) */
    SESSION_BUSY,        /* an execution is running (409) */
    SESSION_STARTING,    /* the driver is not ready yet (409) */
    SESSION_UNSUPPORTED, /* the language has no session driver (400), or it takes no live stdin */
    SESSION_CLOSED,      /* shutting down (503) */
    SESSION_NO_STDIN,    /* the execution reads no live stdin now (ended, closed, not live) */
    SESSION_STDIN_LIMIT, /* past SESSION_STDIN_MAX for one execution */
    SESSION_NOMEM,
} session_error;

typedef enum session_state {
    SESSION_STATE_STARTING,
    SESSION_STATE_READY,
    SESSION_STATE_BUSY,
    SESSION_STATE_ENDED,
} session_state;

/* A snapshot of one session. Times are Unix ms; status is "starting",
 * "ready", "busy", or how it ended ("memory_limit", "expired", ...). */
typedef struct session_info {
    char id[33];
    char language[33];
    char status[32];
    char message[256]; /* why it ended */
    session_state state;
    uint64_t created_at, expires_at, last_used_at;
    uint64_t idle_timeout_ms;
    uint64_t executions;
    int slot;
    box_limits limits;
} session_info;

/* What one execution answered. status: "ok", "runtime_error" (the code
 * raised), "timeout" (interrupted; the session lives on unless
 * session_ended), or how the session ended under it ("memory_limit", ...).
 * res is filled like a one-shot run's (status, exec.box out/err/stats,
 * exec.all, exec.limits) so the HTTP layer can build the same answer. */
typedef struct session_result {
    run_result res;
    char *value;      /* the printed last value; NULL when none */
    bool has_error;   /* error_* below are set */
    char *error_name; /* "ZeroDivisionError", "SyntaxError", "KeyboardInterrupt", ... */
    char *error_message;
    char *error_traceback;
    uint64_t execution_count;
    bool session_ended;
} session_result;

typedef struct session_mgr session_mgr;
typedef struct session session;
typedef struct session_exec session_exec;

/* Starts the manager thread. Returns 0, or -1 with err. */
int session_mgr_start(box_pool *pool, const session_config *cfg, session_mgr **out, char *err,
                      size_t errlen);

/* Refuses new sessions and executions from now on, ends every live session
 * (status "shutdown") and waits until their boxes are gone. */
void session_mgr_close(session_mgr *m);

/* Closes (if not yet), stops the manager thread and frees the manager (NULL is fine). */
void session_mgr_stop(session_mgr *m);

/* Counts live sessions and the maximum. */
void session_counts(session_mgr *m, size_t *live, size_t *max);

/* Starts a session: a box with rt's driver under the request's limits
 * (NULL or 0 fields: the runtime's and the run defaults, CPU: the pool's
 * maximum; memory, processes and CPU cover the whole session; wall_ms is
 * each execution's default time limit) and idle timeout idle_ms (0: the
 * default; capped). obs->on_done fires once the driver is ready or the start
 * failed (session_get_info says which). *out holds a reference. */
session_error session_create(session_mgr *m, const runtime *rt, const box_limits *limits,
                             uint64_t idle_ms, const run_observer *obs, session **out);

/* Stops calling the create observer; returns after a callback in progress. */
void session_detach(session *s);

/* Fills *info. */
void session_get_info(session *s, session_info *info);

/* Takes and drops references to a session. */
void session_unref(session *s);

/* Looks a session up by id: SESSION_OK with *info filled (ended ones too:
 * then SESSION_GONE, info says why), or SESSION_NOT_FOUND. */
session_error session_lookup(session_mgr *m, const char *id, session_info *info);

/* Returns a malloc'd snapshot of the live sessions (oldest first). */
session_info *session_list(session_mgr *m, size_t *n);

/* Ends a live session (status "deleted"); SESSION_GONE when already ended
 * (why), SESSION_NOT_FOUND when unknown. The tombstone stays. */
session_error session_delete(session_mgr *m, const char *id, char *why, size_t whylen);

/* Interrupts the running execution (SIGINT to the driver: KeyboardInterrupt
 * in Python, Interrupt in Ruby); its time limit still holds if the code
 * ignores it. *interrupted says whether one was running. SESSION_GONE (why)
 * or SESSION_NOT_FOUND otherwise. */
session_error session_interrupt(session_mgr *m, const char *id, bool *interrupted, char *why,
                                size_t whylen);

/* Starts one execution of code with a time limit of timeout_ms (0: the
 * session's default; capped by the pool's wall maximum). Its stdin is
 * stdin_data, then EOF; with live_stdin, in a language whose driver takes
 * it, stdin_data and then what session_exec_stdin sends (else live_stdin is
 * ignored). obs gets the output as it comes and on_done at the end
 * (on_start is not called). On refusal why says why. *out holds a reference. */
session_error session_execute(session_mgr *m, const char *id, const char *code, size_t code_len,
                              const char *stdin_data, size_t stdin_len, bool live_stdin,
                              uint64_t timeout_ms, const run_observer *obs, session_exec **out,
                              char *why, size_t whylen);

/* Feeds len bytes to a live-stdin execution's stdin while it runs; may wait
 * (SEND_TIMEOUT_MS at most) for the driver, so not on an HTTP thread.
 * SESSION_OK, or with why: SESSION_UNSUPPORTED (the language's driver takes
 * no live stdin), SESSION_NO_STDIN (the execution ended, its stdin was
 * closed, or it is not live: the bytes are dropped), SESSION_STDIN_LIMIT
 * (what went past SESSION_STDIN_MAX was dropped; the rest was taken). */
session_error session_exec_stdin(session_exec *x, const char *data, size_t len, char *why,
                                 size_t whylen);

/* Ends a live-stdin execution's stdin (EOF once its cell read what came
 * before); nothing when it is not live, ended or closed already. */
void session_exec_stdin_close(session_exec *x);

/* Stops calling the execution's observer; returns after a callback in progress. */
void session_exec_detach(session_exec *x);

/* Returns the result once on_done has fired (else NULL); valid until unref. */
const session_result *session_exec_result(session_exec *x);

/* Returns the session's id and runtime for an execution. */
const char *session_exec_session_id(const session_exec *x);
const runtime *session_exec_runtime(const session_exec *x);

/* Drops a reference to an execution. */
void session_exec_unref(session_exec *x);

#endif

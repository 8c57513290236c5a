/* serve.h — `xxxd` / `xxxd serve`: the all-in-one REPL server. */
#ifndef XXX_SERVE_H
#define XXX_SERVE_H

#include "run/run.h"
#include "runtime/runtime.h"

/* Runs the server until SIGTERM/SIGINT (argv[0] is the program or "serve");
 * returns the process exit status. */
int serve_main(int argc, char **argv);

/* Reads a flag's or variable's value as a whole number from lo to hi into
 * *out; on anything else says why on stderr, naming it from, and returns -1. */
int serve_parse_num(const char *v, unsigned long long lo, unsigned long long hi, const char *from,
                    unsigned long long *out);

/* What a role built on the server (container-api) adds: listening() once
 * HTTP is up, stopping() on SIGTERM/SIGINT before anything drains. */
typedef struct serve_hooks {
    void (*listening)(void *ctx, const char *host, unsigned port, run_engine *e,
                      const runtime_set *rts);
    void (*stopping)(void *ctx);
    void *ctx;
} serve_hooks;

/* serve_main with hooks (NULL: none). */
int serve_run(int argc, char **argv, const serve_hooks *hooks);

#endif

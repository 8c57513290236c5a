/* serve.h — `xxxd` / `xxxd serve`: the all-in-one REPL server. */
#ifndef XXX_SERVE_H
#define XXX_SERVE_H

/* Runs the server until SIGTERM/SIGINT (argv[0] is the program or "serve");
 * returns the process exit status. */
int serve_main(int argc, char **argv);

#endif

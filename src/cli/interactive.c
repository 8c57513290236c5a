/* interactive.c — xxx repl execute --interactive: one run over the
 * service's WebSocket (GET /api/repl/connect) with this process's stdin
 * forwarded as it arrives: a terminal's lines as they are typed, a pipe's
 * bytes as they are written. End of input closes the program's stdin.
 * Ctrl-C sends SIGINT to the program; a second Ctrl-C kills the run. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "common/json_cleanup.h"

typedef struct ia_state {
    json_t *result;
    bool json_lines;
    bool refused; /* the server sent an error before closing */
} ia_state;

static volatile sig_atomic_t sigints;

static void on_sigint(int sig)
{
    (void)sig;
    sigints++;
}

static void on_msg(void *ctx, bool text, const char *data, size_t len)
{
    ia_state *st = ctx;
    if (!text)
        return;
    if (st->json_lines) {
        fwrite(data, 1, len, stdout);
        putchar('\n');
        fflush(stdout);
    }
    json_error_t jerr;
    _cleanup_json_ json_t *m = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!type)
        return;
    if (strcmp(type, "result") == 0) {
        json_decref(st->result);
        st->result = json_incref(m);
    } else if (strcmp(type, "error") == 0) {
        st->refused = true;
        json_t *e = json_object_get(m, "error");
        if (!st->json_lines)
            fprintf(stderr, "xxx: %s: %s\n", json_string_value(json_object_get(e, "code")),
                    json_string_value(json_object_get(e, "message")));
    } else if (!st->json_lines && strcmp(type, "stdout") == 0) {
        write_field(m, "data", stdout);
    } else if (!st->json_lines && strcmp(type, "stderr") == 0) {
        write_field(m, "data", stderr);
    }
}

int cli_interactive(const client *c, json_t *req, bool json_out)
{
    ia_state st = {.json_lines = json_out};
    json_object_set_new(req, "type", json_string("execute"));
    cli_ws *w = cli_ws_open(c, "/api/repl/connect", on_msg, &st);
    if (!w)
        return CLI_EXIT_SERVICE;
    int close_code = 0;
    bool over = cli_ws_send_json(w, req) < 0 || cli_ws_pump(w, 0, &close_code);

    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old); /* no SA_RESTART: poll returns at once */
    sig_atomic_t handled = sigints;
    bool stdin_open = true;
    while (!over) {
        if (handled != sigints) {
            handled = sigints;
            /* The first Ctrl-C is the program's (KeyboardInterrupt, ...); the next ends it. */
            static int count;
            _cleanup_json_ json_t *sig =
                json_pack("{s:s, s:s}", "type", "signal", "signal", count++ ? "SIGKILL" : "SIGINT");
            cli_ws_send_json(w, sig);
        }
        struct pollfd p[2] = {{cli_ws_fd(w), cli_ws_events(w), 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = poll(p, stdin_open ? 2 : 1, -1);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[65536];
            ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
            if (r > 0) {
                cli_ws_send(w, false, buf, (size_t)r);
            } else if (r == 0 || errno != EINTR) {
                _cleanup_json_ json_t *eof = json_pack("{s:s}", "type", "stdin_close");
                cli_ws_send_json(w, eof);
                stdin_open = false;
            }
        }
        over = cli_ws_pump(w, n > 0 ? p[0].revents : 0, &close_code) != 0;
    }
    sigaction(SIGINT, &old, NULL);
    cli_ws_free(w);

    int rc;
    if (st.result) {
        if (!json_out)
            report_outcome(st.result);
        rc = exit_status_of(st.result);
        json_decref(st.result);
    } else {
        if (!st.refused)
            fprintf(stderr, "xxx: the connection closed (code %d) before the run's result\n",
                    close_code);
        rc = CLI_EXIT_SERVICE;
    }
    return rc;
}

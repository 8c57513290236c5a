/* shell.c — xxx repl shell: an interactive prompt over a session.
 *
 * The shell opens a session (POST /api/repl/sessions), reads input with
 * libedit (line editing, history), sends each complete input to POST
 * /api/repl/sessions/{id}/execute and prints what came back: stdout,
 * stderr, the value of an expression, the error's traceback. An input is
 * complete when its brackets, braces and (Python) triple quotes are closed,
 * it does not end in a backslash, and, once a line opened a block (Python:
 * a line ending in ':'), when an empty line ends it. Ctrl-C while code runs
 * asks the server to interrupt it (POST .../interrupt) and the session goes
 * on; Ctrl-C at the prompt drops the input being typed; Ctrl-D at the
 * prompt ends the shell and deletes the session. */
#include <editline/readline.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"

static const char shell_usage[] =
    "usage: xxx repl shell --language L [--api-url URL]\n"
    "\n"
    "An interactive prompt over a session: variables, functions and imports\n"
    "live on from one input to the next. Line editing and history (libedit);\n"
    "an input goes on over several lines while a bracket or a block is open\n"
    "(end a block with an empty line). Ctrl-C interrupts the running code and\n"
    "keeps the session; Ctrl-D ends the shell and deletes the session.\n"
    "\n"
    "  -l, --language L     the session's language (xxx repl languages)\n"
    "      --api-url URL    the service\n"
    "  -h, --help           this text\n";

static volatile sig_atomic_t sigints;

static void on_sigint(int sig)
{
    (void)sig;
    sigints++;
}

/* ---- input completeness ---- */

typedef struct scan_state {
    int depth;         /* open ( [ { */
    bool in_triple;    /* inside a Python triple-quoted string */
    bool backslash;    /* the text ends in a line continuation */
    bool opened_block; /* a line ends in ':' (Python) */
} scan_state;

/* Scans the input so far; quotes and comments do not count as brackets. */
static scan_state scan(const char *text, bool python, bool hash_comments)
{
    scan_state st = {0};
    char quote = 0;
    bool triple = false;
    const char *last_code = NULL; /* last character of code on the current line */
    for (const char *p = text; *p; p++) {
        if (quote) {
            if (*p == '\\' && p[1]) {
                p++;
            } else if (triple && p[0] == quote && p[1] == quote && p[2] == quote) {
                quote = 0;
                p += 2;
            } else if (!triple && (*p == quote || *p == '\n')) {
                quote = 0;
            }
            continue;
        }
        if ((hash_comments && *p == '#') || (!hash_comments && p[0] == '/' && p[1] == '/')) {
            while (p[1] && p[1] != '\n')
                p++;
            continue;
        }
        if (*p == '\n') {
            if (python && last_code && *last_code == ':')
                st.opened_block = true;
            last_code = NULL;
            continue;
        }
        if (*p == '"' || *p == '\'' || (*p == '`' && !python)) {
            quote = *p;
            triple = python && p[1] == *p && p[2] == *p;
            if (triple)
                p += 2;
            last_code = p;
            continue;
        }
        if (strchr("([{", *p))
            st.depth++;
        else if (strchr(")]}", *p) && st.depth > 0)
            st.depth--;
        if (*p != ' ' && *p != '\t' && *p != '\r')
            last_code = p;
    }
    st.in_triple = quote && triple;
    st.backslash = last_code && *last_code == '\\';
    if (python && last_code && *last_code == ':')
        st.opened_block = true;
    return st;
}

/* Returns true when text starts with a Python compound statement's keyword
 * ("while True: pass" asks for more lines, as in Python's own prompt). */
static bool python_compound(const char *text)
{
    static const char *const kw[] = {"if",    "for",  "while", "def",    "class",   "with",  "try",
                                     "async", "elif", "else",  "except", "finally", "match", "@"};
    text += strspn(text, " \t");
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t n = strlen(kw[i]);
        if (strncmp(text, kw[i], n) == 0 &&
            (kw[i][0] == '@' || !text[n] || strchr(" \t(:", text[n])))
            return true;
    }
    return false;
}

/* Returns true when the input needs more lines; last is its last line. */
static bool needs_more(const char *text, const char *last, bool python, bool hash_comments)
{
    scan_state st = scan(text, python, hash_comments);
    if (python && python_compound(text))
        st.opened_block = true;
    if (st.depth > 0 || st.in_triple || st.backslash)
        return true;
    if (st.opened_block)
        return last[strspn(last, " \t")] != '\0'; /* a block ends at an empty line */
    return false;
}

/* Reads one complete input; NULL at end of input (Ctrl-D). *dropped is set
 * when Ctrl-C abandoned what was typed. */
static char *read_input(bool python, bool hash_comments, bool *dropped)
{
    bytebuf in = {0};
    *dropped = false;
    for (;;) {
        sig_atomic_t before = sigints;
        char *line = readline(in.len ? "... " : ">>> ");
        if (sigints != before) { /* Ctrl-C at the prompt: drop the input */
            free(line);
            bytebuf_free(&in);
            *dropped = true;
            return NULL;
        }
        if (!line) {
            if (!in.len)
                return NULL;
            break; /* Ctrl-D inside an input: run what there is */
        }
        if (in.len)
            bytebuf_puts(&in, "\n");
        bytebuf_puts(&in, line);
        bool more = needs_more(in.data, line, python, hash_comments);
        free(line);
        if (!more)
            break;
    }
    return bytebuf_steal(&in, NULL);
}

/* ---- talking to the session ---- */

typedef struct exec_watch {
    const client *c;
    const char *interrupt_path;
    sig_atomic_t handled;
} exec_watch;

/* client_call_watch tick: a Ctrl-C since the last tick asks for an interrupt. */
static void watch_tick(void *ctx)
{
    exec_watch *w = ctx;
    if (w->handled == sigints)
        return;
    w->handled = sigints;
    bytebuf answer = {0};
    long status = 0;
    if (client_call(w->c, "POST", w->interrupt_path, "{}", &status, &answer) == 0 && status >= 300)
        client_report_error(w->c, w->interrupt_path, status, &answer);
    bytebuf_free(&answer);
}

/* Prints one execution's answer the way a REPL does. */
static void show_result(json_t *res)
{
    write_field(res, "stdout", stdout);
    write_field(res, "stderr", stderr);
    json_t *value = json_object_get(res, "value");
    if (json_is_string(value) && json_string_length(value)) {
        fwrite(json_string_value(value), 1, json_string_length(value), stdout);
        putchar('\n');
    }
    fflush(stdout);
    json_t *err = json_object_get(res, "error");
    if (json_is_object(err)) {
        const char *tb = json_string_value(json_object_get(err, "traceback"));
        const char *name = json_string_value(json_object_get(err, "name"));
        const char *msg = json_string_value(json_object_get(err, "message"));
        if (tb && *tb)
            fprintf(stderr, "%s%s", tb, tb[strlen(tb) - 1] == '\n' ? "" : "\n");
        else
            fprintf(stderr, "%s%s%s\n", name ? name : "error", msg && *msg ? ": " : "",
                    msg ? msg : "");
        return;
    }
    const char *status = json_string_value(json_object_get(res, "status"));
    const char *msg = json_string_value(json_object_get(res, "message"));
    if (status && strcmp(status, "ok") != 0 && strcmp(status, "error") != 0 &&
        strcmp(status, "runtime_error") != 0)
        fprintf(stderr, "xxx: %s%s%s\n", status, msg ? ": " : "", msg ? msg : "");
}

/* Creates the session; returns its id (malloc'd) or NULL after saying why. */
static char *open_session(const client *c, const char *language, char *version, size_t vlen)
{
    static const char path[] = "/api/repl/sessions";
    _cleanup_json_ json_t *req = json_pack("{s:s}", "language", language);
    _cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    bytebuf answer = {0};
    long status = 0;
    if (!body || client_call(c, "POST", path, body, &status, &answer) < 0) {
        bytebuf_free(&answer);
        return NULL;
    }
    if (status == 404 || status == 405) {
        fprintf(stderr,
                "xxx: %s has no sessions API (POST %s answered %ld): this server cannot run "
                "`xxx repl shell`\n",
                c->base, path, status);
        bytebuf_free(&answer);
        return NULL;
    }
    if (status != 200 && status != 201) {
        client_report_error(c, path, status, &answer);
        bytebuf_free(&answer);
        return NULL;
    }
    _cleanup_json_ json_t *res = client_parse(&answer);
    bytebuf_free(&answer);
    const char *id = json_string_value(json_object_get(res, "id"));
    if (!id) {
        fprintf(stderr, "xxx: POST %s answered without a session id\n", path);
        return NULL;
    }
    const char *v = json_string_value(json_object_get(res, "version"));
    snprintf(version, vlen, "%s", v ? v : "");
    return strdup(id);
}

int cmd_shell(client *c, int argc, char **argv)
{
    enum { O_API = 256 };
    static const struct option lopts[] = {
        {"language", required_argument, NULL, 'l'},
        {"api-url", required_argument, NULL, O_API},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *language = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "l:h", lopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            language = optarg;
            break;
        case O_API:
            snprintf(c->base, sizeof c->base, "%s", optarg);
            for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/';)
                c->base[--n] = '\0';
            break;
        case 'h':
            fputs(shell_usage, stdout);
            return 0;
        default:
            fputs(shell_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!language || optind < argc) {
        fprintf(stderr, "xxx: %s\n\n%s",
                language ? "unexpected argument" : "--language is required", shell_usage);
        return CLI_EXIT_USAGE;
    }
    char version[64];
    _cleanup_free_ char *id = open_session(c, language, version, sizeof version);
    if (!id)
        return CLI_EXIT_SERVICE;
    if (strlen(id) > 64 ||
        id[strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")]) {
        fprintf(stderr, "xxx: the server named the session \"%.80s\": not an id\n", id);
        return CLI_EXIT_SERVICE;
    }
    char exec_path[128], interrupt_path[128], session_path[128];
    snprintf(session_path, sizeof session_path, "/api/repl/sessions/%.64s", id);
    snprintf(exec_path, sizeof exec_path, "/api/repl/sessions/%.64s/execute", id);
    snprintf(interrupt_path, sizeof interrupt_path, "/api/repl/sessions/%.64s/interrupt", id);
    fprintf(stderr, "xxx shell: %s %s, session %s. Ctrl-C interrupts, Ctrl-D ends.\n", language,
            version, id);

    bool python = strncmp(language, "py", 2) == 0;
    bool hash = python || strcmp(language, "ruby") == 0 || strcmp(language, "rb") == 0 ||
                strcmp(language, "perl") == 0 || strcmp(language, "bash") == 0 ||
                strcmp(language, "sh") == 0;
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    int rc = 0;
    for (;;) {
        bool dropped;
        _cleanup_free_ char *input = read_input(python, hash, &dropped);
        if (dropped) {
            fputs("^C\n", stderr);
            continue;
        }
        if (!input) {
            fputc('\n', stderr);
            break;
        }
        if (!input[strspn(input, " \t\n")])
            continue;
        add_history(input);
        _cleanup_json_ json_t *req = json_pack("{s:s}", "code", input);
        _cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        if (!body) {
            fprintf(stderr, "xxx: the input is not valid UTF-8\n");
            continue;
        }
        exec_watch w = {c, interrupt_path, sigints};
        bytebuf answer = {0};
        long status = 0;
        if (client_call_watch(c, "POST", exec_path, body, &status, &answer, watch_tick, &w) < 0) {
            bytebuf_free(&answer);
            rc = CLI_EXIT_SERVICE;
            break;
        }
        if (status != 200) {
            client_report_error(c, exec_path, status, &answer);
            bytebuf_free(&answer);
            if (status == 404) { /* the session is gone (expired or deleted) */
                rc = CLI_EXIT_SERVICE;
                break;
            }
            continue;
        }
        _cleanup_json_ json_t *res = client_parse(&answer);
        bytebuf_free(&answer);
        if (res)
            show_result(res);
    }
    sigaction(SIGINT, &old, NULL);
    bytebuf answer = {0};
    long status = 0;
    if (client_call(c, "DELETE", session_path, NULL, &status, &answer) == 0 && status >= 300 &&
        status != 404)
        client_report_error(c, session_path, status, &answer);
    bytebuf_free(&answer);
    return rc;
}

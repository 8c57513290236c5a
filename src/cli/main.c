/* main.c — xxx, the command-line client of the xxx REPL service.
 *
 *   xxx repl execute --language L (--code C | --file F | stdin) [--stdin S]
 *                    [--arg A]... [--streaming] [--json] [--api-url URL]
 *   xxx repl languages | xxx container list|create|remove | xxx health
 *
 * Exit status: the program's own (128+N when signal N ended it, 124 on a
 * time limit, 137 on the memory limit, 141 on the output limit, 130 when
 * cancelled, the compiler's on a compile error); 2 for a usage error;
 * 125 when the service cannot be reached or answers an error. */
#include <curl/curl.h>
#include <editline/readline.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "codec/codec.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"

#define DEFAULT_API_URL "http://127.0.0.1:3002"

static const char main_usage[] =
    "usage: xxx [--api-url URL] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  repl execute      run code in a language (see xxx repl execute --help)\n"
    "  repl languages    list the languages the service runs, with versions\n"
    "  repl shell        an interactive prompt over a session (see xxx repl shell --help)\n"
    "  container create  run a command in a fresh box (see xxx container create --help)\n"
    "  container list    list the boxes queued or running now\n"
    "  container remove  cancel and remove a box by id\n"
    "  health            show the service's health\n"
    "\n"
    "--api-url URL       the service (default $XXX_API_URL, else " DEFAULT_API_URL ")\n"
    "Exit status: the program's; 2 on a usage error; 125 when the service cannot\n"
    "be reached or answers an error.\n";

static const char execute_usage[] =
    "usage: xxx repl execute --language L [--code C | --file F] [options]\n"
    "\n"
    "Runs code in a fresh box and passes its stdout and stderr through; the\n"
    "exit status is the program's. Without --code or --file the code is read\n"
    "from stdin (with line editing on a terminal; end with Ctrl-D).\n"
    "\n"
    "  -l, --language L     python, node, ruby, go, rust, c, cpp, ... (xxx repl languages)\n"
    "  -c, --code C         the program text\n"
    "  -f, --file F         read the program from file F\n"
    "  -i, --stdin S        bytes given to the program's stdin\n"
    "  -a, --arg A          a command-line argument for the program (repeatable)\n"
    "      --put NAME=PATH  also put local file PATH in the box as NAME (repeatable)\n"
    "      --version V      insist on this language version (e.g. 3.11)\n"
    "      --wall-ms N, --cpu-ms N, --memory-mb N, --processes N, --output-bytes N\n"
    "                       limits (capped by the server)\n"
    "  -s, --streaming      print output live as the program writes it (SSE)\n"
    "      --interactive    run over a WebSocket: this terminal's (or pipe's) stdin goes\n"
    "                       to the program as it is typed; Ctrl-D ends it, Ctrl-C sends\n"
    "                       SIGINT, a second Ctrl-C kills the run. Output is live.\n"
    "  -j, --json           print the whole result as JSON instead (with --interactive:\n"
    "                       every WebSocket message, one per line)\n"
    "      --api-url URL    the service (default $XXX_API_URL, else " DEFAULT_API_URL ")\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: the program's (128+N for signal N, 124 time limit, 137 memory\n"
    "limit, 141 output limit, 130 cancelled; the compiler's on a compile error);\n"
    "2 on a usage error; 125 when the service cannot be reached or answers an error.\n";

static const char create_usage[] =
    "usage: xxx container create --image IMAGE [options] [--] COMMAND [ARG...]\n"
    "\n"
    "Runs COMMAND (an argv, no shell) in a fresh box with the runtime IMAGE names\n"
    "(a language, an alias, or an image such as python:3.11-slim).\n"
    "\n"
    "  --image IMAGE        which runtime's environment to use\n"
    "  --stdin S            bytes given to the command's stdin\n"
    "  --streaming          print output live (SSE)\n"
    "  --json               print the whole result as JSON\n"
    "  --api-url URL        the service\n"
    "  -h, --help           this text\n";

static const char list_usage[] = "usage: xxx container list [--json] [--api-url URL]\n"
                                 "\nLists the boxes queued or running now.\n";
static const char remove_usage[] = "usage: xxx container remove [--api-url URL] ID\n"
                                   "\nCancels the run with this id and removes its box.\n";
static const char languages_usage[] =
    "usage: xxx repl languages [--json] [--api-url URL]\n"
    "\nLists the languages the service runs (each passed a self-test at start).\n";
static const char health_usage[] = "usage: xxx health [--api-url URL]\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "xxx: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return CLI_EXIT_USAGE;
}

static void set_base(client *c, const char *url)
{
    snprintf(c->base, sizeof c->base, "%s", url);
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
}

static int read_stream(FILE *f, bytebuf *b)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (bytebuf_append(b, buf, n) < 0)
            return -1;
    return ferror(f) ? -1 : 0;
}

static int read_file(const char *path, bytebuf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = read_stream(f, b);
    fclose(f);
    return rc;
}

/* Reads the program from a terminal with line editing, until Ctrl-D. */
static int read_code_interactive(bytebuf *b)
{
    fprintf(stderr, "xxx: type the program; end with Ctrl-D on an empty line\n");
    char *line;
    while ((line = readline("... "))) {
        int rc = bytebuf_puts(b, line) < 0 || bytebuf_puts(b, "\n") < 0 ? -1 : 0;
        if (*line)
            add_history(line);
        free(line);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Writes bytes of a JSON string field (or its exact _base64 twin) to f. */
void write_field(json_t *obj, const char *key, FILE *f)
{
    char k64[64];
    snprintf(k64, sizeof k64, "%s_base64", key);
    json_t *b64 = json_object_get(obj, k64);
    if (json_is_string(b64)) {
        unsigned char *data;
        size_t len;
        if (codec_base64_decode(json_string_value(b64), json_string_length(b64), &data, &len) ==
            0) {
            fwrite(data, 1, len, f);
            free(data);
            fflush(f);
            return;
        }
    }
    json_t *s = json_object_get(obj, key);
    if (json_is_string(s))
        fwrite(json_string_value(s), 1, json_string_length(s), f);
    fflush(f);
}

/* Returns the exit status the CLI should end with for a result. */
int exit_status_of(json_t *res)
{
    const char *status = json_string_value(json_object_get(res, "status"));
    json_t *code = json_object_get(res, "exit_code");
    const char *sig = json_string_value(json_object_get(res, "signal"));
    if (!status)
        return CLI_EXIT_SERVICE;
    if (strcmp(status, "compile_error") == 0) {
        json_t *cc = json_object_get(json_object_get(res, "compile"), "exit_code");
        return json_is_integer(cc) && json_integer_value(cc) > 0 ? (int)json_integer_value(cc) : 1;
    }
    if (strcmp(status, "timeout") == 0)
        return 124;
    if (strcmp(status, "memory_limit") == 0)
        return 137;
    if (strcmp(status, "output_limit") == 0)
        return 141;
    if (strcmp(status, "cancelled") == 0)
        return 130;
    if (strcmp(status, "internal_error") == 0)
        return CLI_EXIT_SERVICE;
    if (json_is_integer(code))
        return (int)(json_integer_value(code) & 0xff);
    if (sig) {
        for (int n = 1; n < NSIG; n++) {
            const char *abbrev = sigabbrev_np(n);
            if (abbrev && strncmp(sig, "SIG", 3) == 0 && strcmp(sig + 3, abbrev) == 0)
                return 128 + n;
        }
    }
    return 1;
}

/* Tells on stderr what a non-plain ending means; compile output first. */
void report_outcome(json_t *res)
{
    const char *status = json_string_value(json_object_get(res, "status"));
    json_t *compile = json_object_get(res, "compile");
    if (status && strcmp(status, "compile_error") == 0 && compile)
        write_field(compile, "output", stderr);
    const char *msg = json_string_value(json_object_get(res, "message"));
    if (status && strcmp(status, "ok") != 0 && strcmp(status, "runtime_error") != 0)
        fprintf(stderr, "xxx: %s%s%s\n", status, msg ? ": " : "", msg ? msg : "");
}

typedef struct stream_state {
    json_t *result;
    bool json_lines;
    bool done;
} stream_state;

static void on_event(void *ctx, const char *event, const char *id, const char *data, size_t len)
{
    stream_state *st = ctx;
    if (st->json_lines) {
        _cleanup_json_ json_t *line =
            json_pack("{s:s, s:s, s:s%}", "event", event, "id", id, "data", data, len);
        _cleanup_free_ char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        fflush(stdout);
    }
    if (strcmp(event, "result") == 0) {
        json_error_t jerr;
        json_decref(st->result);
        st->result = json_loadb(data, len, 0, &jerr);
        return;
    }
    if (strcmp(event, "done") == 0) {
        st->done = true;
        return;
    }
    if (st->json_lines)
        return;
    bool err = strncmp(event, "stderr", 6) == 0;
    FILE *f = err ? stderr : stdout;
    if (strcmp(event, "stdout") == 0 || strcmp(event, "stderr") == 0) {
        fwrite(data, 1, len, f);
    } else if (strcmp(event, "stdout_base64") == 0 || strcmp(event, "stderr_base64") == 0) {
        unsigned char *raw;
        size_t rlen;
        if (codec_base64_decode(data, len, &raw, &rlen) == 0) {
            fwrite(raw, 1, rlen, f);
            free(raw);
        }
    }
    fflush(f);
}

/* Sends a run request (buffered or streamed) and reports its result. */
static int submit(const client *c, const char *path, json_t *req, bool streaming, bool json_out)
{
    _cleanup_free_ char *body = json_dumps(req, JSON_COMPACT);
    if (!body) {
        fprintf(stderr, "xxx: out of memory\n");
        return CLI_EXIT_SERVICE;
    }
    bytebuf answer = {0};
    long status = 0;
    int rc;
    if (streaming) {
        char spath[256];
        snprintf(spath, sizeof spath, "%s/stream", path);
        stream_state st = {.json_lines = json_out};
        if (client_stream(c, spath, body, on_event, &st, &status, &answer) < 0) {
            json_decref(st.result);
            bytebuf_free(&answer);
            return CLI_EXIT_SERVICE;
        }
        if (status != 200) {
            rc = client_report_error(c, spath, status, &answer);
        } else if (!st.result) {
            fprintf(stderr, "xxx: the stream ended without a result\n");
            rc = CLI_EXIT_SERVICE;
        } else {
            if (!json_out)
                report_outcome(st.result);
            rc = exit_status_of(st.result);
        }
        json_decref(st.result);
        bytebuf_free(&answer);
        return rc;
    }
    if (client_call(c, "POST", path, body, &status, &answer) < 0) {
        bytebuf_free(&answer);
        return CLI_EXIT_SERVICE;
    }
    if (status != 200) {
        rc = client_report_error(c, path, status, &answer);
        bytebuf_free(&answer);
        return rc;
    }
    _cleanup_json_ json_t *res = client_parse(&answer);
    bytebuf_free(&answer);
    if (!res)
        return CLI_EXIT_SERVICE;
    if (json_out) {
        json_dumpf(res, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        write_field(res, "stdout", stdout);
        write_field(res, "stderr", stderr);
        report_outcome(res);
    }
    return exit_status_of(res);
}

/* Parses a positive number for a limit flag. */
static int parse_limit(const char *flag, const char *arg, json_t *limits, const char *key)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || *end || end == arg || v <= 0) {
        fprintf(stderr, "xxx: %s wants a positive number, got '%s'\n", flag, arg);
        return -1;
    }
    json_object_set_new(limits, key, json_integer(v));
    return 0;
}

static int cmd_execute(client *c, int argc, char **argv)
{
    enum { O_API = 256, O_PUT, O_VERSION, O_WALL, O_CPU, O_MEM, O_PROCS, O_OUT, O_INTERACTIVE };
    static const struct option lopts[] = {
        {"language", required_argument, NULL, 'l'},
        {"code", required_argument, NULL, 'c'},
        {"file", required_argument, NULL, 'f'},
        {"stdin", required_argument, NULL, 'i'},
        {"arg", required_argument, NULL, 'a'},
        {"streaming", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"api-url", required_argument, NULL, O_API},
        {"put", required_argument, NULL, O_PUT},
        {"version", required_argument, NULL, O_VERSION},
        {"wall-ms", required_argument, NULL, O_WALL},
        {"cpu-ms", required_argument, NULL, O_CPU},
        {"memory-mb", required_argument, NULL, O_MEM},
        {"processes", required_argument, NULL, O_PROCS},
        {"output-bytes", required_argument, NULL, O_OUT},
        {"interactive", no_argument, NULL, O_INTERACTIVE},
        {0},
    };
    const char *language = NULL, *code = NULL, *file = NULL, *stdin_text = NULL, *version = NULL;
    bool streaming = false, json_out = false, interactive = false;
    _cleanup_json_ json_t *args = json_array();
    _cleanup_json_ json_t *files = json_array();
    _cleanup_json_ json_t *limits = json_object();
    int ch;
    while ((ch = getopt_long(argc, argv, "l:c:f:i:a:sjh", lopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            language = optarg;
            break;
        case 'c':
            code = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'i':
            stdin_text = optarg;
            break;
        case 'a':
            json_array_append_new(args, json_string(optarg));
            break;
        case 's':
            streaming = true;
            break;
        case 'j':
            json_out = true;
            break;
        case 'h':
            fputs(execute_usage, stdout);
            return 0;
        case O_API:
            set_base(c, optarg);
            break;
        case O_VERSION:
            version = optarg;
            break;
        case O_INTERACTIVE:
            interactive = true;
            break;
        case O_PUT: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                return usage_error(execute_usage, "--put wants NAME=PATH, got '%s'", optarg);
            bytebuf data = {0};
            if (read_file(eq + 1, &data) < 0) {
                fprintf(stderr, "xxx: cannot read %s: %s\n", eq + 1, strerror(errno));
                bytebuf_free(&data);
                return CLI_EXIT_USAGE;
            }
            _cleanup_free_ char *b64 =
                codec_base64_encode(data.data ? data.data : "", data.len, NULL);
            bytebuf_free(&data);
            json_array_append_new(files, json_pack("{s:s%, s:s, s:s}", "name", optarg,
                                                   (size_t)(eq - optarg), "content", b64 ? b64 : "",
                                                   "encoding", "base64"));
            break;
        }
        case O_WALL:
        case O_CPU:
        case O_MEM:
        case O_PROCS:
        case O_OUT: {
            static const char *const keys[] = {"wall_ms", "cpu_ms", "memory_mb", "processes",
                                               "output_bytes"};
            if (parse_limit(argv[optind - 1], optarg, limits, keys[ch - O_WALL]) < 0)
                return CLI_EXIT_USAGE;
            break;
        }
        default:
            fputs(execute_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(execute_usage, "unexpected argument '%s' (use --arg for the program)",
                           argv[optind]);
    if (!language)
        return usage_error(execute_usage, "%s", "--language is required");
    if (code && file)
        return usage_error(execute_usage, "%s", "give --code or --file, not both");
    if (interactive && !code && !file)
        return usage_error(execute_usage, "%s",
                           "--interactive gives stdin to the program: the code comes from --code "
                           "or --file");
    bytebuf text = {0};
    if (file) {
        if (read_file(file, &text) < 0) {
            fprintf(stderr, "xxx: cannot read %s: %s\n", file, strerror(errno));
            bytebuf_free(&text);
            return CLI_EXIT_USAGE;
        }
    } else if (code) {
        bytebuf_puts(&text, code);
    } else if (isatty(STDIN_FILENO) ? read_code_interactive(&text) < 0
                                    : read_stream(stdin, &text) < 0) {
        fprintf(stderr, "xxx: cannot read the program from stdin\n");
        bytebuf_free(&text);
        return CLI_EXIT_USAGE;
    }
    _cleanup_json_ json_t *req = json_pack("{s:s, s:s%}", "language", language, "code",
                                           text.data ? text.data : "", text.len);
    bytebuf_free(&text);
    if (!req) {
        fprintf(stderr, "xxx: the program is not valid UTF-8 text; use --put for binary files\n");
        return CLI_EXIT_USAGE;
    }
    if (stdin_text)
        json_object_set_new(req, "stdin", json_string(stdin_text));
    if (json_array_size(args))
        json_object_set(req, "args", args);
    if (json_array_size(files))
        json_object_set(req, "files", files);
    if (json_object_size(limits))
        json_object_set(req, "limits", limits);
    if (version)
        json_object_set_new(req, "version", json_string(version));
    if (interactive)
        return cli_interactive(c, req, json_out);
    return submit(c, "/api/repl/execute", req, streaming, json_out);
}

static int cmd_create(client *c, int argc, char **argv)
{
    enum { O_API = 256, O_IMAGE, O_STDIN, O_STREAM, O_JSON };
    static const struct option lopts[] = {
        {"image", required_argument, NULL, O_IMAGE},
        {"stdin", required_argument, NULL, O_STDIN},
        {"streaming", no_argument, NULL, O_STREAM},
        {"json", no_argument, NULL, O_JSON},
        {"api-url", required_argument, NULL, O_API},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *image = NULL, *stdin_text = NULL;
    bool streaming = false, json_out = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
        switch (ch) {
        case O_IMAGE:
            image = optarg;
            break;
        case O_STDIN:
            stdin_text = optarg;
            break;
        case O_STREAM:
            streaming = true;
            break;
        case O_JSON:
            json_out = true;
            break;
        case O_API:
            set_base(c, optarg);
            break;
        case 'h':
            fputs(create_usage, stdout);
            return 0;
        default:
            fputs(create_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!image)
        return usage_error(create_usage, "%s", "--image is required");
    if (optind >= argc)
        return usage_error(create_usage, "%s", "a COMMAND is required");
    _cleanup_json_ json_t *command = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(command, json_string(argv[i]));
    _cleanup_json_ json_t *req = json_pack("{s:s, s:O}", "image", image, "command", command);
    if (stdin_text)
        json_object_set_new(req, "stdin", json_string(stdin_text));
    return submit(c, "/api/containers/create", req, streaming, json_out);
}

/* Parses the flags of the small commands: --json, --api-url, --help. */
static int simple_flags(client *c, int argc, char **argv, const char *usage, bool *json_out)
{
    enum { O_API = 256 };
    static const struct option lopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"api-url", required_argument, NULL, O_API},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
        if (ch == 'j' && json_out) {
            *json_out = true;
        } else if (ch == O_API) {
            set_base(c, optarg);
        } else if (ch == 'h') {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return -1; /* go on */
}

/* GETs path and returns the parsed answer, or NULL with *rc set. */
static json_t *get_json(const client *c, const char *method, const char *path, int *rc)
{
    bytebuf answer = {0};
    long status = 0;
    json_t *j = NULL;
    if (client_call(c, method, path, NULL, &status, &answer) < 0) {
        *rc = CLI_EXIT_SERVICE;
    } else if (status != 200) {
        *rc = client_report_error(c, path, status, &answer);
    } else if (!(j = client_parse(&answer))) {
        *rc = CLI_EXIT_SERVICE;
    }
    bytebuf_free(&answer);
    return j;
}

static int print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2));
    putchar('\n');
    return 0;
}

static int cmd_languages(client *c, int argc, char **argv)
{
    bool json_out = false;
    int rc = simple_flags(c, argc, argv, languages_usage, &json_out);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return usage_error(languages_usage, "unexpected argument '%s'", argv[optind]);
    _cleanup_json_ json_t *j = get_json(c, "GET", "/api/repl/languages", &rc);
    if (!j)
        return rc;
    if (json_out)
        return print_json(j);
    size_t i;
    json_t *rt;
    printf("%-10s %-20s %-9s %s\n", "LANGUAGE", "VERSION", "COMPILED", "ALIASES");
    json_array_foreach(json_object_get(j, "runtimes"), i, rt)
    {
        char aliases[256] = "";
        size_t k, used = 0;
        json_t *a;
        json_array_foreach(json_object_get(rt, "aliases"), k, a)
        {
            int n = snprintf(aliases + used, sizeof aliases - used, "%s%s", k ? ", " : "",
                             json_string_value(a) ? json_string_value(a) : "");
            if (n < 0 || (size_t)n >= sizeof aliases - used)
                break;
            used += (size_t)n;
        }
        const char *version = json_string_value(json_object_get(rt, "version"));
        printf("%-10s %-20s %-9s %s\n", json_string_value(json_object_get(rt, "language")),
               version ? version : "?",
               json_is_true(json_object_get(rt, "compiled")) ? "yes" : "no", aliases);
    }
    return 0;
}

static int cmd_list(client *c, int argc, char **argv)
{
    bool json_out = false;
    int rc = simple_flags(c, argc, argv, list_usage, &json_out);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return usage_error(list_usage, "unexpected argument '%s'", argv[optind]);
    _cleanup_json_ json_t *j = get_json(c, "GET", "/api/containers/list", &rc);
    if (!j)
        return rc;
    if (json_out)
        return print_json(j);
    json_t *list = json_object_get(j, "containers");
    if (json_array_size(list) == 0) {
        printf("no boxes queued or running\n");
        return 0;
    }
    printf("%-32s  %-10s %-8s %-5s %s\n", "ID", "LANGUAGE", "STATE", "SLOT", "AGE");
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        json_t *slot = json_object_get(x, "slot");
        char slot_text[16] = "-";
        if (json_is_integer(slot))
            snprintf(slot_text, sizeof slot_text, "%lld", (long long)json_integer_value(slot));
        printf("%-32s  %-10s %-8s %-5s %.1fs\n", json_string_value(json_object_get(x, "id")),
               json_string_value(json_object_get(x, "language")),
               json_string_value(json_object_get(x, "state")), slot_text,
               (double)json_integer_value(json_object_get(x, "age_ms")) / 1000.0);
    }
    return 0;
}

static int cmd_remove(client *c, int argc, char **argv)
{
    int rc = simple_flags(c, argc, argv, remove_usage, NULL);
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc)
        return usage_error(remove_usage, "%s", "exactly one ID is required");
    const char *id = argv[optind];
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return usage_error(remove_usage, "'%s' is not an id (32 hex digits)", id);
    char path[128];
    snprintf(path, sizeof path, "/api/containers/%.64s", id);
    _cleanup_json_ json_t *j = get_json(c, "DELETE", path, &rc);
    if (!j)
        return rc;
    printf("%s\n", json_string_value(json_object_get(j, "message")));
    return 0;
}

static int cmd_health(client *c, int argc, char **argv)
{
    int rc = simple_flags(c, argc, argv, health_usage, NULL);
    if (rc >= 0)
        return rc;
    _cleanup_json_ json_t *j = get_json(c, "GET", "/health", &rc);
    return j ? print_json(j) : rc;
}

int main(int argc, char **argv)
{
    client c;
    const char *env = getenv("XXX_API_URL");
    set_base(&c, env && *env ? env : DEFAULT_API_URL);
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(main_usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--api-url") == 0 && i + 1 < argc) {
            set_base(&c, argv[i + 1]);
            i += 2;
        } else if (strncmp(argv[i], "--api-url=", 10) == 0) {
            set_base(&c, argv[i] + 10);
            i++;
        } else {
            return usage_error(main_usage, "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return usage_error(main_usage, "%s", "a command is required");
    const char *group = argv[i];
    const char *cmd = i + 1 < argc ? argv[i + 1] : NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "xxx: cannot initialise libcurl\n");
        return CLI_EXIT_SERVICE;
    }
    /* The subcommand sees itself as argv[0]. */
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    int rc;
    if (strcmp(group, "repl") == 0 && cmd && strcmp(cmd, "execute") == 0)
        rc = cmd_execute(&c, sub_argc, sub_argv);
    else if (strcmp(group, "repl") == 0 && cmd && strcmp(cmd, "languages") == 0)
        rc = cmd_languages(&c, sub_argc, sub_argv);
    else if (strcmp(group, "repl") == 0 && cmd && strcmp(cmd, "shell") == 0)
        rc = cmd_shell(&c, sub_argc, sub_argv);
    else if (strcmp(group, "container") == 0 && cmd && strcmp(cmd, "create") == 0)
        rc = cmd_create(&c, sub_argc, sub_argv);
    else if (strcmp(group, "container") == 0 && cmd && strcmp(cmd, "list") == 0)
        rc = cmd_list(&c, sub_argc, sub_argv);
    else if (strcmp(group, "container") == 0 && cmd &&
             (strcmp(cmd, "remove") == 0 || strcmp(cmd, "rm") == 0))
        rc = cmd_remove(&c, sub_argc, sub_argv);
    else if (strcmp(group, "health") == 0)
        rc = cmd_health(&c, argc - i, argv + i);
    else if ((strcmp(group, "repl") == 0 || strcmp(group, "container") == 0) &&
             (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)) {
        fputs(main_usage, cmd ? stdout : stderr);
        rc = cmd ? 0 : CLI_EXIT_USAGE;
    } else
        rc = usage_error(main_usage, "unknown command '%s'", group);
    curl_global_cleanup();
    return rc;
}

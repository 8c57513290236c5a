/* api.c — request parsing and answer building for the HTTP API (see http.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "common/cleanup.h"
#include "common/json_cleanup.h"
#include "common/strv.h"
#include "http/http.h"
#include "sse/sse.h"

/* One argument or the stdin of a request may not exceed the body limit
 * anyway; this bounds a single argv element the kernel would refuse. */
#define ARG_MAX_LEN (128 * 1024)

static int fail(api_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(api_error *e, const char *code, const char *fmt, ...)
{
    e->status = 400;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decodes the body; must be an object. */
static json_t *load_object(const char *body, size_t len, api_error *e)
{
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        fail(e, "invalid_json", "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
             jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        fail(e, "invalid_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* Returns a string member: 1 found, 0 absent (or null when nullable), -1 wrong type. */
static int get_str(json_t *obj, const char *key, bool required, const char **s, size_t *len,
                   api_error *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return fail(e, "missing_field", "field \"%s\" is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return fail(e, "invalid_field", "field \"%s\" must be a string", key);
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 1;
}

static char *copy_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* Reads an array of strings without NUL into a vector. */
static int get_strv(json_t *v, const char *key, size_t max, bool nonempty, char ***out,
                    api_error *e)
{
    if (!json_is_array(v))
        return fail(e, "invalid_field", "field \"%s\" must be an array of strings", key);
    if (json_array_size(v) > max)
        return fail(e, "invalid_field", "field \"%s\" may hold at most %zu strings", key, max);
    if (nonempty && json_array_size(v) == 0)
        return fail(e, "invalid_field", "field \"%s\" must not be empty", key);
    _cleanup_strv_ char **sv = calloc(json_array_size(v) + 1, sizeof *sv);
    if (!sv)
        return fail(e, "internal", "out of memory");
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return fail(e, "invalid_field", "%s[%zu] must be a string", key, i);
        if (memchr(json_string_value(x), '\0', json_string_length(x)))
            return fail(e, "invalid_field", "%s[%zu] must not contain NUL bytes", key, i);
        if (json_string_length(x) > ARG_MAX_LEN)
            return fail(e, "invalid_field", "%s[%zu] is longer than %d bytes", key, i, ARG_MAX_LEN);
        if (!(sv[i] = strdup(json_string_value(x))))
            return fail(e, "internal", "out of memory");
    }
    *out = steal_pointer(&sv);
    return 0;
}

/* Reads "limits" of a request (runtime_limits_parse: the request's keys). */
static int get_limits(json_t *obj, box_limits *l, api_error *e)
{
    json_t *v = json_object_get(obj, "limits");
    if (!v || json_is_null(v))
        return 0;
    char why[256];
    if (runtime_limits_parse(v, false, l, why, sizeof why) < 0)
        return fail(e, "invalid_field", "%s", why);
    return 0;
}

static int get_stdin(json_t *obj, run_request *req, api_error *e)
{
    const char *s;
    size_t len;
    int rc = get_str(obj, "stdin", false, &s, &len, e);
    if (rc <= 0)
        return rc;
    if (!(req->stdin_data = copy_bytes(s, len)))
        return fail(e, "internal", "out of memory");
    req->stdin_len = len;
    return 0;
}

/* Reads "files": [{name, content, encoding?}]. */
static int get_files(json_t *obj, const runtime *rt, run_request *req, api_error *e)
{
    json_t *v = json_object_get(obj, "files");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return fail(e, "invalid_field", "field \"files\" must be an array of objects");
    if (json_array_size(v) > RUN_MAX_FILES)
        return fail(e, "invalid_field", "field \"files\" may hold at most %d files", RUN_MAX_FILES);
    req->files = calloc(json_array_size(v) + 1, sizeof *req->files);
    if (!req->files)
        return fail(e, "internal", "out of memory");
    size_t i;
    json_t *f;
    json_array_foreach(v, i, f)
    {
        if (!json_is_object(f))
            return fail(e, "invalid_field", "files[%zu] must be an object", i);
        json_t *name = json_object_get(f, "name"), *content = json_object_get(f, "content");
        json_t *enc = json_object_get(f, "encoding");
        if (!json_is_string(name))
            return fail(e, "invalid_field", "files[%zu].name must be a string", i);
        if (!json_is_string(content))
            return fail(e, "invalid_field", "files[%zu].content must be a string", i);
        if (enc && !json_is_null(enc) && !json_is_string(enc))
            return fail(e, "invalid_field", "files[%zu].encoding must be \"utf8\" or \"base64\"",
                        i);
        const char *n = json_string_value(name);
        size_t nlen = json_string_length(name);
        if (!run_file_name_ok(n, nlen))
            return fail(e, "invalid_field",
                        "files[%zu].name must be a relative path without \".\", \"..\", NUL or "
                        "empty parts, at most 255 bytes",
                        i);
        if (rt && rt->source && strcmp(n, rt->source) == 0)
            return fail(e, "invalid_field", "files[%zu].name \"%s\" is where the code goes", i, n);
        for (size_t k = 0; k < req->nfiles; k++)
            if (strcmp(req->files[k].name, n) == 0)
                return fail(e, "invalid_field", "files[%zu].name \"%s\" appears twice", i, n);
        const char *encoding = enc && json_is_string(enc) ? json_string_value(enc) : "utf8";
        run_file *rf = &req->files[req->nfiles];
        if (strcmp(encoding, "base64") == 0) {
            unsigned char *data;
            if (codec_base64_decode(json_string_value(content), json_string_length(content), &data,
                                    &rf->len) < 0)
                return fail(e, "invalid_field", "files[%zu].content is not valid base64", i);
            rf->data = (char *)data;
        } else if (strcmp(encoding, "utf8") == 0 || strcmp(encoding, "utf-8") == 0) {
            rf->len = json_string_length(content);
            rf->data = copy_bytes(json_string_value(content), rf->len);
        } else {
            return fail(e, "invalid_field", "files[%zu].encoding must be \"utf8\" or \"base64\"",
                        i);
        }
        rf->name = strdup(n);
        req->nfiles++; /* counted now so run_request_clear frees a half-made entry */
        if (!rf->data || !rf->name)
            return fail(e, "internal", "out of memory");
    }
    return 0;
}

static const runtime *find_language(const runtime_set *rts, const char *name, size_t len,
                                    bool image, api_error *e)
{
    const runtime *rt = NULL;
    if (!memchr(name, '\0', len))
        rt = image ? runtime_find_image(rts, name) : runtime_find(rts, name);
    if (rt && !runtime_served(rt))
        rt = NULL; /* defined, but no executor serves it now */
    if (!rt) {
        char known[512];
        runtime_set_names(rts, known, sizeof known);
        _cleanup_free_ char *shown = NULL;
        bool lossy;
        shown = codec_utf8_repair(name, strnlen(name, len > 64 ? 64 : len), NULL, &lossy);
        fail(e, "unknown_language", "unknown %s \"%s\"; known languages: %s",
             image ? "image" : "language", shown ? shown : "", known);
    }
    return rt;
}

int api_parse_execute(const char *body, size_t len, const runtime_set *rts, run_request *req,
                      api_error *e)
{
    memset(req, 0, sizeof *req);
    _cleanup_json_ json_t *j = load_object(body, len, e);
    if (!j)
        return -1;
    const char *lang, *code, *version;
    size_t lang_len, code_len, version_len;
    if (get_str(j, "language", true, &lang, &lang_len, e) < 0 ||
        get_str(j, "code", true, &code, &code_len, e) < 0)
        goto error;
    const runtime *rt = find_language(rts, lang, lang_len, false, e);
    if (!rt)
        goto error;
    int has_version = get_str(j, "version", false, &version, &version_len, e);
    if (has_version < 0)
        goto error;
    if (has_version && !runtime_version_matches(rt, version)) {
        fail(e, "unknown_version", "%s %.64s is not available; this server has %s %s", rt->name,
             version, rt->name, runtime_version(rt) ? runtime_version(rt) : "(unknown)");
        goto error;
    }
    req->rt = rt;
    if (!(req->code = copy_bytes(code, code_len))) {
        fail(e, "internal", "out of memory");
        goto error;
    }
    req->code_len = code_len;
    json_t *args = json_object_get(j, "args");
    if (args && !json_is_null(args) &&
        get_strv(args, "args", RUN_MAX_ARGS, false, &req->args, e) < 0)
        goto error;
    if (get_stdin(j, req, e) < 0 || get_files(j, rt, req, e) < 0 ||
        get_limits(j, &req->limits, e) < 0)
        goto error;
    return 0;
error:
    run_request_clear(req);
    return -1;
}

int api_parse_container(const char *body, size_t len, const runtime_set *rts, run_request *req,
                        api_error *e)
{
    memset(req, 0, sizeof *req);
    _cleanup_json_ json_t *j = load_object(body, len, e);
    if (!j)
        return -1;
    const char *image;
    size_t image_len;
    if (get_str(j, "image", true, &image, &image_len, e) < 0)
        goto error;
    json_t *command = json_object_get(j, "command");
    if (!command || json_is_null(command)) {
        fail(e, "missing_field", "field \"command\" is required (an argv array)");
        goto error;
    }
    const runtime *rt = find_language(rts, image, image_len, true, e);
    if (!rt)
        goto error;
    req->rt = rt;
    if (get_strv(command, "command", RUN_MAX_ARGS, true, &req->command, e) < 0)
        goto error;
    if (!req->command[0][0]) {
        fail(e, "invalid_field", "command[0] must not be empty");
        goto error;
    }
    if (get_stdin(j, req, e) < 0 || get_files(j, NULL, req, e) < 0 ||
        get_limits(j, &req->limits, e) < 0)
        goto error;
    return 0;
error:
    run_request_clear(req);
    return -1;
}

int api_set_output(json_t *obj, const char *key, const char *data, size_t len)
{
    if (!data) {
        data = "";
        len = 0;
    }
    if (codec_utf8_valid(data, len))
        return json_object_set_new(obj, key, json_stringn(data, len));
    bool lossy;
    size_t rlen, blen;
    _cleanup_free_ char *repaired = codec_utf8_repair(data, len, &rlen, &lossy);
    _cleanup_free_ char *b64 = codec_base64_encode(data, len, &blen);
    if (!repaired || !b64)
        return -1;
    char k64[64];
    snprintf(k64, sizeof k64, "%s_base64", key);
    if (json_object_set_new(obj, key, json_stringn(repaired, rlen)) < 0 ||
        json_object_set_new(obj, k64, json_stringn(b64, blen)) < 0)
        return -1;
    return 0;
}

static json_t *int_or_null(bool have, long long v)
{
    return have ? json_integer(v) : json_null();
}

/* The fields every step has: status, exit_code, signal, stats. */
static void step_fields(json_t *o, const run_step *st)
{
    const box_result *b = &st->box;
    json_object_set_new(o, "exit_code", int_or_null(b->exit_code >= 0, b->exit_code));
    json_object_set_new(o, "signal",
                        b->signal ? json_string(box_signal_name(b->signal)) : json_null());
    json_object_set_new(o, "truncated", json_boolean(b->out.truncated || b->err.truncated));
    json_object_set_new(o, "stats",
                        json_pack("{s:I, s:I, s:I}", "wall_ms", (json_int_t)b->wall_ms, "cpu_ms",
                                  (json_int_t)b->cpu_ms, "memory_bytes",
                                  (json_int_t)b->memory_bytes));
}

static json_t *limits_json(const box_limits *l)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "wall_ms", (json_int_t)l->wall_ms, "cpu_ms",
                     (json_int_t)l->cpu_ms, "memory_mb", (json_int_t)(l->memory_bytes >> 20),
                     "processes", (json_int_t)l->processes, "output_bytes",
                     (json_int_t)l->output_bytes);
}

json_t *api_result_json(const char *id, const runtime *rt, const run_result *res, int flags)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *status = res->status ? res->status : "internal_error";
    bool ok = strcmp(status, "ok") == 0;
    const run_step *x = &res->exec;
    /* The description's {result, success} first, then what xxx adds. */
    if ((flags & API_OUTPUT) && api_set_output(o, "result", x->all.data, x->all.len) < 0)
        goto oom;
    json_object_set_new(o, "success", json_boolean(ok));
    json_object_set_new(o, "id", json_string(id));
    if (flags & API_CONTAINER) {
        char msg[400];
        if (ok)
            snprintf(msg, sizeof msg, "Container executed successfully");
        else if (strcmp(status, "runtime_error") == 0)
            snprintf(msg, sizeof msg, "Container exited with code %d", x->box.exit_code);
        else
            snprintf(msg, sizeof msg, "%s", res->message[0] ? res->message : status);
        json_object_set_new(o, "message", json_string(msg));
        if ((flags & API_OUTPUT) && api_set_output(o, "output", x->all.data, x->all.len) < 0)
            goto oom;
    }
    json_object_set_new(o, "language", json_string(rt->name));
    const char *version = runtime_version(rt);
    json_object_set_new(o, "version", version ? json_string(version) : json_null());
    json_object_set_new(o, "status", json_string(status));
    if (!(flags & API_CONTAINER) && res->message[0])
        json_object_set_new(o, "message", json_string(res->message));
    if (res->ran) {
        step_fields(o, x);
    } else {
        json_object_set_new(o, "exit_code", json_null());
        json_object_set_new(o, "signal", json_null());
        json_object_set_new(o, "truncated", json_false());
        json_object_set_new(
            o, "stats", json_pack("{s:i, s:i, s:i}", "wall_ms", 0, "cpu_ms", 0, "memory_bytes", 0));
    }
    if ((flags & API_OUTPUT) && (api_set_output(o, "stdout", x->box.out.data, x->box.out.len) < 0 ||
                                 api_set_output(o, "stderr", x->box.err.data, x->box.err.len) < 0))
        goto oom;
    json_t *stats = json_object_get(o, "stats");
    json_object_set_new(stats, "queue_ms", json_integer((json_int_t)res->queue_ms));
    json_object_set_new(stats, "total_ms", json_integer((json_int_t)res->total_ms));
    if (res->ran)
        json_object_set_new(o, "limits", limits_json(&x->limits));
    if (res->compiled) {
        /* The compiler's output stays in streamed results too: it is not the
         * program's output, and without it a compile error says nothing. */
        json_t *c = json_object();
        const run_step *st = &res->compile;
        json_object_set_new(c, "status", json_string(box_status_name(st->box.status)));
        step_fields(c, st);
        if (api_set_output(c, "output", st->all.data, st->all.len) < 0 ||
            api_set_output(c, "stdout", st->box.out.data, st->box.out.len) < 0 ||
            api_set_output(c, "stderr", st->box.err.data, st->box.err.len) < 0) {
            json_decref(c);
            goto oom;
        }
        json_object_set_new(c, "limits", limits_json(&st->limits));
        json_object_set_new(o, "compile", c);
    }
    return o;
oom:
    json_decref(o);
    return NULL;
}

json_t *api_languages_json(const runtime_set *rts)
{
    json_t *names = json_array(), *list = json_array(), *sessions = json_array();
    for (size_t i = 0; i < rts->n; i++) {
        const runtime *rt = rts->items[i];
        if (!runtime_served(rt))
            continue;
        const char *version = runtime_version(rt);
        json_t *aliases = json_array();
        for (size_t k = 0; rt->aliases[k]; k++)
            json_array_append_new(aliases, json_string(rt->aliases[k]));
        json_array_append_new(names, json_string(rt->name));
        json_array_append_new(
            list,
            json_pack("{s:s, s:o, s:o, s:b, s:s, s:b, s:b}", "language", rt->name, "version",
                      version ? json_string(version) : json_null(), "aliases", aliases, "compiled",
                      rt->compile != NULL, "source", rt->source, "sessions", rt->session != NULL,
                      "session_live_stdin", rt->session && rt->session->live_stdin));
        if (rt->session)
            json_array_append_new(sessions, json_string(rt->name));
    }
    return json_pack("{s:o, s:o, s:o}", "languages", names, "runtimes", list, "session_languages",
                     sessions);
}

json_t *api_error_json(const api_error *e)
{
    bool lossy;
    _cleanup_free_ char *msg = codec_utf8_repair(e->message, strlen(e->message), NULL, &lossy);
    return json_pack("{s:{s:s, s:s}}", "error", "code", e->code, "message", msg ? msg : "");
}

int api_sse_output(api_sse *s, bytebuf *out, box_stream stream, const char *data, size_t len)
{
    int idx = stream == BOX_STDERR ? 1 : 0;
    const char *name = idx ? "stderr" : "stdout";
    bytebuf chunk = {0};
    if (bytebuf_append(&chunk, s->carry[idx], s->ncarry[idx]) < 0 ||
        bytebuf_append(&chunk, data, len) < 0) {
        bytebuf_free(&chunk);
        return -1;
    }
    size_t tail = codec_utf8_incomplete_tail(chunk.data, chunk.len);
    size_t body = chunk.len - tail;
    memcpy(s->carry[idx], chunk.data + body, tail);
    s->ncarry[idx] = tail;
    int rc = 0;
    if (body && sse_chunk_is_text(chunk.data, body)) {
        rc = sse_format_event(out, ++s->next_id, name, chunk.data, body);
    } else if (body) {
        char ev[32];
        size_t blen;
        snprintf(ev, sizeof ev, "%s_base64", name);
        _cleanup_free_ char *b64 = codec_base64_encode(chunk.data, body, &blen);
        rc = b64 ? sse_format_event(out, ++s->next_id, ev, b64, blen) : -1;
    }
    bytebuf_free(&chunk);
    return rc;
}

int api_sse_finish(api_sse *s, bytebuf *out, json_t *result)
{
    for (int idx = 0; idx < 2; idx++) {
        if (!s->ncarry[idx])
            continue;
        size_t blen;
        _cleanup_free_ char *b64 = codec_base64_encode(s->carry[idx], s->ncarry[idx], &blen);
        if (!b64 || sse_format_event(out, ++s->next_id, idx ? "stderr_base64" : "stdout_base64",
                                     b64, blen) < 0)
            return -1;
        s->ncarry[idx] = 0;
    }
    _cleanup_free_ char *text = json_dumps(result, JSON_COMPACT);
    if (!text || sse_format_event(out, ++s->next_id, "result", text, strlen(text)) < 0)
        return -1;
    static const char done[] = "Container execution completed";
    return sse_format_event(out, ++s->next_id, "done", done, sizeof done - 1);
}

/* ---- sessions ---- */

int api_parse_session_create(const char *body, size_t len, const runtime_set *rts,
                             api_session_create *out, api_error *e)
{
    memset(out, 0, sizeof *out);
    _cleanup_json_ json_t *j = load_object(body, len, e);
    if (!j)
        return -1;
    const char *lang;
    size_t lang_len;
    if (get_str(j, "language", true, &lang, &lang_len, e) < 0)
        return -1;
    const runtime *rt = find_language(rts, lang, lang_len, false, e);
    if (!rt)
        return -1;
    if (!rt->session) {
        char known[512];
        api_session_languages(rts, known, sizeof known);
        return fail(e, "sessions_unsupported",
                    "%s has no session support; languages with sessions: %s", rt->name, known);
    }
    json_t *idle = json_object_get(j, "idle_timeout_s");
    if (idle && !json_is_null(idle)) {
        if (!json_is_integer(idle) || json_integer_value(idle) < 1 ||
            json_integer_value(idle) > API_SESSION_IDLE_MAX_S)
            return fail(e, "invalid_field", "field \"idle_timeout_s\" must be an integer 1..%d",
                        API_SESSION_IDLE_MAX_S);
        out->idle_ms = (uint64_t)json_integer_value(idle) * 1000;
    }
    if (get_limits(j, &out->limits, e) < 0)
        return -1;
    out->rt = rt;
    return 0;
}

int api_parse_session_execute(const char *body, size_t len, api_session_exec *out, api_error *e)
{
    memset(out, 0, sizeof *out);
    _cleanup_json_ json_t *j = load_object(body, len, e);
    if (!j)
        return -1;
    const char *code, *in = NULL;
    size_t code_len, in_len = 0;
    if (get_str(j, "code", true, &code, &code_len, e) < 0 ||
        get_str(j, "stdin", false, &in, &in_len, e) < 0)
        return -1;
    json_t *t = json_object_get(j, "timeout_ms");
    if (t && !json_is_null(t)) {
        if (!json_is_integer(t) || json_integer_value(t) < 1)
            return fail(e, "invalid_field", "field \"timeout_ms\" must be a positive integer");
        out->timeout_ms = (uint64_t)json_integer_value(t);
    }
    if (!(out->code = copy_bytes(code, code_len)) ||
        (in && !(out->stdin_data = copy_bytes(in, in_len)))) {
        api_session_exec_clear(out);
        return fail(e, "internal", "out of memory");
    }
    out->code_len = code_len;
    out->stdin_len = in_len;
    return 0;
}

void api_session_exec_clear(api_session_exec *x)
{
    free(x->code);
    free(x->stdin_data);
    memset(x, 0, sizeof *x);
}

void api_session_languages(const runtime_set *rts, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rts->n && n < len; i++) {
        if (!rts->items[i]->session || !runtime_served(rts->items[i]))
            continue;
        int k = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", rts->items[i]->name);
        if (k < 0)
            break;
        n += (size_t)k;
    }
}

/* Formats a Unix time in ms as "2026-11-27T04:05:06.789Z". */
static json_t *iso_time(uint64_t ms)
{
    if (!ms)
        return json_null();
    char buf[64];
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03uZ", (unsigned)(ms % 1000));
    return json_string(buf);
}

json_t *api_session_json(const session_info *info, const runtime *rt)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:o}", "id", info->id, "language",
        info->language, "version",
        rt && runtime_version(rt) ? json_string(runtime_version(rt)) : json_null(), "status",
        info->status, "created_at", iso_time(info->created_at), "expires_at",
        iso_time(info->expires_at), "last_used_at", iso_time(info->last_used_at), "idle_timeout_s",
        (json_int_t)(info->idle_timeout_ms / 1000), "execution_count", (json_int_t)info->executions,
        "slot", info->slot >= 0 ? json_integer(info->slot) : json_null(), "limits",
        limits_json(&info->limits));
    if (o && info->message[0])
        json_object_set_new(o, "message", json_string(info->message));
    return o;
}

json_t *api_session_result_json(const char *session_id, const runtime *rt, const session_result *r,
                                int flags)
{
    json_t *o = api_result_json(session_id, rt, &r->res, flags);
    if (!o)
        return NULL;
    json_object_set_new(o, "session_id", json_string(session_id));
    json_object_set_new(o, "execution_count", json_integer((json_int_t)r->execution_count));
    json_object_set_new(o, "value", r->value ? json_string(r->value) : json_null());
    if (r->has_error)
        json_object_set_new(o, "error",
                            json_pack("{s:s, s:s, s:s}", "name",
                                      r->error_name ? r->error_name : "Error", "message",
                                      r->error_message ? r->error_message : "", "traceback",
                                      r->error_traceback ? r->error_traceback : ""));
    else
        json_object_set_new(o, "error", json_null());
    json_object_set_new(o, "session_ended", json_boolean(r->session_ended));
    return o;
}

/* test_api.c — the HTTP API's pure parts: every malformed or hostile body
 * gets its 400 and reason; output that is not UTF-8 stays exact; streamed
 * chunks become well-formed SSE events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "http/http.h"
#include "sse/sse.h"

static runtime_set *rts;

static int setup(void **state)
{
    (void)state;
    rts = calloc(1, sizeof *rts);
    static const char *const defs[] = {
        "{\"name\": \"python\", \"aliases\": [\"py\", \"python3\"], \"source\": \"main.py\", "
        "\"run\": [\"/usr/bin/python3\", \"{source}\", \"{args}\"], \"version\": {\"command\": "
        "[\"/p\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
        "{\"name\": \"c\", \"source\": \"main.c\", \"compile\": [\"/usr/bin/gcc\", \"{source}\"], "
        "\"run\": [\"{workdir}/a.out\"], \"version\": {\"command\": [\"/g\"]}, \"test\": "
        "{\"code\": \"\", \"stdout\": \"\"}}",
    };
    for (size_t i = 0; i < 2; i++) {
        runtime *rt;
        char err[256];
        if (runtime_parse(defs[i], strlen(defs[i]), "t", &rt, err, sizeof err) < 0 ||
            runtime_set_add(rts, rt, err, sizeof err) < 0)
            return -1;
        rt->version = strdup(i ? "12.2.0" : "3.11.2");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    runtime_set_free(rts);
    return 0;
}

/* Expects body to be refused with code; returns nothing, checks the message. */
static void refused(const char *body, size_t len, const char *code, const char *why)
{
    run_request req;
    api_error e = {0};
    assert_int_equal(api_parse_execute(body, len, rts, &req, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, code);
    if (!strstr(e.message, why))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.message, why);
    assert_non_null(strstr(e.message, why));
    assert_null(req.code); /* nothing half-built is left behind */
}
#define REFUSED(body, code, why) refused(body, sizeof body - 1, code, why)

static void a_full_request_is_parsed(void **state)
{
    (void)state;
    static const char body[] =
        "{\"language\": \"PY\", \"code\": \"print(1)\\u0000\", \"stdin\": \"in\", \"args\": "
        "[\"a\", \"b c\"], \"files\": [{\"name\": \"data/x.bin\", \"content\": \"AAEC\", "
        "\"encoding\": \"base64\"}, {\"name\": \"t.txt\", \"content\": \"hi\"}], \"version\": "
        "\"3.11\", \"limits\": {\"wall_ms\": 500, \"memory_mb\": 64}}";
    run_request req;
    api_error e = {0};
    assert_int_equal(api_parse_execute(body, sizeof body - 1, rts, &req, &e), 0);
    assert_string_equal(req.rt->name, "python");
    assert_int_equal(req.code_len, 9); /* the NUL travels */
    assert_memory_equal(req.code, "print(1)\0", 9);
    assert_int_equal(req.stdin_len, 2);
    assert_string_equal(req.args[1], "b c");
    assert_null(req.args[2]);
    assert_int_equal(req.nfiles, 2);
    assert_string_equal(req.files[0].name, "data/x.bin");
    assert_int_equal(req.files[0].len, 3);
    assert_memory_equal(req.files[0].data, "\0\1\2", 3);
    assert_int_equal(req.limits.wall_ms, 500);
    assert_int_equal(req.limits.memory_bytes, 64ull << 20);
    assert_int_equal(req.limits.cpu_ms, 0);
    run_request_clear(&req);
}

static void malformed_bodies_get_400_with_a_reason(void **state)
{
    (void)state;
    REFUSED("{\"language\": \"python\", \"code\": ", "invalid_json", "not valid JSON");
    REFUSED("", "invalid_json", "not valid JSON");
    REFUSED("[\"python\"]", "invalid_json", "JSON object");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"code\": \"y\"}", "invalid_json",
            "duplicate");
    REFUSED("{\"language\": \"py\x00thon\", \"code\": \"x\"}", "invalid_json", "not valid JSON");
    REFUSED("{\"language\": \"\xff\", \"code\": \"x\"}", "invalid_json", "not valid JSON");
    REFUSED("{\"code\": \"x\"}", "missing_field", "\"language\" is required");
    REFUSED("{\"language\": \"python\"}", "missing_field", "\"code\" is required");
    REFUSED("{\"language\": 7, \"code\": \"x\"}", "invalid_field", "\"language\" must be a string");
    REFUSED("{\"language\": \"python\", \"code\": [\"x\"]}", "invalid_field",
            "\"code\" must be a string");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"stdin\": 5}", "invalid_field",
            "\"stdin\" must be a string");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"args\": \"a b\"}", "invalid_field",
            "array of strings");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"args\": [1]}", "invalid_field",
            "args[0] must be a string");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"args\": [\"a\\u0000b\"]}",
            "invalid_field", "NUL");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wall_ms\": -5}}",
            "invalid_field", "positive integer");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"wall_ms\": \"5\"}}",
            "invalid_field", "positive integer");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"limits\": {\"walltime\": 5}}",
            "invalid_field", "not a limit");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"version\": \"2.7\"}", "unknown_version",
            "this server has python 3.11.2");
}

static void unknown_language_lists_the_known_ones(void **state)
{
    (void)state;
    REFUSED("{\"language\": \"cobol\", \"code\": \"x\"}", "unknown_language",
            "unknown language \"cobol\"; known languages: c, python");
    REFUSED("{\"language\": \"pyth\\u0000on\", \"code\": \"x\"}", "unknown_language",
            "unknown language");
}

static void hostile_file_names_are_refused(void **state)
{
    (void)state;
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"../etc/passwd\", "
            "\"content\": \"\"}]}",
            "invalid_field", "relative path");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"/abs\", "
            "\"content\": \"\"}]}",
            "invalid_field", "relative path");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"a//b\", "
            "\"content\": \"\"}]}",
            "invalid_field", "relative path");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"a\\u0000b\", "
            "\"content\": \"\"}]}",
            "invalid_field", "relative path");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"main.py\", "
            "\"content\": \"\"}]}",
            "invalid_field", "where the code goes");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"a\", "
            "\"content\": \"\"}, {\"name\": \"a\", \"content\": \"\"}]}",
            "invalid_field", "appears twice");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"a\", "
            "\"content\": \"!!\", \"encoding\": \"base64\"}]}",
            "invalid_field", "not valid base64");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": [{\"name\": \"a\", "
            "\"content\": \"\", \"encoding\": \"rot13\"}]}",
            "invalid_field", "\"utf8\" or \"base64\"");
    REFUSED("{\"language\": \"python\", \"code\": \"x\", \"files\": {\"name\": \"a\"}}",
            "invalid_field", "array of objects");
}

static void container_requests_name_a_runtime_by_image(void **state)
{
    (void)state;
    static const char ok[] = "{\"image\": \"python:3.11-slim\", \"command\": [\"python3\", "
                             "\"-c\", \"print('Hello')\"]}";
    run_request req;
    api_error e = {0};
    assert_int_equal(api_parse_container(ok, sizeof ok - 1, rts, &req, &e), 0);
    assert_string_equal(req.rt->name, "python");
    assert_string_equal(req.command[2], "print('Hello')");
    assert_null(req.code);
    run_request_clear(&req);

    static const char *const bad[][2] = {
        {"{\"image\": \"python\"}", "missing_field"},
        {"{\"image\": \"python\", \"command\": []}", "invalid_field"},
        {"{\"image\": \"python\", \"command\": \"ls\"}", "invalid_field"},
        {"{\"image\": \"python\", \"command\": [\"\"]}", "invalid_field"},
        {"{\"image\": \"cobol:9\", \"command\": [\"x\"]}", "unknown_language"},
        {"{\"command\": [\"x\"]}", "missing_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(api_parse_container(bad[i][0], strlen(bad[i][0]), rts, &req, &e), -1);
        assert_string_equal(e.code, bad[i][1]);
    }
}

static void invalid_utf8_output_is_repaired_and_kept_exactly(void **state)
{
    (void)state;
    json_t *o = json_object();
    assert_int_equal(api_set_output(o, "stdout", "ok\n", 3), 0);
    assert_null(json_object_get(o, "stdout_base64"));
    static const char raw[] = "a\xff\0b\xc3";
    assert_int_equal(api_set_output(o, "stderr", raw, 5), 0);
    json_t *s = json_object_get(o, "stderr");
    assert_int_equal(json_string_length(s), 9); /* a U+FFFD NUL b U+FFFD */
    assert_memory_equal(json_string_value(s), "a\xef\xbf\xbd\0b\xef\xbf\xbd", 9);
    const char *b64 = json_string_value(json_object_get(o, "stderr_base64"));
    unsigned char *back;
    size_t len;
    assert_int_equal(codec_base64_decode(b64, strlen(b64), &back, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(back, raw, 5);
    free(back);
    /* And the whole object still serialises as valid JSON. */
    char *text = json_dumps(o, JSON_COMPACT);
    json_error_t jerr;
    json_t *again = json_loads(text, JSON_ALLOW_NUL, &jerr);
    assert_non_null(again);
    json_decref(again);
    free(text);
    json_decref(o);
}

static void compile_errors_carry_the_compiler_output(void **state)
{
    (void)state;
    run_result res = {.status = "compile_error", .compiled = true};
    res.compile.box.status = BOX_RUNTIME_ERROR;
    res.compile.box.exit_code = 1;
    static char msg[] = "main.c:1: error: expected ';'\n";
    res.compile.box.err = (box_buf){.data = msg, .len = sizeof msg - 1};
    res.compile.all = (bytebuf){.data = msg, .len = sizeof msg - 1};
    snprintf(res.message, sizeof res.message, "compilation failed (exit code 1)");
    const runtime *c = runtime_find(rts, "c");
    json_t *o = api_result_json("abc", c, &res, API_OUTPUT);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "compile_error");
    assert_true(json_is_false(json_object_get(o, "success")));
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_string_equal(json_string_value(json_object_get(o, "result")), "");
    json_t *comp = json_object_get(o, "compile");
    assert_string_equal(json_string_value(json_object_get(comp, "output")), msg);
    assert_int_equal(json_integer_value(json_object_get(comp, "exit_code")), 1);
    json_decref(o);
    /* Streamed results leave the program's output out but keep the compiler's. */
    o = api_result_json("abc", c, &res, 0);
    assert_null(json_object_get(o, "result"));
    assert_null(json_object_get(o, "stdout"));
    assert_non_null(json_object_get(json_object_get(o, "compile"), "output"));
    json_decref(o);
}

static void container_answers_keep_the_description_fields(void **state)
{
    (void)state;
    run_result res = {.status = "ok", .ran = true};
    static char out[] = "Hello\n";
    res.exec.box.status = BOX_OK;
    res.exec.box.out = (box_buf){.data = out, .len = 6};
    res.exec.all = (bytebuf){.data = out, .len = 6};
    json_t *o =
        api_result_json("id1", runtime_find(rts, "python"), &res, API_OUTPUT | API_CONTAINER);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "id1");
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "Container executed successfully");
    assert_string_equal(json_string_value(json_object_get(o, "output")), "Hello\n");
    assert_string_equal(json_string_value(json_object_get(o, "result")), "Hello\n");
    assert_true(json_is_true(json_object_get(o, "success")));
    assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 0);
    json_decref(o);
}

typedef struct events {
    int n;
    char name[16][32];
    char data[16][256];
    size_t len[16];
    char id[16][8];
} events;

static void collect(void *ctx, const char *event, const char *id, const char *data, size_t len)
{
    events *ev = ctx;
    assert_true(ev->n < 16 && len < 256);
    snprintf(ev->name[ev->n], 32, "%s", event);
    snprintf(ev->id[ev->n], 8, "%s", id);
    memcpy(ev->data[ev->n], data, len);
    ev->len[ev->n++] = len;
}

static void streamed_chunks_become_exact_sse_events(void **state)
{
    (void)state;
    api_sse s = {0};
    bytebuf out = {0};
    /* "é" (C3 A9) cut across two chunks waits for its second byte: both
     * events are text, and neither holds half a character. */
    assert_int_equal(api_sse_output(&s, &out, BOX_STDOUT, "caf\xc3", 4), 0);
    assert_int_equal(api_sse_output(&s, &out, BOX_STDOUT, "\xa9\nline 2\n", 9), 0);
    assert_int_equal(api_sse_output(&s, &out, BOX_STDERR, "bad \xff byte", 10), 0);
    assert_int_equal(api_sse_output(&s, &out, BOX_STDOUT, "50%\r100%\n", 9), 0);
    assert_int_equal(api_sse_output(&s, &out, BOX_STDOUT, "\xe2\x82", 2), 0); /* cut at end */
    json_t *result = json_pack("{s:s}", "status", "ok");
    assert_int_equal(api_sse_finish(&s, &out, result), 0);
    json_decref(result);

    sse_parser p = {0};
    events ev = {0};
    assert_int_equal(sse_parser_feed(&p, out.data, out.len, collect, &ev), 0);
    sse_parser_free(&p);
    bytebuf_free(&out);
    assert_int_equal(ev.n, 7);
    assert_string_equal(ev.name[0], "stdout");
    assert_string_equal(ev.data[0], "caf");
    assert_string_equal(ev.name[1], "stdout");
    assert_string_equal(ev.data[1], "\xc3\xa9\nline 2\n");
    assert_string_equal(ev.name[2], "stderr_base64");
    assert_string_equal(ev.data[2], "YmFkIP8gYnl0ZQ==");
    assert_string_equal(ev.name[3], "stdout_base64"); /* CR would be eaten as a line end */
    assert_string_equal(ev.name[4], "stdout_base64"); /* the cut tail, flushed at the end */
    assert_string_equal(ev.data[4], "4oI=");
    assert_string_equal(ev.name[5], "result");
    assert_string_equal(ev.data[5], "{\"status\":\"ok\"}");
    assert_string_equal(ev.name[6], "done");
    for (int i = 0; i < 7; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d", i + 1);
        assert_string_equal(ev.id[i], want);
    }
}

static void languages_and_errors_have_the_documented_shape(void **state)
{
    (void)state;
    json_t *l = api_languages_json(rts);
    assert_int_equal(json_array_size(json_object_get(l, "languages")), 2);
    json_t *py = json_array_get(json_object_get(l, "runtimes"), 1);
    assert_string_equal(json_string_value(json_object_get(py, "language")), "python");
    assert_string_equal(json_string_value(json_object_get(py, "version")), "3.11.2");
    assert_true(json_is_false(json_object_get(py, "compiled")));
    assert_true(json_is_boolean(json_object_get(py, "session_live_stdin")));
    assert_int_equal(json_array_size(json_object_get(py, "aliases")), 2);
    json_decref(l);
    api_error e = {.status = 404, .code = "not_found"};
    snprintf(e.message, sizeof e.message, "no \xff such");
    json_t *err = api_error_json(&e);
    json_t *inner = json_object_get(err, "error");
    assert_string_equal(json_string_value(json_object_get(inner, "code")), "not_found");
    assert_string_equal(json_string_value(json_object_get(inner, "message")),
                        "no \xef\xbf\xbd such");
    json_decref(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_request_is_parsed),
        cmocka_unit_test(malformed_bodies_get_400_with_a_reason),
        cmocka_unit_test(unknown_language_lists_the_known_ones),
        cmocka_unit_test(hostile_file_names_are_refused),
        cmocka_unit_test(container_requests_name_a_runtime_by_image),
        cmocka_unit_test(invalid_utf8_output_is_repaired_and_kept_exactly),
        cmocka_unit_test(compile_errors_carry_the_compiler_output),
        cmocka_unit_test(container_answers_keep_the_description_fields),
        cmocka_unit_test(streamed_chunks_become_exact_sse_events),
        cmocka_unit_test(languages_and_errors_have_the_documented_shape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

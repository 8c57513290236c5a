/* test_session_api.c — the session API's pure parts: create and execute
 * bodies (what is refused, with which code), a language without a driver,
 * the session and execution answers, and the languages list saying which
 * runtimes have sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_cleanup.h"
#include "http/http.h"

static runtime_set *rts;

static int setup(void **state)
{
    (void)state;
    rts = calloc(1, sizeof *rts);
    static const char *const defs[] = {
        "{\"name\": \"python\", \"aliases\": [\"py\"], \"source\": \"main.py\", "
        "\"run\": [\"/usr/bin/python3\", \"{source}\"], \"version\": {\"command\": [\"/p\"]}, "
        "\"session\": {\"run\": [\"/usr/bin/python3\", \"{workdir}/.xxx/s.py\"], "
        "\"files\": [{\"name\": \".xxx/s.py\", \"content\": \"print(1)\"}]}, "
        "\"test\": {\"code\": \"\", \"stdout\": \"\"}}",
        "{\"name\": \"bash\", \"source\": \"main.sh\", \"run\": [\"/bin/bash\", \"{source}\"], "
        "\"version\": {\"command\": [\"/b\"]}, \"test\": {\"code\": \"\", \"stdout\": \"\"}}",
    };
    for (size_t i = 0; i < 2; i++) {
        runtime *rt;
        char err[256];
        if (runtime_parse(defs[i], strlen(defs[i]), "t", &rt, err, sizeof err) < 0 ||
            runtime_set_add(rts, rt, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
        rt->version = strdup(i ? "5.2.15" : "3.11.2");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    runtime_set_free(rts);
    return 0;
}

static void create_refused(const char *body, const char *code, const char *why)
{
    api_session_create c;
    api_error e = {0};
    assert_int_equal(api_parse_session_create(body, strlen(body), rts, &c, &e), -1);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, code);
    if (!strstr(e.message, why))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.message, why);
    assert_non_null(strstr(e.message, why));
}

static void create_bodies_are_checked(void **state)
{
    (void)state;
    api_session_create c;
    api_error e = {0};
    const char *ok = "{\"language\": \"py\", \"idle_timeout_s\": 30, \"limits\": "
                     "{\"memory_mb\": 64, \"cpu_ms\": 5000}}";
    assert_int_equal(api_parse_session_create(ok, strlen(ok), rts, &c, &e), 0);
    assert_string_equal(c.rt->name, "python");
    assert_int_equal(c.idle_ms, 30000);
    assert_int_equal(c.limits.memory_bytes, 64ull << 20);
    assert_int_equal(c.limits.cpu_ms, 5000);
    const char *bare = "{\"language\": \"python\"}";
    assert_int_equal(api_parse_session_create(bare, strlen(bare), rts, &c, &e), 0);
    assert_int_equal(c.idle_ms, 0);
    assert_int_equal(c.limits.memory_bytes, 0);

    create_refused("[]", "invalid_json", "object");
    create_refused("{}", "missing_field", "language");
    create_refused("{\"language\": \"cobol\"}", "unknown_language", "python");
    create_refused("{\"language\": \"bash\"}", "sessions_unsupported",
                   "languages with sessions: python");
    create_refused("{\"language\": \"python\", \"idle_timeout_s\": 0}", "invalid_field",
                   "idle_timeout_s");
    create_refused("{\"language\": \"python\", \"idle_timeout_s\": 86401}", "invalid_field",
                   "idle_timeout_s");
    create_refused("{\"language\": \"python\", \"idle_timeout_s\": \"5\"}", "invalid_field",
                   "idle_timeout_s");
    create_refused("{\"language\": \"python\", \"limits\": {\"memory_mb\": -1}}", "invalid_field",
                   "memory_mb");
}

static void execute_bodies_are_checked(void **state)
{
    (void)state;
    api_session_exec x;
    api_error e = {0};
    const char body[] = "{\"code\": \"x = 1\\u0000\", \"stdin\": \"in\", \"timeout_ms\": 500}";
    assert_int_equal(api_parse_session_execute(body, sizeof body - 1, &x, &e), 0);
    assert_int_equal(x.code_len, 6);
    assert_memory_equal(x.code, "x = 1\0", 6);
    assert_string_equal(x.stdin_data, "in");
    assert_int_equal(x.timeout_ms, 500);
    api_session_exec_clear(&x);
    assert_null(x.code);

    const char *bare = "{\"code\": \"1\"}";
    assert_int_equal(api_parse_session_execute(bare, strlen(bare), &x, &e), 0);
    assert_null(x.stdin_data);
    assert_int_equal(x.timeout_ms, 0);
    api_session_exec_clear(&x);

    static const struct {
        const char *body, *code;
    } bad[] = {
        {"{}", "missing_field"},
        {"{\"code\": 1}", "invalid_field"},
        {"{\"code\": \"1\", \"stdin\": []}", "invalid_field"},
        {"{\"code\": \"1\", \"timeout_ms\": 0}", "invalid_field"},
        {"{\"code\": \"1\", \"timeout_ms\": 1.5}", "invalid_field"},
        {"{\"code\": \"1\", \"code\": \"2\"}", "invalid_json"},
        {"nope", "invalid_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(api_parse_session_execute(bad[i].body, strlen(bad[i].body), &x, &e), -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, bad[i].code);
        assert_null(x.code);
    }
}

static void session_answers_have_the_documented_fields(void **state)
{
    (void)state;
    session_info info = {
        .id = "0123456789abcdef0123456789abcdef",
        .language = "python",
        .status = "ready",
        .state = SESSION_STATE_READY,
        .created_at = 1795737600000ull, /* 2026-11-27T00:00:00Z */
        .expires_at = 1795738200500ull,
        .last_used_at = 1795737600000ull,
        .idle_timeout_ms = 600000,
        .executions = 3,
        .slot = 4,
        .limits = {.wall_ms = 10000, .cpu_ms = 30000, .memory_bytes = 256ull << 20},
    };
    _cleanup_json_ json_t *o = api_session_json(&info, rts->items[1]);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "id")), info.id);
    assert_string_equal(json_string_value(json_object_get(o, "language")), "python");
    assert_string_equal(json_string_value(json_object_get(o, "version")), "3.11.2");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "ready");
    assert_string_equal(json_string_value(json_object_get(o, "created_at")),
                        "2026-11-27T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(o, "expires_at")),
                        "2026-11-27T00:10:00.500Z");
    assert_int_equal(json_integer_value(json_object_get(o, "idle_timeout_s")), 600);
    assert_int_equal(json_integer_value(json_object_get(o, "execution_count")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "slot")), 4);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "limits"), "memory_mb")),
                     256);
    assert_null(json_object_get(o, "message"));

    session_info gone = info;
    snprintf(gone.status, sizeof gone.status, "memory_limit");
    snprintf(gone.message, sizeof gone.message, "the session exceeded its memory limit");
    gone.state = SESSION_STATE_ENDED;
    gone.expires_at = 0;
    gone.slot = -1;
    _cleanup_json_ json_t *g = api_session_json(&gone, rts->items[1]);
    assert_true(json_is_null(json_object_get(g, "expires_at")));
    assert_true(json_is_null(json_object_get(g, "slot")));
    assert_string_equal(json_string_value(json_object_get(g, "message")),
                        "the session exceeded its memory limit");
}

static void execution_answers_add_value_error_and_count(void **state)
{
    (void)state;
    const runtime *py = rts->items[1];
    session_result r = {0};
    r.res.status = "runtime_error";
    r.res.ran = true;
    r.res.exec.box.exit_code = -1;
    r.res.exec.box.out.data = "hi\n";
    r.res.exec.box.out.len = 3;
    r.res.exec.box.err.data = "";
    r.res.exec.all.data = "hi\n";
    r.res.exec.all.len = 3;
    r.execution_count = 7;
    r.has_error = true;
    r.error_name = "ZeroDivisionError";
    r.error_message = "division by zero";
    r.error_traceback = "Traceback (most recent call last):\n";
    _cleanup_json_ json_t *o = api_session_result_json("abc", py, &r, API_OUTPUT);
    assert_non_null(o);
    assert_false(json_is_true(json_object_get(o, "success")));
    assert_string_equal(json_string_value(json_object_get(o, "status")), "runtime_error");
    assert_string_equal(json_string_value(json_object_get(o, "result")), "hi\n");
    assert_string_equal(json_string_value(json_object_get(o, "stdout")), "hi\n");
    assert_string_equal(json_string_value(json_object_get(o, "session_id")), "abc");
    assert_int_equal(json_integer_value(json_object_get(o, "execution_count")), 7);
    assert_true(json_is_null(json_object_get(o, "value")));
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    json_t *err = json_object_get(o, "error");
    assert_string_equal(json_string_value(json_object_get(err, "name")), "ZeroDivisionError");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "division by zero");
    assert_non_null(json_string_value(json_object_get(err, "traceback")));
    assert_false(json_is_true(json_object_get(o, "session_ended")));

    session_result ok = {0};
    ok.res.status = "ok";
    ok.res.ran = true;
    ok.value = "42";
    ok.execution_count = 8;
    _cleanup_json_ json_t *v = api_session_result_json("abc", py, &ok, 0);
    assert_true(json_is_true(json_object_get(v, "success")));
    assert_string_equal(json_string_value(json_object_get(v, "value")), "42");
    assert_true(json_is_null(json_object_get(v, "error")));
    assert_null(json_object_get(v, "stdout")); /* streamed answers carry no output */
}

static void languages_say_which_have_sessions(void **state)
{
    (void)state;
    _cleanup_json_ json_t *o = api_languages_json(rts);
    json_t *sl = json_object_get(o, "session_languages");
    assert_int_equal(json_array_size(sl), 1);
    assert_string_equal(json_string_value(json_array_get(sl, 0)), "python");
    json_t *list = json_object_get(o, "runtimes");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *r = json_array_get(list, i);
        bool py = strcmp(json_string_value(json_object_get(r, "language")), "python") == 0;
        assert_int_equal(json_is_true(json_object_get(r, "sessions")), py);
    }
    char names[64];
    api_session_languages(rts, names, sizeof names);
    assert_string_equal(names, "python");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_bodies_are_checked),
        cmocka_unit_test(execute_bodies_are_checked),
        cmocka_unit_test(session_answers_have_the_documented_fields),
        cmocka_unit_test(execution_answers_add_value_error_and_count),
        cmocka_unit_test(languages_say_which_have_sessions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

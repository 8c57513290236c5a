/* test_remote.c — what repl-api sends an executor and reads back: a request
 * survives the trip through remote_request_json and the executor's parser
 * unchanged, and a result read back from an executor's "result" event
 * renders to the same answer the executor gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "remote/internal.h"
#include "remote/remote.h"

static runtime_set *rts;

static int setup(void **state)
{
    (void)state;
    rts = calloc(1, sizeof *rts);
    static const char *const defs[] = {
        "{\"name\": \"python\", \"aliases\": [\"py\"], \"source\": \"main.py\", "
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

/* Parses body as the executor would, re-encodes it as repl-api would, and
 * parses that again: both requests must be equal. */
static void a_request_survives_the_trip_to_the_executor(void **state)
{
    (void)state;
    static const char body[] =
        "{\"language\": \"py\", \"code\": \"print(1)\\u0000x\", \"stdin\": \"in\\n\", "
        "\"args\": [\"a\", \"b c\"], \"files\": [{\"name\": \"d/x.bin\", \"content\": \"AP8=\", "
        "\"encoding\": \"base64\"}, {\"name\": \"t.txt\", \"content\": \"caf\\u00e9\"}], "
        "\"limits\": {\"wall_ms\": 1234, \"memory_mb\": 64, \"output_bytes\": 99}}";
    run_request a, b;
    api_error e;
    assert_int_equal(api_parse_execute(body, strlen(body), rts, &a, &e), 0);
    json_t *j = remote_request_json(&a, false);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_int_equal(api_parse_execute(text, strlen(text), rts, &b, &e), 0);
    assert_ptr_equal(a.rt, b.rt);
    assert_int_equal(a.code_len, b.code_len);
    assert_memory_equal(a.code, b.code, a.code_len);
    assert_int_equal(a.stdin_len, b.stdin_len);
    assert_string_equal(b.args[1], "b c");
    assert_null(b.args[2]);
    assert_int_equal(b.nfiles, 2);
    assert_int_equal(b.files[0].len, 2);
    assert_memory_equal(b.files[0].data, "\x00\xff", 2);
    assert_string_equal(b.files[1].data, "caf\xc3\xa9");
    assert_memory_equal(&a.limits, &b.limits, sizeof a.limits);
    free(text);
    json_decref(j);
    run_request_clear(&a);
    run_request_clear(&b);
}

static void a_container_request_names_the_runtime_as_its_image(void **state)
{
    (void)state;
    static const char body[] = "{\"image\": \"python:3.11-slim\", \"command\": [\"python3\", "
                               "\"-c\", \"print(1)\"], \"stdin\": \"x\"}";
    run_request a, b;
    api_error e;
    assert_int_equal(api_parse_container(body, strlen(body), rts, &a, &e), 0);
    json_t *j = remote_request_json(&a, true);
    assert_string_equal(json_string_value(json_object_get(j, "image")), "python");
    char *text = json_dumps(j, JSON_COMPACT);
    assert_int_equal(api_parse_container(text, strlen(text), rts, &b, &e), 0);
    assert_string_equal(b.command[2], "print(1)");
    assert_string_equal(b.stdin_data, "x");
    free(text);
    json_decref(j);
    run_request_clear(&a);
    run_request_clear(&b);
}

static void set_buf(box_buf *b, const char *s, size_t n)
{
    b->data = malloc(n + 1);
    memcpy(b->data, s, n);
    b->data[n] = '\0';
    b->len = n;
}

static void step_clear(run_step *s)
{
    box_result_free(&s->box);
    bytebuf_free(&s->all);
}

/* An executor's result (compiled, killed by a signal, output not UTF-8)
 * read back by repl-api renders exactly as the executor rendered it. */
static void a_result_read_back_renders_the_same(void **state)
{
    (void)state;
    const runtime *c = runtime_find(rts, "c");
    run_result src = {
        .status = "signaled", .compiled = true, .ran = true, .queue_ms = 5, .total_ms = 60};
    snprintf(src.message, sizeof src.message, "the program was killed by SIGSEGV");
    src.compile.box = (box_result){
        .status = BOX_OK, .exit_code = 0, .wall_ms = 40, .cpu_ms = 30, .memory_bytes = 1 << 20};
    set_buf(&src.compile.box.err, "warn\xff\n", 6);
    bytebuf_append(&src.compile.all, "warn\xff\n", 6);
    src.compile.limits = (box_limits){.wall_ms = 30000,
                                      .cpu_ms = 30000,
                                      .memory_bytes = 512ull << 20,
                                      .processes = 64,
                                      .output_bytes = 1 << 20};
    src.exec.box = (box_result){.status = BOX_SIGNALED,
                                .exit_code = -1,
                                .signal = SIGSEGV,
                                .wall_ms = 7,
                                .cpu_ms = 6,
                                .memory_bytes = 4096};
    src.exec.box.out.truncated = true;
    src.exec.limits = (box_limits){.wall_ms = 10000,
                                   .cpu_ms = 10000,
                                   .memory_bytes = 256ull << 20,
                                   .processes = 32,
                                   .output_bytes = 1 << 20};
    json_t *sent = api_result_json("id1", c, &src, 0); /* a "result" event: no output */

    run_result got = {0};
    assert_int_equal(remote_result_parse(sent, &got), 0);
    got.total_ms = src.total_ms;
    got.queue_ms = src.queue_ms; /* repl-api adds its own queue time to the executor's */
    json_t *again = api_result_json("id1", c, &got, 0);
    char *a = json_dumps(sent, JSON_COMPACT | JSON_SORT_KEYS);
    char *b = json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(a, b);
    assert_int_equal(got.exec.box.signal, SIGSEGV);
    assert_int_equal(got.compile.all.len, 6); /* the exact bytes, from the base64 twin */
    free(a);
    free(b);
    json_decref(sent);
    json_decref(again);
    step_clear(&src.compile);
    step_clear(&src.exec);
    step_clear(&got.compile);
    step_clear(&got.exec);
}

static void a_run_that_never_ran_reads_back_without_limits(void **state)
{
    (void)state;
    const runtime *py = runtime_find(rts, "python");
    run_result src = {.status = "cancelled"};
    snprintf(src.message, sizeof src.message, "cancelled");
    json_t *sent = api_result_json("x", py, &src, 0);
    run_result got = {0};
    assert_int_equal(remote_result_parse(sent, &got), 0);
    assert_false(got.ran);
    assert_false(got.compiled);
    assert_string_equal(got.status, "cancelled");
    assert_string_equal(got.message, "cancelled");
    json_decref(sent);
}

static void a_status_nobody_knows_becomes_internal_error(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:s}", "status", "exploded");
    run_result got = {0};
    assert_int_equal(remote_result_parse(j, &got), 0);
    assert_string_equal(got.status, "internal_error");
    json_decref(j);
    j = json_pack("{s:i}", "status", 3);
    assert_int_equal(remote_result_parse(j, &got), -1);
    json_decref(j);
}

/* Executors with equal load take turns; one that holds more of our runs
 * waits; tried ones are skipped; one marked down is used only when no
 * other is left. (A fixed list: CONTAINERS_API_URL.) */
static void runs_go_to_the_least_loaded_executor(void **state)
{
    (void)state;
    remote *rm;
    char err[256] = "";
    remote_config cfg = {.static_urls = "http://127.0.0.1:1/, http://127.0.0.1:2"};
    assert_int_equal(remote_open(&cfg, &rm, err, sizeof err), 0);
    picked a, b, c, d;
    uint64_t soon = remote_now_ms() + 100;
    assert_int_equal(remote_pick(rm, "python", NULL, 0, NULL, soon, &a), 0);
    assert_int_equal(remote_pick(rm, "python", NULL, 0, NULL, soon, &b), 0);
    assert_string_not_equal(a.id, b.id); /* equal load: turns */
    assert_string_equal(a.url, "http://127.0.0.1:1");
    remote_release(rm, &a, false);
    assert_int_equal(remote_pick(rm, "python", NULL, 0, NULL, soon, &c), 0);
    assert_string_equal(c.id, a.id); /* b still holds a run */
    remote_release(rm, &b, false);
    assert_int_equal(remote_pick(rm, "python", &c, 1, NULL, soon, &d), 0);
    assert_string_equal(d.id, b.id); /* c was tried */
    remote_release(rm, &d, true);    /* d's executor is down now */
    remote_release(rm, &c, false);
    picked e, f;
    assert_int_equal(remote_pick(rm, "python", NULL, 0, NULL, soon, &e), 0);
    assert_string_equal(e.id, a.id); /* the one that is up */
    assert_int_equal(remote_pick(rm, "python", &e, 1, NULL, soon, &f), 0);
    assert_string_equal(f.id, b.id); /* down, but the only one not tried */
    picked both[2] = {e, f}, g;
    assert_int_equal(remote_pick(rm, "python", both, 2, NULL, soon, &g), -1);
    char url[REMOTE_MAX_URL];
    assert_int_equal(remote_lookup(rm, "static-1", url), 0);
    assert_string_equal(url, "http://127.0.0.1:2");
    assert_int_equal(remote_lookup(rm, "nope", url), -1);
    remote_release(rm, &e, false);
    remote_release(rm, &f, false);
    remote_close(rm);
    cfg.static_urls = "ftp://x";
    assert_int_equal(remote_open(&cfg, &rm, err, sizeof err), -1);
    remote_config none = {0};
    assert_int_equal(remote_open(&none, &rm, err, sizeof err), -1);
}

/* A language repl-api hides (no executor reports it) is unknown to
 * requests and left out of every listing until it is shown again; a
 * version, once noted, stays. */
static void a_hidden_language_is_unknown_until_shown(void **state)
{
    (void)state;
    runtime *c = (runtime *)runtime_find(rts, "c");
    assert_non_null(c);
    static const char body[] = "{\"language\": \"c\", \"code\": \"int main(){}\"}";
    run_request req;
    api_error e;
    runtime_show(c, false);
    assert_false(runtime_served(c));
    assert_int_equal(runtime_set_served(rts), 1);
    assert_int_equal(api_parse_execute(body, strlen(body), rts, &req, &e), -1);
    assert_string_equal(e.code, "unknown_language");
    assert_non_null(strstr(e.message, "known languages: python"));
    assert_null(strstr(e.message, "python, c"));
    char names[64];
    runtime_set_names(rts, names, sizeof names);
    assert_string_equal(names, "python");
    json_t *list = api_languages_json(rts);
    assert_int_equal(json_array_size(json_object_get(list, "languages")), 1);
    assert_int_equal(json_array_size(json_object_get(list, "runtimes")), 1);
    json_decref(list);
    assert_non_null(runtime_find(rts, "c")); /* still defined: sessions' info finds it */

    runtime_show(c, true);
    assert_int_equal(api_parse_execute(body, strlen(body), rts, &req, &e), 0);
    assert_ptr_equal(req.rt, c);
    run_request_clear(&req);
    runtime_set_names(rts, names, sizeof names);
    assert_string_equal(names, "c, python");
    assert_int_equal(runtime_note_version(c, "13.0"), 0);
    assert_string_equal(runtime_version(c), "12.2.0"); /* the first stays */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_request_survives_the_trip_to_the_executor),
        cmocka_unit_test(a_container_request_names_the_runtime_as_its_image),
        cmocka_unit_test(a_result_read_back_renders_the_same),
        cmocka_unit_test(a_run_that_never_ran_reads_back_without_limits),
        cmocka_unit_test(a_status_nobody_knows_becomes_internal_error),
        cmocka_unit_test(runs_go_to_the_least_loaded_executor),
        cmocka_unit_test(a_hidden_language_is_unknown_until_shown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

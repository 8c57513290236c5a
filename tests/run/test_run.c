/* test_run.c — the run layer on real boxes: compile-then-run, output order,
 * the bounded queue, cancelling queued and running runs, draining on
 * shutdown, self-tests, and how limits are capped. Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bytebuf.h"
#include "run/run.h"

static box_pool *pool;
static runtime_set *rts;

static int setup(void **state)
{
    (void)state;
    char err[512];
    if (runtime_set_load("runtimes", "python,c", &rts, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    const char **etc = runtime_set_etc(rts, box_default_etc);
    box_config cfg = {.slots = 1,
                      .first_uid = 7350000, /* far from other suites: uids must not be shared */
                      .state_dir = "/run/xxx-test-run",
                      .cgroup_name = "xxx-test-run",
                      .etc = etc};
    int rc = box_pool_open(&cfg, &pool, err, sizeof err);
    free(etc);
    if (rc < 0) {
        fprintf(stderr, "box_pool_open: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    box_pool_close(pool);
    runtime_set_free(rts);
    return 0;
}

static run_engine *start(unsigned queue)
{
    run_engine *e = NULL;
    char err[256];
    run_config cfg = {.queue = queue};
    assert_int_equal(run_engine_start(pool, &cfg, &e, err, sizeof err), 0);
    return e;
}

static run_request program(const char *lang, const char *code)
{
    run_request r = {.rt = runtime_find(rts, lang)};
    assert_non_null(r.rt);
    r.code = strdup(code);
    r.code_len = strlen(code);
    return r;
}

static void wait_state(run *r, run_state want, int timeout_ms)
{
    for (int waited = 0; run_get_state(r) != want; waited += 10) {
        assert_true(waited < timeout_ms);
        usleep(10000);
    }
}

/* An observer that records what it is told. */
typedef struct seen {
    pthread_mutex_t mu;
    bytebuf out; /* chunks, tagged where the stream changes */
    box_stream last;
    int starts, dones;
} seen;

static void seen_start(void *ctx)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->starts++;
    pthread_mutex_unlock(&s->mu);
}

static void seen_output(void *ctx, box_stream st, const char *data, size_t len)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    /* A print may arrive in several chunks (text, then newline): tag only
     * where the stream changes. */
    if (st != s->last)
        bytebuf_puts(&s->out, st == BOX_STDERR ? "[err]" : "[out]");
    s->last = st;
    bytebuf_append(&s->out, data, len);
    pthread_mutex_unlock(&s->mu);
}

static void seen_done(void *ctx)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->dones++;
    pthread_mutex_unlock(&s->mu);
}

static void output_reaches_the_observer_in_order_and_is_kept(void **state)
{
    (void)state;
    run_engine *e = start(4);
    seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    run_observer obs = {seen_start, seen_output, seen_done, &s};
    run_request req = program("python", "import sys, time\nprint('one', flush=True)\n"
                                        "time.sleep(0.2)\nprint('two', file=sys.stderr)\n"
                                        "time.sleep(0.2)\nprint(sys.argv[1:], input())\n");
    req.args = calloc(3, sizeof(char *));
    req.args[0] = strdup("a b");
    req.args[1] = strdup("$HOME");
    req.stdin_data = strdup("fed\n");
    req.stdin_len = 4;
    run *r;
    assert_int_equal(run_submit(e, &req, &obs, &r), RUN_SUBMIT_OK);
    assert_null(req.code); /* ownership moved */
    wait_state(r, RUN_DONE, 10000);
    const run_result *res = run_get_result(r);
    assert_string_equal(res->status, "ok");
    assert_true(res->ran);
    assert_false(res->compiled);
    assert_string_equal(res->exec.all.data, "one\ntwo\n['a b', '$HOME'] fed\n");
    assert_string_equal(s.out.data, "[out]one\n[err]two\n[out]['a b', '$HOME'] fed\n");
    assert_int_equal(s.starts, 1);
    assert_int_equal(s.dones, 1);
    assert_int_equal(strlen(run_id(r)), 32);
    run_unref(r);
    bytebuf_free(&s.out);
    assert_int_equal(run_engine_stop(e), 0);
}

static void a_compile_error_stops_before_the_run_step(void **state)
{
    (void)state;
    run_engine *e = start(4);
    run_request req = program("c", "int main(void) { return missing; }\n");
    run *r;
    assert_int_equal(run_submit(e, &req, NULL, &r), RUN_SUBMIT_OK);
    wait_state(r, RUN_DONE, 30000);
    const run_result *res = run_get_result(r);
    assert_string_equal(res->status, "compile_error");
    assert_true(res->compiled);
    assert_false(res->ran);
    assert_non_null(strstr(res->compile.all.data, "missing"));
    assert_non_null(strstr(res->message, "compilation failed"));
    run_unref(r);

    /* The same language compiles and runs when the code is right, with the
     * request's files beside the source. */
    req = program("c", "#include <stdio.h>\nint main(void) { FILE *f = fopen(\"in/x.txt\", "
                       "\"r\"); char b[16] = {0}; fread(b, 1, 15, f); printf(\"[%s]\\n\", b); "
                       "return 3; }\n");
    req.files = calloc(1, sizeof *req.files);
    req.files[0] = (run_file){.name = strdup("in/x.txt"), .data = strdup("data"), .len = 4};
    req.nfiles = 1;
    assert_int_equal(run_submit(e, &req, NULL, &r), RUN_SUBMIT_OK);
    wait_state(r, RUN_DONE, 30000);
    res = run_get_result(r);
    assert_string_equal(res->status, "runtime_error");
    assert_int_equal(res->exec.box.exit_code, 3);
    assert_string_equal(res->exec.all.data, "[data]\n");
    assert_string_equal(box_status_name(res->compile.box.status), "ok");
    run_unref(r);
    assert_int_equal(run_engine_stop(e), 0);
}

static void a_full_queue_refuses_and_cancel_frees_it(void **state)
{
    (void)state;
    run_engine *e = start(1); /* one slot, one waiting place */
    run_request a = program("python", "import time\ntime.sleep(20)\n");
    run_request b = program("python", "print('never')\n");
    run_request c = program("python", "print('refused')\n");
    run *ra, *rb, *rc = NULL;
    assert_int_equal(run_submit(e, &a, NULL, &ra), RUN_SUBMIT_OK);
    wait_state(ra, RUN_RUNNING, 5000);
    assert_int_equal(run_submit(e, &b, NULL, &rb), RUN_SUBMIT_OK);
    assert_int_equal(run_submit(e, &c, NULL, &rc), RUN_SUBMIT_QUEUE_FULL);
    assert_null(rc);
    assert_non_null(c.code); /* refused: the caller still owns it */
    run_request_clear(&c);

    size_t n;
    run_info *list = run_list(e, &n);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, run_id(ra)); /* oldest first */
    assert_int_equal(list[0].state, RUN_RUNNING);
    assert_int_equal(list[0].slot, 0);
    assert_int_equal(list[1].state, RUN_QUEUED);
    assert_int_equal(list[1].slot, -1);
    free(list);

    /* A queued run cancelled ends at once, without waiting for the slot. */
    uint64_t t0 = run_now_ms();
    run_cancel(rb);
    wait_state(rb, RUN_DONE, 2000);
    assert_string_equal(run_get_result(rb)->status, "cancelled");
    assert_false(run_get_result(rb)->ran);
    assert_int_equal(run_get_state(ra), RUN_RUNNING);

    /* The running one, cancelled by id, ends long before its 20 s sleep. */
    assert_int_equal(run_cancel_id(e, "00000000000000000000000000000000"), -1);
    assert_int_equal(run_cancel_id(e, run_id(ra)), 0);
    wait_state(ra, RUN_DONE, 5000);
    assert_true(run_now_ms() - t0 < 5000);
    assert_string_equal(run_get_result(ra)->status, "cancelled");
    run_unref(ra);
    run_unref(rb);
    assert_int_equal(run_engine_stop(e), 0);
}

/* Runs submitted back to back to an idle engine: the first is the idle
 * worker's even before it wakes up, so the queue place is still free for
 * the second; only the third is refused. */
static void an_idle_worker_does_not_count_against_the_queue(void **state)
{
    (void)state;
    run_engine *e = start(1); /* one slot, one waiting place */
    size_t queued, running, capacity, workers;
    run_counts(e, &queued, &running, &capacity, &workers);
    assert_int_equal(workers, 1);
    for (int waited = 0; running + queued > 0; waited += 10) {
        assert_true(waited < 5000);
        usleep(10000);
        run_counts(e, &queued, &running, &capacity, &workers);
    }
    run_request a = program("python", "import time\ntime.sleep(20)\n");
    run_request b = program("python", "print('queued')\n");
    run_request c = program("python", "print('refused')\n");
    run *ra, *rb, *rc = NULL;
    assert_int_equal(run_submit(e, &a, NULL, &ra), RUN_SUBMIT_OK);
    assert_int_equal(run_submit(e, &b, NULL, &rb), RUN_SUBMIT_OK);
    assert_int_equal(run_submit(e, &c, NULL, &rc), RUN_SUBMIT_QUEUE_FULL);
    assert_null(rc);
    run_request_clear(&c);
    wait_state(ra, RUN_RUNNING, 5000);
    assert_int_equal(run_get_state(rb), RUN_QUEUED);
    run_cancel(rb);
    run_cancel(ra);
    wait_state(rb, RUN_DONE, 5000);
    wait_state(ra, RUN_DONE, 5000);
    run_unref(ra);
    run_unref(rb);
    assert_int_equal(run_engine_stop(e), 0);
}

static void drain_lets_short_runs_finish_and_cancels_the_rest(void **state)
{
    (void)state;
    run_engine *e = start(4);
    run_request a = program("python", "import time\ntime.sleep(0.3)\nprint('finished')\n");
    run_request b = program("python", "import time\ntime.sleep(30)\n");
    run *ra, *rb;
    assert_int_equal(run_submit(e, &a, NULL, &ra), RUN_SUBMIT_OK);
    assert_int_equal(run_submit(e, &b, NULL, &rb), RUN_SUBMIT_OK);
    uint64_t t0 = run_now_ms();
    assert_int_equal(run_engine_drain(e, t0 + 1500), 0);
    assert_true(run_now_ms() - t0 < 6000);
    assert_string_equal(run_get_result(ra)->status, "ok");
    assert_string_equal(run_get_result(ra)->exec.all.data, "finished\n");
    assert_string_equal(run_get_result(rb)->status, "cancelled");
    run_request late = program("python", "print(1)\n");
    run *rl = NULL;
    assert_int_equal(run_submit(e, &late, NULL, &rl), RUN_SUBMIT_CLOSED);
    run_request_clear(&late);
    run_unref(ra);
    run_unref(rb);
    assert_int_equal(run_engine_stop(e), 0);
}

static bool has_version(const runtime *rt)
{
    return rt->version != NULL;
}

static void self_tests_keep_only_working_runtimes(void **state)
{
    (void)state;
    runtime_set *s = calloc(1, sizeof *s);
    char err[256];
    static const char good[] =
        "{\"name\": \"py\", \"source\": \"main.py\", \"run\": [\"/usr/bin/python3\", \"{source}\"],"
        " \"env\": {\"PATH\": \"/usr/bin\"}, \"version\": {\"command\": [\"/usr/bin/python3\","
        " \"--version\"], \"field\": 1}, \"test\": {\"code\": \"print(42)\", \"stdout\": "
        "\"42\\n\"}}";
    static const char wrong[] =
        "{\"name\": \"wrong\", \"source\": \"main.py\", \"run\": [\"/usr/bin/python3\", "
        "\"{source}\"], \"version\": {\"command\": [\"/usr/bin/python3\", \"--version\"]}, "
        "\"test\": {\"code\": \"print(41)\", \"stdout\": \"42\\n\"}}";
    static const char missing[] =
        "{\"name\": \"missing\", \"source\": \"m\", \"run\": [\"/usr/bin/no-such-interpreter\"],"
        " \"version\": {\"command\": [\"/usr/bin/no-such-interpreter\", \"-v\"]}, \"test\": "
        "{\"code\": \"\", \"stdout\": \"\"}}";
    const char *defs[] = {good, wrong, missing};
    for (size_t i = 0; i < 3; i++) {
        runtime *rt;
        assert_int_equal(runtime_parse(defs[i], strlen(defs[i]), "t", &rt, err, sizeof err), 0);
        assert_int_equal(runtime_set_add(s, rt, err, sizeof err), 0);
    }
    run_engine *e = start(0);
    assert_int_equal(run_probe_runtimes(e, s, NULL, NULL), 1);
    assert_int_equal(run_engine_stop(e), 0);
    assert_string_equal(runtime_find(s, "py")->version, "3.11.2");
    assert_null(runtime_find(s, "wrong")->version);
    assert_null(runtime_find(s, "missing")->version);
    runtime_set_filter(s, has_version);
    assert_int_equal(s->n, 1);
    runtime_set_free(s);
}

static void limits_layer_defaults_runtime_request_and_cap(void **state)
{
    (void)state;
    box_limits max = {.wall_ms = 5000,
                      .cpu_ms = 5000,
                      .memory_bytes = 512ull << 20,
                      .processes = 100,
                      .output_bytes = 1000,
                      .file_bytes = 1,
                      .tmpfs_bytes = 2,
                      .open_files = 3};
    box_limits rt = {.processes = 64, .memory_bytes = 1024ull << 20};
    box_limits req = {.wall_ms = 60000, .cpu_ms = 100};
    box_limits eff;
    run_effective_limits(&eff, false, &rt, &req, &max);
    assert_int_equal(eff.wall_ms, 5000);              /* asked 60 s, capped */
    assert_int_equal(eff.cpu_ms, 100);                /* asked less: kept */
    assert_int_equal(eff.memory_bytes, 512ull << 20); /* runtime's 1 GiB, capped */
    assert_int_equal(eff.processes, 64);              /* runtime's */
    assert_int_equal(eff.output_bytes, 1000);         /* default 1 MiB, capped */
    assert_int_equal(eff.open_files, 3);              /* unset: the maximum */
    run_effective_limits(&eff, true, NULL, NULL, &max);
    assert_int_equal(eff.processes, RUN_DEFAULT_COMPILE_PROCESSES);
}

static void file_names_must_stay_inside_the_workdir(void **state)
{
    (void)state;
    assert_true(run_file_name_ok("a.txt", 5));
    assert_true(run_file_name_ok("dir/sub/a.txt", 13));
    assert_true(run_file_name_ok("..hidden", 8));
    assert_false(run_file_name_ok("", 0));
    assert_false(run_file_name_ok("/etc/passwd", 11));
    assert_false(run_file_name_ok("../x", 4));
    assert_false(run_file_name_ok("a/../../x", 9));
    assert_false(run_file_name_ok("a/./b", 5));
    assert_false(run_file_name_ok("a//b", 4));
    assert_false(run_file_name_ok("dir/", 4));
    assert_false(run_file_name_ok("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(output_reaches_the_observer_in_order_and_is_kept),
        cmocka_unit_test(a_compile_error_stops_before_the_run_step),
        cmocka_unit_test(a_full_queue_refuses_and_cancel_frees_it),
        cmocka_unit_test(an_idle_worker_does_not_count_against_the_queue),
        cmocka_unit_test(drain_lets_short_runs_finish_and_cancels_the_rest),
        cmocka_unit_test(self_tests_keep_only_working_runtimes),
        cmocka_unit_test(limits_layer_defaults_runtime_request_and_cap),
        cmocka_unit_test(file_names_must_stay_inside_the_workdir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_api.c — the box's interface: files in and out, steps sharing a
 * workspace within a lease, nothing shared across leases, the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "box/box.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static box_pool *pool;

static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/home/box", NULL};

static int setup(void **state)
{
    (void)state;
    char err[256];
    box_config cfg = {.slots = 1, .state_dir = "/run/xxx-test-api", .cgroup_name = "xxx-test-api"};
    if (box_pool_open(&cfg, &pool, err, sizeof err) < 0) {
        fprintf(stderr, "box_pool_open: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    box_pool_close(pool);
    return 0;
}

/* Runs a shell command in the slot; returns the result (caller frees). */
static box_result sh(box_slot *s, const char *cmd)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    box_spec spec = {.argv = argv, .envp = env, .stdin_fd = -1, .limits = {.wall_ms = 10000}};
    box_result res;
    box_exec(s, &spec, &res);
    return res;
}

static void put_then_get_round_trips_nested_files(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(box_put_file(s, "src/pkg/main.txt", "hello\0world", 11, 0644, err, sizeof err),
                     0);
    box_result r =
        sh(s, "cat src/pkg/main.txt | od -c | head -1; stat -c '%U %a' src/pkg/main.txt");
    assert_string_equal(box_status_name(r.status), "ok");
    assert_non_null(strstr(r.out.data, "h   e   l   l   o  \\0   w   o   r   l   d"));
    assert_non_null(strstr(r.out.data, "box 644"));
    box_result_free(&r);
    char *data;
    size_t len;
    assert_int_equal(box_get_file(s, "src/pkg/main.txt", 1024, &data, &len, err, sizeof err), 0);
    assert_int_equal(len, 11);
    assert_memory_equal(data, "hello\0world", 11);
    free(data);
    /* Larger than allowed: refused, not cut. */
    assert_int_equal(box_get_file(s, "src/pkg/main.txt", 5, &data, &len, err, sizeof err), -1);
    box_release(s);
}

static void file_names_that_leave_the_workdir_are_refused(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    const char *bad[] = {"/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/", "", "a/./b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(box_put_file(s, bad[i], "x", 1, 0644, err, sizeof err), -1);
    box_release(s);
}

static void steps_of_one_lease_share_the_workspace(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    box_result r = sh(s, "echo built > /box/artifact; echo cached > $HOME/c; echo t > /tmp/t");
    assert_string_equal(box_status_name(r.status), "ok");
    box_result_free(&r);
    r = sh(s, "cat /box/artifact $HOME/c /tmp/t");
    assert_string_equal(box_status_name(r.status), "ok");
    assert_string_equal(r.out.data, "built\ncached\nt\n");
    box_result_free(&r);
    box_release(s);

    /* A new lease of the same (only) slot starts empty. */
    s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    r = sh(s, "ls -A /box $HOME /tmp /dev/shm | grep -v : | grep . ; echo end");
    assert_string_equal(r.out.data, "end\n");
    box_result_free(&r);
    box_release(s);
}

static void the_environment_is_exactly_the_spec(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    const char *argv[] = {"/usr/bin/env", NULL};
    const char *e[] = {"A=1", "PATH=/usr/bin", NULL};
    box_spec spec = {.argv = argv, .envp = e, .stdin_fd = -1};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(r.out.data, "A=1\nPATH=/usr/bin\n");
    box_result_free(&r);
    box_release(s);
}

static void a_missing_program_is_exit_127_with_a_reason(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    const char *argv[] = {"no-such-program", NULL};
    box_spec spec = {.argv = argv, .envp = env, .stdin_fd = -1};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(box_status_name(r.status), "runtime_error");
    assert_int_equal(r.exit_code, 127);
    assert_non_null(strstr(r.err.data, "no-such-program"));
    box_result_free(&r);
    box_release(s);
}

static void stdin_bytes_reach_the_program(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = box_acquire(pool, 0, -1, err, sizeof err);
    assert_non_null(s);
    const char *argv[] = {"/usr/bin/wc", "-c", NULL};
    static char big[300000];
    memset(big, 'x', sizeof big);
    box_spec spec = {
        .argv = argv, .envp = env, .stdin_fd = -1, .stdin_data = big, .stdin_len = sizeof big};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(r.out.data, "300000\n");
    box_result_free(&r);
    box_release(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_then_get_round_trips_nested_files),
        cmocka_unit_test(file_names_that_leave_the_workdir_are_refused),
        cmocka_unit_test(steps_of_one_lease_share_the_workspace),
        cmocka_unit_test(the_environment_is_exactly_the_spec),
        cmocka_unit_test(a_missing_program_is_exit_127_with_a_reason),
        cmocka_unit_test(stdin_bytes_reach_the_program),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

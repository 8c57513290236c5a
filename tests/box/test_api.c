/* test_api.c — the box's interface: files in and out, steps sharing a
 * workspace within a lease, nothing shared across leases, the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "box/box.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static box_pool *pool;

static const char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/home/box", NULL};

static int setup(void **state)
{
    (void)state;
    /* The box suites and shell tests share uids and cgroups: one at a time. */
    int lock = open("/run/xxxtest.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) < 0) {
        perror("/run/xxxtest.lock");
        return -1;
    }
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

/* Takes the suite's one slot, waiting at most 30 s: a test that failed
 * holding it fails the next one instead of hanging it. */
static box_slot *acquire(void)
{
    char err[256];
    box_slot *s = box_acquire(pool, 0, 30000, err, sizeof err);
    if (!s)
        fail_msg("box_acquire: %s", err);
    return s;
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
    box_slot *s = acquire();
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
    box_slot *s = acquire();
    const char *bad[] = {"/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/", "", "a/./b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(box_put_file(s, bad[i], "x", 1, 0644, err, sizeof err), -1);
    box_release(s);
}

static void steps_of_one_lease_share_the_workspace(void **state)
{
    (void)state;
    box_slot *s = acquire();
    box_result r = sh(s, "echo built > /box/artifact; echo cached > $HOME/c; echo t > /tmp/t");
    assert_string_equal(box_status_name(r.status), "ok");
    box_result_free(&r);
    r = sh(s, "cat /box/artifact $HOME/c /tmp/t");
    assert_string_equal(box_status_name(r.status), "ok");
    assert_string_equal(r.out.data, "built\ncached\nt\n");
    box_result_free(&r);
    box_release(s);

    /* A new lease of the same (only) slot starts empty. */
    s = acquire();
    r = sh(s, "ls -A /box $HOME /tmp /dev/shm | grep -v : | grep . ; echo end");
    assert_string_equal(r.out.data, "end\n");
    box_result_free(&r);
    box_release(s);
}

static void the_environment_is_exactly_the_spec(void **state)
{
    (void)state;
    box_slot *s = acquire();
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
    box_slot *s = acquire();
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
    box_slot *s = acquire();
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

/* A control-socket conversation: the test answers each line the program
 * writes on fd 3, and checks that output written before it has arrived. */
typedef struct ctl_talk {
    box_slot *slot;
    char out[65536]; /* the tail of stdout seen so far */
    size_t out_len;
    size_t stdout_total;
    char line[256];
    size_t line_len;
    int dones, eofs, replies;
    bool ordered;
    bool interrupt; /* box_interrupt on "ready" instead of talking */
} ctl_talk;

static void talk_output(void *ctx, box_stream stream, const char *data, size_t len)
{
    ctl_talk *t = ctx;
    if (stream != BOX_STDOUT)
        return;
    t->stdout_total += len;
    for (size_t i = 0; i < len; i++) {
        if (t->out_len == sizeof t->out) {
            memmove(t->out, t->out + sizeof t->out / 2, sizeof t->out / 2);
            t->out_len = sizeof t->out / 2;
        }
        t->out[t->out_len++] = data[i];
    }
}

static void talk_reply(ctl_talk *t, const char *msg)
{
    char err[256];
    assert_int_equal(box_ctl_send(t->slot, msg, strlen(msg), 5000, err, sizeof err), 0);
    t->replies++;
}

static void talk_line(ctl_talk *t, const char *line)
{
    if (strcmp(line, "ready") == 0) {
        if (t->interrupt)
            assert_int_equal(box_interrupt(t->slot), 0);
        else
            talk_reply(t, "a\n");
        return;
    }
    if (strncmp(line, "done ", 5) == 0) {
        t->dones++;
        char want[64];
        snprintf(want, sizeof want, "out:%s\n", line + 5);
        size_t n = strlen(want);
        if (t->out_len < n || memcmp(t->out + t->out_len - n, want, n) != 0)
            t->ordered = false;
        talk_reply(t, strcmp(line + 5, "a") == 0 ? "b\n" : "quit\n");
    }
}

static void talk_ctl(void *ctx, const char *data, size_t len)
{
    ctl_talk *t = ctx;
    if (len == 0) {
        t->eofs++;
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            t->line[t->line_len] = 0;
            talk_line(t, t->line);
            t->line_len = 0;
        } else if (t->line_len + 1 < sizeof t->line)
            t->line[t->line_len++] = data[i];
    }
}

static void the_control_socket_carries_frames_after_the_output_before_them(void **state)
{
    (void)state;
    char err[256];
    box_slot *s = acquire();
    /* 5000 lines (more than a pipe holds) before each control line. */
    const char *argv[] = {"/bin/sh", "-c",
                          "echo ready >&3; while read -r line <&3; do "
                          "[ \"$line\" = quit ] && exit 0; seq 1 5000; echo \"out:$line\"; "
                          "echo \"done $line\" >&3; done; exit 3",
                          NULL};
    static ctl_talk t;
    memset(&t, 0, sizeof t);
    t.slot = s;
    t.ordered = true;
    box_spec spec = {.argv = argv,
                     .envp = env,
                     .stdin_fd = -1,
                     .limits = {.wall_ms = 10000},
                     .flags = BOX_SPEC_CTL | BOX_SPEC_STREAM_ONLY,
                     .on_output = talk_output,
                     .on_ctl = talk_ctl,
                     .ctx = &t};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(box_status_name(r.status), "ok");
    assert_int_equal(t.dones, 2);
    assert_int_equal(t.replies, 3);
    assert_true(t.ordered);
    assert_int_equal(t.eofs, 1);
    /* Stream-only: everything went to on_output, nothing was kept. */
    assert_int_equal(r.out.len, 0);
    assert_true(t.stdout_total > 2 * 5000 * 2);
    assert_int_equal(box_interrupt(s), -1); /* no step now */
    assert_int_not_equal(box_ctl_send(s, "x", 1, 0, err, sizeof err), 0);
    box_result_free(&r);
    box_release(s);
}

static void without_the_flag_there_is_no_fd_3(void **state)
{
    (void)state;
    box_slot *s = acquire();
    box_result r = sh(s, "echo x >&3 && echo wrote");
    assert_string_equal(box_status_name(r.status), "runtime_error");
    assert_null(strstr(r.out.data, "wrote"));
    box_result_free(&r);
    box_release(s);
}

static void an_interrupt_reaches_the_program_and_only_it(void **state)
{
    (void)state;
    box_slot *s = acquire();
    /* The shell's trap runs once its foreground sleep ends: SIGINT went to
     * the shell, not to the sleep (which would end it at once too, but
     * then the trap would say so). */
    const char *argv[] = {"/bin/sh", "-c",
                          "trap 'echo got-int; exit 7' INT; echo ready >&3; "
                          "while :; do sleep 0.05; done",
                          NULL};
    static ctl_talk t;
    memset(&t, 0, sizeof t);
    t.slot = s;
    t.interrupt = true;
    box_spec spec = {.argv = argv,
                     .envp = env,
                     .stdin_fd = -1,
                     .limits = {.wall_ms = 10000},
                     .flags = BOX_SPEC_CTL,
                     .on_ctl = talk_ctl,
                     .ctx = &t};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_int_equal(r.exit_code, 7);
    assert_string_equal(r.out.data, "got-int\n");
    box_result_free(&r);
    box_release(s);
}

static void a_no_wall_step_outlives_its_wall_limit(void **state)
{
    (void)state;
    box_slot *s = acquire();
    const char *argv[] = {"/bin/sh", "-c", "sleep 0.4; echo slept", NULL};
    box_spec spec = {.argv = argv,
                     .envp = env,
                     .stdin_fd = -1,
                     .limits = {.wall_ms = 100},
                     .flags = BOX_SPEC_NO_WALL};
    box_result r;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(box_status_name(r.status), "ok");
    assert_string_equal(r.out.data, "slept\n");
    box_result_free(&r);
    spec.flags = 0;
    assert_int_equal(box_exec(s, &spec, &r), 0);
    assert_string_equal(box_status_name(r.status), "timeout");
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
        cmocka_unit_test(the_control_socket_carries_frames_after_the_output_before_them),
        cmocka_unit_test(without_the_flag_there_is_no_fd_3),
        cmocka_unit_test(an_interrupt_reaches_the_program_and_only_it),
        cmocka_unit_test(a_no_wall_step_outlives_its_wall_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_limits.c — the box's limits and accounting: CPU and wall time,
 * peak memory, the output cap cut to the byte, stdin delivered intact,
 * output chunks streamed in order while the program runs, the status of
 * each way a run ends (timeout wall/cpu, cancel, exit code, signal), the
 * file-size and open-files limits, and the clamping of limits to the pool's
 * maxima. Needs root. */
#include "boxtest.h"

#include <sys/random.h>

#define FIRST_UID 61100
#define SUITE "xxxtest-limits"

/* ---- CPU, wall and memory accounting --------------------------------------- */

static void cpu_time_matches_what_a_cpu_bound_program_counted(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "spin");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("spin"), "1500", NULL}, bt_limits(30000), &res);

    bt_assert_status(&res, BOX_OK);
    char buf[32];
    assert_non_null(bt_value_n(&res, "spun_ms", 0, buf, sizeof(buf)));
    double spun = atof(buf), cpu = (double)res.cpu_ms, wall = (double)res.wall_ms;
    /* The cgroup's count is the program's own, plus the box's start-up; not
     * compared with wall time, which depends on what else the host runs. */
    if (cpu < spun * 0.9 || cpu > spun * 1.2 + 100) {
        bt_dump(&res);
        fail_msg("cpu_ms %.0f, wall_ms %.0f, the program counted %.0f ms", cpu, wall, spun);
    }
    box_result_free(&res);
    bt_release(ctx, s);
}

static void peak_memory_of_a_200_mib_allocation_is_about_200_mib(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "memhog");
    box_limits lim = bt_limits(30000);
    lim.memory_bytes = 512 * MIB;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("memhog"), "200", NULL}, lim, &res);

    bt_assert_status(&res, BOX_OK);
    bt_assert_line(&res, "done", "1");
    if (res.memory_bytes < 190 * MIB || res.memory_bytes > 260 * MIB) {
        bt_dump(&res);
        fail_msg("peak memory %llu MiB for 200 MiB touched",
                 (unsigned long long)(res.memory_bytes / MIB));
    }
    box_result_free(&res);
    bt_release(ctx, s);
}

/* A slot's run cgroup serves its steps one after another: each step's
 * counters start from zero, and each step gets its own limits. */
static void each_step_in_a_slot_counts_from_zero_with_its_own_limits(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "memhog");
    static const struct {
        const char *mib;
        uint64_t limit_mib;
        box_status want;
        uint64_t peak_min_mib, peak_max_mib;
    } steps[] = {
        {"200", 512, BOX_OK, 190, 260}, {"200", 64, BOX_MEMORY_LIMIT, 0, 80},
        {"10", 512, BOX_OK, 5, 60},     {"100", 128, BOX_OK, 90, 127},
        {"10", 512, BOX_OK, 5, 60},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        box_limits lim = bt_limits(30000);
        lim.memory_bytes = steps[i].limit_mib * MIB;
        box_result res;
        bt_run(s, (const char *const[]){BT_PROG("memhog"), steps[i].mib, NULL}, lim, &res);
        bt_assert_status(&res, steps[i].want);
        uint64_t mib = res.memory_bytes / MIB;
        if (mib < steps[i].peak_min_mib || mib > steps[i].peak_max_mib || res.cpu_ms > 5000) {
            bt_dump(&res);
            fail_msg("step %zu (%s MiB under %llu MiB): peak %llu MiB, cpu %llu ms", i,
                     steps[i].mib, (unsigned long long)steps[i].limit_mib, (unsigned long long)mib,
                     (unsigned long long)res.cpu_ms);
        }
        box_result_free(&res);
    }
    bt_release(ctx, s);
}

/* The CPUs a step's program may run on, from its /proc/self/status. */
static void cpus_of(box_slot *s, char *out, size_t len)
{
    box_result res;
    bt_run(s,
           (const char *const[]){"/bin/sed", "-n", "s/^Cpus_allowed_list:[[:space:]]*/cpus=/p",
                                 "/proc/self/status", NULL},
           bt_limits(10000), &res);
    bt_assert_status(&res, BOX_OK);
    assert_non_null(bt_value_n(&res, "cpus", 0, out, len));
    box_result_free(&res);
}

/* Placement: a step alone may use every CPU we may; once the pool's
 * pin_from steps run (2 here), each that starts gets one CPU, the one with
 * the fewest pinned steps. */
static void a_step_that_starts_beside_another_is_pinned_to_one_cpu(void **state)
{
    bt_ctx *ctx = *state;
    char ours[256] = "", alone[256], second[256], third[256];
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Cpus_allowed_list: %255s", ours) == 1)
            break;
    fclose(f);

    box_slot *a = bt_acquire(ctx), *b = bt_acquire(ctx), *c = bt_acquire(ctx);
    cpus_of(a, alone, sizeof alone);
    assert_string_equal(alone, ours);

    /* a: floats (alone when it starts); b: pinned (the second); c: pinned
     * (the third), to another CPU than b's where there is one. */
    bt_put_prog(ctx, a, "sleeper");
    bt_put_prog(ctx, b, "sleeper");
    static bt_async ra, rb;
    bt_async_start(&ra, a, (const char *const[]){BT_PROG("sleeper"), "forever", NULL},
                   bt_limits(30000), -1);
    assert_true(bt_async_wait_for(&ra, "ready=1\n", 20000));
    bt_async_start(&rb, b,
                   (const char *const[]){"/bin/sh", "-c",
                                         "sed -n 's/^Cpus_allowed_list:[[:space:]]*/cpus=/p' "
                                         "/proc/self/status; exec " BT_PROG("sleeper") " forever",
                                         NULL},
                   bt_limits(30000), -1);
    assert_true(bt_async_wait_for(&rb, "ready=1\n", 20000));
    cpus_of(c, third, sizeof third);
    box_cancel(a);
    box_cancel(b);
    bt_async_join(&ra);
    bt_async_join(&rb);
    assert_non_null(bt_value_n(&rb.res, "cpus", 0, second, sizeof second));
    box_result_free(&ra.res);
    box_result_free(&rb.res);
    if (strchr(second, ',') || strchr(second, '-') || strchr(third, ',') || strchr(third, '-'))
        fail_msg("steps beside others run on CPUs %s and %s, not one each", second, third);
    if (strchr(ours, ',') || strchr(ours, '-'))
        assert_string_not_equal(second, third);
    bt_release(ctx, c);
    bt_release(ctx, b);
    bt_release(ctx, a);
}

/* ---- the output cap ----------------------------------------------------------- */

static void output_of_both_streams_is_cut_exactly_at_the_cap(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "flood");
    box_limits lim = bt_limits(20000);
    lim.output_bytes = 100003; /* a multiple of neither write size */
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("flood"), "both", NULL}, lim, &res);

    bt_assert_status(&res, BOX_OUTPUT_LIMIT);
    if (res.out.len + res.err.len != lim.output_bytes) {
        bt_dump(&res);
        fail_msg("stdout %zu + stderr %zu bytes, the cap is %llu", res.out.len, res.err.len,
                 (unsigned long long)lim.output_bytes);
    }
    assert_true(res.out.truncated || res.err.truncated);
    /* What was kept is what was written: only 'o' on stdout, 'e' on stderr. */
    for (size_t i = 0; i < res.out.len; i++)
        assert_int_equal(res.out.data[i], 'o');
    for (size_t i = 0; i < res.err.len; i++)
        assert_int_equal(res.err.data[i], 'e');
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void stdout_flood_is_cut_exactly_at_the_cap(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "flood");
    box_limits lim = bt_limits(20000);
    lim.output_bytes = 3 * 65536 + 17;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("flood"), "stdout", NULL}, lim, &res);

    bt_assert_status(&res, BOX_OUTPUT_LIMIT);
    assert_int_equal(res.out.len, lim.output_bytes);
    assert_true(res.out.truncated);
    assert_int_equal(res.err.len, 0);
    assert_false(res.err.truncated);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- stdin --------------------------------------------------------------------------- */

static void stdin_bytes_are_delivered_intact(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    /* More than any pipe buffer, NULs included: cat writes back while it
     * reads, so a supervisor that feeds all stdin before reading deadlocks. */
    size_t len = 1 * MIB;
    unsigned char *in = malloc(len);
    assert_non_null(in);
    for (size_t got = 0; got < len;) {
        ssize_t n = getrandom(in + got, len - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    in[0] = 0;
    in[len - 1] = 0;
    box_limits lim = bt_limits(20000);
    lim.output_bytes = 2 * MIB;
    box_spec spec = bt_spec((const char *const[]){"/bin/cat", NULL}, lim);
    spec.stdin_data = in;
    spec.stdin_len = len;
    box_result res;
    bt_run_spec(s, &spec, &res);

    bt_assert_status(&res, BOX_OK);
    assert_int_equal(res.out.len, len);
    assert_memory_equal(res.out.data, in, len);
    assert_false(res.out.truncated);
    box_result_free(&res);

    /* A few bytes, then EOF: the program sees exactly them. */
    static const char small[] = "hello\0world";
    spec.stdin_data = small;
    spec.stdin_len = sizeof(small) - 1;
    bt_run_spec(s, &spec, &res);
    bt_assert_status(&res, BOX_OK);
    assert_int_equal(res.out.len, sizeof(small) - 1);
    assert_memory_equal(res.out.data, small, sizeof(small) - 1);
    box_result_free(&res);
    free(in);
    bt_release(ctx, s);
}

/* ---- output chunks --------------------------------------------------------------------- */

typedef struct chunk_log {
    int go_fd; /* the program's stdin: "go" is written once "ready" arrives */
    char out[65536], err[65536];
    size_t out_len, err_len;
    int calls;
    bool bad_stream;
} chunk_log;

static void on_chunk(void *ctx, box_stream stream, const char *data, size_t len)
{
    chunk_log *log = ctx;
    log->calls++;
    char *buf = stream == BOX_STDOUT ? log->out : log->err;
    size_t *used = stream == BOX_STDOUT ? &log->out_len : &log->err_len;
    if (stream != BOX_STDOUT && stream != BOX_STDERR)
        log->bad_stream = true;
    if (len > sizeof(log->out) - 1 - *used)
        len = sizeof(log->out) - 1 - *used;
    memcpy(buf + *used, data, len);
    *used += len;
    buf[*used] = '\0';
    if (stream == BOX_STDOUT && log->go_fd >= 0 && strstr(log->out, "ready\n")) {
        if (write(log->go_fd, "go\n", 3) != 3)
            log->bad_stream = true;
        close(log->go_fd);
        log->go_fd = -1;
    }
}

static void output_chunks_arrive_in_order_while_the_program_runs(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "chunks");
    static chunk_log log;
    memset(&log, 0, sizeof(log));
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    log.go_fd = p[1];
    box_spec spec = bt_spec((const char *const[]){BT_PROG("chunks"), NULL}, bt_limits(10000));
    spec.stdin_fd = p[0];
    spec.on_output = on_chunk;
    spec.ctx = &log;
    box_result res;
    bt_run_spec(s, &spec, &res);
    close(p[0]);
    if (log.go_fd >= 0)
        close(log.go_fd);

    /* The program waits for "go", which is sent only when its "ready" has
     * come through on_output: it can end well only if output streamed. */
    bt_assert_status(&res, BOX_OK);
    static char want_out[8192], want_err[8192];
    size_t o = 0, e = 0;
    for (int i = 0; i < 200; i++) {
        if (i == 100)
            o += (size_t)snprintf(want_out + o, sizeof(want_out) - o, "ready\n");
        o += (size_t)snprintf(want_out + o, sizeof(want_out) - o, "out %d\n", i);
        e += (size_t)snprintf(want_err + e, sizeof(want_err) - e, "err %d\n", i);
    }
    o += (size_t)snprintf(want_out + o, sizeof(want_out) - o, "done\n");
    assert_false(log.bad_stream);
    assert_true(log.calls >= 2);
    assert_string_equal(log.out, want_out);
    assert_string_equal(log.err, want_err);
    /* The result holds the same bytes as the chunks. */
    assert_int_equal(res.out.len, o);
    assert_memory_equal(res.out.data, want_out, o);
    assert_int_equal(res.err.len, e);
    assert_memory_equal(res.err.data, want_err, e);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- how a run ends ---------------------------------------------------------------------- */

static void wall_limit_ends_a_sleeping_program_as_timeout_wall(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "sleeper");
    box_limits lim = bt_limits(500);
    lim.cpu_ms = 10000;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("sleeper"), "forever", NULL}, lim, &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_WALL);
    assert_true(res.wall_ms >= 500);
    bt_assert_line(&res, "ready", "1");
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void cpu_limit_ends_a_spinning_program_as_timeout_cpu(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "spin");
    box_limits lim = bt_limits(30000);
    lim.cpu_ms = 500;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("spin"), "60000", NULL}, lim, &res);

    bt_assert_status(&res, BOX_TIMEOUT);
    assert_int_equal(res.limit, BOX_LIMIT_CPU);
    assert_true(res.cpu_ms >= 500);
    assert_int_equal(bt_count(&res, "spun_ms"), 0);
    bt_assert_no_procs(ctx, s);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void cancel_from_another_thread_ends_the_run_as_cancelled(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "sleeper");
    static bt_async run;
    bt_async_start(&run, s, (const char *const[]){BT_PROG("sleeper"), "forever", NULL},
                   bt_limits(30000), -1);
    bool ready = bt_async_wait_for(&run, "ready=1\n", 20000);
    box_cancel(s);
    bt_async_join(&run);

    if (!ready) {
        bt_dump(&run.res);
        fail_msg("the program never printed ready=1");
    }
    bt_assert_status(&run.res, BOX_CANCELLED);
    bt_assert_no_procs(ctx, s);
    box_result_free(&run.res);
    bt_release(ctx, s);
}

static void exit_codes_are_reported_as_ok_and_runtime_error(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "exits");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("exits"), "code", "0", NULL}, bt_limits(5000), &res);
    bt_assert_status(&res, BOX_OK);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(res.signal, 0);
    box_result_free(&res);

    bt_run(s, (const char *const[]){BT_PROG("exits"), "code", "3", NULL}, bt_limits(5000), &res);
    bt_assert_status(&res, BOX_RUNTIME_ERROR);
    assert_int_equal(res.exit_code, 3);
    assert_int_equal(res.signal, 0);
    box_result_free(&res);
    bt_release(ctx, s);
}

static void abort_is_reported_as_signaled_sigabrt(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "exits");
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("exits"), "abort", NULL}, bt_limits(5000), &res);
    bt_assert_status(&res, BOX_SIGNALED);
    assert_int_equal(res.signal, SIGABRT);
    assert_string_equal(box_signal_name(res.signal), "SIGABRT");
    assert_int_equal(res.exit_code, -1);
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- per-process limits ---------------------------------------------------------------- */

static void file_size_and_open_files_limits_are_enforced(void **state)
{
    bt_ctx *ctx = *state;
    box_slot *s = bt_acquire(ctx);
    bt_put_prog(ctx, s, "filelimits");
    box_limits lim = bt_limits(20000);
    lim.file_bytes = 1 * MIB;
    lim.open_files = 32;
    box_result res;
    bt_run(s, (const char *const[]){BT_PROG("filelimits"), NULL}, lim, &res);

    bt_assert_status(&res, BOX_OK);
    bt_assert_errno(&res, "fsize", EFBIG);
    bt_assert_line(&res, "fsize_bytes", "1048576");
    bt_assert_errno(&res, "nofile", EMFILE);
    bt_assert_line(&res, "nofile_max_fd", "31");
    box_result_free(&res);
    bt_release(ctx, s);
}

/* ---- the pure parts of the API --------------------------------------------------------- */

static void limits_are_clamped_to_the_pool_maxima(void **state)
{
    bt_ctx *ctx = *state;
    box_limits max = {.wall_ms = 1000,
                      .cpu_ms = 2000,
                      .memory_bytes = 3 * MIB,
                      .processes = 4,
                      .output_bytes = 5000,
                      .file_bytes = 6 * MIB,
                      .tmpfs_bytes = 7 * MIB,
                      .open_files = 8};
    box_limits l = {.wall_ms = 999999, .cpu_ms = 0, .memory_bytes = 1 * MIB, .processes = 100};
    box_limits_clamp(&l, &max);
    assert_int_equal(l.wall_ms, 1000);         /* lowered */
    assert_int_equal(l.cpu_ms, 2000);          /* 0 takes the maximum */
    assert_int_equal(l.memory_bytes, 1 * MIB); /* below: kept */
    assert_int_equal(l.processes, 4);
    assert_int_equal(l.output_bytes, 5000);
    assert_int_equal(l.file_bytes, 6 * MIB);
    assert_int_equal(l.tmpfs_bytes, 7 * MIB);
    assert_int_equal(l.open_files, 8);

    /* The suite's pool was opened with no maxima: it runs on the defaults. */
    box_limits d = box_limits_default();
    const box_limits *pm = box_pool_max(ctx->pool);
    assert_memory_equal(pm, &d, sizeof(d));
    assert_true(d.wall_ms && d.cpu_ms && d.memory_bytes && d.processes && d.output_bytes &&
                d.file_bytes && d.tmpfs_bytes && d.open_files);
    assert_int_equal(box_pool_slots(ctx->pool), BT_SLOTS);
    const char *v = box_pool_cgroup_version(ctx->pool);
    assert_true(strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0);
}

static void status_and_signal_names(void **state)
{
    (void)state;
    assert_string_equal(box_status_name(BOX_OK), "ok");
    assert_string_equal(box_status_name(BOX_RUNTIME_ERROR), "runtime_error");
    assert_string_equal(box_status_name(BOX_SIGNALED), "signaled");
    assert_string_equal(box_status_name(BOX_TIMEOUT), "timeout");
    assert_string_equal(box_status_name(BOX_MEMORY_LIMIT), "memory_limit");
    assert_string_equal(box_status_name(BOX_OUTPUT_LIMIT), "output_limit");
    assert_string_equal(box_status_name(BOX_CANCELLED), "cancelled");
    assert_string_equal(box_status_name(BOX_INTERNAL_ERROR), "internal_error");
    assert_string_equal(box_signal_name(SIGKILL), "SIGKILL");
    assert_string_equal(box_signal_name(SIGSYS), "SIGSYS");
    assert_string_equal(box_signal_name(0), "");
}

static int group_setup(void **state)
{
    return bt_group_setup(state, FIRST_UID, SUITE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        bt_test(cpu_time_matches_what_a_cpu_bound_program_counted),
        bt_test(peak_memory_of_a_200_mib_allocation_is_about_200_mib),
        bt_test(each_step_in_a_slot_counts_from_zero_with_its_own_limits),
        bt_test(a_step_that_starts_beside_another_is_pinned_to_one_cpu),
        bt_test(output_of_both_streams_is_cut_exactly_at_the_cap),
        bt_test(stdout_flood_is_cut_exactly_at_the_cap),
        bt_test(stdin_bytes_are_delivered_intact),
        bt_test(output_chunks_arrive_in_order_while_the_program_runs),
        bt_test(wall_limit_ends_a_sleeping_program_as_timeout_wall),
        bt_test(cpu_limit_ends_a_spinning_program_as_timeout_cpu),
        bt_test(cancel_from_another_thread_ends_the_run_as_cancelled),
        bt_test(exit_codes_are_reported_as_ok_and_runtime_error),
        bt_test(abort_is_reported_as_signaled_sigabrt),
        bt_test(file_size_and_open_files_limits_are_enforced),
        bt_test(limits_are_clamped_to_the_pool_maxima),
        bt_test(status_and_signal_names),
    };
    return cmocka_run_group_tests(tests, group_setup, bt_group_teardown);
}

/* test_demux.c — podman_demux_feed: Docker's multiplexed attach framing
 * reassembled whatever way the transport splits it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytebuf.h"
#include "podman/podman.h"

typedef struct sink {
    bytebuf seen; /* "<stream>:<bytes>|" per piece, merged per stream run */
    bytebuf out, err;
    int last;
} sink;

static void collect(void *ctx, int stream, const char *data, size_t len)
{
    sink *s = ctx;
    if (stream != s->last) {
        bytebuf_printf(&s->seen, "%d", stream);
        s->last = stream;
    }
    bytebuf_append(stream == 1 ? &s->out : &s->err, data, len);
}

/* Two stdout frames, one stderr frame, one empty frame, one with NULs. */
static const char stream_bytes[] = "\x01\0\0\0\0\0\0\x09out-line\n"
                                   "\x02\0\0\0\0\0\0\x09"
                                   "err-line\n"
                                   "\x01\0\0\0\0\0\0\x00"
                                   "\x01\0\0\0\0\0\0\x05out2\n"
                                   "\x02\0\0\0\0\0\0\x03"
                                   "a\0b";
#define STREAM_LEN (sizeof stream_bytes - 1)

static void check(sink *s)
{
    assert_string_equal(s->seen.data, "1212"); /* the empty frame makes no call */
    assert_int_equal(s->out.len, 14);
    assert_memory_equal(s->out.data, "out-line\nout2\n", 14);
    assert_int_equal(s->err.len, 12);
    assert_memory_equal(s->err.data, "err-line\na\0b", 12);
}

static void free_sink(sink *s)
{
    bytebuf_free(&s->seen);
    bytebuf_free(&s->out);
    bytebuf_free(&s->err);
}

static void test_whole_stream_at_once(void **state)
{
    (void)state;
    sink s = {0};
    podman_demux d = {0};
    podman_demux_feed(&d, stream_bytes, STREAM_LEN, collect, &s);
    check(&s);
    free_sink(&s);
}

static void test_one_byte_at_a_time(void **state)
{
    (void)state;
    sink s = {0};
    podman_demux d = {0};
    for (size_t i = 0; i < STREAM_LEN; i++)
        podman_demux_feed(&d, stream_bytes + i, 1, collect, &s);
    check(&s);
    free_sink(&s);
}

static void test_every_split_point(void **state)
{
    (void)state;
    for (size_t cut = 0; cut <= STREAM_LEN; cut++) {
        sink s = {0};
        podman_demux d = {0};
        podman_demux_feed(&d, stream_bytes, cut, collect, &s);
        podman_demux_feed(&d, stream_bytes + cut, STREAM_LEN - cut, collect, &s);
        check(&s);
        free_sink(&s);
    }
}

static void test_big_endian_length(void **state)
{
    (void)state;
    /* 0x00010002 = 65538 bytes of payload: the length is 4 bytes, big-endian. */
    size_t n = 65538;
    static char buf[8 + 65538];
    memcpy(buf, "\x01\0\0\0\x00\x01\x00\x02", 8);
    memset(buf + 8, 'x', n);
    sink s = {0};
    podman_demux d = {0};
    podman_demux_feed(&d, buf, sizeof buf - 1000, collect, &s);
    assert_int_equal(s.out.len, n - 1000);
    podman_demux_feed(&d, buf + sizeof buf - 1000, 1000, collect, &s);
    assert_int_equal(s.out.len, n);
    assert_int_equal(d.left, 0);
    free_sink(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream_at_once),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_big_endian_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

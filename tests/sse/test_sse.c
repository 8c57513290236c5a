/* test_sse.c — the SSE encoder and parser agree byte for byte, whatever
 * the chunking, and the parser follows the WHATWG rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse/sse.h"

typedef struct seen {
    int n;
    char event[8][32];
    char id[8][32];
    char data[8][128];
    size_t len[8];
} seen;

static void record(void *ctx, const char *event, const char *id, const char *data, size_t len)
{
    seen *s = ctx;
    assert_true(s->n < 8);
    snprintf(s->event[s->n], sizeof s->event[0], "%s", event);
    snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
    assert_true(len < sizeof s->data[0]);
    memcpy(s->data[s->n], data, len);
    s->len[s->n] = len;
    s->n++;
}

static void multi_line_chunk_becomes_several_data_lines(void **state)
{
    (void)state;
    bytebuf b = {0};
    assert_int_equal(sse_format_event(&b, 7, "stdout", "a\nb\n", 4), 0);
    assert_string_equal(b.data, "id: 7\nevent: stdout\ndata: a\ndata: b\ndata: \n\n");
    bytebuf_free(&b);
}

static void encoder_and_parser_round_trip_under_any_chunking(void **state)
{
    (void)state;
    static const char *const payloads[] = {"hello\n", "a\nb", "\n\n", "no newline", "x\n\ny\n"};
    bytebuf b = {0};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sse_format_event(&b, i + 1, i % 2 ? "stderr" : "stdout", payloads[i],
                                          strlen(payloads[i])),
                         0);
    assert_int_equal(sse_format_comment(&b, "keep-alive"), 0);
    for (size_t step = 1; step <= b.len; step += 5) {
        sse_parser p = {0};
        seen s = {0};
        for (size_t off = 0; off < b.len; off += step) {
            size_t n = b.len - off < step ? b.len - off : step;
            assert_int_equal(sse_parser_feed(&p, b.data + off, n, record, &s), 0);
        }
        assert_int_equal(s.n, 5);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(s.len[i], strlen(payloads[i]));
            assert_memory_equal(s.data[i], payloads[i], s.len[i]);
            assert_string_equal(s.event[i], i % 2 ? "stderr" : "stdout");
            char id[16];
            snprintf(id, sizeof id, "%d", i + 1);
            assert_string_equal(s.id[i], id);
        }
        sse_parser_free(&p);
    }
    bytebuf_free(&b);
}

static void parser_accepts_crlf_and_cr_and_ignores_comments(void **state)
{
    (void)state;
    static const char text[] = ": hi\r\nevent: x\r\ndata:one\rdata: two\r\n\r\n"
                               "data: unnamed\n\nevent: lonely\n\n";
    sse_parser p = {0};
    seen s = {0};
    /* Split inside the first CRLF to check the pending-CR path. */
    assert_int_equal(sse_parser_feed(&p, text, 5, record, &s), 0);
    assert_int_equal(sse_parser_feed(&p, text + 5, sizeof text - 6, record, &s), 0);
    assert_int_equal(s.n, 2); /* an event without data is not dispatched */
    assert_string_equal(s.event[0], "x");
    assert_string_equal(s.data[0], "one\ntwo");
    assert_string_equal(s.event[1], "message");
    assert_string_equal(s.data[1], "unnamed");
    sse_parser_free(&p);
}

static void chunk_is_text_refuses_cr_nul_and_bad_utf8(void **state)
{
    (void)state;
    assert_true(sse_chunk_is_text("caf\xc3\xa9\n", 6));
    assert_false(sse_chunk_is_text("a\rb", 3));
    assert_false(sse_chunk_is_text("a\0b", 3));
    assert_false(sse_chunk_is_text("a\xff", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multi_line_chunk_becomes_several_data_lines),
        cmocka_unit_test(encoder_and_parser_round_trip_under_any_chunking),
        cmocka_unit_test(parser_accepts_crlf_and_cr_and_ignores_comments),
        cmocka_unit_test(chunk_is_text_refuses_cr_nul_and_bad_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

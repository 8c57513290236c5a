/* test_msg.c — the WebSocket protocol's pure parts: the handshake key of
 * RFC 6455's own example, output chunks as messages (UTF-8 cut across
 * chunks, bytes that are not UTF-8), signals and close codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "common/json_cleanup.h"
#include "ws/ws.h"

static void test_accept_key_rfc_example(void **state)
{
    (void)state;
    char out[29];
    /* RFC 6455 section 1.3. */
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_accept_key_refuses_bad_keys(void **state)
{
    (void)state;
    char out[29];
    assert_int_equal(ws_accept_key("", out), -1);
    assert_int_equal(ws_accept_key("not base64 at all!!!!!!!", out), -1);
    /* 24 characters of base64, but 17 bytes would not fit; 12 bytes is too short. */
    assert_int_equal(ws_accept_key("AAAAAAAAAAAAAAAA", out), -1);
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==x", out), -1);
}

static void test_output_text(void **state)
{
    (void)state;
    ws_utf8 u = {0};
    _cleanup_json_ json_t *m = NULL;
    assert_int_equal(ws_output_msg(&u, BOX_STDOUT, "hi\r\n\0x", 6, &m), 0);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "type")), "stdout");
    json_t *d = json_object_get(m, "data");
    assert_int_equal(json_string_length(d), 6);
    assert_memory_equal(json_string_value(d), "hi\r\n\0x", 6);
}

static void test_output_utf8_cut_between_chunks(void **state)
{
    (void)state;
    ws_utf8 u = {0};
    json_t *m = NULL;
    /* "é" is C3 A9: the first chunk ends inside it. */
    assert_int_equal(ws_output_msg(&u, BOX_STDERR, "caf\xc3", 4, &m), 0);
    assert_string_equal(json_string_value(json_object_get(m, "type")), "stderr");
    assert_string_equal(json_string_value(json_object_get(m, "data")), "caf");
    json_decref(m);
    assert_int_equal(ws_output_msg(&u, BOX_STDERR, "\xa9!", 2, &m), 0);
    assert_string_equal(json_string_value(json_object_get(m, "data")), "\xc3\xa9!");
    json_decref(m);
    /* A chunk that is only the start of a sequence yields no message yet. */
    assert_int_equal(ws_output_msg(&u, BOX_STDOUT, "\xe2\x82", 2, &m), 0);
    assert_null(m);
    /* ... and if the program ends there, the bytes come out as base64. */
    m = ws_output_flush(&u, BOX_STDOUT);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "data_base64")), "4oI=");
    json_decref(m);
    assert_null(ws_output_flush(&u, BOX_STDOUT));
}

static void test_output_not_utf8_is_base64(void **state)
{
    (void)state;
    ws_utf8 u = {0};
    _cleanup_json_ json_t *m = NULL;
    assert_int_equal(ws_output_msg(&u, BOX_STDOUT, "caf\xe9\n", 5, &m), 0);
    assert_null(json_object_get(m, "data"));
    assert_string_equal(json_string_value(json_object_get(m, "data_base64")), "Y2Fm6Qo=");
}

static void test_signals(void **state)
{
    (void)state;
    const struct {
        const char *json;
        int sig;
    } cases[] = {
        {"\"SIGINT\"", SIGINT},
        {"\"INT\"", SIGINT},
        {"2", SIGINT},
        {"\"SIGKILL\"", SIGKILL},
        {"\"KILL\"", SIGKILL},
        {"9", SIGKILL},
        {"\"SIGSTOP\"", -1},
        {"\"sigint\"", -1},
        {"15", -1},
        {"null", -1},
        {"[]", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t e;
        _cleanup_json_ json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, &e);
        assert_non_null(v);
        assert_int_equal(ws_signal_parse(v), cases[i].sig);
    }
}

static void test_close_codes(void **state)
{
    (void)state;
    assert_int_equal(ws_close_code(400), 4400);
    assert_int_equal(ws_close_code(404), 4404);
    assert_int_equal(ws_close_code(408), 4408);
    assert_int_equal(ws_close_code(429), 4429);
    assert_int_equal(ws_close_code(501), 4501);
    assert_int_equal(ws_close_code(503), 4503);
    assert_int_equal(ws_close_code(413), 1009);
    assert_int_equal(ws_close_code(500), 1011);
    assert_int_equal(ws_close_code(200), 1011);
}

static void test_error_msg(void **state)
{
    (void)state;
    api_error e = {.status = 400, .code = "invalid_json"};
    snprintf(e.message, sizeof e.message, "bad \xff byte");
    _cleanup_json_ json_t *m = ws_error_msg(&e);
    assert_string_equal(json_string_value(json_object_get(m, "type")), "error");
    json_t *err = json_object_get(m, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "invalid_json");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "bad \xef\xbf\xbd byte");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key_rfc_example),
        cmocka_unit_test(test_accept_key_refuses_bad_keys),
        cmocka_unit_test(test_output_text),
        cmocka_unit_test(test_output_utf8_cut_between_chunks),
        cmocka_unit_test(test_output_not_utf8_is_base64),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_error_msg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

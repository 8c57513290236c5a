/* test_codec.c — base64 against RFC 4648's vectors and UTF-8 by the
 * Unicode rules (overlongs, surrogates, cut sequences). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

static void base64_encodes_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n;
        char *s = codec_base64_encode(in[i], strlen(in[i]), &n);
        assert_string_equal(s, out[i]);
        assert_int_equal(n, strlen(out[i]));
        unsigned char *back;
        size_t blen;
        assert_int_equal(codec_base64_decode(s, n, &back, &blen), 0);
        assert_int_equal(blen, strlen(in[i]));
        assert_memory_equal(back, in[i], blen);
        free(back);
        free(s);
    }
}

static void base64_round_trips_every_byte_value(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t len = 0; len <= 256; len += 37) {
        size_t n;
        char *s = codec_base64_encode(all, len, &n);
        unsigned char *back;
        size_t blen;
        assert_int_equal(codec_base64_decode(s, n, &back, &blen), 0);
        assert_int_equal(blen, len);
        assert_memory_equal(back, all, len);
        free(back);
        free(s);
    }
}

static void base64_decode_accepts_unpadded_and_whitespace(void **state)
{
    (void)state;
    unsigned char *out;
    size_t len;
    assert_int_equal(codec_base64_decode("Zm9v\nYg", 7, &out, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "foob", 4);
    free(out);
}

static void base64_decode_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {"Z", "Zg=a", "Zm9v!", "====", "Zg===", "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *out = NULL;
        size_t len;
        assert_int_equal(codec_base64_decode(bad[i], strlen(bad[i]), &out, &len), -1);
        assert_null(out);
    }
}

static void utf8_valid_follows_rfc3629(void **state)
{
    (void)state;
    assert_true(codec_utf8_valid("plain ascii", 11));
    assert_true(codec_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_true(codec_utf8_valid("a\0b", 3));              /* NUL is a character */
    assert_false(codec_utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    assert_false(codec_utf8_valid("\xe0\x80\xaf", 3));     /* overlong '/' */
    assert_false(codec_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(codec_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(codec_utf8_valid("\xe2\x82", 2));         /* cut short */
    assert_false(codec_utf8_valid("\x80", 1));             /* lone continuation */
    assert_false(codec_utf8_valid("\xff", 1));
}

static void incomplete_tail_finds_cut_sequences_only(void **state)
{
    (void)state;
    assert_int_equal(codec_utf8_incomplete_tail("abc\xe2\x82", 5), 2);
    assert_int_equal(codec_utf8_incomplete_tail("abc\xe2", 4), 1);
    assert_int_equal(codec_utf8_incomplete_tail("a\xf0\x9f\x98", 4), 3);
    assert_int_equal(codec_utf8_incomplete_tail("abc\xe2\x82\xac", 6), 0); /* complete */
    assert_int_equal(codec_utf8_incomplete_tail("abc\xff", 4), 0);         /* invalid, not cut */
    assert_int_equal(codec_utf8_incomplete_tail("abc\x80", 4), 0);
    assert_int_equal(codec_utf8_incomplete_tail("\xed\xa0", 2), 0); /* would be a surrogate */
    assert_int_equal(codec_utf8_incomplete_tail("", 0), 0);
}

static void repair_replaces_each_bad_subpart_once(void **state)
{
    (void)state;
    size_t n;
    bool lossy;
    char *s = codec_utf8_repair("a\xff"
                                "b",
                                3, &n, &lossy);
    assert_true(lossy);
    assert_string_equal(s, "a\xef\xbf\xbd"
                           "b");
    free(s);
    /* A cut 4-byte sequence is one maximal subpart: one U+FFFD, then "x". */
    s = codec_utf8_repair("\xf0\x9f\x98x", 4, &n, &lossy);
    assert_true(lossy);
    assert_string_equal(s, "\xef\xbf\xbdx");
    free(s);
    s = codec_utf8_repair("ok \xc3\xa9", 5, &n, &lossy);
    assert_false(lossy);
    assert_int_equal(n, 5);
    assert_string_equal(s, "ok \xc3\xa9");
    free(s);
    s = codec_utf8_repair("\xe2\x82", 2, &n, &lossy); /* cut at the end */
    assert_true(lossy);
    assert_string_equal(s, "\xef\xbf\xbd");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_encodes_rfc4648_vectors),
        cmocka_unit_test(base64_round_trips_every_byte_value),
        cmocka_unit_test(base64_decode_accepts_unpadded_and_whitespace),
        cmocka_unit_test(base64_decode_rejects_garbage),
        cmocka_unit_test(utf8_valid_follows_rfc3629),
        cmocka_unit_test(incomplete_tail_finds_cut_sequences_only),
        cmocka_unit_test(repair_replaces_each_bad_subpart_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

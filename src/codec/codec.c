/* codec.c — base64 and UTF-8 (see codec.h). */
#include "codec/codec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytebuf.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *codec_base64_encode(const void *data, size_t len, size_t *outlen)
{
    const unsigned char *in = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = (len + 2) / 3 * 4;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = b64_alphabet[(v >> 6) & 63];
        *o++ = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    if (outlen)
        *outlen = n;
    return out;
}

/* Returns the 6-bit value of a base64 digit, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int codec_base64_decode(const char *text, size_t len, unsigned char **out, size_t *outlen)
{
    unsigned char *buf = malloc(len / 4 * 3 + 4);
    if (!buf)
        return -1;
    size_t o = 0, pad = 0;
    unsigned digits = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) /* a digit after padding */
            goto invalid;
        acc = acc << 6 | (uint32_t)v;
        if (++digits == 4) {
            buf[o++] = (unsigned char)(acc >> 16);
            buf[o++] = (unsigned char)(acc >> 8);
            buf[o++] = (unsigned char)acc;
            digits = 0;
            acc = 0;
        }
    }
    /* A lone trailing digit carries fewer than 8 bits: not base64. */
    if (digits == 1 || pad > 2 || (pad && (digits + pad) % 4 != 0))
        goto invalid;
    if (digits == 2) {
        buf[o++] = (unsigned char)(acc >> 4);
    } else if (digits == 3) {
        buf[o++] = (unsigned char)(acc >> 10);
        buf[o++] = (unsigned char)(acc >> 2);
    }
    buf[o] = '\0';
    *out = buf;
    if (outlen)
        *outlen = o;
    return 0;
invalid:
    free(buf);
    errno = EINVAL;
    return -1;
}

/* Inspects the sequence at s[0..n). Returns its length (1..4) when it is
 * well-formed; otherwise returns 0 and sets *prefix to the length of its
 * longest well-formed prefix (0 when s[0] cannot start a sequence) and
 * *cut to whether the input ended inside a still-possible sequence. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *prefix, bool *cut)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    *prefix = 0;
    *cut = false;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n) {
            *prefix = i;
            *cut = true;
            return 0;
        }
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
        if (s[i] < lo_i || s[i] > hi_i) {
            *prefix = i;
            return 0;
        }
    }
    return need;
}

bool codec_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, prefix;
    bool cut;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(p + i, len - i, &prefix, &cut);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

size_t codec_utf8_incomplete_tail(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    /* A cut sequence starts at most 3 bytes from the end. */
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = p[len - back];
        if (c < 0x80)
            return 0;
        if (c >= 0xC0) {
            size_t prefix;
            bool cut;
            if (!utf8_seq(p + len - back, back, &prefix, &cut) && cut)
                return back;
            return 0;
        }
    }
    return 0;
}

char *codec_utf8_repair(const char *s, size_t len, size_t *outlen, bool *lossy)
{
    const unsigned char *p = (const unsigned char *)s;
    bytebuf b = {0};
    size_t i = 0, run = 0, prefix;
    bool cut;
    *lossy = false;
    if (bytebuf_append(&b, "", 0) < 0)
        return NULL;
    while (i < len) {
        size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, len - i, &prefix, &cut);
        if (k) {
            i += k;
            run += k;
            continue;
        }
        /* Flush the good run, then one U+FFFD for the maximal ill-formed subpart. */
        if (bytebuf_append(&b, p + i - run, run) < 0 || bytebuf_append(&b, "\xEF\xBF\xBD", 3) < 0)
            goto oom;
        run = 0;
        *lossy = true;
        i += prefix ? prefix : 1;
    }
    if (bytebuf_append(&b, p + i - run, run) < 0)
        goto oom;
    return bytebuf_steal(&b, outlen);
oom:
    bytebuf_free(&b);
    return NULL;
}

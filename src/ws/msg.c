/* msg.c — the WebSocket protocol's pure parts: handshake key, output
 * messages, signals, close codes (see ws.h). */
#include <gnutls/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "common/cleanup.h"
#include "ws/ws.h"

int ws_accept_key(const char *key, char out[29])
{
    /* RFC 6455 4.2.2: base64(SHA-1(key + this GUID)); the key must be a
     * base64-encoded 16-byte nonce (4.2.1 item 5). */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t klen = strlen(key);
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    if (klen != 24 || codec_base64_decode(key, klen, &raw, &rawlen) < 0)
        return -1;
    free(raw);
    if (rawlen != 16)
        return -1;
    char buf[24 + sizeof guid];
    memcpy(buf, key, 24);
    memcpy(buf + 24, guid, sizeof guid - 1);
    unsigned char digest[20];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, 24 + sizeof guid - 1, digest) < 0)
        return -1;
    size_t blen;
    _cleanup_free_ char *b64 = codec_base64_encode(digest, sizeof digest, &blen);
    if (!b64 || blen != 28)
        return -1;
    memcpy(out, b64, 29);
    return 0;
}

static const char *stream_name(box_stream stream)
{
    return stream == BOX_STDERR ? "stderr" : "stdout";
}

/* Builds {"type": name, "data_base64": base64 of data}. */
static json_t *base64_msg(const char *name, const char *data, size_t len)
{
    size_t blen;
    _cleanup_free_ char *b64 = codec_base64_encode(data, len, &blen);
    if (!b64)
        return NULL;
    return json_pack("{s:s, s:s%}", "type", name, "data_base64", b64, blen);
}

int ws_output_msg(ws_utf8 *u, box_stream stream, const char *data, size_t len, json_t **msg)
{
    int idx = stream == BOX_STDERR ? 1 : 0;
    *msg = NULL;
    bytebuf chunk = {0};
    if (bytebuf_append(&chunk, u->carry[idx], u->ncarry[idx]) < 0 ||
        bytebuf_append(&chunk, data, len) < 0) {
        bytebuf_free(&chunk);
        return -1;
    }
    size_t tail = codec_utf8_incomplete_tail(chunk.data, chunk.len);
    size_t body = chunk.len - tail;
    memcpy(u->carry[idx], chunk.data + body, tail);
    u->ncarry[idx] = tail;
    int rc = 0;
    if (body) {
        /* JSON strings carry any valid UTF-8, NUL and CR included. */
        if (codec_utf8_valid(chunk.data, body))
            *msg = json_pack("{s:s, s:s%}", "type", stream_name(stream), "data", chunk.data, body);
        else
            *msg = base64_msg(stream_name(stream), chunk.data, body);
        rc = *msg ? 0 : -1;
    }
    bytebuf_free(&chunk);
    return rc;
}

json_t *ws_output_flush(ws_utf8 *u, box_stream stream)
{
    int idx = stream == BOX_STDERR ? 1 : 0;
    if (!u->ncarry[idx])
        return NULL;
    json_t *m = base64_msg(stream_name(stream), u->carry[idx], u->ncarry[idx]);
    u->ncarry[idx] = 0;
    return m;
}

int ws_signal_parse(const json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        return n == SIGINT ? SIGINT : n == SIGKILL ? SIGKILL : -1;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    if (strcmp(s, "INT") == 0)
        return SIGINT;
    if (strcmp(s, "KILL") == 0)
        return SIGKILL;
    return -1;
}

unsigned ws_close_code(unsigned http_status)
{
    switch (http_status) {
    case 413:
        return 1009; /* the RFC's own "message too big" */
    case 500:
        return 1011;
    default:
        return http_status >= 400 && http_status < 600 ? WS_CLOSE_APP_BASE + http_status : 1011;
    }
}

json_t *ws_error_msg(const api_error *e)
{
    json_t *m = api_error_json(e);
    if (m && json_object_set_new(m, "type", json_string("error")) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

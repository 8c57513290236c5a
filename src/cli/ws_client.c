/* ws_client.c — the CLI's WebSocket client (see client.h): libcurl makes
 * the connection (CURLOPT_CONNECT_ONLY: its URL parsing, name resolution,
 * TLS for https), we send the RFC 6455 handshake through it, and wslay
 * frames the messages. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <wslay/wslay.h>

#include "cli/client.h"
#include "codec/codec.h"
#include "common/cleanup.h"
#include "ws/ws.h"

#define HANDSHAKE_MAX (64 * 1024)

struct cli_ws {
    CURL *h;
    int sock;
    wslay_event_context_ptr ctx;
    bytebuf extra; /* bytes read past the handshake answer */
    size_t extra_off;
    cli_ws_msg_fn on_msg;
    void *msg_ctx;
    bool dead;
};

/* Waits until the socket is readable (or writable); ms -1: forever. */
static int wait_sock(int sock, bool write, int ms)
{
    struct pollfd p = {sock, write ? POLLOUT : POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return n;
}

static int send_all(cli_ws *w, const char *data, size_t len)
{
    while (len) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(w->h, data, len, &n);
        if (rc == CURLE_AGAIN) {
            wait_sock(w->sock, true, 10000);
            continue;
        }
        if (rc != CURLE_OK)
            return -1;
        data += n;
        len -= n;
    }
    return 0;
}

static ssize_t io_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    cli_ws *w = user;
    if (w->extra_off < w->extra.len) {
        size_t n = w->extra.len - w->extra_off < len ? w->extra.len - w->extra_off : len;
        memcpy(buf, w->extra.data + w->extra_off, n);
        w->extra_off += n;
        return (ssize_t)n;
    }
    size_t n = 0;
    CURLcode rc = curl_easy_recv(w->h, buf, len, &n);
    if (rc == CURLE_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (rc != CURLE_OK || n == 0) {
        w->dead = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t io_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    cli_ws *w = user;
    size_t n = 0;
    CURLcode rc = curl_easy_send(w->h, data, len, &n);
    if (rc == CURLE_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (rc != CURLE_OK) {
        w->dead = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)n;
}

static int genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    (void)ctx;
    cli_ws *w = user;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
        w->on_msg(w->msg_ctx, arg->opcode == WSLAY_TEXT_FRAME, (const char *)arg->msg,
                  arg->msg_length);
}

/* Returns the value of header name in the answer head (NUL-terminated), or NULL. */
static char *header_value(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)len, v);
            return out;
        }
    }
    return NULL;
}

/* Reads the handshake answer; 0 on 101, -1 after reporting why not. */
static int read_answer(cli_ws *w, const client *c, const char *path, const char *key)
{
    bytebuf head = {0};
    char *end = NULL;
    while (!(end = head.data ? strstr(head.data, "\r\n\r\n") : NULL)) {
        char buf[4096];
        size_t n = 0;
        CURLcode rc = curl_easy_recv(w->h, buf, sizeof buf, &n);
        if (rc == CURLE_AGAIN) {
            if (wait_sock(w->sock, false, 30000) <= 0)
                break;
            continue;
        }
        if (rc != CURLE_OK || n == 0 || head.len + n > HANDSHAKE_MAX ||
            bytebuf_append(&head, buf, n) < 0)
            break;
    }
    if (!end) {
        fprintf(stderr, "xxx: %s%s closed the connection without a WebSocket handshake\n", c->base,
                path);
        bytebuf_free(&head);
        return -1;
    }
    size_t head_len = (size_t)(end - head.data) + 4;
    long status = 0;
    sscanf(head.data, "HTTP/%*s %ld", &status);
    if (status != 101) {
        /* An error answer: {"error": ...} as for any other call. */
        char cl[32];
        size_t want =
            header_value(head.data, "Content-Length", cl, sizeof cl) ? strtoul(cl, NULL, 10) : 0;
        bytebuf body = {0};
        bytebuf_append(&body, head.data + head_len, head.len - head_len);
        while (body.len < want && body.len < HANDSHAKE_MAX) {
            char buf[4096];
            size_t n = 0;
            CURLcode rc = curl_easy_recv(w->h, buf, sizeof buf, &n);
            if (rc == CURLE_AGAIN) {
                if (wait_sock(w->sock, false, 30000) <= 0)
                    break;
                continue;
            }
            if (rc != CURLE_OK || n == 0 || bytebuf_append(&body, buf, n) < 0)
                break;
        }
        client_report_error(c, path, status, &body);
        bytebuf_free(&body);
        bytebuf_free(&head);
        return -1;
    }
    char accept[64], want[29];
    if (ws_accept_key(key, want) < 0 ||
        !header_value(head.data, "Sec-WebSocket-Accept", accept, sizeof accept) ||
        strcmp(accept, want) != 0) {
        fprintf(stderr, "xxx: %s%s answered 101 without the right Sec-WebSocket-Accept\n", c->base,
                path);
        bytebuf_free(&head);
        return -1;
    }
    bytebuf_append(&w->extra, head.data + head_len, head.len - head_len);
    bytebuf_free(&head);
    return 0;
}

cli_ws *cli_ws_open(const client *c, const char *path, cli_ws_msg_fn fn, void *ctx)
{
    cli_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->on_msg = fn;
    w->msg_ctx = ctx;
    w->sock = -1;
    char url[2048], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", c->base, path);
    w->h = curl_easy_init();
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *upath = NULL, *key = NULL;
    if (!w->h || !u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &upath, 0) != CURLUE_OK) {
        fprintf(stderr, "xxx: cannot use the API URL %s\n", c->base);
        goto fail;
    }
    curl_easy_setopt(w->h, CURLOPT_URL, url);
    curl_easy_setopt(w->h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(w->h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(w->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->h, CURLOPT_CONNECTTIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(w->h);
    if (rc != CURLE_OK) {
        fprintf(stderr,
                "xxx: cannot reach the xxx service at %s (%s).\n"
                "     Is xxxd running? Start it with `make run`, or point --api-url or "
                "XXX_API_URL at it.\n",
                c->base, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        goto fail;
    }
    curl_socket_t s;
    if (curl_easy_getinfo(w->h, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK || s == CURL_SOCKET_BAD)
        goto fail;
    w->sock = (int)s;

    unsigned char nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != sizeof nonce)
        goto fail;
    key = codec_base64_encode(nonce, sizeof nonce, NULL);
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: xxx-cli/1\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     upath, host, port, key ? key : "");
    if (!key || n < 0 || (size_t)n >= sizeof req || send_all(w, req, (size_t)n) < 0) {
        fprintf(stderr, "xxx: sending the WebSocket handshake to %s failed\n", c->base);
        goto fail;
    }
    if (read_answer(w, c, path, key) < 0)
        goto fail;
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = io_recv,
        .send_callback = io_send,
        .genmask_callback = genmask,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_client_init(&w->ctx, &cbs, w) != 0)
        goto fail;
    free(key);
    curl_free(host);
    curl_free(port);
    curl_free(upath);
    curl_url_cleanup(u);
    return w;
fail:
    free(key);
    curl_free(host);
    curl_free(port);
    curl_free(upath);
    curl_url_cleanup(u);
    cli_ws_free(w);
    return NULL;
}

int cli_ws_fd(const cli_ws *w)
{
    return w->sock;
}

int cli_ws_send(cli_ws *w, bool text, const void *data, size_t len)
{
    struct wslay_event_msg m = {text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME, data, len};
    return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

int cli_ws_send_json(cli_ws *w, json_t *msg)
{
    _cleanup_free_ char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    return text ? cli_ws_send(w, true, text, strlen(text)) : -1;
}

short cli_ws_events(const cli_ws *w)
{
    short ev = 0;
    if (wslay_event_want_read(w->ctx))
        ev |= POLLIN;
    if (wslay_event_want_write(w->ctx))
        ev |= POLLOUT;
    /* Bytes read with the handshake answer wait in extra, not the socket. */
    return ev;
}

int cli_ws_pump(cli_ws *w, short revents, int *close_code)
{
    if ((revents & (POLLIN | POLLHUP | POLLERR)) || w->extra_off < w->extra.len) {
        if (wslay_event_recv(w->ctx) < 0)
            w->dead = true;
    }
    if (!w->dead && wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) < 0)
        w->dead = true;
    if (wslay_event_get_close_received(w->ctx)) {
        *close_code = wslay_event_get_status_code_received(w->ctx);
        if (wslay_event_want_write(w->ctx))
            wslay_event_send(w->ctx); /* our answering close, best effort */
        return 1;
    }
    if (w->dead) {
        *close_code = 1006;
        return 1;
    }
    return 0;
}

void cli_ws_free(cli_ws *w)
{
    if (!w)
        return;
    if (w->ctx)
        wslay_event_context_free(w->ctx);
    if (w->h)
        curl_easy_cleanup(w->h);
    bytebuf_free(&w->extra);
    free(w);
}

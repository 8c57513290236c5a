/* sse.c — Server-Sent Events encoder and parser (see sse.h). */
#include "sse/sse.h"

#include <string.h>

#include "codec/codec.h"

int sse_format_event(bytebuf *out, uint64_t id, const char *event, const char *data, size_t len)
{
    size_t start = out->len;
    if (bytebuf_printf(out, "id: %llu\nevent: %s\n", (unsigned long long)id, event) < 0)
        goto oom;
    /* "a\nb\n" becomes data: a / data: b / data: (empty), which a client
     * joins as "a\nb\n\n" and then drops the final LF: the exact input. */
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t piece = nl ? (size_t)(nl - (data + pos)) : len - pos;
        if (bytebuf_puts(out, "data: ") < 0 || bytebuf_append(out, data + pos, piece) < 0 ||
            bytebuf_puts(out, "\n") < 0)
            goto oom;
        if (!nl)
            break;
        pos += piece + 1;
    }
    if (bytebuf_puts(out, "\n") < 0)
        goto oom;
    return 0;
oom:
    out->len = start; /* never leave half an event behind */
    if (out->data)
        out->data[start] = '\0';
    return -1;
}

int sse_format_comment(bytebuf *out, const char *text)
{
    return bytebuf_printf(out, ": %s\n\n", text);
}

bool sse_chunk_is_text(const char *data, size_t len)
{
    if (memchr(data, '\r', len) || memchr(data, '\0', len))
        return false;
    return codec_utf8_valid(data, len);
}

/* Handles one complete line (without its terminator). */
static int process_line(sse_parser *p, sse_event_fn fn, void *ctx)
{
    const char *line = p->line.data ? p->line.data : "";
    size_t len = p->line.len;
    if (len == 0) {
        /* Blank line: dispatch when there is data (the spec drops the rest). */
        if (p->data.len) {
            p->data.len--; /* the LF added after the last data line */
            p->data.data[p->data.len] = '\0';
            const char *ev = p->event.len ? p->event.data : "message";
            fn(ctx, ev, p->id.data ? p->id.data : "", p->data.data, p->data.len);
        }
        bytebuf_consume(&p->data, p->data.len);
        bytebuf_consume(&p->event, p->event.len);
        return 0;
    }
    if (line[0] == ':')
        return 0; /* comment */
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t vlen = len - (size_t)(value - line);
    if (vlen && value[0] == ' ') {
        value++;
        vlen--;
    }
    if (nlen == 4 && memcmp(line, "data", 4) == 0) {
        if (bytebuf_append(&p->data, value, vlen) < 0 || bytebuf_puts(&p->data, "\n") < 0)
            return -1;
    } else if (nlen == 5 && memcmp(line, "event", 5) == 0) {
        bytebuf_consume(&p->event, p->event.len);
        if (bytebuf_append(&p->event, value, vlen) < 0)
            return -1;
    } else if (nlen == 2 && memcmp(line, "id", 2) == 0 && !memchr(value, '\0', vlen)) {
        bytebuf_consume(&p->id, p->id.len);
        if (bytebuf_append(&p->id, value, vlen) < 0)
            return -1;
    }
    /* "retry" and unknown fields are ignored, as the spec says. */
    return 0;
}

int sse_parser_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn fn, void *ctx)
{
    size_t i = 0;
    if (p->after_cr && len && buf[0] == '\n')
        i = 1; /* second half of a CRLF split across chunks */
    p->after_cr = false;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (bytebuf_append(&p->line, buf + i, j - i) < 0)
            return -1;
        if (j == len)
            break; /* line continues in the next chunk */
        if (buf[j] == '\r') {
            if (j + 1 < len && buf[j + 1] == '\n')
                j++;
            else if (j + 1 == len)
                p->after_cr = true;
        }
        if (process_line(p, fn, ctx) < 0)
            return -1;
        bytebuf_consume(&p->line, p->line.len);
        i = j + 1;
    }
    return 0;
}

void sse_parser_free(sse_parser *p)
{
    bytebuf_free(&p->line);
    bytebuf_free(&p->data);
    bytebuf_free(&p->event);
    bytebuf_free(&p->id);
    p->after_cr = false;
}

/* sse.h — Server-Sent Events: the encoder the server writes with and the
 * parser the CLI reads with (https://html.spec.whatwg.org/#server-sent-events).
 *
 * A field's data may not hold CR or LF (they end lines) and should not hold
 * NUL; the encoder splits data on LF into several "data:" lines, which a
 * parser joins back with LF, so text without CR or NUL travels exactly.
 * sse_chunk_is_text() says whether a chunk may go as text; the server sends
 * other chunks base64-encoded under a *_base64 event name. */
#ifndef XXX_SSE_H
#define XXX_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytebuf.h"

/* Appends one event ("id:", "event:", one "data:" line per LF-separated
 * piece, blank line) to out. data must not contain CR; returns 0 or -1 (ENOMEM). */
int sse_format_event(bytebuf *out, uint64_t id, const char *event, const char *data, size_t len);

/* Appends a comment line (": text" and a blank line); clients ignore it. */
int sse_format_comment(bytebuf *out, const char *text);

/* Returns true when data can travel as SSE text unchanged: well-formed
 * UTF-8 without CR or NUL. */
bool sse_chunk_is_text(const char *data, size_t len);

/* One dispatched event. data is NUL-terminated; event is "message" when unnamed. */
typedef void (*sse_event_fn)(void *ctx, const char *event, const char *id, const char *data,
                             size_t len);

typedef struct sse_parser {
    bytebuf line;  /* the line being read */
    bytebuf data;  /* the event's data so far */
    bytebuf event; /* the event's name */
    bytebuf id;    /* the last event id */
    bool after_cr; /* the previous chunk ended in CR: skip one LF */
} sse_parser;

/* Feeds bytes as they arrive; calls fn for each complete event. Returns 0,
 * or -1 on ENOMEM. A zeroed sse_parser is ready to use. */
int sse_parser_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn fn, void *ctx);

/* Frees what the parser holds; it is ready for reuse afterwards. */
void sse_parser_free(sse_parser *p);

#endif

/* codec.h — byte-exact text encodings shared by the server and the CLI.
 *
 * None of our libraries (libmicrohttpd, jansson, libcurl) exports base64 or
 * a UTF-8 repairer, so these few dozen lines live here, tested in
 * tests/codec. Program output is arbitrary bytes; JSON and SSE need UTF-8
 * text: the server repairs what it must and sends the exact bytes alongside
 * in base64 (see README "Output that is not UTF-8"). */
#ifndef XXX_CODEC_H
#define XXX_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/* Returns base64 (RFC 4648, padded, no line breaks) of data as a malloc'd
 * NUL-terminated string; *outlen gets its length when non-NULL. NULL on ENOMEM. */
char *codec_base64_encode(const void *data, size_t len, size_t *outlen);

/* Decodes padded or unpadded base64 (ASCII whitespace ignored) into a
 * malloc'd buffer (NUL-terminated for convenience); returns 0, or -1 when the
 * text is not base64 (errno EINVAL) or on ENOMEM. */
int codec_base64_decode(const char *text, size_t len, unsigned char **out, size_t *outlen);

/* Returns true when s[0..len) is well-formed UTF-8 (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). NUL bytes are well-formed. */
bool codec_utf8_valid(const char *s, size_t len);

/* Returns how many bytes at the end of s[0..len) are the start of a UTF-8
 * sequence cut short (0..3): the bytes to carry over to the next chunk. */
size_t codec_utf8_incomplete_tail(const char *s, size_t len);

/* Returns a malloc'd, NUL-terminated copy of s where each maximal ill-formed
 * subsequence is replaced by U+FFFD; *lossy tells whether any was. NULL on ENOMEM. */
char *codec_utf8_repair(const char *s, size_t len, size_t *outlen, bool *lossy);

#endif

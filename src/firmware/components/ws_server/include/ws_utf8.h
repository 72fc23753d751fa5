/*
 * ws_utf8.h - incremental UTF-8 validation (RFC 3629 section 4), for text messages split across frames
 * and TCP segments (RFC 6455 section 8.1: invalid UTF-8 fails the connection with 1007).
 *
 * The validator keeps its state between calls, so a code point split over two fragments is accepted, and it
 * fails on the first byte that can never be part of valid UTF-8 (overlong forms, surrogates U+D800..U+DFFF,
 * values above U+10FFFF), which is what "fail fast" conformance suites expect.
 */
#ifndef WS_UTF8_H
#define WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t need; /* continuation bytes still expected in the current code point */
    uint8_t lo;   /* allowed range of the next continuation byte */
    uint8_t hi;
} ws_utf8_t;

typedef enum {
    WS_UTF8_COMPLETE = 0, /* everything so far is valid and ends on a code point boundary */
    WS_UTF8_PARTIAL = 1,  /* valid so far, but in the middle of a code point */
    WS_UTF8_INVALID = -1  /* not UTF-8; the state stays invalid */
} ws_utf8_result_t;

/* Resets the validator to "start of text". */
void ws_utf8_init(ws_utf8_t *v);
/* Validates len more bytes. */
ws_utf8_result_t ws_utf8_feed(ws_utf8_t *v, const uint8_t *data, size_t len);
/* One-shot check of a whole string: 1 if valid and complete, else 0. */
int ws_utf8_is_valid(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* WS_UTF8_H */

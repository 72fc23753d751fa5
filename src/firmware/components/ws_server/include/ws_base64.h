/*
 * ws_base64.h - base64 with the standard alphabet and '=' padding (RFC 4648 section 4).
 *
 * Used for Sec-WebSocket-Key (must decode to 16 bytes, RFC 6455 section 4.1) and Sec-WebSocket-Accept.
 */
#ifndef WS_BASE64_H
#define WS_BASE64_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the encoding of len bytes, without the terminating NUL. */
#define WS_BASE64_ENCODED_SIZE(len) ((((len) + 2u) / 3u) * 4u)

/*
 * Encodes len bytes into out (NUL-terminated).
 * Returns the encoded length, or -1 (WS_ERR_ARG) if out_size < WS_BASE64_ENCODED_SIZE(len) + 1.
 */
int ws_base64_encode(const void *in, size_t len, char *out, size_t out_size);

/*
 * Decodes len characters (padding required, no whitespace) into out.
 * Returns the decoded length, or -1 (WS_ERR_ARG) for bad characters, bad padding, a length that is not a
 * multiple of 4, or out_size too small.
 */
int ws_base64_decode(const char *in, size_t len, void *out, size_t out_size);

#ifdef __cplusplus
}
#endif

#endif /* WS_BASE64_H */

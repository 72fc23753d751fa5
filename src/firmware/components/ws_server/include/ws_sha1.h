/*
 * ws_sha1.h - SHA-1 (FIPS 180-4), only for the Sec-WebSocket-Accept value (RFC 6455 section 4.2.2).
 *
 * Own implementation so the core needs neither mbedTLS nor a host crypto library. SHA-1 is not used for
 * anything security-relevant here: the accept key only proves the server understood the handshake.
 */
#ifndef WS_SHA1_H
#define WS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_SHA1_DIGEST_SIZE 20

typedef struct {
    uint32_t state[5];
    uint64_t total_len; /* bytes hashed so far */
    uint8_t block[64];
    uint32_t block_len; /* bytes waiting in block */
} ws_sha1_ctx_t;

/* Starts a new hash. */
void ws_sha1_init(ws_sha1_ctx_t *ctx);
/* Adds len bytes; may be called any number of times. */
void ws_sha1_update(ws_sha1_ctx_t *ctx, const void *data, size_t len);
/* Writes the 20-byte digest; ctx must be re-initialised before reuse. */
void ws_sha1_final(ws_sha1_ctx_t *ctx, uint8_t digest[WS_SHA1_DIGEST_SIZE]);
/* One-shot convenience. */
void ws_sha1(const void *data, size_t len, uint8_t digest[WS_SHA1_DIGEST_SIZE]);

#ifdef __cplusplus
}
#endif

#endif /* WS_SHA1_H */

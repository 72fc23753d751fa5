/*
 * ws_sha256.h - SHA-256 (FIPS 180-4 section 6.2), for the OTA endpoint: the image's hash (docs/ota-protocol.md
 * section 4, read back from flash) and HMAC-SHA256 (ws_hmac.h) for its authentication.
 *
 * Own implementation, as ws_sha1 is, so the portable core needs no mbedTLS and the host build no crypto library;
 * checked against the NIST example vectors (host/tests/ota_crypto_test.cpp). On the device it hashes at most a
 * slot's 1984 KiB once per update, so a small table-free loop is fast enough.
 */
#ifndef WS_SHA256_H
#define WS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_SHA256_DIGEST_SIZE 32
#define WS_SHA256_BLOCK_SIZE 64

typedef struct {
    uint32_t state[8];
    uint64_t total_len; /* bytes hashed so far */
    uint8_t block[WS_SHA256_BLOCK_SIZE];
    uint32_t block_len; /* bytes waiting in block */
} ws_sha256_ctx_t;

/* Starts a new hash. */
void ws_sha256_init(ws_sha256_ctx_t *ctx);
/* Adds len bytes; may be called any number of times, with any split of the input. */
void ws_sha256_update(ws_sha256_ctx_t *ctx, const void *data, size_t len);
/* Writes the 32-byte digest; ctx must be re-initialised before reuse. */
void ws_sha256_final(ws_sha256_ctx_t *ctx, uint8_t digest[WS_SHA256_DIGEST_SIZE]);
/* One-shot convenience. */
void ws_sha256(const void *data, size_t len, uint8_t digest[WS_SHA256_DIGEST_SIZE]);

#ifdef __cplusplus
}
#endif

#endif /* WS_SHA256_H */

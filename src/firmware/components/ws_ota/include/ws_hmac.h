/*
 * ws_hmac.h - HMAC-SHA256 (RFC 2104, with SHA-256 as FIPS 198-1 allows) and a constant-time comparison, for the OTA
 * endpoint's authenticated begin and confirm (docs/ota-protocol.md sections 2 and 5).
 *
 * Checked against the RFC 4231 test cases (host/tests/ota_crypto_test.cpp). The key is never copied anywhere but
 * the context, which ws_hmac_sha256_final wipes.
 */
#ifndef WS_HMAC_H
#define WS_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    ws_sha256_ctx_t inner;
    uint8_t outer_key[WS_SHA256_BLOCK_SIZE]; /* K XOR opad (RFC 2104 section 2) */
} ws_hmac_sha256_ctx_t;

/* Starts a MAC with key (any length; longer than a block: its SHA-256 is the key, RFC 2104 section 2). */
void ws_hmac_sha256_init(ws_hmac_sha256_ctx_t *ctx, const uint8_t *key, size_t key_len);
/* Adds message bytes; any number of calls. */
void ws_hmac_sha256_update(ws_hmac_sha256_ctx_t *ctx, const void *data, size_t len);
/* Writes the 32-byte MAC and wipes the context (it held the key). */
void ws_hmac_sha256_final(ws_hmac_sha256_ctx_t *ctx, uint8_t mac[WS_SHA256_DIGEST_SIZE]);

/*
 * Whether a and b (len bytes each) are equal, in a time that depends on len only: the loop never stops early, so how
 * long a refusal takes says nothing about how many leading bytes of a guessed MAC were right.
 */
bool ws_hmac_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Overwrites len bytes with zeros in a way the compiler may not remove as a dead store. */
void ws_hmac_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* WS_HMAC_H */

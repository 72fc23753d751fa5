/* ws_hmac.c - HMAC (RFC 2104 section 2) over SHA-256, and a comparison whose time does not depend on the data. */
#include "ws_hmac.h"

#include <string.h>

void ws_hmac_wipe(void *p, size_t len)
{
    volatile uint8_t *v = (volatile uint8_t *)p; /* volatile stores: not elided although the buffer dies next */
    while (len-- > 0) {
        *v++ = 0;
    }
}

void ws_hmac_sha256_init(ws_hmac_sha256_ctx_t *ctx, const uint8_t *key, size_t key_len)
{
    uint8_t k[WS_SHA256_BLOCK_SIZE] = {0};
    if (key_len > WS_SHA256_BLOCK_SIZE) {
        ws_sha256(key, key_len, k); /* RFC 2104: keys longer than B bytes are first hashed */
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    uint8_t inner_key[WS_SHA256_BLOCK_SIZE];
    for (unsigned i = 0; i < WS_SHA256_BLOCK_SIZE; i++) {
        inner_key[i] = (uint8_t)(k[i] ^ 0x36u);      /* ipad */
        ctx->outer_key[i] = (uint8_t)(k[i] ^ 0x5cu); /* opad */
    }
    ws_sha256_init(&ctx->inner);
    ws_sha256_update(&ctx->inner, inner_key, sizeof(inner_key));
    ws_hmac_wipe(k, sizeof(k));
    ws_hmac_wipe(inner_key, sizeof(inner_key));
}

void ws_hmac_sha256_update(ws_hmac_sha256_ctx_t *ctx, const void *data, size_t len)
{
    ws_sha256_update(&ctx->inner, data, len);
}

void ws_hmac_sha256_final(ws_hmac_sha256_ctx_t *ctx, uint8_t mac[WS_SHA256_DIGEST_SIZE])
{
    uint8_t inner_digest[WS_SHA256_DIGEST_SIZE];
    ws_sha256_final(&ctx->inner, inner_digest);
    ws_sha256_ctx_t outer;
    ws_sha256_init(&outer);
    ws_sha256_update(&outer, ctx->outer_key, sizeof(ctx->outer_key));
    ws_sha256_update(&outer, inner_digest, sizeof(inner_digest));
    ws_sha256_final(&outer, mac);
    ws_hmac_wipe(ctx, sizeof(*ctx));
    ws_hmac_wipe(&outer, sizeof(outer));
}

bool ws_hmac_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) {
        diff |= (uint8_t)(a[i] ^ b[i]);
    }
    return diff == 0;
}

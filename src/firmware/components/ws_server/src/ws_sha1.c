/* ws_sha1.c - SHA-1 as specified in FIPS 180-4 section 6.1. */
#include "ws_sha1.h"

#include <string.h>

static uint32_t rol32(uint32_t value, unsigned bits) { return (value << bits) | (value >> (32u - bits)); }

static void sha1_block(uint32_t state[5], const uint8_t block[64])
{
    uint32_t w[80];
    for (unsigned i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[i * 4] << 24) | ((uint32_t)block[i * 4 + 1] << 16) | ((uint32_t)block[i * 4 + 2] << 8) |
               (uint32_t)block[i * 4 + 3];
    }
    for (unsigned i = 16; i < 80; i++) {
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    for (unsigned i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
}

void ws_sha1_init(ws_sha1_ctx_t *ctx)
{
    static const uint32_t initial[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    memcpy(ctx->state, initial, sizeof(initial));
    ctx->total_len = 0;
    ctx->block_len = 0;
}

void ws_sha1_update(ws_sha1_ctx_t *ctx, const void *data, size_t len)
{
    const uint8_t *in = (const uint8_t *)data;
    ctx->total_len += len;
    while (len > 0) {
        size_t take = 64u - ctx->block_len;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->block + ctx->block_len, in, take);
        ctx->block_len += (uint32_t)take;
        in += take;
        len -= take;
        if (ctx->block_len == 64u) {
            sha1_block(ctx->state, ctx->block);
            ctx->block_len = 0;
        }
    }
}

void ws_sha1_final(ws_sha1_ctx_t *ctx, uint8_t digest[WS_SHA1_DIGEST_SIZE])
{
    /* Padding: 0x80, zeros, then the message length in bits as a 64-bit big-endian number (FIPS 180-4 5.1.1). */
    uint64_t bits = ctx->total_len * 8u;
    uint8_t pad = 0x80;
    ws_sha1_update(ctx, &pad, 1);
    pad = 0;
    while (ctx->block_len != 56u) {
        ws_sha1_update(ctx, &pad, 1);
    }
    uint8_t len_be[8];
    for (unsigned i = 0; i < 8; i++) {
        len_be[i] = (uint8_t)(bits >> (56u - 8u * i));
    }
    ws_sha1_update(ctx, len_be, 8);
    for (unsigned i = 0; i < 5; i++) {
        digest[i * 4] = (uint8_t)(ctx->state[i] >> 24);
        digest[i * 4 + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[i * 4 + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[i * 4 + 3] = (uint8_t)ctx->state[i];
    }
}

void ws_sha1(const void *data, size_t len, uint8_t digest[WS_SHA1_DIGEST_SIZE])
{
    ws_sha1_ctx_t ctx;
    ws_sha1_init(&ctx);
    ws_sha1_update(&ctx, data, len);
    ws_sha1_final(&ctx, digest);
}

/* ws_sha256.c - SHA-256 as specified in FIPS 180-4 sections 4.1.2, 4.2.2, 5.3.3 and 6.2. */
#include "ws_sha256.h"

#include <string.h>

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t k256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

static uint32_t ror32(uint32_t value, unsigned bits) { return (value >> bits) | (value << (32u - bits)); }

static void sha256_block(uint32_t state[8], const uint8_t block[WS_SHA256_BLOCK_SIZE])
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[i * 4] << 24) | ((uint32_t)block[i * 4 + 1] << 16) | ((uint32_t)block[i * 4 + 2] << 8) |
               (uint32_t)block[i * 4 + 3];
    }
    for (unsigned i = 16; i < 64; i++) { /* 6.2.2 step 1: the message schedule, with sigma0/sigma1 of 4.1.2 */
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (unsigned i = 0; i < 64; i++) { /* 6.2.2 step 3, with Ch, Maj, Sigma0 and Sigma1 of 4.1.2 */
        uint32_t big_s1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + big_s1 + ch + k256[i] + w[i];
        uint32_t big_s0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void ws_sha256_init(ws_sha256_ctx_t *ctx)
{
    /* 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
    static const uint32_t initial[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                        0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(ctx->state, initial, sizeof(initial));
    ctx->total_len = 0;
    ctx->block_len = 0;
}

void ws_sha256_update(ws_sha256_ctx_t *ctx, const void *data, size_t len)
{
    const uint8_t *in = (const uint8_t *)data;
    ctx->total_len += len;
    if (ctx->block_len > 0) {
        size_t take = WS_SHA256_BLOCK_SIZE - ctx->block_len;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->block + ctx->block_len, in, take);
        ctx->block_len += (uint32_t)take;
        in += take;
        len -= take;
        if (ctx->block_len < WS_SHA256_BLOCK_SIZE) {
            return;
        }
        sha256_block(ctx->state, ctx->block);
        ctx->block_len = 0;
    }
    while (len >= WS_SHA256_BLOCK_SIZE) { /* whole blocks straight from the input, without a copy */
        sha256_block(ctx->state, in);
        in += WS_SHA256_BLOCK_SIZE;
        len -= WS_SHA256_BLOCK_SIZE;
    }
    memcpy(ctx->block, in, len);
    ctx->block_len = (uint32_t)len;
}

void ws_sha256_final(ws_sha256_ctx_t *ctx, uint8_t digest[WS_SHA256_DIGEST_SIZE])
{
    /* 5.1.1: 0x80, zeros up to 56 bytes into a block, then the length in bits as a 64-bit big-endian number. */
    uint64_t bits = ctx->total_len * 8u;
    uint8_t pad[WS_SHA256_BLOCK_SIZE + 8] = {0x80};
    size_t pad_len = ctx->block_len < 56u ? 56u - ctx->block_len : 120u - ctx->block_len;
    for (unsigned i = 0; i < 8; i++) {
        pad[pad_len + i] = (uint8_t)(bits >> (56u - 8u * i));
    }
    ws_sha256_update(ctx, pad, pad_len + 8u);
    for (unsigned i = 0; i < 8; i++) {
        digest[i * 4] = (uint8_t)(ctx->state[i] >> 24);
        digest[i * 4 + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[i * 4 + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[i * 4 + 3] = (uint8_t)ctx->state[i];
    }
}

void ws_sha256(const void *data, size_t len, uint8_t digest[WS_SHA256_DIGEST_SIZE])
{
    ws_sha256_ctx_t ctx;
    ws_sha256_init(&ctx);
    ws_sha256_update(&ctx, data, len);
    ws_sha256_final(&ctx, digest);
}

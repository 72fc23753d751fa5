/*
 * ws_accept.h: SHA-1 and base64, the two pieces of the opening handshake's Sec-WebSocket-Accept (RFC 6455 §4.2.2
 * step 5.4), shared by the bench's C programs: echo_load checks the server's answer with them, bare_echo makes its
 * own. Header-only (static inline functions): each program is one gcc command, as bench/run.sh and the tests build
 * them.
 */
#ifndef WS_ACCEPT_H
#define WS_ACCEPT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- SHA-1 (FIPS 180-4) ---- */

static inline uint32_t rotate_left(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

static inline void sha1_block(uint32_t state[5], const unsigned char block[64]) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 |
               block[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rotate_left(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rotate_left(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rotate_left(b, 30), b = a, a = t;
    }
    state[0] += a, state[1] += b, state[2] += c, state[3] += d, state[4] += e;
}

static inline void sha1(const unsigned char *data, size_t length, unsigned char digest[20]) {
    uint32_t state[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    unsigned char block[64];
    size_t done = 0;
    for (; length - done >= 64; done += 64) sha1_block(state, data + done);
    size_t rest = length - done;
    memset(block, 0, sizeof block);
    memcpy(block, data + done, rest);
    block[rest] = 0x80;
    if (rest >= 56) {
        sha1_block(state, block);
        memset(block, 0, sizeof block);
    }
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++) block[63 - i] = (unsigned char)(bits >> (8 * i));
    sha1_block(state, block);
    for (int i = 0; i < 20; i++) digest[i] = (unsigned char)(state[i / 4] >> (24 - 8 * (i % 4)));
}

static inline void base64(const unsigned char *data, size_t length, char *out) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < length; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < length ? (uint32_t)data[i + 1] << 8 : 0) |
                     (i + 2 < length ? data[i + 2] : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < length ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < length ? alphabet[v & 63] : '=';
    }
    out[o] = 0;
}

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4): base64 of the SHA-1 of the key
 * followed by the protocol's GUID; `out` takes 29 bytes (28 characters and the terminating zero). */
static inline void ws_accept(const char *key, size_t key_length, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char source[128 + sizeof guid], digest[20];
    if (key_length > 128) key_length = 128; /* a key is 24 characters (§4.1); a longer one gets a wrong answer */
    memcpy(source, key, key_length);
    memcpy(source + key_length, guid, sizeof guid - 1);
    sha1(source, key_length + sizeof guid - 1, digest);
    base64(digest, sizeof digest, out);
}

#endif

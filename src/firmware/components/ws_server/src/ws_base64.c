/* ws_base64.c - RFC 4648 section 4 base64. */
#include "ws_base64.h"

#include <stdint.h>

#include "ws_err.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ws_base64_encode(const void *in, size_t len, char *out, size_t out_size)
{
    const uint8_t *src = (const uint8_t *)in;
    size_t need = WS_BASE64_ENCODED_SIZE(len) + 1u;
    if ((src == NULL && len > 0) || out == NULL || out_size < need) {
        return WS_ERR_ARG;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)src[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= src[i + 2];
        }
        out[o++] = alphabet[(v >> 18) & 63u];
        out[o++] = alphabet[(v >> 12) & 63u];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63u] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63u] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int decode_char(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

int ws_base64_decode(const char *in, size_t len, void *out, size_t out_size)
{
    uint8_t *dst = (uint8_t *)out;
    if ((in == NULL && len > 0) || (out == NULL && out_size > 0) || len % 4u != 0) {
        return WS_ERR_ARG;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        unsigned pad = 0;
        for (unsigned j = 0; j < 4; j++) {
            char c = in[i + j];
            if (c == '=') {
                /* Padding only in the last group, only in its last two places, and nothing after it. */
                if (i + 4 != len || j < 2) {
                    return WS_ERR_ARG;
                }
                pad++;
                v[j] = 0;
            } else {
                if (pad > 0) {
                    return WS_ERR_ARG;
                }
                v[j] = decode_char(c);
                if (v[j] < 0) {
                    return WS_ERR_ARG;
                }
            }
        }
        uint32_t bits = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
        size_t n = 3u - pad;
        if (o + n > out_size) {
            return WS_ERR_ARG;
        }
        dst[o++] = (uint8_t)(bits >> 16);
        if (n > 1) {
            dst[o++] = (uint8_t)(bits >> 8);
        }
        if (n > 2) {
            dst[o++] = (uint8_t)bits;
        }
    }
    return (int)o;
}

/* ws_utf8.c - UTF-8 validation by the well-formed byte sequence table of Unicode 15, table 3-7. */
#include "ws_utf8.h"

#define UTF8_DEAD 0xFFu

void ws_utf8_init(ws_utf8_t *v)
{
    v->need = 0;
    v->lo = 0x80;
    v->hi = 0xBF;
}

ws_utf8_result_t ws_utf8_feed(ws_utf8_t *v, const uint8_t *data, size_t len)
{
    if (v->need == UTF8_DEAD) {
        return WS_UTF8_INVALID;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        if (v->need > 0) {
            if (b < v->lo || b > v->hi) {
                v->need = UTF8_DEAD;
                return WS_UTF8_INVALID;
            }
            v->need--;
            v->lo = 0x80;
            v->hi = 0xBF;
            continue;
        }
        if (b < 0x80) {
            continue;
        }
        /* Lead bytes; the first continuation byte range excludes overlongs (E0, F0), surrogates (ED) and
         * code points above U+10FFFF (F4). C0, C1 and F5..FF never occur. */
        if (b >= 0xC2 && b <= 0xDF) {
            v->need = 1;
        } else if (b == 0xE0) {
            v->need = 2;
            v->lo = 0xA0;
        } else if (b == 0xED) {
            v->need = 2;
            v->hi = 0x9F;
        } else if (b >= 0xE1 && b <= 0xEF) {
            v->need = 2;
        } else if (b == 0xF0) {
            v->need = 3;
            v->lo = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            v->need = 3;
        } else if (b == 0xF4) {
            v->need = 3;
            v->hi = 0x8F;
        } else {
            v->need = UTF8_DEAD;
            return WS_UTF8_INVALID;
        }
    }
    return v->need == 0 ? WS_UTF8_COMPLETE : WS_UTF8_PARTIAL;
}

int ws_utf8_is_valid(const uint8_t *data, size_t len)
{
    ws_utf8_t v;
    ws_utf8_init(&v);
    return ws_utf8_feed(&v, data, len) == WS_UTF8_COMPLETE;
}

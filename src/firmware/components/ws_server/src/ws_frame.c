/* ws_frame.c - RFC 6455 section 5.2 framing. */
#include "ws_frame.h"

int ws_frame_parse_header(const uint8_t *buf, size_t len, ws_frame_header_t *out)
{
    if (len < 2) {
        return WS_FRAME_INCOMPLETE;
    }
    uint8_t b0 = buf[0], b1 = buf[1];
    out->fin = (b0 & 0x80u) != 0;
    out->rsv = (uint8_t)((b0 >> 4) & 0x7u);
    out->opcode = (uint8_t)(b0 & 0x0Fu);
    out->masked = (b1 & 0x80u) != 0;
    uint8_t len7 = (uint8_t)(b1 & 0x7Fu);

    /* 5.2: RSV bits MUST be 0 unless an extension defines them; we negotiate none. */
    if (out->rsv != 0) {
        return WS_FRAME_PROTOCOL_ERROR;
    }
    switch (out->opcode) {
    case WS_OPCODE_CONTINUATION:
    case WS_OPCODE_TEXT:
    case WS_OPCODE_BINARY:
    case WS_OPCODE_CLOSE:
    case WS_OPCODE_PING:
    case WS_OPCODE_PONG:
        break;
    default: /* 5.2: reserved opcodes fail the connection */
        return WS_FRAME_PROTOCOL_ERROR;
    }
    /* 5.5: control frames are never fragmented and carry at most 125 bytes (so they use the 7-bit length). */
    if (ws_frame_is_control(out->opcode) && (!out->fin || len7 > WS_FRAME_MAX_CONTROL_PAYLOAD)) {
        return WS_FRAME_PROTOCOL_ERROR;
    }
    /* 5.1: a server MUST close the connection on an unmasked client frame. */
    if (!out->masked) {
        return WS_FRAME_PROTOCOL_ERROR;
    }
    size_t need = 2u + (len7 == 126 ? 2u : len7 == 127 ? 8u : 0u) + 4u;
    if (len < need) {
        return WS_FRAME_INCOMPLETE;
    }
    size_t pos = 2;
    if (len7 == 126) {
        out->payload_len = ((uint64_t)buf[2] << 8) | buf[3];
        pos = 4;
    } else if (len7 == 127) {
        uint64_t v = 0;
        for (unsigned i = 0; i < 8; i++) {
            v = (v << 8) | buf[2 + i];
        }
        /* 5.2: the most significant bit MUST be 0. */
        if ((v >> 63) != 0) {
            return WS_FRAME_PROTOCOL_ERROR;
        }
        out->payload_len = v;
        pos = 10;
    } else {
        out->payload_len = len7;
    }
    for (unsigned i = 0; i < 4; i++) {
        out->mask[i] = buf[pos + i];
    }
    out->header_len = (uint8_t)need;
    return (int)need;
}

size_t ws_frame_header_size(uint64_t len, bool masked)
{
    size_t n = len < 126 ? 2u : len <= 0xFFFFu ? 4u : 10u;
    return n + (masked ? 4u : 0u);
}

size_t ws_frame_write_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t len, const uint8_t *mask)
{
    size_t pos = 0;
    out[pos++] = (uint8_t)((fin ? 0x80u : 0u) | (opcode & 0x0Fu));
    uint8_t mask_bit = mask != NULL ? 0x80u : 0u;
    /* 5.2: the minimal number of bytes MUST be used to encode the length. */
    if (len < 126) {
        out[pos++] = (uint8_t)(mask_bit | (uint8_t)len);
    } else if (len <= 0xFFFFu) {
        out[pos++] = (uint8_t)(mask_bit | 126u);
        out[pos++] = (uint8_t)(len >> 8);
        out[pos++] = (uint8_t)len;
    } else {
        out[pos++] = (uint8_t)(mask_bit | 127u);
        for (unsigned i = 0; i < 8; i++) {
            out[pos++] = (uint8_t)(len >> (56u - 8u * i));
        }
    }
    if (mask != NULL) {
        for (unsigned i = 0; i < 4; i++) {
            out[pos++] = mask[i];
        }
    }
    return pos;
}

void ws_frame_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    unsigned phase = (unsigned)(offset & 3u);
    for (size_t i = 0; i < len; i++) {
        data[i] ^= mask[phase];
        phase = (phase + 1u) & 3u;
    }
}

bool ws_frame_close_code_valid(uint16_t code)
{
    if (code >= 3000 && code <= 4999) {
        return true;
    }
    switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
        return true;
    default:
        return false;
    }
}

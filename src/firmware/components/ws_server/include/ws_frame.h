/*
 * ws_frame.h - RFC 6455 section 5.2 base framing: header parsing, header writing, masking.
 *
 * Pure functions over caller-owned buffers; no I/O, no allocation. The header is at most 14 bytes
 * (2 + 8 extended length + 4 mask). The parser is written for the server role: every client frame must be
 * masked (section 5.1).
 */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_FRAME_MAX_HEADER 14u
#define WS_FRAME_MAX_CONTROL_PAYLOAD 125u /* section 5.5 */

/* Opcodes, section 5.2 / 11.8. */
#define WS_OPCODE_CONTINUATION 0x0
#define WS_OPCODE_TEXT 0x1
#define WS_OPCODE_BINARY 0x2
#define WS_OPCODE_CLOSE 0x8
#define WS_OPCODE_PING 0x9
#define WS_OPCODE_PONG 0xA

/* Close status codes, section 7.4.1. */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_UNSUPPORTED_DATA 1003
#define WS_CLOSE_NO_STATUS 1005 /* never sent: "no code in the close frame" */
#define WS_CLOSE_ABNORMAL 1006  /* never sent: "TCP closed without a close frame" */
#define WS_CLOSE_INVALID_PAYLOAD 1007
#define WS_CLOSE_POLICY_VIOLATION 1008
#define WS_CLOSE_MESSAGE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL_ERROR 1011

typedef struct {
    bool fin;
    uint8_t rsv;    /* RSV1..3 as bits 2..0 */
    uint8_t opcode; /* 4 bits */
    bool masked;
    uint8_t mask[4];
    uint64_t payload_len;
    uint8_t header_len; /* bytes the header occupied */
} ws_frame_header_t;

/* Result of ws_frame_parse_header: > 0 is the header length. */
#define WS_FRAME_INCOMPLETE 0      /* more bytes needed; nothing consumed */
#define WS_FRAME_PROTOCOL_ERROR -1 /* close with 1002 (RFC 6455 section 7.4.1) */

/*
 * Parses a client-to-server frame header from the first len bytes of buf.
 * Returns the header length (2..14), WS_FRAME_INCOMPLETE, or WS_FRAME_PROTOCOL_ERROR for: RSV bits set with no
 * extension negotiated (5.2), a reserved opcode 3-7/B-F (5.2), a control frame that is fragmented or longer than
 * 125 bytes (5.5), an unmasked frame (5.1), a 64-bit length with the top bit set (5.2).
 * Errors that need only the first two bytes are reported as soon as those two bytes are there.
 */
int ws_frame_parse_header(const uint8_t *buf, size_t len, ws_frame_header_t *out);

/* True for opcodes 0x8-0xF (section 5.5). */
static inline bool ws_frame_is_control(uint8_t opcode) { return (opcode & 0x8u) != 0; }

/* Header size for a payload of len bytes, masked (client) or not (server). */
size_t ws_frame_header_size(uint64_t len, bool masked);

/*
 * Writes a frame header into out (at least WS_FRAME_MAX_HEADER bytes). mask may be NULL (server frames are
 * never masked, section 5.1). Returns the number of bytes written.
 */
size_t ws_frame_write_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t len, const uint8_t *mask);

/*
 * XORs data in place with the masking key (section 5.3). offset is the position of data[0] inside the frame's
 * payload, so a payload can be unmasked piece by piece as it arrives.
 */
void ws_frame_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/*
 * True if code may appear in a close frame received from a peer: 1000-1003 and 1007-1011 (section 7.4.1) and
 * 3000-4999 (7.4.2). 1004-1006 and 1015 must never be sent; the rest of 1000-2999 is reserved for the protocol,
 * which includes 1012-1014 (registered with IANA after RFC 6455, and treated as invalid by the Autobahn suite).
 */
bool ws_frame_close_code_valid(uint16_t code);

#ifdef __cplusplus
}
#endif

#endif /* WS_FRAME_H */

/*
 * ws_reader.h - incremental RFC 6455 receiver: bytes in, messages and control frames out.
 *
 * Feed it whatever recv() returned, in any split: one byte at a time, several frames in one chunk, a frame
 * header in one chunk and its payload over many. No I/O. It
 *  - reassembles fragmented messages (section 5.4), allowing control frames between fragments;
 *  - refuses a message as soon as the announced lengths would exceed max_message (close 1009), from the frame
 *    header alone, before any of it is buffered;
 *  - validates text incrementally across fragments and TCP segments and fails on the first byte that cannot be
 *    UTF-8, even in a fragment whose message is not finished (section 8.1, close 1007: "fail fast");
 *  - unmasks payload in place in its own message buffer (section 5.3);
 *  - reports every protocol error as close code 1002 (section 7.4.1), including a continuation with nothing to
 *    continue and a new data frame inside a fragmented message (section 5.4).
 *
 * Memory (section 10.4): nothing is allocated before the first payload byte arrives. A frame whose announced end
 * fits max_message and the shared ws_budget_t at that moment gets a buffer for all of it at once (a final frame
 * exactly its size plus the NUL, so a message is held in one allocation of its own size and never copied while
 * it grows); otherwise memory follows the bytes that arrived, never the announced length: the buffer starts at
 * WS_READER_MIN_CAP bytes and doubles as payload arrives, up to max_message + 1 (the + 1 is the NUL after the
 * message), so a peer that announces more than the budget holds and trickles costs what it sent. The buffer's
 * size is charged to the budget; a growth the budget refuses fails the connection with 1008 (policy violation),
 * a failed malloc with 1011. When a message is delivered its buffer is shrunk to len + 1 (when larger) and its
 * charge released: the caller owns it from then on. The reader struct itself holds the control payload (<= 125
 * bytes), see sizeof(ws_reader_t).
 */
#ifndef WS_READER_H
#define WS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_budget.h"
#include "ws_frame.h"
#include "ws_utf8.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WS_READ_NEED_MORE = 0, /* all input consumed, no event yet */
    WS_READ_MESSAGE,       /* a complete text/binary message: ownership of data passes to the caller */
    WS_READ_PING,          /* data/len: ping payload, valid until the next ws_reader_feed */
    WS_READ_PONG,          /* data/len: pong payload, valid until the next ws_reader_feed */
    WS_READ_CLOSE,         /* close_code (1005 if absent), data/len: the UTF-8 reason; the reader stops */
    WS_READ_FAIL           /* fail the connection with close_code (1002, 1007, 1008, 1009, 1011); the reader stops */
} ws_read_event_type_t;

typedef struct {
    ws_read_event_type_t type;
    uint8_t opcode;      /* WS_OPCODE_TEXT or WS_OPCODE_BINARY for WS_READ_MESSAGE */
    uint8_t *data;       /* see the event types */
    size_t len;          /* payload length; for messages data[len] is an extra NUL so text prints as a C string */
    uint16_t close_code; /* for WS_READ_CLOSE and WS_READ_FAIL */
} ws_read_event_t;

#define WS_READER_MIN_CAP WS_BUDGET_RESERVE /* first size of a message buffer */

typedef struct {
    uint32_t max_message; /* largest reassembled message accepted */
    ws_budget_t *budget;  /* shared by the readers of one server; NULL = no budget */
    bool done;            /* a close frame was read or the connection failed: no more input is parsed */
    uint8_t hdr[WS_FRAME_MAX_HEADER];
    uint8_t hdr_len;
    bool in_payload;
    ws_frame_header_t frame;
    uint64_t frame_pos; /* payload bytes of the current frame already read */
    /* data message being reassembled */
    bool in_message;
    uint8_t msg_opcode;
    uint8_t *msg;
    size_t msg_len; /* payload bytes of the message's completed frames */
    size_t msg_cap; /* bytes allocated at msg, charged to budget */
    ws_utf8_t utf8;
    /* control frame payload */
    uint8_t ctrl[WS_FRAME_MAX_CONTROL_PAYLOAD];
} ws_reader_t;

/*
 * Prepares a reader; max_message is the largest message accepted (> 0), budget the shared receive budget its
 * message buffers are charged to (NULL: none). Nothing is allocated until payload arrives.
 */
void ws_reader_init(ws_reader_t *r, uint32_t max_message, ws_budget_t *budget);

/*
 * Consumes input until it completes one event or runs out. Returns the number of bytes consumed; call again
 * with the rest when ev->type != WS_READ_NEED_MORE. After WS_READ_CLOSE or WS_READ_FAIL it consumes everything
 * and reports WS_READ_NEED_MORE.
 */
size_t ws_reader_feed(ws_reader_t *r, const uint8_t *in, size_t len, ws_read_event_t *ev);

/* Frees a partly reassembled message and releases its charge. The reader may be re-initialised afterwards. */
void ws_reader_free(ws_reader_t *r);

#ifdef __cplusplus
}
#endif

#endif /* WS_READER_H */

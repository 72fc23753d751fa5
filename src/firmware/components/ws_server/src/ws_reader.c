/* ws_reader.c - incremental RFC 6455 receiver (sections 5.2-5.5, 7.4, 8.1, 10.4). */
#include "ws_reader.h"

#include <stdlib.h>
#include <string.h>

void ws_reader_init(ws_reader_t *r, uint32_t max_message, ws_budget_t *budget)
{
    memset(r, 0, sizeof(*r));
    r->max_message = max_message;
    r->budget = budget;
    ws_utf8_init(&r->utf8);
}

void ws_reader_free(ws_reader_t *r)
{
    free(r->msg);
    ws_budget_release(r->budget, r->msg_cap);
    r->msg = NULL;
    r->msg_len = 0;
    r->msg_cap = 0;
    r->in_message = false;
}

/*
 * The size doubling from the current buffer (WS_READER_MIN_CAP at first) reaches for need bytes, never beyond
 * max_message + 1 (start_frame refused anything longer).
 */
static size_t doubled(const ws_reader_t *r, size_t need)
{
    size_t limit = (size_t)r->max_message + 1u;
    size_t cap = r->msg_cap < WS_READER_MIN_CAP ? WS_READER_MIN_CAP : r->msg_cap;
    while (cap < need && cap < limit) {
        cap = cap > limit / 2u ? limit : cap * 2u;
    }
    return cap > limit ? limit : cap;
}

/*
 * Makes the message buffer hold at least need bytes (payload so far plus the NUL) while a data frame arrives;
 * frame_end is where the current frame's payload announces to end, plus the NUL.
 *
 * When what the frame announces fits the message limit (start_frame checked it) and the shared budget, the buffer
 * is sized for the whole frame at once: exactly its end plus the NUL for a final frame, so a message costs one
 * allocation of its own size and no copy while it grows; for a fragment with more to come, at least double the
 * buffer, so a message in many small fragments is not copied once per fragment.
 *
 * Otherwise memory follows the bytes that arrived (section 10.4: a peer that announces more than the budget holds
 * and trickles costs only what it sent): the buffer starts at WS_READER_MIN_CAP and doubles as payload arrives.
 *
 * Returns 0, or the close code: 1008 when the shared budget refuses (only this client is failed and its memory
 * released), 1011 when malloc fails.
 */
static uint16_t reserve(ws_reader_t *r, size_t need, size_t frame_end)
{
    if (need <= r->msg_cap) {
        return 0;
    }
    size_t cap = doubled(r, need);
    size_t whole = r->frame.fin ? frame_end : doubled(r, frame_end);
    if (whole >= need && ws_budget_fits(r->budget, whole - r->msg_cap, whole)) {
        cap = whole;
    }
    if (cap < need) {
        return WS_CLOSE_MESSAGE_TOO_BIG; /* not reached: start_frame checked the announced lengths */
    }
    size_t more = cap - r->msg_cap;
    if (ws_budget_take(r->budget, more, cap) != WS_OK) {
        return WS_CLOSE_POLICY_VIOLATION;
    }
    uint8_t *grown = (uint8_t *)realloc(r->msg, cap);
    if (grown == NULL) {
        ws_budget_release(r->budget, more);
        return WS_CLOSE_INTERNAL_ERROR;
    }
    r->msg = grown;
    r->msg_cap = cap;
    return 0;
}

static size_t fail(ws_reader_t *r, ws_read_event_t *ev, uint16_t code, size_t consumed)
{
    ws_reader_free(r);
    r->done = true;
    ev->type = WS_READ_FAIL;
    ev->close_code = code;
    return consumed;
}

/* Called once the whole header is in r->frame: checks it against the message state and prepares storage. */
static int start_frame(ws_reader_t *r, uint16_t *code)
{
    const ws_frame_header_t *f = &r->frame;
    r->frame_pos = 0;
    if (ws_frame_is_control(f->opcode)) {
        return 0; /* length <= 125 checked by the header parser; payload goes to r->ctrl */
    }
    if (f->opcode == WS_OPCODE_CONTINUATION) {
        if (!r->in_message) { /* 5.4: nothing to continue */
            *code = WS_CLOSE_PROTOCOL_ERROR;
            return -1;
        }
    } else if (r->in_message) { /* 5.4: a new data frame before the previous message finished */
        *code = WS_CLOSE_PROTOCOL_ERROR;
        return -1;
    }
    /* Decide on the announced length before buffering anything (7.4.1: 1009); allocate nothing for it. */
    if (f->payload_len > (uint64_t)r->max_message - r->msg_len) {
        *code = WS_CLOSE_MESSAGE_TOO_BIG;
        return -1;
    }
    if (!r->in_message) {
        r->in_message = true;
        r->msg_opcode = f->opcode;
        r->msg_len = 0;
        ws_utf8_init(&r->utf8);
    }
    return 0;
}

/* Called when the current frame's payload is complete; fills ev if the frame produced an event. */
static int finish_frame(ws_reader_t *r, ws_read_event_t *ev)
{
    const ws_frame_header_t *f = &r->frame;
    size_t n = (size_t)f->payload_len;
    r->in_payload = false;
    r->hdr_len = 0;
    switch (f->opcode) {
    case WS_OPCODE_PING:
        ev->type = WS_READ_PING;
        ev->data = r->ctrl;
        ev->len = n;
        return 0;
    case WS_OPCODE_PONG:
        ev->type = WS_READ_PONG;
        ev->data = r->ctrl;
        ev->len = n;
        return 0;
    case WS_OPCODE_CLOSE:
        /* 5.5.1: an optional 2-byte code, then an optional UTF-8 reason. A 1-byte body cannot be valid. */
        if (n == 1) {
            ev->close_code = WS_CLOSE_PROTOCOL_ERROR;
            return -1;
        }
        ev->type = WS_READ_CLOSE;
        ev->close_code = WS_CLOSE_NO_STATUS;
        ev->data = r->ctrl;
        ev->len = 0;
        if (n >= 2) {
            uint16_t code = (uint16_t)((r->ctrl[0] << 8) | r->ctrl[1]);
            if (!ws_frame_close_code_valid(code)) {
                ev->close_code = WS_CLOSE_PROTOCOL_ERROR;
                return -1;
            }
            if (!ws_utf8_is_valid(r->ctrl + 2, n - 2)) {
                ev->close_code = WS_CLOSE_INVALID_PAYLOAD;
                return -1;
            }
            ev->close_code = code;
            ev->data = r->ctrl + 2;
            ev->len = n - 2;
        }
        ws_reader_free(r);
        r->done = true;
        return 0;
    default:
        break;
    }
    r->msg_len += n;
    if (!f->fin) {
        return 0; /* more fragments follow */
    }
    if (r->msg_opcode == WS_OPCODE_TEXT && r->utf8.need != 0) {
        ev->close_code = WS_CLOSE_INVALID_PAYLOAD; /* text ended inside a code point */
        return -1;
    }
    uint16_t code = reserve(r, r->msg_len + 1u, r->msg_len + 1u); /* an empty message still needs its NUL */
    if (code != 0) {
        ev->close_code = code;
        return -1;
    }
    r->msg[r->msg_len] = 0;
    if (r->msg_cap > r->msg_len + 1u) {
        /* Hand over no more than the message: it may wait in the application's queue for a while. */
        uint8_t *fit = (uint8_t *)realloc(r->msg, r->msg_len + 1u);
        if (fit != NULL) {
            r->msg = fit;
        }
    }
    ev->type = WS_READ_MESSAGE;
    ev->opcode = r->msg_opcode;
    ev->data = r->msg;
    ev->len = r->msg_len;
    ws_budget_release(r->budget, r->msg_cap); /* the caller owns (and accounts for) it now */
    r->msg = NULL;
    r->msg_len = 0;
    r->msg_cap = 0;
    r->in_message = false;
    return 0;
}

size_t ws_reader_feed(ws_reader_t *r, const uint8_t *in, size_t len, ws_read_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = WS_READ_NEED_MORE;
    size_t pos = 0;
    if (r->done) {
        return len;
    }
    while (pos < len || (r->in_payload && r->frame_pos == r->frame.payload_len)) {
        if (!r->in_payload) {
            /* Accumulate header bytes one at a time; a header is at most 14 bytes. */
            r->hdr[r->hdr_len++] = in[pos++];
            int h = ws_frame_parse_header(r->hdr, r->hdr_len, &r->frame);
            if (h == WS_FRAME_PROTOCOL_ERROR) {
                return fail(r, ev, WS_CLOSE_PROTOCOL_ERROR, pos);
            }
            if (h == WS_FRAME_INCOMPLETE) {
                continue;
            }
            uint16_t code = 0;
            if (start_frame(r, &code) != 0) {
                return fail(r, ev, code, pos);
            }
            r->in_payload = true;
        }
        /* Copy payload bytes straight into their final place, then unmask there. */
        uint64_t left = r->frame.payload_len - r->frame_pos;
        size_t take = len - pos;
        if ((uint64_t)take > left) {
            take = (size_t)left;
        }
        if (take > 0) {
            uint8_t *dst = r->ctrl + r->frame_pos;
            if (!ws_frame_is_control(r->frame.opcode)) {
                size_t at = r->msg_len + (size_t)r->frame_pos;
                uint16_t code = reserve(r, at + take + 1u, r->msg_len + (size_t)r->frame.payload_len + 1u);
                if (code != 0) {
                    return fail(r, ev, code, pos);
                }
                dst = r->msg + at;
            }
            memcpy(dst, in + pos, take);
            ws_frame_unmask(dst, take, r->frame.mask, r->frame_pos);
            /* 8.1: fail on the first byte that cannot be UTF-8, whether or not the message or frame is complete. */
            if (!ws_frame_is_control(r->frame.opcode) && r->msg_opcode == WS_OPCODE_TEXT &&
                ws_utf8_feed(&r->utf8, dst, take) == WS_UTF8_INVALID) {
                return fail(r, ev, WS_CLOSE_INVALID_PAYLOAD, pos + take);
            }
            r->frame_pos += take;
            pos += take;
        }
        if (r->frame_pos == r->frame.payload_len) {
            if (finish_frame(r, ev) != 0) {
                return fail(r, ev, ev->close_code, pos);
            }
            if (ev->type != WS_READ_NEED_MORE) {
                return pos;
            }
        }
    }
    return pos;
}

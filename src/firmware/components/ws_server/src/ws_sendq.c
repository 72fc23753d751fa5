/* ws_sendq.c - reference-counted frames and the bounded per-client send ring. */
#include "ws_sendq.h"

#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"

static ws_buf_t *buf_alloc(size_t head_len, size_t len, uint8_t *payload)
{
    ws_buf_t *b = (ws_buf_t *)malloc(sizeof(ws_buf_t) + head_len);
    if (b != NULL) {
        b->refs = 1;
        b->len = len;
        b->head_len = head_len;
        b->payload = payload;
    }
    return b;
}

ws_buf_t *ws_buf_new_frame(uint8_t opcode, const uint8_t *payload, size_t len)
{
    if (payload == NULL && len > 0) {
        return NULL;
    }
    size_t hdr = ws_frame_header_size(len, false);
    if (len > SIZE_MAX - sizeof(ws_buf_t) - hdr) {
        return NULL;
    }
    ws_buf_t *b = buf_alloc(hdr + len, hdr + len, NULL);
    if (b == NULL) {
        return NULL;
    }
    (void)ws_frame_write_header(b->data, true, opcode, len, NULL);
    if (len > 0) {
        memcpy(b->data + hdr, payload, len);
    }
    return b;
}

ws_buf_t *ws_buf_new_frame_owned(uint8_t opcode, uint8_t *payload, size_t len)
{
    if (payload == NULL && len > 0) {
        return NULL;
    }
    size_t hdr = ws_frame_header_size(len, false);
    if (len > SIZE_MAX - hdr) {
        return NULL;
    }
    ws_buf_t *b = buf_alloc(hdr, hdr + len, payload);
    if (b != NULL) {
        (void)ws_frame_write_header(b->data, true, opcode, len, NULL);
    }
    return b;
}

uint8_t *ws_buf_take_payload(ws_buf_t *buf)
{
    if (buf == NULL || buf->refs != 1 || buf->payload == NULL) {
        return NULL;
    }
    uint8_t *payload = buf->payload;
    free(buf);
    return payload;
}

ws_buf_t *ws_buf_new_raw(const void *data, size_t len)
{
    if (len > SIZE_MAX - sizeof(ws_buf_t)) {
        return NULL;
    }
    ws_buf_t *b = buf_alloc(len, len, NULL);
    if (b != NULL && len > 0) {
        memcpy(b->data, data, len);
    }
    return b;
}

void ws_buf_unref(ws_buf_t *buf)
{
    if (buf != NULL && --buf->refs == 0) {
        free(buf->payload);
        free(buf);
    }
}

void ws_sendq_init(ws_sendq_t *q, uint32_t cap)
{
    memset(q, 0, sizeof(*q));
    if (cap < 1) {
        cap = 1;
    }
    if (cap > WS_SENDQ_MAX_LEN - 1u) {
        cap = WS_SENDQ_MAX_LEN - 1u; /* one slot stays reserved for ws_sendq_push_force */
    }
    q->cap = (uint8_t)cap;
}

static ws_err_t push(ws_sendq_t *q, ws_buf_t *buf, uint32_t limit)
{
    if (buf == NULL) {
        return WS_ERR_ARG;
    }
    if (q->count >= limit) {
        q->full_events++;
        return WS_ERR_FULL;
    }
    q->items[(q->head + q->count) % WS_SENDQ_MAX_LEN] = buf;
    q->count++;
    buf->refs++;
    return WS_OK;
}

ws_err_t ws_sendq_push(ws_sendq_t *q, ws_buf_t *buf) { return push(q, buf, q->cap); }

ws_err_t ws_sendq_push_force(ws_sendq_t *q, ws_buf_t *buf) { return push(q, buf, (uint32_t)q->cap + 1u); }

const uint8_t *ws_sendq_peek(const ws_sendq_t *q, size_t *len)
{
    if (q->count == 0) {
        *len = 0;
        return NULL;
    }
    const ws_buf_t *b = q->items[q->head];
    if (q->sent < b->head_len) {
        *len = b->head_len - q->sent;
        return b->data + q->sent;
    }
    *len = b->len - q->sent; /* the owned payload, after the header */
    return b->payload + (q->sent - b->head_len);
}

void ws_sendq_advance(ws_sendq_t *q, size_t n)
{
    if (q->count == 0) {
        return;
    }
    ws_buf_t *b = q->items[q->head];
    q->sent += n;
    if (q->sent >= b->len) {
        ws_buf_unref(b);
        q->items[q->head] = NULL;
        q->head = (uint8_t)((q->head + 1u) % WS_SENDQ_MAX_LEN);
        q->count--;
        q->sent = 0;
    }
}

void ws_sendq_drop_unstarted(ws_sendq_t *q)
{
    uint8_t keep = (q->count > 0 && q->sent > 0) ? 1u : 0u;
    while (q->count > keep) {
        uint8_t last = (uint8_t)((q->head + q->count - 1u) % WS_SENDQ_MAX_LEN);
        ws_buf_unref(q->items[last]);
        q->items[last] = NULL;
        q->count--;
    }
}

void ws_sendq_clear(ws_sendq_t *q)
{
    while (q->count > 0) {
        ws_buf_unref(q->items[q->head]);
        q->items[q->head] = NULL;
        q->head = (uint8_t)((q->head + 1u) % WS_SENDQ_MAX_LEN);
        q->count--;
    }
    q->sent = 0;
}

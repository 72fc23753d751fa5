/*
 * ws_sendq.h - outgoing data: reference-counted frame buffers and the bounded per-client send queue.
 *
 * A frame is encoded once into a ws_buf_t (header + payload); a broadcast puts the same buffer into every
 * client's queue and each queue holds one reference. There is no shared static send buffer: each ws_buf_t is
 * allocated for its frame and freed when its last reference is dropped. References are only touched by the
 * server task, so they need no atomics.
 *
 * A frame's payload may also stay where it is (ws_buf_new_frame_owned): the buffer then holds only the header and
 * points at a malloc'd payload it owns, so a message echoed from the buffer it was received into is not copied
 * (the header and the payload leave in two writes, as ESP-IDF's httpd_ws sends them).
 *
 * The queue is a fixed ring of at most WS_SENDQ_MAX_LEN pointers. When a client does not read fast enough
 * the ring fills and ws_sendq_push returns WS_ERR_FULL: the server then closes that client with 1008 and
 * counts it (the slow-client policy), instead of growing memory without bound.
 */
#ifndef WS_SENDQ_H
#define WS_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_SENDQ_MAX_LEN 32u

typedef struct {
    uint32_t refs;
    size_t len;       /* bytes on the wire: head_len bytes of data[], then len - head_len bytes of payload */
    size_t head_len;  /* bytes in data[]: a whole frame or HTTP response, or only the header of an owned payload */
    uint8_t *payload; /* NULL, or the payload of ws_buf_new_frame_owned (malloc'd, freed with the buffer) */
    uint8_t data[];
} ws_buf_t;

/* Allocates a buffer holding an unmasked server frame (FIN set), payload copied. Returns NULL if out of memory. */
ws_buf_t *ws_buf_new_frame(uint8_t opcode, const uint8_t *payload, size_t len);
/*
 * Allocates a buffer for an unmasked server frame (FIN set) whose payload stays where it is: the buffer holds the
 * header, takes ownership of payload (len bytes from malloc; may be NULL when len is 0) and frees it with the last
 * reference. Returns NULL if out of memory; payload is then still the caller's.
 */
ws_buf_t *ws_buf_new_frame_owned(uint8_t opcode, uint8_t *payload, size_t len);
/*
 * Takes the payload back from a buffer of ws_buf_new_frame_owned that nobody else holds any more (refs == 1: it
 * has been written, or dropped, wherever it was queued): frees the buffer and returns the payload, now the
 * caller's. Returns NULL and changes nothing if the buffer is still shared or holds no owned payload.
 */
uint8_t *ws_buf_take_payload(ws_buf_t *buf);
/* Allocates a buffer holding len raw bytes (HTTP responses). Returns NULL if out of memory. */
ws_buf_t *ws_buf_new_raw(const void *data, size_t len);
/* Drops one reference; frees the buffer (and an owned payload) at zero. NULL is ignored. */
void ws_buf_unref(ws_buf_t *buf);

typedef struct {
    ws_buf_t *items[WS_SENDQ_MAX_LEN];
    uint8_t cap;          /* configured length, 1..WS_SENDQ_MAX_LEN */
    uint8_t head;         /* index of the oldest item */
    uint8_t count;        /* items queued */
    size_t sent;          /* bytes of items[head] already written to the socket */
    uint32_t full_events; /* pushes refused because the queue was full */
} ws_sendq_t;

/* Prepares an empty queue of cap entries (clamped to 1..WS_SENDQ_MAX_LEN). */
void ws_sendq_init(ws_sendq_t *q, uint32_t cap);
/* Appends buf and takes a reference. Returns WS_OK, WS_ERR_FULL (counted in full_events), WS_ERR_ARG. */
ws_err_t ws_sendq_push(ws_sendq_t *q, ws_buf_t *buf);
/* Like ws_sendq_push but may use one slot beyond cap (for the final close frame). */
ws_err_t ws_sendq_push_force(ws_sendq_t *q, ws_buf_t *buf);
/* The unsent bytes of the oldest item's current part (header or owned payload), or NULL/0 if empty. */
const uint8_t *ws_sendq_peek(const ws_sendq_t *q, size_t *len);
/* Marks n bytes of the oldest item as written; pops (and unrefs) it when complete. */
void ws_sendq_advance(ws_sendq_t *q, size_t n);
/* Drops every item not yet started; keeps a partly written head so the byte stream stays a valid frame sequence. */
void ws_sendq_drop_unstarted(ws_sendq_t *q);
/* Drops everything. */
void ws_sendq_clear(ws_sendq_t *q);
static inline bool ws_sendq_empty(const ws_sendq_t *q) { return q->count == 0; }

#ifdef __cplusplus
}
#endif

#endif /* WS_SENDQ_H */

/*
 * libFuzzer target: one connection's whole state machine (handshake, frames, pings, close, timers, send queue)
 * driven by the input. Byte 0 picks the chunk size, byte 1 the send-queue length and whether the table is full;
 * the rest is what the "peer" sends. Between chunks the clock advances and part of the output is "written".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ws_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t chunk = (size_t)data[0] + 1u;
    ws_conn_limits_t lim = {.max_message = 2048,
                            .send_queue_len = (uint32_t)(data[1] & 7u) + 1u,
                            .ping_interval_ms = 50,
                            .close_timeout_ms = 100,
                            .handshake_timeout_ms = 100,
                            .retry_after_s = 1};
    bool can_open = (data[1] & 0x80u) == 0;
    data += 2;
    size -= 2;
    ws_conn_t c = {0};
    ws_stats_t stats = {0};
    uint32_t now = 0;
    if (ws_conn_start(&c, 3, &lim, now) != WS_OK) {
        return 0;
    }
    size_t pos = 0;
    while (pos < size && c.state != WS_CONN_FREE) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t off = 0;
        while (off < n) {
            ws_read_event_t msg;
            size_t used = ws_conn_input(&c, &lim, &stats, data + pos + off, n - off, now, can_open, &msg);
            if (used == 0) {
                abort(); /* no progress */
            }
            off += used;
            if (msg.type == WS_READ_MESSAGE) {
                free(msg.data);
            }
        }
        pos += n;
        now += 17;
        size_t len;
        if (ws_sendq_peek(&c.sendq, &len) != NULL) {
            ws_sendq_advance(&c.sendq, len / 2u + 1u); /* a socket that takes about half */
        }
        if (ws_conn_tick(&c, &lim, &stats, now)) {
            break;
        }
    }
    ws_conn_release(&c);
    return 0;
}

/*
 * libFuzzer target: one connection's whole state machine (handshake, Origin rule, frames, pings, close, answers
 * before the close, the receive budget, timers, send queue) driven by the input. Byte 0 picks the chunk size; byte 1
 * the send-queue length (bits 0-2), echoing each message from its own buffer as the server's echo mode does (bit 3:
 * frames whose payload the buffer owns, taken back once written), a receive budget smaller than the maximum message
 * (bit 4), the application answering each message late (bit 5: the close waits in FINISHING), the Origin rule with an
 * allow-list (bit 6) and whether the table is full (bit 7); the rest is what the "peer" sends. Between chunks the
 * clock advances and part of the output is "written".
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
    ws_budget_t budget;
    ws_budget_init(&budget, 1500);
    bool answers = (data[1] & 0x20u) != 0;
    const ws_origin_policy_t origins = {.allow_list = "http://a.example, https://b.example:8443",
                                        .local_name = "x.local"};
    ws_conn_limits_t lim = {.max_message = 2048,
                            .send_queue_len = (uint32_t)(data[1] & 7u) + 1u,
                            .ping_interval_ms = 50,
                            .close_timeout_ms = 100,
                            .handshake_timeout_ms = 100,
                            .retry_after_s = 1,
                            .rx_budget = (data[1] & 0x10u) != 0 ? &budget : NULL,
                            .origins = (data[1] & 0x40u) != 0 ? &origins : NULL,
                            .answer_timeout_ms = answers ? 60u : 0u};
    bool can_open = (data[1] & 0x80u) == 0;
    bool echo = (data[1] & 0x08u) != 0;
    ws_buf_t *echoing = NULL; /* the latest echo, whose payload comes back once it is written */
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
            if (msg.type == WS_READ_MESSAGE && echo) {
                ws_buf_t *b = ws_buf_new_frame_owned(msg.opcode, msg.data, msg.len);
                if (b == NULL) {
                    free(msg.data);
                    continue;
                }
                ws_conn_send(&c, &lim, &stats, b, now);
                ws_buf_unref(echoing);
                echoing = b;
            } else if (msg.type == WS_READ_MESSAGE) {
                free(msg.data);
                c.answer_pending = answers; /* as the server does when the application reads with ws_recv */
            }
        }
        pos += n;
        now += 17;
        if (c.state == WS_CONN_FINISHING && (pos / chunk) % 3u == 0u) {
            ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_TEXT, (const uint8_t *)"answer", 6);
            ws_conn_send(&c, &lim, &stats, b, now);
            ws_buf_unref(b);
            ws_conn_answered(&c, &lim, now);
        }
        size_t len;
        if (ws_sendq_peek(&c.sendq, &len) != NULL) {
            ws_sendq_advance(&c.sendq, len / 2u + 1u); /* a socket that takes about half */
        }
        uint8_t *written = ws_buf_take_payload(echoing); /* NULL while still queued */
        if (written != NULL) {
            free(written);
            echoing = NULL;
        }
        if (ws_conn_tick(&c, &lim, &stats, now)) {
            break;
        }
        if (budget.used > budget.limit + WS_BUDGET_RESERVE) {
            abort();
        }
    }
    ws_conn_release(&c);
    ws_buf_unref(echoing);
    if (budget.used != 0) {
        abort(); /* every charge was given back */
    }
    return 0;
}

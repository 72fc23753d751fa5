/* ws_conn.c - per-connection state machine (RFC 6455 sections 4.2, 5.5, 7, 10.2) and the connection table. */
#include "ws_conn.h"

#include <stdlib.h>
#include <string.h>

#include "ws_http.h"

ws_err_t ws_conn_start(ws_conn_t *c, int sock, const ws_conn_limits_t *lim, uint32_t now)
{
    uint16_t index = c->index;
    memset(c, 0, sizeof(*c));
    c->index = index;
    c->http = (char *)malloc(WS_CONN_MAX_REQUEST);
    if (c->http == NULL) {
        return WS_ERR_NO_MEM;
    }
    c->sock = sock;
    c->state = WS_CONN_HANDSHAKE;
    c->deadline_ms = now + lim->handshake_timeout_ms;
    c->last_rx_ms = now;
    ws_reader_init(&c->reader, lim->max_message, lim->rx_budget);
    ws_sendq_init(&c->sendq, lim->send_queue_len);
    return WS_OK;
}

static void linger(ws_conn_t *c, const ws_conn_limits_t *lim, uint32_t now)
{
    c->state = WS_CONN_LINGER;
    c->deadline_ms = now + lim->close_timeout_ms;
    ws_reader_free(&c->reader);
}

/*
 * Queues a close frame carrying code (or no body for 1005, which must never be sent, section 7.4.1). With
 * drop_unsent, frames not yet started are dropped first (a server-initiated close: shutdown, slow client);
 * otherwise the close goes behind them (answers the application queued before the peer's close or error).
 */
static void queue_close_frame(ws_conn_t *c, uint16_t code, bool drop_unsent)
{
    uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_CLOSE, body, code == WS_CLOSE_NO_STATUS ? 0u : 2u);
    if (drop_unsent) {
        ws_sendq_drop_unstarted(&c->sendq);
    }
    if (b != NULL) {
        if (ws_sendq_push_force(&c->sendq, b) != WS_OK) {
            ws_sendq_drop_unstarted(&c->sendq); /* no room even for the close: it matters more */
            ws_sendq_push_force(&c->sendq, b);
        }
        ws_buf_unref(b);
    }
}

/* The peer's input is over (its close, or a failure) and the close frame we owe it is code. */
static void finish(ws_conn_t *c, const ws_conn_limits_t *lim, uint16_t code, uint32_t now)
{
    if (c->answer_pending && lim->answer_timeout_ms > 0) {
        /* 5.5.1: the close may wait until the application's answers to earlier messages are queued. */
        c->state = WS_CONN_FINISHING;
        c->close_code = code;
        c->deadline_ms = now + lim->answer_timeout_ms;
        ws_reader_free(&c->reader);
        return;
    }
    queue_close_frame(c, code, false);
    linger(c, lim, now); /* 7.1.1: the server closes the TCP connection first */
}

/* Answers the handshake with an HTTP error (body NULL: the standard one of ws_http_write_error) and lingers. */
static void http_answer(ws_conn_t *c, const ws_conn_limits_t *lim, int status, uint32_t retry_after_s, const char *body,
                        uint32_t now)
{
    char text[256];
    size_t n = body != NULL ? ws_http_write_reply(text, sizeof(text), status, retry_after_s, body)
                            : ws_http_write_error(text, sizeof(text), status, retry_after_s);
    ws_buf_t *b = ws_buf_new_raw(text, n);
    if (b != NULL) {
        ws_sendq_push_force(&c->sendq, b);
        ws_buf_unref(b);
    }
    free(c->http);
    c->http = NULL;
    linger(c, lim, now);
}

static void http_reply(ws_conn_t *c, const ws_conn_limits_t *lim, int status, uint32_t now)
{
    http_answer(c, lim, status, lim->retry_after_s, NULL, now);
}

/* Handshake bytes. Returns bytes consumed from in. */
static size_t handshake_input(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, const uint8_t *in,
                              size_t len, uint32_t now, bool can_open)
{
    size_t room = WS_CONN_MAX_REQUEST - c->http_len;
    size_t take = len < room ? len : room;
    memcpy(c->http + c->http_len, in, take);
    size_t before = c->http_len;
    c->http_len += take;
    ws_http_request_t req;
    int r = ws_http_parse_upgrade(c->http, c->http_len, &req);
    if (r == WS_HTTP_INCOMPLETE) {
        if (c->http_len == WS_CONN_MAX_REQUEST) {
            stats->rejected_bad++;
            http_reply(c, lim, 400, now);
            return len;
        }
        return take;
    }
    if (r == WS_HTTP_REJECT) {
        stats->rejected_bad++;
        http_reply(c, lim, req.status, now);
        return len;
    }
    /* 10.2: a page the Origin rule refuses gets 403 (4.2.2 allows it). A repeated Origin, which no user agent sends
     * (RFC 6454 7.3), reads as its values joined by commas (RFC 9110 5.3), which is no origin: rule 5 refuses it. */
    if (lim->origins != NULL &&
        (req.origin_count > 1 ||
         !ws_origin_accepted(ws_origin_check(lim->origins, req.origin, req.origin_len, req.host, req.host_len)))) {
        stats->rejected_origin++;
        http_reply(c, lim, 403, now);
        return len;
    }
    /* An endpoint's path: it decides (403, 400, 409, 429 ...) before the table's 503, which comes after. */
    const ws_endpoint_t *ep = ws_endpoint_find(lim->endpoints, lim->endpoint_count, req.path, req.path_len);
    ws_endpoint_answer_t ans = {.status = 101};
    if (ep != NULL && ep->handshake != NULL) {
        ep->handshake(ep->ctx, &req, now, &ans);
        if (ans.status != 101) {
            stats->rejected_endpoint++;
            http_answer(c, lim, ans.status, ans.retry_after_s, ans.body, now);
            return len;
        }
    }
    if (!can_open) {
        stats->rejected_full++;
        http_reply(c, lim, 503, now);
        return len;
    }
    char text[192];
    size_t n = ws_http_write_101(text, sizeof(text), req.accept, ep != NULL ? ans.subprotocol : NULL);
    ws_buf_t *b = ws_buf_new_raw(text, n);
    if (b == NULL || ws_sendq_push(&c->sendq, b) != WS_OK) {
        ws_buf_unref(b);
        http_reply(c, lim, 503, now);
        return len;
    }
    ws_buf_unref(b);
    stats->accepted++;
    c->endpoint = ep;
    free(c->http);
    c->http = NULL;
    c->state = WS_CONN_OPEN;
    c->last_rx_ms = now;
    /* Frames pipelined right behind the request start at this offset of the current input. */
    return req.request_len - before;
}

size_t ws_conn_input(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, const uint8_t *in, size_t len,
                     uint32_t now, bool can_open, ws_read_event_t *msg)
{
    memset(msg, 0, sizeof(*msg));
    c->last_rx_ms = now;
    c->ping_outstanding = false; /* any traffic proves the peer is alive */
    size_t pos = 0;
    while (pos < len) {
        switch (c->state) {
        case WS_CONN_HANDSHAKE:
            pos += handshake_input(c, lim, stats, in + pos, len - pos, now, can_open);
            break;
        case WS_CONN_OPEN:
        case WS_CONN_CLOSING: {
            ws_read_event_t ev;
            pos += ws_reader_feed(&c->reader, in + pos, len - pos, &ev);
            switch (ev.type) {
            case WS_READ_MESSAGE:
                if (c->state == WS_CONN_OPEN) {
                    *msg = ev;
                    return pos;
                }
                free(ev.data); /* 7.1.2: after sending close, data is discarded */
                break;
            case WS_READ_PING:
                if (c->state == WS_CONN_OPEN) { /* 5.5.3: pong with the same payload */
                    ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_PONG, ev.data, ev.len);
                    if (b != NULL) {
                        ws_conn_send(c, lim, stats, b, now);
                        ws_buf_unref(b);
                    }
                    msg->type = WS_READ_PING; /* let the caller write the pong before reading on */
                    return pos;
                }
                break;
            case WS_READ_PONG:
            case WS_READ_NEED_MORE:
                break;
            case WS_READ_CLOSE:
                if (c->state == WS_CONN_OPEN) { /* 5.5.1: echo the status code */
                    finish(c, lim, ev.close_code, now);
                } else {
                    linger(c, lim, now); /* 7.1.1: the server closes the TCP connection first */
                }
                break;
            case WS_READ_FAIL:
                if (ev.close_code == WS_CLOSE_POLICY_VIOLATION) {
                    stats->budget_closed++; /* the reader's only 1008: the shared receive budget */
                } else {
                    stats->failed++;
                }
                if (c->state == WS_CONN_OPEN) {
                    finish(c, lim, ev.close_code, now);
                } else {
                    linger(c, lim, now);
                }
                break;
            }
            break;
        }
        case WS_CONN_FINISHING:
        case WS_CONN_LINGER:
        case WS_CONN_FREE:
            return len; /* discarded */
        }
    }
    return pos;
}

void ws_conn_answered(ws_conn_t *c, const ws_conn_limits_t *lim, uint32_t now)
{
    c->answer_pending = false;
    if (c->state == WS_CONN_FINISHING) {
        queue_close_frame(c, c->close_code, false);
        linger(c, lim, now);
    }
}

ws_err_t ws_conn_send(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, ws_buf_t *buf, uint32_t now)
{
    if (c->state != WS_CONN_OPEN && c->state != WS_CONN_FINISHING) {
        return WS_ERR_STATE;
    }
    ws_err_t err = ws_sendq_push(&c->sendq, buf);
    if (err == WS_ERR_FULL) {
        stats->slow_closed++;
        ws_conn_close(c, lim, WS_CLOSE_POLICY_VIOLATION, now);
    }
    return err;
}

void ws_conn_close(ws_conn_t *c, const ws_conn_limits_t *lim, uint16_t code, uint32_t now)
{
    if (c->state == WS_CONN_HANDSHAKE) {
        http_reply(c, lim, 503, now);
        return;
    }
    if (c->state == WS_CONN_FINISHING) {
        /* The peer already closed or failed: it gets the close it is owed, behind what fits of the answers. */
        queue_close_frame(c, c->close_code, code == WS_CLOSE_POLICY_VIOLATION);
        linger(c, lim, now);
        return;
    }
    if (c->state != WS_CONN_OPEN) {
        return;
    }
    queue_close_frame(c, code, true);
    c->state = WS_CONN_CLOSING;
    c->deadline_ms = now + lim->close_timeout_ms;
}

void ws_conn_close_queued(ws_conn_t *c, const ws_conn_limits_t *lim, uint16_t code, uint32_t now)
{
    if (c->state != WS_CONN_OPEN) {
        ws_conn_close(c, lim, code, now);
        return;
    }
    queue_close_frame(c, code, false);
    c->state = WS_CONN_CLOSING;
    c->deadline_ms = now + lim->close_timeout_ms;
}

bool ws_conn_peer_eof(ws_conn_t *c)
{
    (void)c;
    return true; /* in every state the peer can no longer talk to us; nothing left worth sending */
}

bool ws_conn_tick(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, uint32_t now)
{
    switch (c->state) {
    case WS_CONN_HANDSHAKE:
    case WS_CONN_CLOSING:
    case WS_CONN_LINGER:
        return ws_time_reached(now, c->deadline_ms);
    case WS_CONN_FINISHING:
        if (ws_time_reached(now, c->deadline_ms)) {
            ws_conn_answered(c, lim, now); /* the application took too long: close without its answers */
        }
        return false;
    case WS_CONN_OPEN:
        if (lim->ping_interval_ms == 0) {
            return false;
        }
        if (c->ping_outstanding) {
            if (ws_time_reached(now, c->ping_sent_ms + lim->ping_interval_ms)) {
                stats->ping_dropped++; /* 5.5.2: a peer that does not answer a ping is gone */
                return true;
            }
            return false;
        }
        if (ws_time_reached(now, c->last_rx_ms + lim->ping_interval_ms)) {
            ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_PING, (const uint8_t *)"idle", 4);
            if (b != NULL) {
                ws_conn_send(c, lim, stats, b, now);
                ws_buf_unref(b);
            }
            c->ping_outstanding = true;
            c->ping_sent_ms = now;
        }
        return false;
    case WS_CONN_FREE:
        break;
    }
    return false;
}

uint32_t ws_conn_next_deadline(const ws_conn_t *c, const ws_conn_limits_t *lim, uint32_t now)
{
    switch (c->state) {
    case WS_CONN_HANDSHAKE:
    case WS_CONN_FINISHING:
    case WS_CONN_CLOSING:
    case WS_CONN_LINGER:
        return c->deadline_ms;
    case WS_CONN_OPEN:
        if (lim->ping_interval_ms == 0) {
            break;
        }
        return c->ping_outstanding ? c->ping_sent_ms + lim->ping_interval_ms : c->last_rx_ms + lim->ping_interval_ms;
    case WS_CONN_FREE:
        break;
    }
    return now + 60000u;
}

bool ws_conn_wants_read(const ws_conn_t *c) { return c->state != WS_CONN_FREE && c->pending_head == NULL; }

void ws_conn_release(ws_conn_t *c)
{
    free(c->http);
    c->http = NULL;
    ws_reader_free(&c->reader);
    ws_sendq_clear(&c->sendq);
    c->state = WS_CONN_FREE;
    c->sock = -1;
}

ws_err_t ws_conn_table_init(ws_conn_table_t *t, uint16_t size, uint16_t max_open)
{
    if (size == 0 || size < max_open || max_open == 0) {
        return WS_ERR_ARG;
    }
    t->conns = (ws_conn_t *)calloc(size, sizeof(ws_conn_t));
    if (t->conns == NULL) {
        return WS_ERR_NO_MEM;
    }
    t->size = size;
    t->max_open = max_open;
    for (uint16_t i = 0; i < size; i++) {
        t->conns[i].index = i;
        t->conns[i].sock = -1;
    }
    return WS_OK;
}

ws_conn_t *ws_conn_table_alloc(ws_conn_table_t *t)
{
    for (uint16_t i = 0; i < t->size; i++) {
        if (t->conns[i].state == WS_CONN_FREE) {
            return &t->conns[i];
        }
    }
    return NULL;
}

uint16_t ws_conn_table_open_count(const ws_conn_table_t *t)
{
    uint16_t n = 0;
    for (uint16_t i = 0; i < t->size; i++) {
        ws_conn_state_t st = t->conns[i].state;
        if (st == WS_CONN_OPEN || st == WS_CONN_FINISHING || st == WS_CONN_CLOSING) {
            n++;
        }
    }
    return n;
}

bool ws_conn_table_can_open(const ws_conn_table_t *t) { return ws_conn_table_open_count(t) < t->max_open; }

void ws_conn_table_free(ws_conn_table_t *t)
{
    free(t->conns);
    t->conns = NULL;
    t->size = 0;
}

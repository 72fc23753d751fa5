/*
 * ws_conn.h - one client connection's protocol state, and the connection table. No I/O: the server loop
 * reads and writes the socket and calls these functions with the bytes and the time.
 *
 * States (RFC 6455 section 7):
 *   HANDSHAKE  reading the HTTP upgrade request (own buffer of at most WS_CONN_MAX_REQUEST bytes, freed after)
 *   OPEN       frames flow both ways
 *   FINISHING  the peer's input ended (its close frame, or an error that fails the connection) while the
 *              application may still answer messages it was given (answer_pending). Frames it sends are still
 *              queued; the close frame (close_code) follows them once ws_conn_answered is called, at the latest
 *              after answer_timeout_ms. So an echo of the messages before a bad frame goes out before the close,
 *              as RFC 6455 section 5.5.1 allows ("MAY delay sending a Close frame until its current message is
 *              sent") and the Autobahn suite expects (cases 3.2, 4.1.3, 5.15, 7.1.6).
 *   CLOSING    we sent a close frame and wait for the peer's (section 7.1.2) until close_timeout_ms
 *   LINGER     nothing more to read that matters: flush what is queued, shut the write side, discard input until
 *              the peer closes or the timeout. Closing a socket with unread input would send an RST that can
 *              destroy our close frame or HTTP error before the peer reads it (RFC 7230 section 6.6).
 *
 * RAM per client: sizeof(ws_conn_t) (printed by the host tests; see README.md for the 32-bit figure), plus
 * while a message arrives one buffer: the announced frame's size when that fits the shared receive budget, else
 * growing with the bytes received (never more than max_message + 1, all clients together within the budget; see
 * ws_reader.h), plus queued outgoing frames (at most send_queue_len
 * buffers, shared with other clients for broadcasts), plus during the handshake the request buffer
 * (<= WS_CONN_MAX_REQUEST).
 */
#ifndef WS_CONN_H
#define WS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_budget.h"
#include "ws_endpoint.h"
#include "ws_err.h"
#include "ws_origin.h"
#include "ws_reader.h"
#include "ws_sendq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_CONN_MAX_REQUEST 2048u /* largest accepted handshake request; beyond it: 400 */

typedef enum {
    WS_CONN_FREE = 0,
    WS_CONN_HANDSHAKE,
    WS_CONN_OPEN,
    WS_CONN_FINISHING,
    WS_CONN_CLOSING,
    WS_CONN_LINGER
} ws_conn_state_t;

typedef struct {
    uint32_t max_message;              /* largest reassembled message; bigger: close 1009 */
    uint32_t send_queue_len;           /* per-client send ring length; full: close 1008 */
    uint32_t ping_interval_ms;         /* idle time before a ping, and time allowed for the pong; 0 = no pings */
    uint32_t close_timeout_ms;         /* wait for the peer's close frame / EOF */
    uint32_t handshake_timeout_ms;     /* time allowed for the HTTP request */
    uint32_t retry_after_s;            /* Retry-After of the 503 sent when the table is full */
    ws_budget_t *rx_budget;            /* receive budget shared by every connection of a server; NULL = none */
    const ws_origin_policy_t *origins; /* who may connect (ws_origin_check); NULL = no Origin check */
    uint32_t answer_timeout_ms;        /* FINISHING: longest wait for the application's answers before the close */
    const ws_endpoint_t *endpoints;    /* paths served inside the server (ws_endpoint.h); NULL = none */
    size_t endpoint_count;
} ws_conn_limits_t;

typedef struct {
    uint32_t accepted;          /* upgrades answered with 101 */
    uint32_t rejected_full;     /* 503 sent because max_clients were open */
    uint32_t rejected_bad;      /* 400/426 sent */
    uint32_t slow_closed;       /* clients closed with 1008 because their send queue was full */
    uint32_t ping_dropped;      /* clients dropped because no pong came back */
    uint32_t failed;            /* connections failed with a protocol/data error close code (1002, 1007, 1009, 1011) */
    uint32_t rejected_origin;   /* 403 sent because the Origin rule refused the page (ws_origin.h) */
    uint32_t budget_closed;     /* clients closed with 1008 because the shared receive budget was used up */
    uint32_t rx_held;           /* bytes of received messages the server holds now (the budget's use) */
    uint32_t rx_peak;           /* most bytes held at once */
    uint32_t open_clients;      /* WebSockets open now (the ones max_clients counts: open, finishing, closing) */
    uint32_t rejected_endpoint; /* handshakes an endpoint answered with an error (ws_endpoint.h: 403, 409, 429...) */
} ws_stats_t;

struct ws_pending; /* messages waiting for room in the receive queue; owned by the server loop */

typedef struct {
    ws_conn_state_t state;
    int sock;
    uint16_t index;
    bool write_shut; /* LINGER: our side already shut down for writing */
    bool ping_outstanding;
    bool answer_pending;  /* the application got messages of this client it may still answer (set by the server) */
    uint16_t close_code;  /* FINISHING: the close frame to send (1005: one without a body) */
    uint32_t deadline_ms; /* HANDSHAKE, FINISHING, CLOSING, LINGER: when to give up */
    uint32_t last_rx_ms;  /* last time any byte arrived */
    uint32_t ping_sent_ms;
    char *http; /* HANDSHAKE only */
    size_t http_len;
    ws_reader_t reader;
    ws_sendq_t sendq;
    struct ws_pending *pending_head;
    struct ws_pending *pending_tail;
    uint32_t answer_seq;           /* server: receive-queue number of this client's latest message (see ws_server.c) */
    const ws_endpoint_t *endpoint; /* set at the 101 when the path is an endpoint's: messages go to it */
    bool endpoint_open;            /* server: endpoint->opened was called (closed() is owed) */
} ws_conn_t;

/* Time comparison that survives the 49-day wrap of a 32-bit millisecond clock. */
static inline bool ws_time_reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }

/* Sets up a fresh connection for an accepted socket. Returns WS_OK or WS_ERR_NO_MEM. */
ws_err_t ws_conn_start(ws_conn_t *c, int sock, const ws_conn_limits_t *lim, uint32_t now);

/*
 * Processes received bytes. Returns how many were consumed. A handshake whose path is one of lim->endpoints is
 * decided by that endpoint (ws_endpoint.h) and, answered 101, sets c->endpoint. If a complete data message came out,
 * *msg holds it (type WS_READ_MESSAGE, ownership of msg->data passes to the caller) and the caller calls again with the
 * rest. After answering a ping it also returns early (msg->type WS_READ_PING, no data) so the caller can write the pong
 * before a burst of pings fills the send queue. can_open tells whether another client may be admitted (else the
 * handshake is answered 503). Pings are answered, pongs clear the idle ping, close and errors switch state and queue
 * the close frame.
 */
size_t ws_conn_input(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, const uint8_t *in, size_t len,
                     uint32_t now, bool can_open, ws_read_event_t *msg);

/*
 * The application has answered every message of this client it was given (or will not): clears answer_pending,
 * and in FINISHING queues the close frame behind the answers and starts lingering.
 */
void ws_conn_answered(ws_conn_t *c, const ws_conn_limits_t *lim, uint32_t now);

/*
 * Queues a frame (takes a reference) in OPEN or FINISHING. A full queue closes the client with 1008 (slow-client
 * policy). Returns WS_OK, WS_ERR_FULL, WS_ERR_STATE.
 */
ws_err_t ws_conn_send(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, ws_buf_t *buf, uint32_t now);

/*
 * Starts the server side of the close handshake with code (section 7.1.2): drops unsent frames, queues close.
 * In FINISHING the close owed to the peer (close_code) goes out instead, at once.
 */
void ws_conn_close(ws_conn_t *c, const ws_conn_limits_t *lim, uint16_t code, uint32_t now);

/*
 * Like ws_conn_close, but the close frame goes behind the frames already queued (an endpoint's last answer, such as
 * an error, must reach the peer before the close that follows it).
 */
void ws_conn_close_queued(ws_conn_t *c, const ws_conn_limits_t *lim, uint16_t code, uint32_t now);

/* The peer closed the TCP stream (recv returned 0). Returns true if the socket should be closed now. */
bool ws_conn_peer_eof(ws_conn_t *c);

/*
 * Timers: idle ping, pong timeout, handshake/close/linger deadlines, and the answer timeout of FINISHING (which
 * queues the close frame). Returns true to close the socket now.
 */
bool ws_conn_tick(ws_conn_t *c, const ws_conn_limits_t *lim, ws_stats_t *stats, uint32_t now);

/* Earliest time ws_conn_tick has something to do, for the poll timeout. */
uint32_t ws_conn_next_deadline(const ws_conn_t *c, const ws_conn_limits_t *lim, uint32_t now);

/* True if the loop should still read from the socket. */
bool ws_conn_wants_read(const ws_conn_t *c);

/* Frees everything the connection holds (not the socket, not the pending list) and marks the slot FREE. */
void ws_conn_release(ws_conn_t *c);

/* ---- connection table ---- */

typedef struct {
    ws_conn_t *conns;
    uint16_t size;     /* slots: max_open plus room for handshakes and lingering sockets */
    uint16_t max_open; /* max_clients: HANDSHAKE answers 503 when this many are OPEN/CLOSING */
} ws_conn_table_t;

/* Allocates size slots. Returns WS_OK, WS_ERR_ARG (size < max_open or 0) or WS_ERR_NO_MEM. */
ws_err_t ws_conn_table_init(ws_conn_table_t *t, uint16_t size, uint16_t max_open);
/* A free slot (its index set), or NULL if all are in use. */
ws_conn_t *ws_conn_table_alloc(ws_conn_table_t *t);
/* Clients counted against max_open (OPEN, FINISHING and CLOSING). */
uint16_t ws_conn_table_open_count(const ws_conn_table_t *t);
/* True if a handshake may be answered 101. */
bool ws_conn_table_can_open(const ws_conn_table_t *t);
/* Frees the slots array (connections must be released first). */
void ws_conn_table_free(ws_conn_table_t *t);

#ifdef __cplusplus
}
#endif

#endif /* WS_CONN_H */

/*
 * ws_server.h - the WebSocket server API (same shape as the seed's esp32-Simple-WebSocket-Server).
 *
 *   ws_server_cfg_t cfg = {.port = 8080};            // every other field: 0 = default below
 *   ws_server_init(&cfg);                            // after the station got an address
 *   ws_queue_item_t *item;
 *   while (ws_recv(&item, WS_PORT_WAIT_FOREVER) == WS_OK) { ...; ws_item_free(item); }
 *
 * One server task multiplexes the listener and every client with poll(); there is no task per client.
 * Other tasks talk to it through two bounded queues: the receive queue (messages from clients) and a command
 * queue (frames to send), plus a waker that interrupts its poll().
 *
 * Buffer ownership
 *  - Received: each message arrives as a malloc'd ws_queue_item_t whose payload is malloc'd too (len bytes plus
 *    a NUL, so text can be printed directly). The receiver owns both and frees them: free(item->payload);
 *    free(item); exactly as with the seed, or ws_item_free(item).
 *  - Sent: ws_send copies the payload into a new frame buffer before it returns. The caller keeps ownership of
 *    the item and its payload and may free or reuse them at once. The server frees the frame after the last
 *    client it was queued for has written it.
 *
 * Memory: a message buffer is taken at the size its frame announces when that fits what is left of rx_budget, else
 * it grows with the bytes received (ws_reader.h); within max_message per message (else close 1009) and within
 * rx_budget for all clients together (else close 1008 for the client that needs more): see ws_budget.h. A message
 * counts against the budget until the application takes it from the receive queue; what the application holds
 * after that is its own.
 *
 * Answers before closes: when a client's input ends (its close frame, or an error that fails it) right after
 * messages the application is still handling, the close frame waits until the application has come back to
 * ws_recv after taking them (so its ws_send answers are queued first), at most close_timeout_ms. Applications
 * that never call ws_recv (they read the queue with xQueueReceive) get the close at once, as before; one that
 * mixes both may wait for close_timeout_ms.
 *
 * Echo (cfg.echo): the server task sends each message back to its sender as soon as the message is complete,
 * before it parses what the client sent after it, so the echo always precedes a close the client's later frames
 * cause (RFC 6455 section 5.5.1), whatever the application does. The application still receives every message
 * (ws_recv) and need not answer it; the close does not wait for it. A long message is echoed from the buffer it
 * was received into (no second copy, WS_SERVER_ECHO_COPY_MAX) and reaches the receive queue once its echo has been
 * written; until then the client is not read further (back-pressure over TCP instead of a growing queue).
 *
 * Origins: a browser's handshake is checked by the rule of ws_origin.h (its own page, pages on loopback and listed
 * origins are admitted; other pages get 403) unless the build turns it off (Kconfig WS_SERVER_ORIGIN_CHECK, on by
 * default). Clients that send no Origin (devices, scripts) are always admitted.
 *
 * Thread safety (the locking rule): ws_send, ws_recv, ws_server_port and ws_server_get_stats may be called from any
 * task on either core of a dual-core ESP32, at the same time as each other and as the server task, without a lock of
 * the caller's. ws_send encodes its frame outside every lock, then holds the lifetime mutex only to put the frame
 * on the command queue (so a ws_server_stop cannot free the server under it); the server task never takes that
 * mutex, so a sender waiting for queue room cannot block it. Frames from one task reach each client in the order
 * that task sent them; frames from different tasks interleave whole, never byte-wise. ws_recv is safe from any task,
 * but answers precede closes only when one task calls it. ws_server_init and ws_server_stop must not run
 * concurrently with each other. host/tests/concurrency_test.cpp proves this under ThreadSanitizer.
 */
#ifndef WS_SERVER_H
#define WS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_config.h"
#include "ws_conn.h"
#include "ws_endpoint.h"
#include "ws_err.h"
#include "ws_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OP_TXT 0x1 /* text message (RFC 6455 opcode 0x1) */
#define WS_OP_BIN 0x2 /* binary message (opcode 0x2) */

#define WS_SERVER_DEFAULT_PORT 8080
#define WS_SERVER_DEFAULT_MAX_CLIENTS 5
#define WS_SERVER_DEFAULT_MAX_MESSAGE 65536u
#define WS_SERVER_DEFAULT_SEND_QUEUE_LEN 16u
#define WS_SERVER_DEFAULT_RECV_QUEUE_LEN 16u
#define WS_SERVER_DEFAULT_PING_INTERVAL_MS 30000u
#define WS_SERVER_DEFAULT_CLOSE_TIMEOUT_MS 2000u
#define WS_SERVER_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000u
#define WS_SERVER_DEFAULT_RETRY_AFTER_S 5u
#define WS_SERVER_DEFAULT_TASK_STACK 4096u
#define WS_SERVER_DEFAULT_TASK_PRIORITY 5u
#define WS_SERVER_EXTRA_SLOTS 4u /* table slots beyond max_clients: handshakes in progress, lingering closes */
/*
 * The most sockets the server holds at once for max_clients: the listener, one per table slot (max_clients +
 * WS_SERVER_EXTRA_SLOTS), and one accepted only to answer 503 when every slot is taken (closed at once). On lwIP
 * they all come from CONFIG_LWIP_MAX_SOCKETS; when it runs out, accept() fails and the server retries 100 ms later.
 */
#define WS_SERVER_SOCKETS(max_clients) (1u + (unsigned)(max_clients) + WS_SERVER_EXTRA_SLOTS + 1u)
#define WS_SERVER_RX_CHUNK 1536u /* the server task's receive buffer (one, owned by the task) */
/*
 * Echo mode: messages up to this many bytes are copied into their echo frame (one write, one TCP segment); longer
 * ones are sent from the buffer they were received into (the header and the payload in two writes, no copy).
 */
#define WS_SERVER_ECHO_COPY_MAX 1024u
#define WS_SERVER_CMD_QUEUE_LEN 16u

/* A message, as in the seed. */
typedef struct {
    uint8_t *payload; /* message bytes */
    size_t len;       /* payload length in bytes */
    int index;        /* client slot: received from / send to; -1 in ws_send = every open client (never an
                         endpoint's connection, ws_endpoint.h: ws_send does not reach those) */
    int opcode;       /* WS_OP_TXT or WS_OP_BIN */
    int ws_frame;     /* kept for source compatibility with the seed; ignored */
} ws_queue_item_t;

typedef struct {
    uint16_t port;                  /* TCP port; 0 = pick a free one (host tests), see ws_server_port() */
    uint16_t max_clients;           /* open WebSockets; the next handshake gets 503 + Retry-After */
    uint32_t max_message;           /* largest reassembled message in bytes; larger: close 1009 */
    uint32_t send_queue_len;        /* frames queued per client; overflow: close 1008 (slow client) */
    uint32_t recv_queue_len;        /* messages waiting for the application */
    uint32_t ping_interval_ms;      /* idle time before a ping, and time allowed for its pong */
    uint32_t close_timeout_ms;      /* wait for the peer's close frame */
    uint32_t handshake_timeout_ms;  /* time allowed for the HTTP upgrade request */
    uint32_t retry_after_s;         /* Retry-After in the 503 */
    uint32_t task_stack;            /* server task stack (FreeRTOS) */
    uint32_t task_priority;         /* server task priority (FreeRTOS) */
    uint32_t rx_budget;             /* bytes of received messages all clients may hold, > max_message;
                                       0 = WS_SERVER_DEFAULT_RX_BUDGET (Kconfig WS_SERVER_RX_BUDGET) */
    const char *allowed_origins;    /* comma-separated origins the Origin rule admits besides its own (ws_origin.h;
                                       "*" = any), copied; NULL = WS_SERVER_DEFAULT_ALLOWED_ORIGINS (Kconfig) */
    const char *hostname;           /* the device's host name: pages from http(s)://hostname.local[:port] whose
                                       Host says the same are its own (ws_origin.h rule 7), copied; NULL = none */
    bool echo;                      /* answer each message to its sender from the server task (see "Echo") */
    const ws_endpoint_t *endpoints; /* paths served on the server task (ws_endpoint.h), NOT copied: they must
                                       outlive the server; NULL = none */
    size_t endpoint_count;
} ws_server_cfg_t;

/*
 * Opens the listener and starts the server task. cfg may be NULL (all defaults).
 * Returns WS_OK, WS_ERR_ARG (rx_budget not larger than max_message), WS_ERR_STATE (already running),
 * WS_ERR_NO_MEM, WS_ERR_PORT (listen or task failed).
 */
ws_err_t ws_server_init(const ws_server_cfg_t *cfg);

/*
 * Stops the server: sends close 1001 (going away, RFC 6455 7.4.1) to every client, waits up to close_timeout_ms
 * for their replies, closes every socket and frees the server. The receive queue stays (see ws_get_recv_queue).
 * Returns WS_OK or WS_ERR_STATE (not running).
 */
ws_err_t ws_server_stop(void);

/*
 * The receive queue. Its items are ws_queue_item_t pointers. It is created by the first ws_server_init and
 * survives ws_server_stop, so a receive task keeps working across Wi-Fi reconnects. On ESP-IDF the handle is
 * a FreeRTOS QueueHandle_t (cast it, as the seed's users did with xQueueReceive). NULL before the first init.
 */
ws_port_queue_t *ws_get_recv_queue(void);

/*
 * Takes the next received message. Calling it again tells the server the application is done with the messages
 * it took before (see "Answers before closes"). Returns WS_OK, WS_ERR_ARG, WS_ERR_TIMEOUT, WS_ERR_STATE (no queue).
 */
ws_err_t ws_recv(ws_queue_item_t **item, uint32_t wait_ms);

/* Frees a received item and its payload. NULL is ignored. */
void ws_item_free(ws_queue_item_t *item);

/*
 * Sends item->payload (item->len bytes) as one WS_OP_TXT or WS_OP_BIN message to client item->index, or to
 * every open client if index is -1. The frame is encoded once and shared by all recipients. Waits up to wait_ms
 * for room in the command queue. Returns WS_OK, WS_ERR_ARG, WS_ERR_NO_MEM, WS_ERR_TIMEOUT, WS_ERR_STATE (not
 * running). A client whose own send queue is full is closed with 1008 by the server task (counted in stats).
 */
ws_err_t ws_send(const ws_queue_item_t *item, uint32_t wait_ms);

/* The TCP port the server listens on, or 0 if not running. */
uint16_t ws_server_port(void);

/* A snapshot of the counters. Returns WS_OK or WS_ERR_STATE. */
ws_err_t ws_server_get_stats(ws_stats_t *out);

/*
 * From an endpoint's opened() or message() only (the server task): queues a message (WS_OP_TXT or WS_OP_BIN) for
 * that connection. Returns WS_OK, WS_ERR_ARG, WS_ERR_NO_MEM, WS_ERR_STATE (closing), WS_ERR_FULL (its send queue was
 * full: the client is being closed with 1008, the slow-client policy).
 */
ws_err_t ws_server_endpoint_send(ws_endpoint_conn_t *conn, int opcode, const void *data, size_t len);
/* From an endpoint's opened() or message() only: closes that connection with code, behind what it queued. */
void ws_server_endpoint_close(ws_endpoint_conn_t *conn, uint16_t code);

/* Frees the receive queue and any messages still in it (for a clean exit; only when no task uses it). */
void ws_server_release_recv_queue(void);

#ifdef __cplusplus
}
#endif

#endif /* WS_SERVER_H */

/*
 * ws_endpoint.h - a path of the WebSocket server served inside the server task instead of through the receive queue
 * (the OTA endpoint, components/ws_ota: /ota with subprotocol wsctl-ota.1).
 *
 * A handshake whose request path is an endpoint's (RFC 6455 4.1: the /resource name/, compared exactly, any query
 * ignored) is decided by its handshake function: 101 with a subprotocol (4.2.2 step 5.5), or an HTTP error with a
 * short body and Retry-After. The Origin rule comes first and the server's own 503 (every client slot taken) after
 * an accepting answer, so an endpoint's connection takes a client slot like any other. Its messages then go to
 * message() on the server task, in order, one complete message at a time (the buffer is the server's: valid only
 * during the call); it answers through ws_server_endpoint_send and ws_server_endpoint_close (ws_server.h) during
 * opened() and message(). closed() comes exactly once for every opened(): a close handshake, a cut or failed
 * connection, or ws_server_stop.
 */
#ifndef WS_ENDPOINT_H
#define WS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_http.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ws_endpoint_conn ws_endpoint_conn_t; /* a connection of the endpoint, during a callback */

typedef struct {
    int status;              /* 101 to accept; else the HTTP status to answer (400, 403, 409, 429, 503) */
    const char *subprotocol; /* 101: the Sec-WebSocket-Protocol to answer, or NULL */
    const char *body;        /* error: a text/plain body (valid until the callback returns), or NULL */
    uint32_t retry_after_s;  /* 429 and 503: Retry-After */
} ws_endpoint_answer_t;

typedef struct ws_endpoint {
    const char *path; /* "/ota" */
    void *ctx;
    /* Decides the handshake req (valid during the call); ans is zeroed before. */
    void (*handshake)(void *ctx, const ws_http_request_t *req, uint32_t now, ws_endpoint_answer_t *ans);
    /* The 101 is queued. */
    void (*opened)(void *ctx, ws_endpoint_conn_t *conn, uint32_t now);
    /* A complete message: opcode 1 (text) or 2 (binary). */
    void (*message)(void *ctx, ws_endpoint_conn_t *conn, int opcode, const uint8_t *data, size_t len, uint32_t now);
    /* The connection is gone. conn may no longer be used to send. */
    void (*closed)(void *ctx, uint32_t now);
} ws_endpoint_t;

/* The endpoint of eps (n of them) whose path is path (path_len bytes), or NULL. */
const ws_endpoint_t *ws_endpoint_find(const ws_endpoint_t *eps, size_t n, const char *path, size_t path_len);

#ifdef __cplusplus
}
#endif

#endif /* WS_ENDPOINT_H */

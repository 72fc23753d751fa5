/*
 * ws_http.h - the HTTP/1.1 side of the opening handshake (RFC 6455 section 4.2), no I/O.
 *
 * The parser takes the request bytes received so far and answers "incomplete", "upgrade" or "reject with
 * status N". Header names and the Upgrade/Connection tokens compare case-insensitively (RFC 7230 3.2, 6.1;
 * RFC 6455 4.2.1), and Connection is a comma-separated token list ("keep-alive, Upgrade" is fine).
 *
 * Origin (RFC 6455 section 10.2, RFC 6454): browsers say which page opened the connection; other clients usually
 * send no Origin. The parser reports it and the Host header; ws_origin_check (ws_origin.h) decides; the server
 * answers 403 to a refused origin (4.2.2: "the server MAY ... reply with an appropriate HTTP error code").
 */
#ifndef WS_HTTP_H
#define WS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_HTTP_KEY_LEN 24    /* base64 of a 16-byte nonce (RFC 6455 4.1) */
#define WS_HTTP_ACCEPT_LEN 28 /* base64 of a 20-byte SHA-1 */

/* Results of ws_http_parse_upgrade. */
#define WS_HTTP_INCOMPLETE 0 /* no blank line yet: read more */
#define WS_HTTP_UPGRADE 1    /* valid upgrade request: answer 101 */
#define WS_HTTP_REJECT 2     /* invalid: answer with out->status */

typedef struct {
    int status;                          /* 101, or 400 (bad request/missing or bad key), 426 (version != 13) */
    size_t request_len;                  /* bytes up to and including the blank line */
    char key[WS_HTTP_KEY_LEN + 1];       /* Sec-WebSocket-Key, NUL-terminated */
    char accept[WS_HTTP_ACCEPT_LEN + 1]; /* Sec-WebSocket-Accept to send back */
    const char *origin;                  /* the first Origin value, inside buf (no NUL), or NULL if absent */
    size_t origin_len;
    unsigned origin_count; /* Origin headers seen; a user agent sends at most one (RFC 6454 section 7.3) */
    const char *host;      /* the Host value, inside buf (no NUL) */
    size_t host_len;
    const char *path; /* the request-target's path, before any '?' (RFC 9112 3.2.1 origin-form), inside buf */
    size_t path_len;
    const char *head; /* the whole request, for ws_http_offers_protocol */
} ws_http_request_t;

/*
 * Parses an upgrade request from the first len bytes of buf (need not be NUL-terminated).
 * Checks (RFC 6455 4.2.1): method GET, HTTP/1.1 or later, exactly one Host (RFC 9112 section 3.2: none or several
 * is 400), Upgrade contains "websocket", Connection contains "upgrade", Sec-WebSocket-Key decodes to 16 bytes (else
 * 400), Sec-WebSocket-Version is 13 (else 426, 4.2.2). Returns WS_HTTP_INCOMPLETE, WS_HTTP_UPGRADE or
 * WS_HTTP_REJECT.
 */
int ws_http_parse_upgrade(const char *buf, size_t len, ws_http_request_t *out);

/* Computes Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (4.2.2 step 5.4). Returns 0, or -1 on a NULL arg. */
int ws_http_accept_key(const char *key, size_t key_len, char out[WS_HTTP_ACCEPT_LEN + 1]);

/*
 * Whether the client offered subprotocol token in a Sec-WebSocket-Protocol header (RFC 6455 4.1 and 11.3.4: a
 * comma-separated list, the header possibly repeated; tokens compare exactly, 4.2.2 step 5.5 lets the server pick).
 */
bool ws_http_offers_protocol(const ws_http_request_t *req, const char *token);

/* Writes the 101 response, with Sec-WebSocket-Protocol: protocol unless it is NULL. Returns its length, or 0 if cap
 * is too small. */
size_t ws_http_write_101(char *out, size_t cap, const char *accept, const char *protocol);

/*
 * Writes an error response with status 400, 403 (a short text/plain body saying the origin is not allowed),
 * 426 (adds Sec-WebSocket-Version: 13) or 503 (adds Retry-After: retry_after_s, RFC 9110 10.2.3).
 * Returns its length, or 0 if cap is too small.
 */
size_t ws_http_write_error(char *out, size_t cap, int status, uint32_t retry_after_s);

/*
 * Writes an error response with any status among 400, 403, 409 (Conflict), 429 (Too Many Requests, RFC 6585 4) and
 * 503, a text/plain body (NULL: none) and, for 429 and 503, Retry-After: retry_after_s. Returns its length, or 0 if
 * cap is too small.
 */
size_t ws_http_write_reply(char *out, size_t cap, int status, uint32_t retry_after_s, const char *body);

#ifdef __cplusplus
}
#endif

#endif /* WS_HTTP_H */

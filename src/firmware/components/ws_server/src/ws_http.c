/* ws_http.c - RFC 6455 section 4.2 server handshake. */
#include "ws_http.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ws_base64.h"
#include "ws_sha1.h"

/* RFC 6455 section 1.3: the GUID appended to the key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c; }

static bool equals_ci(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);
    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* True if the comma-separated list value contains token (case-insensitive, RFC 7230 section 7). */
static bool has_token(const char *value, size_t len, const char *token)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_ows(value[i]) || value[i] == ',')) {
            i++;
        }
        size_t start = i;
        while (i < len && value[i] != ',') {
            i++;
        }
        size_t end = i;
        while (end > start && is_ows(value[end - 1])) {
            end--;
        }
        if (end > start && equals_ci(value + start, end - start, token)) {
            return true;
        }
    }
    return false;
}

static int reject(ws_http_request_t *out, int status)
{
    out->status = status;
    return WS_HTTP_REJECT;
}

int ws_http_parse_upgrade(const char *buf, size_t len, ws_http_request_t *out)
{
    if (buf == NULL || out == NULL) {
        return WS_HTTP_INCOMPLETE;
    }
    memset(out, 0, sizeof(*out));
    size_t end = 0;
    for (size_t i = 0; i + 3 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    }
    if (end == 0) {
        return WS_HTTP_INCOMPLETE;
    }
    out->request_len = end;

    /* Request line: GET SP request-target SP HTTP/1.1 (RFC 7230 3.1.1). */
    size_t line_end = 0;
    while (buf[line_end] != '\r') {
        line_end++;
    }
    const char *sp1 = memchr(buf, ' ', line_end);
    if (sp1 == NULL || (size_t)(sp1 - buf) != 3 || memcmp(buf, "GET", 3) != 0) {
        return reject(out, 400);
    }
    const char *sp2 = memchr(sp1 + 1, ' ', line_end - (size_t)(sp1 + 1 - buf));
    if (sp2 == NULL || sp2 == sp1 + 1) {
        return reject(out, 400);
    }
    out->path = sp1 + 1;
    const char *query = memchr(out->path, '?', (size_t)(sp2 - out->path));
    out->path_len = (size_t)((query != NULL ? query : sp2) - out->path);
    out->head = buf;
    size_t ver_len = line_end - (size_t)(sp2 + 1 - buf);
    if (ver_len != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '1' || sp2[8] > '9') {
        return reject(out, 400);
    }

    bool host = false, upgrade = false, connection = false, key_ok = false, version_seen = false, version13 = false;
    unsigned host_count = 0;
    size_t pos = line_end + 2;
    while (pos < end - 2) {
        size_t eol = pos;
        while (buf[eol] != '\r') {
            eol++;
        }
        const char *colon = memchr(buf + pos, ':', eol - pos);
        if (colon == NULL || colon == buf + pos) {
            return reject(out, 400);
        }
        size_t name_len = (size_t)(colon - (buf + pos));
        const char *name = buf + pos;
        const char *value = colon + 1;
        size_t value_len = (size_t)(buf + eol - value);
        while (value_len > 0 && is_ows(*value)) {
            value++;
            value_len--;
        }
        while (value_len > 0 && is_ows(value[value_len - 1])) {
            value_len--;
        }
        if (equals_ci(name, name_len, "host")) {
            if (host_count++ == 0) {
                host = value_len > 0;
                out->host = value;
                out->host_len = value_len;
            }
        } else if (equals_ci(name, name_len, "upgrade")) {
            upgrade = has_token(value, value_len, "websocket");
        } else if (equals_ci(name, name_len, "connection")) {
            connection = connection || has_token(value, value_len, "upgrade");
        } else if (equals_ci(name, name_len, "sec-websocket-key")) {
            uint8_t nonce[18];
            key_ok = value_len == WS_HTTP_KEY_LEN && ws_base64_decode(value, value_len, nonce, sizeof(nonce)) == 16;
            if (key_ok) {
                memcpy(out->key, value, WS_HTTP_KEY_LEN);
                out->key[WS_HTTP_KEY_LEN] = '\0';
            }
        } else if (equals_ci(name, name_len, "sec-websocket-version")) {
            version_seen = true;
            version13 = value_len == 2 && value[0] == '1' && value[1] == '3';
        } else if (equals_ci(name, name_len, "origin")) {
            if (out->origin_count++ == 0) {
                out->origin = value;
                out->origin_len = value_len;
            }
        }
        pos = eol + 2;
    }
    if (!host || host_count != 1u || !upgrade || !connection || !version_seen) {
        return reject(out, 400);
    }
    if (!version13) {
        return reject(out, 426); /* 4.2.2: answer with the versions we support */
    }
    if (!key_ok) {
        return reject(out, 400);
    }
    ws_http_accept_key(out->key, WS_HTTP_KEY_LEN, out->accept);
    out->status = 101;
    return WS_HTTP_UPGRADE;
}

int ws_http_accept_key(const char *key, size_t key_len, char out[WS_HTTP_ACCEPT_LEN + 1])
{
    if (key == NULL || out == NULL) {
        return -1;
    }
    ws_sha1_ctx_t ctx;
    uint8_t digest[WS_SHA1_DIGEST_SIZE];
    ws_sha1_init(&ctx);
    ws_sha1_update(&ctx, key, key_len);
    ws_sha1_update(&ctx, ws_guid, sizeof(ws_guid) - 1u);
    ws_sha1_final(&ctx, digest);
    return ws_base64_encode(digest, sizeof(digest), out, WS_HTTP_ACCEPT_LEN + 1) == WS_HTTP_ACCEPT_LEN ? 0 : -1;
}

bool ws_http_offers_protocol(const ws_http_request_t *req, const char *token)
{
    if (req == NULL || req->head == NULL || token == NULL || req->request_len < 4u) {
        return false;
    }
    size_t tlen = strlen(token);
    const char *buf = req->head;
    size_t end = req->request_len - 2u; /* the blank line's CRLF */
    size_t pos = 0;
    while (pos < end && buf[pos] != '\r') {
        pos++; /* past the request line */
    }
    pos += 2u;
    while (pos < end) {
        size_t eol = pos;
        while (eol < end && buf[eol] != '\r') {
            eol++;
        }
        const char *colon = memchr(buf + pos, ':', eol - pos);
        if (colon != NULL && equals_ci(buf + pos, (size_t)(colon - (buf + pos)), "sec-websocket-protocol")) {
            const char *v = colon + 1;
            size_t i = 0, n = (size_t)(buf + eol - v);
            while (i < n) { /* a comma-separated list of tokens, optional whitespace around them (RFC 7230 7) */
                while (i < n && (is_ows(v[i]) || v[i] == ',')) {
                    i++;
                }
                size_t start = i;
                while (i < n && v[i] != ',' && !is_ows(v[i])) {
                    i++;
                }
                if (i - start == tlen && memcmp(v + start, token, tlen) == 0) {
                    return true;
                }
                while (i < n && v[i] != ',') {
                    i++;
                }
            }
        }
        pos = eol + 2u;
    }
    return false;
}

static size_t checked(int n, size_t cap) { return (n > 0 && (size_t)n < cap) ? (size_t)n : 0u; }

size_t ws_http_write_101(char *out, size_t cap, const char *accept, const char *protocol)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     accept, protocol != NULL ? "Sec-WebSocket-Protocol: " : "", protocol != NULL ? protocol : "",
                     protocol != NULL ? "\r\n" : "");
    return checked(n, cap);
}

size_t ws_http_write_error(char *out, size_t cap, int status, uint32_t retry_after_s)
{
    int n;
    switch (status) {
    case 426:
        n = snprintf(out, cap,
                     "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n");
        break;
    case 403:
        /* 4.2.2: a server that does not accept the origin MAY answer 403. The body says why, for people. */
        n = snprintf(out, cap,
                     "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n"
                     "Connection: close\r\n\r\norigin not allowed\n");
        break;
    case 503:
        n = snprintf(out, cap,
                     "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %lu\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     (unsigned long)retry_after_s);
        break;
    default:
        n = snprintf(out, cap, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
    }
    return checked(n, cap);
}

size_t ws_http_write_reply(char *out, size_t cap, int status, uint32_t retry_after_s, const char *body)
{
    const char *reason;
    switch (status) {
    case 403:
        reason = "Forbidden";
        break;
    case 409:
        reason = "Conflict"; /* RFC 9110 15.5.10 */
        break;
    case 429:
        reason = "Too Many Requests"; /* RFC 6585 section 4 */
        break;
    case 503:
        reason = "Service Unavailable";
        break;
    default:
        status = 400;
        reason = "Bad Request";
        break;
    }
    char retry[40] = "";
    if (status == 429 || status == 503) {
        (void)snprintf(retry, sizeof(retry), "Retry-After: %lu\r\n", (unsigned long)retry_after_s);
    }
    size_t body_len = body != NULL ? strlen(body) : 0u;
    int n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%s%sContent-Length: %lu\r\nConnection: close\r\n\r\n%s", status,
                     reason, retry, body_len > 0 ? "Content-Type: text/plain\r\n" : "", (unsigned long)body_len,
                     body_len > 0 ? body : "");
    return checked(n, cap);
}

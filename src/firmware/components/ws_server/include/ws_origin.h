/*
 * ws_origin.h - which pages may open a WebSocket to the server: one rule, the same as `wsctl serve`'s.
 *
 * Browsers send an Origin header naming the page that opens the connection (RFC 6455 sections 4.1 item 8 and 10.2,
 * RFC 6454); other clients (devices, scripts, wsctl) send none. Without a check, any web page the user visits could
 * connect to a device on the user's network and read or send what it likes. The rule, in order:
 *
 *   1. No Origin: accept (devices, scripts).
 *   2. The allow-list contains "*": accept any.
 *   3. Origin equal to an allow-list entry (ASCII case-insensitive, a trailing '/' on either ignored): accept.
 *      ("null" is accepted only when "null" is listed.)
 *   4. Origin "null" (a sandboxed page or a file; not listed): refuse.
 *   5. Origin not http://host[:port] or https://host[:port]: refuse.
 *   6. Origin host on loopback (localhost, a name ending in .localhost, 127.0.0.0/8, [::1]): accept, any port (a
 *      page on a dev server on the user's own machine).
 *   7. Same origin: the Origin's host[:port] equals the request's Host header (names ASCII case-insensitive; an
 *      omitted port equals the Origin scheme's default, 80 for http and 443 for https) and that name cannot be
 *      pointed elsewhere by a page's DNS (DNS rebinding): a loopback name, an IP address literal, or the name the
 *      server is configured with (the device's mDNS name, hostname + ".local"; a trailing dot allowed): accept.
 *   8. Anything else: refuse (the server answers 403 Forbidden, body "origin not allowed").
 *
 * Parsing, exactly (so both implementations agree): the scheme "http://" or "https://" in any case; the host either
 * one or more of letters, digits, '-', '.' and '_', or '[' followed by hex digits, ':' and '.' (with at least one
 * ':') and ']'; then nothing, or ':' and 1-5 digits whose value is 1-65535. Nothing may follow (no path, not even
 * '/'; no user information, query or fragment). An IPv4 literal is four dot-separated numbers of 1-3 digits, each
 * 0-255; IPv4 loopback is such a literal whose first number is 127; IPv6 loopback is exactly "[::1]". The Host
 * header is parsed as host[:port] with the same grammar. The allow-list is comma-separated; blanks around entries
 * are ignored.
 *
 * Pure: no I/O, no allocation; the strings need not be NUL-terminated where a length is given.
 */
#ifndef WS_ORIGIN_H
#define WS_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The outcome, by the rule that decided it (the numbers above). */
typedef enum {
    WS_ORIGIN_ABSENT = 1,   /* rule 1: no Origin header: accepted */
    WS_ORIGIN_ANY = 2,      /* rule 2: the allow-list has "*": accepted */
    WS_ORIGIN_LISTED = 3,   /* rule 3: in the allow-list: accepted */
    WS_ORIGIN_NULL = 4,     /* rule 4: "null", not listed: refused */
    WS_ORIGIN_INVALID = 5,  /* rule 5: not http(s)://host[:port]: refused */
    WS_ORIGIN_LOOPBACK = 6, /* rule 6: a page on this machine: accepted */
    WS_ORIGIN_SAME = 7,     /* rule 7: the server's own origin, under a name that cannot be rebound: accepted */
    WS_ORIGIN_FOREIGN = 8   /* rule 8: any other page: refused */
} ws_origin_verdict_t;

typedef struct {
    const char *allow_list; /* comma-separated origins ("*" = any), NUL-terminated; NULL or "" = none listed */
    const char *local_name; /* the name the server answers to, e.g. "esp32ws.local" (NUL-terminated); NULL = none */
} ws_origin_policy_t;

/*
 * Applies the rule to a handshake: origin (origin_len bytes; NULL = no Origin header) and host, the request's Host
 * header value (host_len bytes; NULL = none, which never matches). policy NULL counts as an empty one.
 * Returns the verdict; ws_origin_accepted tells whether it admits the client.
 */
ws_origin_verdict_t ws_origin_check(const ws_origin_policy_t *policy, const char *origin, size_t origin_len,
                                    const char *host, size_t host_len);

/* True for the verdicts that accept (rules 1, 2, 3, 6, 7). */
bool ws_origin_accepted(ws_origin_verdict_t verdict);

#ifdef __cplusplus
}
#endif

#endif /* WS_ORIGIN_H */

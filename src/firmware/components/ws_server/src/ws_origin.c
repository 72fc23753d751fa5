/* ws_origin.c - the Origin rule (RFC 6455 sections 4.1 and 10.2, RFC 6454): see ws_origin.h. */
#include "ws_origin.h"

#include <stdint.h>
#include <string.h>

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }
static bool is_name_char(char c)
{
    return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') || c == '-' || c == '.' || c == '_';
}
static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool equals_ci(const char *a, size_t a_len, const char *b, size_t b_len)
{
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

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && equals_ci(s + len - n, n, suffix, n);
}

/* host[:port] as parsed from an Origin or a Host header; host as written (an IPv6 literal keeps its brackets). */
typedef struct {
    const char *host;
    size_t host_len;
    bool has_port;
    uint32_t port;
} authority_t;

/* Parses exactly host[:port] (the grammar in ws_origin.h). Returns false for anything else. */
static bool parse_authority(const char *s, size_t n, authority_t *out)
{
    size_t i = 0;
    if (n == 0) {
        return false;
    }
    if (s[0] == '[') {
        bool colon = false;
        for (i = 1; i < n && s[i] != ']'; i++) {
            if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.') {
                return false; /* a zone ("%25eth0") or anything else: not an address a page can have */
            }
            colon = colon || s[i] == ':';
        }
        if (i == n || !colon) {
            return false;
        }
        i++; /* past ']' */
    } else {
        while (i < n && is_name_char(s[i])) {
            i++;
        }
        if (i == 0) {
            return false;
        }
    }
    out->host = s;
    out->host_len = i;
    out->has_port = false;
    out->port = 0;
    if (i == n) {
        return true;
    }
    if (s[i] != ':' || n - i - 1u < 1u || n - i - 1u > 5u) {
        return false;
    }
    uint32_t port = 0;
    for (i++; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
        port = port * 10u + (uint32_t)(s[i] - '0');
    }
    if (port < 1u || port > 65535u) {
        return false;
    }
    out->has_port = true;
    out->port = port;
    return true;
}

/* An Origin http://host[:port] or https://host[:port]; *default_port is the scheme's (RFC 6454 section 4). */
static bool parse_origin(const char *s, size_t n, authority_t *out, uint32_t *default_port)
{
    static const char http[] = "http://", https[] = "https://";
    if (n >= sizeof(http) - 1u && equals_ci(s, sizeof(http) - 1u, http, sizeof(http) - 1u)) {
        *default_port = 80u;
        return parse_authority(s + sizeof(http) - 1u, n - (sizeof(http) - 1u), out);
    }
    if (n >= sizeof(https) - 1u && equals_ci(s, sizeof(https) - 1u, https, sizeof(https) - 1u)) {
        *default_port = 443u;
        return parse_authority(s + sizeof(https) - 1u, n - (sizeof(https) - 1u), out);
    }
    return false;
}

/* Four dot-separated numbers of 1-3 digits, each 0-255; *first is the first one. */
static bool is_ipv4(const char *s, size_t n, uint32_t *first)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return false;
            }
            i++;
        }
        uint32_t value = 0;
        size_t digits = 0;
        while (i < n && is_digit(s[i]) && digits < 4u) {
            value = value * 10u + (uint32_t)(s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || digits > 3u || value > 255u) {
            return false;
        }
        if (part == 0) {
            *first = value;
        }
    }
    return i == n;
}

static bool is_loopback(const char *host, size_t len)
{
    uint32_t first = 0;
    return equals_ci(host, len, "localhost", 9u) || (len > 10u && ends_with_ci(host, len, ".localhost")) ||
           (is_ipv4(host, len, &first) && first == 127u) || equals_ci(host, len, "[::1]", 5u);
}

/* A name DNS cannot point elsewhere for a page (rule 7): loopback, an address literal, or the server's own name. */
static bool is_trusted_name(const char *host, size_t len, const char *local_name)
{
    uint32_t first = 0;
    if (is_loopback(host, len) || is_ipv4(host, len, &first) || host[0] == '[') {
        return true;
    }
    if (local_name == NULL || local_name[0] == '\0') {
        return false;
    }
    size_t n = strlen(local_name);
    return equals_ci(host, len, local_name, n) ||
           (len == n + 1u && host[n] == '.' && equals_ci(host, n, local_name, n));
}

/* Rules 2 and 3: whether the allow-list has "*" (any = true) or an entry equal to origin. */
static bool listed(const char *list, const char *origin, size_t origin_len, bool any)
{
    size_t want = origin_len > 0 && origin[origin_len - 1u] == '/' ? origin_len - 1u : origin_len;
    const char *p = list;
    while (p != NULL && *p != '\0') {
        while (*p == ',' || is_blank(*p)) {
            p++;
        }
        const char *start = p;
        while (*p != '\0' && *p != ',') {
            p++;
        }
        size_t n = (size_t)(p - start);
        while (n > 0 && is_blank(start[n - 1u])) {
            n--;
        }
        if (any) {
            if (n == 1u && start[0] == '*') {
                return true;
            }
            continue;
        }
        if (n > 0 && start[n - 1u] == '/') {
            n--;
        }
        if (n > 0 && equals_ci(start, n, origin, want)) {
            return true;
        }
    }
    return false;
}

ws_origin_verdict_t ws_origin_check(const ws_origin_policy_t *policy, const char *origin, size_t origin_len,
                                    const char *host, size_t host_len)
{
    const char *list = policy != NULL ? policy->allow_list : NULL;
    const char *local_name = policy != NULL ? policy->local_name : NULL;
    if (origin == NULL) {
        return WS_ORIGIN_ABSENT;
    }
    if (listed(list, origin, origin_len, true)) {
        return WS_ORIGIN_ANY;
    }
    if (listed(list, origin, origin_len, false)) {
        return WS_ORIGIN_LISTED;
    }
    if (origin_len == 4u && memcmp(origin, "null", 4u) == 0) {
        return WS_ORIGIN_NULL; /* RFC 6454 section 6.2: the serialization of an opaque origin */
    }
    authority_t page;
    uint32_t default_port = 0;
    if (!parse_origin(origin, origin_len, &page, &default_port)) {
        return WS_ORIGIN_INVALID;
    }
    if (is_loopback(page.host, page.host_len)) {
        return WS_ORIGIN_LOOPBACK;
    }
    authority_t server;
    if (host == NULL || !parse_authority(host, host_len, &server) ||
        !equals_ci(page.host, page.host_len, server.host, server.host_len) ||
        (page.has_port ? page.port : default_port) != (server.has_port ? server.port : default_port)) {
        return WS_ORIGIN_FOREIGN;
    }
    return is_trusted_name(server.host, server.host_len, local_name) ? WS_ORIGIN_SAME : WS_ORIGIN_FOREIGN;
}

bool ws_origin_accepted(ws_origin_verdict_t verdict)
{
    return verdict == WS_ORIGIN_ABSENT || verdict == WS_ORIGIN_ANY || verdict == WS_ORIGIN_LISTED ||
           verdict == WS_ORIGIN_LOOPBACK || verdict == WS_ORIGIN_SAME;
}

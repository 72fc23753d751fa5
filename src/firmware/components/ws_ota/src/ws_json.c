/* ws_json.c - a reader for one flat JSON object and a writer of small nested ones (RFC 8259). */
#include "ws_json.h"

#include <string.h>

#include "ws_utf8.h"

/* ---- reader ---- */

typedef struct {
    const char *p;
    const char *end;
} cursor_t;

static void skip_ws(cursor_t *c)
{
    /* RFC 8259 section 2: ws = space, horizontal tab, line feed, carriage return. */
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Reads the 4 hex digits of a \u escape at p (p + 4 <= end checked by the caller). */
static long read_u4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_value(p[i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/*
 * Decodes the string body s..s+len (escapes included) into out (cap bytes, may be NULL with cap 0 to validate only).
 * Returns the decoded length (which may exceed cap: nothing is written past it), or -1 for a bad escape, a control
 * character, a lone surrogate or an escaped U+0000 (which a C string cannot hold).
 */
static long decode_string(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    const char *end = s + len;
    while (s < end) {
        unsigned char ch = (unsigned char)*s++;
        if (ch < 0x20) {
            return -1; /* section 7: control characters must be escaped */
        }
        if (ch != '\\') {
            if (n < cap) {
                out[n] = (char)ch;
            }
            n++;
            continue;
        }
        if (s >= end) {
            return -1;
        }
        char e = *s++;
        unsigned long cp;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            cp = (unsigned char)e;
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u': {
            if (end - s < 4) {
                return -1;
            }
            long hi = read_u4(s);
            s += 4;
            if (hi < 0 || hi == 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) {
                return -1; /* a bad digit, U+0000, or a low surrogate first */
            }
            cp = (unsigned long)hi;
            if (hi >= 0xD800 && hi <= 0xDBFF) { /* section 7: a pair of escapes for a code point above U+FFFF */
                if (end - s < 6 || s[0] != '\\' || s[1] != 'u') {
                    return -1;
                }
                long lo = read_u4(s + 2);
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    return -1;
                }
                s += 6;
                cp = 0x10000u + (((unsigned long)hi - 0xD800u) << 10) + ((unsigned long)lo - 0xDC00u);
            }
            break;
        }
        default:
            return -1;
        }
        uint8_t utf8[4];
        size_t k;
        if (cp < 0x80u) {
            utf8[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800u) {
            utf8[0] = (uint8_t)(0xC0u | (cp >> 6));
            utf8[1] = (uint8_t)(0x80u | (cp & 0x3Fu));
            k = 2;
        } else if (cp < 0x10000u) {
            utf8[0] = (uint8_t)(0xE0u | (cp >> 12));
            utf8[1] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
            utf8[2] = (uint8_t)(0x80u | (cp & 0x3Fu));
            k = 3;
        } else {
            utf8[0] = (uint8_t)(0xF0u | (cp >> 18));
            utf8[1] = (uint8_t)(0x80u | ((cp >> 12) & 0x3Fu));
            utf8[2] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
            utf8[3] = (uint8_t)(0x80u | (cp & 0x3Fu));
            k = 4;
        }
        for (size_t i = 0; i < k; i++) {
            if (n < cap) {
                out[n] = (char)utf8[i];
            }
            n++;
        }
    }
    return (long)n;
}

/* Scans a string starting at the opening quote; on success c->p is past the closing quote. */
static bool scan_string(cursor_t *c, const char **body, size_t *body_len)
{
    if (c->p >= c->end || *c->p != '"') {
        return false;
    }
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\') {
            if (c->end - c->p < 2) {
                return false;
            }
            c->p++; /* the escaped character cannot end the string */
        }
        c->p++;
    }
    if (c->p >= c->end) {
        return false;
    }
    *body = start;
    *body_len = (size_t)(c->p - start);
    c->p++;
    return decode_string(start, *body_len, NULL, 0) >= 0;
}

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* Section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool scan_number(cursor_t *c)
{
    if (c->p < c->end && *c->p == '-') {
        c->p++;
    }
    if (c->p >= c->end || !is_digit(*c->p)) {
        return false;
    }
    if (*c->p == '0') {
        c->p++;
    } else {
        while (c->p < c->end && is_digit(*c->p)) {
            c->p++;
        }
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (c->p >= c->end || !is_digit(*c->p)) {
            return false;
        }
        while (c->p < c->end && is_digit(*c->p)) {
            c->p++;
        }
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
            c->p++;
        }
        if (c->p >= c->end || !is_digit(*c->p)) {
            return false;
        }
        while (c->p < c->end && is_digit(*c->p)) {
            c->p++;
        }
    }
    return true;
}

static bool scan_literal(cursor_t *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
        return false;
    }
    c->p += n;
    return true;
}

int ws_json_parse(const char *text, size_t len, ws_json_object_t *out)
{
    if (text == NULL || out == NULL) {
        return WS_JSON_ERR_SYNTAX;
    }
    memset(out, 0, sizeof(*out));
    if (!ws_utf8_is_valid((const uint8_t *)text, len)) {
        return WS_JSON_ERR_SYNTAX; /* section 8.1: JSON text is UTF-8 */
    }
    cursor_t c = {text, text + len};
    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '{') {
        return WS_JSON_ERR_SYNTAX;
    }
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            const char *name;
            size_t name_len;
            skip_ws(&c);
            if (!scan_string(&c, &name, &name_len)) {
                return WS_JSON_ERR_SYNTAX;
            }
            skip_ws(&c);
            if (c.p >= c.end || *c.p++ != ':') {
                return WS_JSON_ERR_SYNTAX;
            }
            skip_ws(&c);
            if (out->count == WS_JSON_MAX_FIELDS) {
                return WS_JSON_ERR_TOO_MANY;
            }
            ws_json_field_t *f = &out->fields[out->count];
            char key[WS_JSON_KEY_MAX + 1];
            long key_len = decode_string(name, name_len, key, sizeof(key) - 1u);
            if (key_len >= 0 && (size_t)key_len <= WS_JSON_KEY_MAX) {
                memcpy(f->key, key, (size_t)key_len);
                f->key[key_len] = '\0';
            } /* else: stays "", matching nothing */
            if (c.p >= c.end) {
                return WS_JSON_ERR_SYNTAX;
            }
            const char *value = c.p;
            if (*c.p == '"') {
                if (!scan_string(&c, &f->raw, &f->raw_len)) {
                    return WS_JSON_ERR_SYNTAX;
                }
                f->type = WS_JSON_STRING;
            } else if (*c.p == '{' || *c.p == '[') {
                return WS_JSON_ERR_NESTED;
            } else if (scan_literal(&c, "true")) {
                f->type = WS_JSON_TRUE;
            } else if (scan_literal(&c, "false")) {
                f->type = WS_JSON_FALSE;
            } else if (scan_literal(&c, "null")) {
                f->type = WS_JSON_NULL;
            } else if (scan_number(&c)) {
                f->type = WS_JSON_NUMBER;
                f->raw = value;
                f->raw_len = (size_t)(c.p - value);
            } else {
                return WS_JSON_ERR_SYNTAX;
            }
            if (f->key[0] != '\0' && ws_json_find(out, f->key) != NULL) {
                return WS_JSON_ERR_DUPLICATE;
            }
            out->count++;
            skip_ws(&c);
            if (c.p >= c.end) {
                return WS_JSON_ERR_SYNTAX;
            }
            char sep = *c.p++;
            if (sep == '}') {
                break;
            }
            if (sep != ',') {
                return WS_JSON_ERR_SYNTAX;
            }
        }
    }
    skip_ws(&c);
    if (c.p != c.end) {
        memset(out, 0, sizeof(*out));
        return WS_JSON_ERR_SYNTAX;
    }
    return WS_JSON_OK;
}

const ws_json_field_t *ws_json_find(const ws_json_object_t *obj, const char *key)
{
    if (obj == NULL || key == NULL || key[0] == '\0') {
        return NULL;
    }
    for (size_t i = 0; i < obj->count; i++) {
        if (strcmp(obj->fields[i].key, key) == 0) {
            return &obj->fields[i];
        }
    }
    return NULL;
}

int ws_json_get_string(const ws_json_object_t *obj, const char *key, char *out, size_t cap)
{
    const ws_json_field_t *f = ws_json_find(obj, key);
    if (f == NULL) {
        return WS_JSON_ERR_ABSENT;
    }
    if (f->type != WS_JSON_STRING) {
        return WS_JSON_ERR_TYPE;
    }
    long n = decode_string(f->raw, f->raw_len, out, cap);
    if (n < 0 || cap == 0 || (size_t)n >= cap) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return WS_JSON_ERR_RANGE;
    }
    out[n] = '\0';
    return (int)n;
}

int ws_json_get_u64(const ws_json_object_t *obj, const char *key, uint64_t max, uint64_t *out)
{
    const ws_json_field_t *f = ws_json_find(obj, key);
    if (f == NULL) {
        return WS_JSON_ERR_ABSENT;
    }
    if (f->type != WS_JSON_NUMBER) {
        return WS_JSON_ERR_TYPE;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < f->raw_len; i++) {
        char ch = f->raw[i];
        if (!is_digit(ch)) {
            return WS_JSON_ERR_RANGE; /* a sign, a fraction or an exponent */
        }
        unsigned d = (unsigned)(ch - '0');
        if (v > (max - d) / 10u) {
            return WS_JSON_ERR_RANGE;
        }
        v = v * 10u + d;
    }
    *out = v;
    return WS_JSON_OK;
}

int ws_json_get_bool(const ws_json_object_t *obj, const char *key, bool *out)
{
    const ws_json_field_t *f = ws_json_find(obj, key);
    if (f == NULL) {
        return WS_JSON_ERR_ABSENT;
    }
    if (f->type != WS_JSON_TRUE && f->type != WS_JSON_FALSE) {
        return WS_JSON_ERR_TYPE;
    }
    *out = f->type == WS_JSON_TRUE;
    return WS_JSON_OK;
}

/* ---- writer ---- */

static void put_raw(ws_json_writer_t *w, const char *s, size_t n)
{
    if (w->overflow || w->cap - w->len <= n) { /* keep one byte for the NUL */
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_char(ws_json_writer_t *w, char ch) { put_raw(w, &ch, 1); }

static void put_quoted(ws_json_writer_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bool utf8 = ws_utf8_is_valid((const uint8_t *)s, n) != 0;
    put_char(w, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            put_raw(w, esc, 2);
        } else if (ch < 0x20 || ch == 0x7F || (ch >= 0x80 && !utf8)) {
            /* Section 7: controls must be escaped; bytes of text that is not UTF-8 are written as the code points of
             * the same value, so the output is always valid JSON. */
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15u]};
            put_raw(w, esc, 6);
        } else {
            put_char(w, (char)ch);
        }
    }
    put_char(w, '"');
}

static void put_key(ws_json_writer_t *w, const char *key)
{
    if (w->depth == 0) {
        w->overflow = true; /* nothing is open */
        return;
    }
    if (!w->first[w->depth - 1u]) {
        put_char(w, ',');
    }
    w->first[w->depth - 1u] = false;
    put_quoted(w, key, strlen(key));
    put_char(w, ':');
}

void ws_json_begin(ws_json_writer_t *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
    if (buf == NULL || cap == 0) {
        w->overflow = true;
        return;
    }
    put_char(w, '{');
    w->depth = 1;
    w->first[0] = true;
}

void ws_json_put_stringn(ws_json_writer_t *w, const char *key, const char *value, size_t len)
{
    put_key(w, key);
    put_quoted(w, value, len);
}

void ws_json_put_string(ws_json_writer_t *w, const char *key, const char *value)
{
    ws_json_put_stringn(w, key, value, strlen(value));
}

void ws_json_put_u64(ws_json_writer_t *w, const char *key, uint64_t value)
{
    char digits[21];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1u - n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value > 0);
    put_key(w, key);
    put_raw(w, digits + sizeof(digits) - n, n);
}

void ws_json_put_bool(ws_json_writer_t *w, const char *key, bool value)
{
    put_key(w, key);
    put_raw(w, value ? "true" : "false", value ? 4u : 5u);
}

void ws_json_put_hex(ws_json_writer_t *w, const char *key, const uint8_t *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put_key(w, key);
    put_char(w, '"');
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15u]};
        put_raw(w, pair, 2);
    }
    put_char(w, '"');
}

void ws_json_open(ws_json_writer_t *w, const char *key)
{
    if (w->depth >= WS_JSON_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    put_key(w, key);
    put_char(w, '{');
    w->first[w->depth++] = true;
}

void ws_json_close(ws_json_writer_t *w)
{
    if (w->depth <= 1u) {
        w->overflow = true; /* the outer object is closed by ws_json_end */
        return;
    }
    put_char(w, '}');
    w->depth--;
}

size_t ws_json_end(ws_json_writer_t *w)
{
    while (w->depth > 0) {
        put_char(w, '}');
        w->depth--;
    }
    if (w->overflow) {
        if (w->buf != NULL && w->cap > 0) {
            w->buf[0] = '\0';
        }
        return 0;
    }
    w->buf[w->len] = '\0';
    return w->len;
}

void ws_json_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15u];
    }
    out[2 * n] = '\0';
}

bool ws_json_unhex(const char *text, size_t len, uint8_t *bytes, size_t n)
{
    if (text == NULL || len != 2u * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        bytes[i] = (uint8_t)(hi * 16 + lo);
    }
    return true;
}

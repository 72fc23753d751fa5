/*
 * ws_json.h - the small JSON (RFC 8259) reader and writer the OTA protocol needs: one flat object per text frame
 * (docs/ota-protocol.md, "Messages"), and the `ota_last` record the device keeps in NVS.
 *
 * Reader: one object whose values are strings, numbers, true, false or null. A nested object or array is refused
 * (no message of the protocol has one, and a parser without recursion cannot be driven deep by hostile input);
 * so are duplicate names (RFC 8259 section 4 leaves their meaning open), more than WS_JSON_MAX_FIELDS members,
 * invalid UTF-8 (section 8.1), anything after the object but whitespace, and every syntax error. Nothing is
 * allocated: a field points into the text, and strings are decoded (escapes, \u surrogate pairs) into the caller's
 * buffer on request. Numbers are read as unsigned integers only when asked; the protocol has no other kind.
 *
 * Writer: objects into a caller's buffer, with at most WS_JSON_MAX_DEPTH levels (the hello's last_update is the
 * second); strings are escaped (section 7), and bytes that are not UTF-8 are written as \u00XX so the output
 * always parses.
 */
#ifndef WS_JSON_H
#define WS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_JSON_MAX_FIELDS 12 /* members of one object: the largest message (hello) has 11 */
#define WS_JSON_KEY_MAX 15    /* longer names are kept as "" and match nothing (the protocol's are shorter) */
#define WS_JSON_MAX_DEPTH 4   /* writer: nested objects */

/* Results (negative: errors). */
#define WS_JSON_OK 0
#define WS_JSON_ERR_SYNTAX (-1)    /* not one JSON object, or invalid UTF-8 */
#define WS_JSON_ERR_NESTED (-2)    /* a value is an object or an array */
#define WS_JSON_ERR_TOO_MANY (-3)  /* more than WS_JSON_MAX_FIELDS members */
#define WS_JSON_ERR_DUPLICATE (-4) /* a name appears twice */
#define WS_JSON_ERR_ABSENT (-5)    /* ws_json_get_*: no such member */
#define WS_JSON_ERR_TYPE (-6)      /* ws_json_get_*: the member has another type */
#define WS_JSON_ERR_RANGE (-7)     /* ws_json_get_*: a number that is not an integer in range, a string too long */

typedef enum { WS_JSON_STRING, WS_JSON_NUMBER, WS_JSON_TRUE, WS_JSON_FALSE, WS_JSON_NULL } ws_json_type_t;

typedef struct {
    char key[WS_JSON_KEY_MAX + 1]; /* the decoded name, NUL-terminated; "" when longer than WS_JSON_KEY_MAX */
    ws_json_type_t type;
    const char *raw; /* STRING: between the quotes, escapes not decoded; NUMBER: its text; inside the input */
    size_t raw_len;
} ws_json_field_t;

typedef struct {
    ws_json_field_t fields[WS_JSON_MAX_FIELDS];
    size_t count;
} ws_json_object_t;

/* Parses text (len bytes, not NUL-terminated) as one flat object. Returns WS_JSON_OK or a WS_JSON_ERR_* code. */
int ws_json_parse(const char *text, size_t len, ws_json_object_t *out);

/* The member named key, or NULL. */
const ws_json_field_t *ws_json_find(const ws_json_object_t *obj, const char *key);

/*
 * Decodes the string member key into out (cap bytes, NUL-terminated). A string holding U+0000 is refused
 * (WS_JSON_ERR_RANGE): it would end the C string early. Returns its length in bytes, or a WS_JSON_ERR_* code.
 */
int ws_json_get_string(const ws_json_object_t *obj, const char *key, char *out, size_t cap);
/* The number member key as an unsigned integer of at most max (no sign, fraction or exponent). */
int ws_json_get_u64(const ws_json_object_t *obj, const char *key, uint64_t max, uint64_t *out);
/* The true/false member key. */
int ws_json_get_bool(const ws_json_object_t *obj, const char *key, bool *out);

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;                 /* something did not fit: ws_json_end returns 0 */
    uint8_t depth;                 /* objects open */
    bool first[WS_JSON_MAX_DEPTH]; /* no member written yet at that depth */
} ws_json_writer_t;

/* Starts the outer object in buf (cap bytes). */
void ws_json_begin(ws_json_writer_t *w, char *buf, size_t cap);
/* Members of the innermost open object. */
void ws_json_put_string(ws_json_writer_t *w, const char *key, const char *value);
void ws_json_put_stringn(ws_json_writer_t *w, const char *key, const char *value, size_t len);
void ws_json_put_u64(ws_json_writer_t *w, const char *key, uint64_t value);
void ws_json_put_bool(ws_json_writer_t *w, const char *key, bool value);
/* A byte string as lowercase hex (the protocol's hashes and nonces). */
void ws_json_put_hex(ws_json_writer_t *w, const char *key, const uint8_t *bytes, size_t n);
/* Opens an object as the member key; close it with ws_json_close. */
void ws_json_open(ws_json_writer_t *w, const char *key);
void ws_json_close(ws_json_writer_t *w);
/* Closes every open object and NUL-terminates. Returns the length, or 0 if anything did not fit. */
size_t ws_json_end(ws_json_writer_t *w);

/* Lowercase hex of n bytes into out (2n + 1 bytes with the NUL). */
void ws_json_hex(const uint8_t *bytes, size_t n, char *out);
/* Parses exactly 2n hex digits (either case) of text into bytes. Returns whether it could. */
bool ws_json_unhex(const char *text, size_t len, uint8_t *bytes, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* WS_JSON_H */

/*
 * libFuzzer target: the OTA protocol engine (ws_ota_engine.h) over an in-memory port, driven by a sequence of
 * operations: text and binary messages, new connections and handshakes, time passing, authentic begins (with the
 * image that follows) and confirms, and stored outcome records. Checks what must hold whatever comes: answers are
 * whole JSON objects, nothing is erased before 288 bytes of a valid head for this chip arrived, nothing is set to
 * boot unless the slot hashes to the begin's sha256, and no slot stays open after its connection.
 *
 * Input: byte 0 = flags (bit 0: the running app is pending verification; bit 1: no key; bits 2-3: a port failure:
 * none, slot writes, esp_ota_end's validation, set boot; bit 4: a stored "pending" record); then records of
 * [op][length, 2 bytes little-endian][data] (see run_op).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_hmac.h"
#include "ws_json.h"
#include "ws_ota_engine.h"
#include "ws_sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOT_CAP 65536u

static struct {
    uint8_t flags;
    ws_ota_running_t run;
    uint8_t key[32];
    uint8_t slot[SLOT_CAP];
    size_t slot_len;
    bool slot_open;
    uint8_t begin_sha[32]; /* what the engine must find in the slot before set_boot */
    bool have_begin_sha;
    char last[512];
    bool has_last;
    uint8_t counter;
    uint32_t now;
} f;

static int p_running(void *c, ws_ota_running_t *out)
{
    (void)c;
    *out = f.run;
    return WS_OTA_PORT_OK;
}
static int p_slot_begin(void *c, uint32_t size)
{
    (void)c;
    (void)size;
    if (f.slot_open) {
        abort(); /* opened twice */
    }
    f.slot_open = true;
    f.slot_len = 0;
    return WS_OTA_PORT_OK;
}
static int p_slot_write(void *c, const uint8_t *d, size_t n)
{
    (void)c;
    if (!f.slot_open) {
        abort(); /* a write without esp_ota_begin */
    }
    if (((f.flags >> 2) & 3u) == 1u || n > SLOT_CAP - f.slot_len) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    if (f.slot_len == 0) {
        /* esp_ota_begin came only after the head was checked: the first write is the whole, valid head. */
        ws_ota_app_info_t info;
        if (n < WS_OTA_IMAGE_HEAD_LEN || ws_ota_image_head(d, n, &info) != WS_OTA_IMAGE_OK ||
            info.chip_id != f.run.chip_id) {
            abort();
        }
    }
    memcpy(f.slot + f.slot_len, d, n);
    f.slot_len += n;
    return WS_OTA_PORT_OK;
}
static int p_slot_end(void *c)
{
    (void)c;
    f.slot_open = false;
    return ((f.flags >> 2) & 3u) == 2u ? WS_OTA_PORT_ERR_INVALID : WS_OTA_PORT_OK;
}
static void p_slot_abort(void *c)
{
    (void)c;
    f.slot_open = false;
}
static int p_slot_read(void *c, uint32_t off, uint8_t *buf, size_t n)
{
    (void)c;
    if (off > f.slot_len || n > f.slot_len - off) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    memcpy(buf, f.slot + off, n);
    return WS_OTA_PORT_OK;
}
static int p_set_boot(void *c)
{
    (void)c;
    uint8_t d[32];
    ws_sha256(f.slot, f.slot_len, d);
    if (f.slot_open || !f.have_begin_sha || memcmp(d, f.begin_sha, 32) != 0) {
        abort(); /* set to boot without its hash checked */
    }
    return ((f.flags >> 2) & 3u) == 3u ? WS_OTA_PORT_ERR_FLASH : WS_OTA_PORT_OK;
}
static void p_restart(void *c) { (void)c; }
static int p_mark(void *c)
{
    (void)c;
    return WS_OTA_PORT_OK;
}
static int p_last_invalid(void *c, char slot[WS_OTA_SLOT_NAME_MAX + 1], bool *self_marked)
{
    (void)c;
    memcpy(slot, "ota_1", 6);
    *self_marked = (f.counter & 1u) != 0;
    return WS_OTA_PORT_OK;
}
static ws_ota_reset_t p_reset(void *c)
{
    (void)c;
    return (ws_ota_reset_t)(f.counter % 4u);
}
static int p_key(void *c, uint8_t k[32])
{
    (void)c;
    if (f.flags & 2u) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    memcpy(k, f.key, 32);
    return WS_OTA_PORT_OK;
}
static uint32_t p_confirm_ms(void *c)
{
    (void)c;
    return 5000;
}
static int p_load_last(void *c, char *buf, size_t cap)
{
    (void)c;
    size_t n = strlen(f.last);
    if (!f.has_last || n >= cap) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    memcpy(buf, f.last, n + 1u);
    return (int)n;
}
static int p_store_last(void *c, const char *json)
{
    (void)c;
    size_t n = strlen(json);
    ws_json_object_t o;
    if (n >= sizeof(f.last) || ws_json_parse(json, n, &o) != WS_JSON_OK) {
        abort(); /* a record it could not read back */
    }
    memcpy(f.last, json, n + 1u);
    f.has_last = true;
    return WS_OTA_PORT_OK;
}
static void p_random(void *c, uint8_t *buf, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)(f.counter++ * 29u + i);
    }
}
static uint32_t p_now(void *c)
{
    (void)c;
    return f.now;
}

static const ws_ota_port_t port = {NULL,         p_running,      p_slot_begin, p_slot_write, p_slot_end,
                                   p_slot_abort, p_slot_read,    p_set_boot,   p_restart,    p_mark,
                                   p_mark,       p_last_invalid, p_reset,      p_key,        p_confirm_ms,
                                   p_load_last,  p_store_last,   p_random,     p_now,        NULL};

static void check_out(const ws_ota_out_t *out)
{
    if (out->count > WS_OTA_OUT_MESSAGES) {
        abort();
    }
    for (size_t i = 0; i < out->count; i++) {
        const char *m = out->buf + out->offset[i];
        if (out->length[i] < 2 || m[0] != '{' || m[out->length[i] - 1u] != '}' ||
            (size_t)out->offset[i] + out->length[i] >= sizeof(out->buf)) {
            abort();
        }
    }
}

static void mac_hex(const char *what, const uint8_t *nonce, const uint8_t *d, size_t n, char hex[65])
{
    ws_hmac_sha256_ctx_t h;
    uint8_t mac[32];
    ws_hmac_sha256_init(&h, f.key, sizeof(f.key));
    ws_hmac_sha256_update(&h, "wsctl-ota.1", 11);
    ws_hmac_sha256_update(&h, nonce, 32);
    ws_hmac_sha256_update(&h, what, strlen(what));
    ws_hmac_sha256_update(&h, d, n);
    ws_hmac_sha256_final(&h, mac);
    ws_json_hex(mac, 32, hex);
}

static void run_op(ws_ota_engine_t *e, uint8_t op, const uint8_t *d, size_t n, ws_ota_out_t *out)
{
    switch (op % 7u) {
    case 0: { /* a text message (its own allocation: ASan sees reads past it) */
        char *t = (char *)malloc(n + 1u);
        if (t != NULL) {
            memcpy(t, d, n);
            ws_ota_engine_text(e, t, n, f.now, out);
            free(t);
        }
        break;
    }
    case 1:
        ws_ota_engine_binary(e, d, n, f.now, out);
        break;
    case 2: { /* the connection ends; a new handshake, opened when accepted */
        ws_ota_engine_closed(e, f.now);
        if (f.slot_open) {
            abort();
        }
        ws_ota_answer_t ans;
        ws_ota_engine_handshake(e, n == 0 || (d[0] & 1u) == 0, f.now, &ans);
        if (ans.status == 101) {
            ws_ota_engine_open(e, f.now, out);
        }
        break;
    }
    case 3: /* time passes */
        f.now += (n > 0 ? d[0] : 1u) * 250u;
        (void)ws_ota_engine_poll(e, f.now);
        break;
    case 4: { /* an authentic begin for the image d (its sha256 unless d[0] is odd), then the image in chunks */
        uint8_t sha[32] = {0}, data[41];
        if (n > 0 && (d[0] & 1u) == 0) {
            ws_sha256(d, n, sha);
        }
        bool force = n > 1 && (d[1] & 1u);
        for (unsigned i = 0; i < 8; i++) {
            data[i] = (uint8_t)((uint64_t)n >> (56u - 8u * i));
        }
        memcpy(data + 8, sha, 32);
        data[40] = force ? 1u : 0u;
        char auth[65], shahex[65], msg[300];
        mac_hex("begin", e->nonce, data, sizeof(data), auth);
        ws_json_hex(sha, 32, shahex);
        int len = snprintf(msg, sizeof(msg),
                           "{\"type\":\"begin\",\"size\":%lu,\"sha256\":\"%s\",\"force\":%s,"
                           "\"auth\":\"%s\"}",
                           (unsigned long)n, shahex, force ? "true" : "false", auth);
        memcpy(f.begin_sha, sha, 32);
        f.have_begin_sha = true;
        ws_ota_engine_text(e, msg, (size_t)len, f.now, out);
        check_out(out);
        size_t chunk = n > 2 ? (size_t)(d[2] % 64u + 1u) * 16u : 16u;
        for (size_t at = 0; at < n && out->close_code == 0; at += chunk) {
            ws_ota_engine_binary(e, d + at, n - at < chunk ? n - at : chunk, f.now, out);
            check_out(out);
        }
        break;
    }
    case 5: { /* an authentic confirm for the running app's ELF hash, or for d's first 32 bytes */
        uint8_t elf[32];
        memcpy(elf, n >= 32 ? d : f.run.app_desc + 144, 32);
        char auth[65], elfhex[65], msg[300];
        mac_hex("confirm", e->nonce, elf, 32, auth);
        ws_json_hex(elf, 32, elfhex);
        int len = snprintf(msg, sizeof(msg),
                           "{\"type\":\"confirm\",\"version\":\"%s\",\"elf_sha256\":\"%s\","
                           "\"auth\":\"%s\"}",
                           e->app.version, elfhex, auth);
        ws_ota_engine_text(e, msg, (size_t)len, f.now, out);
        break;
    }
    default: { /* a stored record as found at boot */
        ws_ota_last_t last, resolved;
        if (ws_ota_last_parse((const char *)d, n, &last) == WS_OTA_PORT_OK) {
            ws_ota_app_info_t app = e->app;
            (void)ws_ota_last_resolve(&last, &e->run, &app, "ota_1", n & 1u, (ws_ota_reset_t)(n % 4u), &resolved);
            char buf[256];
            if (ws_ota_last_format(&resolved, true, buf, sizeof(buf)) == 0) {
                abort(); /* every record fits */
            }
        }
        break;
    }
    }
    check_out(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    memset(&f, 0, sizeof(f));
    f.flags = data[0];
    for (int i = 0; i < 32; i++) {
        f.key[i] = (uint8_t)(0x5A ^ i);
    }
    memcpy(f.run.chip, "esp32c3", 8);
    f.run.chip_id = 5;
    static const uint8_t desc_head[4] = {0x32, 0x54, 0xCD, 0xAB}; /* WS_OTA_APP_DESC_MAGIC, little-endian */
    memcpy(f.run.app_desc, desc_head, 4);
    memcpy(f.run.app_desc + 16, "1.0.0", 5);
    memcpy(f.run.app_desc + 48, "esp32ws", 7);
    memcpy(f.run.running_slot, "ota_0", 6);
    memcpy(f.run.update_slot, "ota_1", 6);
    f.run.update_slot_size = SLOT_CAP;
    f.run.state = (f.flags & 1u) ? WS_OTA_STATE_PENDING_VERIFY : WS_OTA_STATE_VALID;
    if (f.flags & 16u) {
        strcpy(f.last, "{\"result\":\"pending\",\"version\":\"2.0.0\",\"slot\":\"ota_1\"}");
        f.has_last = true;
    }
    static ws_ota_engine_t e;
    static ws_ota_out_t out;
    if (ws_ota_engine_init(&e, &port, 32768, f.now) != WS_OTA_PORT_OK) {
        abort();
    }
    ws_ota_answer_t ans;
    ws_ota_engine_handshake(&e, true, f.now, &ans);
    if (ans.status == 101) {
        ws_ota_engine_open(&e, f.now, &out);
        check_out(&out);
    }
    size_t pos = 1;
    while (pos + 3u <= size) {
        uint8_t op = data[pos];
        size_t n = (size_t)data[pos + 1] | ((size_t)data[pos + 2] << 8);
        pos += 3;
        if (n > size - pos) {
            n = size - pos;
        }
        run_op(&e, op, data + pos, n, &out);
        pos += n;
    }
    ws_ota_engine_closed(&e, f.now);
    if (f.slot_open) {
        abort(); /* a slot left open after its connection */
    }
    return 0;
}

/* ws_ota_engine.c - the device's side of wsctl-ota.1 (docs/ota-protocol.md), see ws_ota_engine.h. */
#include "ws_ota_engine.h"

#include <stdio.h>
#include <string.h>

#include "ws_hmac.h"
#include "ws_json.h"
#include "ws_ota_config.h"
#include "ws_sha256.h"

/* Time comparison that survives the 49-day wrap of a 32-bit millisecond clock (as ws_time_reached). */
static bool reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }

static void log_line(const ws_ota_engine_t *e, const char *fmt, const char *a, const char *b)
{
    if (e->port->log == NULL) {
        return;
    }
    char line[320]; /* the longest: a stored record (256) after its prefix */
    (void)snprintf(line, sizeof(line), fmt, a != NULL ? a : "", b != NULL ? b : "");
    e->port->log(e->port->ctx, line);
}

const char *ws_ota_state_name(ws_ota_state_t state)
{
    switch (state) {
    case WS_OTA_STATE_VALID:
        return "valid";
    case WS_OTA_STATE_PENDING_VERIFY:
        return "pending_verify";
    case WS_OTA_STATE_UNDEFINED:
        break;
    }
    return "undefined";
}

/* ---- the stored outcome (NVS ota_last) ---- */

static const char *result_name(ws_ota_result_t r)
{
    switch (r) {
    case WS_OTA_LAST_PENDING:
        return "pending";
    case WS_OTA_LAST_CONFIRMED:
        return "confirmed";
    case WS_OTA_LAST_ROLLED_BACK:
        return "rolled_back";
    case WS_OTA_LAST_NONE:
        break;
    }
    return "none";
}

int ws_ota_last_parse(const char *json, size_t len, ws_ota_last_t *out)
{
    memset(out, 0, sizeof(*out));
    ws_json_object_t obj;
    char result[16];
    if (ws_json_parse(json, len, &obj) != WS_JSON_OK ||
        ws_json_get_string(&obj, "result", result, sizeof(result)) < 0) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    if (strcmp(result, "pending") == 0) {
        out->result = WS_OTA_LAST_PENDING;
    } else if (strcmp(result, "confirmed") == 0) {
        out->result = WS_OTA_LAST_CONFIRMED;
    } else if (strcmp(result, "rolled_back") == 0) {
        out->result = WS_OTA_LAST_ROLLED_BACK;
    } else if (strcmp(result, "none") != 0) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    /* Optional members: a record cut short by another writer still says what it can. */
    (void)ws_json_get_string(&obj, "version", out->version, sizeof(out->version));
    (void)ws_json_get_string(&obj, "reason", out->reason, sizeof(out->reason));
    (void)ws_json_get_string(&obj, "slot", out->slot, sizeof(out->slot));
    const ws_json_field_t *elf = ws_json_find(&obj, "elf_sha256");
    if (elf == NULL || elf->type != WS_JSON_STRING ||
        !ws_json_unhex(elf->raw, elf->raw_len, out->elf_sha256, sizeof(out->elf_sha256))) {
        memset(out->elf_sha256, 0, sizeof(out->elf_sha256));
    }
    return WS_OTA_PORT_OK;
}

/* The members of a record: what the hello reports (result, version, reason), and with stored also slot and ELF. */
static void put_last(ws_json_writer_t *w, const ws_ota_last_t *last, bool stored)
{
    ws_ota_result_t r = last->result;
    if (!stored && r == WS_OTA_LAST_NONE) {
        ws_json_put_string(w, "result", "none");
        return;
    }
    ws_json_put_string(w, "result", result_name(r));
    if (r == WS_OTA_LAST_NONE) {
        return;
    }
    ws_json_put_string(w, "version", last->version);
    if (r == WS_OTA_LAST_ROLLED_BACK) {
        ws_json_put_string(w, "reason", last->reason);
    }
    if (stored) {
        ws_json_put_string(w, "slot", last->slot);
        ws_json_put_hex(w, "elf_sha256", last->elf_sha256, sizeof(last->elf_sha256));
    }
}

size_t ws_ota_last_format(const ws_ota_last_t *last, bool stored, char *out, size_t cap)
{
    ws_json_writer_t w;
    ws_json_begin(&w, out, cap);
    put_last(&w, last, stored);
    return ws_json_end(&w);
}

static void set_reason(ws_ota_last_t *out, const char *reason)
{
    size_t n = strlen(reason);
    memcpy(out->reason, reason, n + 1u); /* every reason fits WS_OTA_REASON_MAX */
}

bool ws_ota_last_resolve(const ws_ota_last_t *stored, const ws_ota_running_t *run, const ws_ota_app_info_t *app,
                         const char *invalid_slot, bool invalid_self_marked, ws_ota_reset_t reset, ws_ota_last_t *out)
{
    *out = *stored;
    if (stored->result != WS_OTA_LAST_PENDING) {
        return false;
    }
    bool is_update = strcmp(run->running_slot, stored->slot) == 0 &&
                     memcmp(app->elf_sha256, stored->elf_sha256, sizeof(app->elf_sha256)) == 0;
    if (is_update) {
        if (run->state == WS_OTA_STATE_PENDING_VERIFY) {
            return false; /* its first boot: the confirmation deadline runs */
        }
        out->result = WS_OTA_LAST_CONFIRMED; /* marked valid, its record not written (a reset in between) */
        return true;
    }
    out->result = WS_OTA_LAST_ROLLED_BACK;
    if (invalid_slot == NULL || strcmp(invalid_slot, stored->slot) != 0 || invalid_self_marked) {
        set_reason(out, "invalid");
    } else if (reset == WS_OTA_RESET_PANIC) {
        set_reason(out, "panic");
    } else if (reset == WS_OTA_RESET_WATCHDOG) {
        set_reason(out, "watchdog");
    } else {
        set_reason(out, "reset");
    }
    return true;
}

static void store_last(ws_ota_engine_t *e, const ws_ota_last_t *last)
{
    char json[256];
    size_t n = ws_ota_last_format(last, true, json, sizeof(json));
    if (n > 0 && e->port->store_last(e->port->ctx, json) == WS_OTA_PORT_OK) {
        log_line(e, "ota: last update: %s", json, NULL);
    } else {
        log_line(e, "ota: could not store the last update's outcome (NVS ota_last)", NULL, NULL);
    }
}

/* ---- init, handshake ---- */

int ws_ota_engine_init(ws_ota_engine_t *e, const ws_ota_port_t *port, uint32_t window, uint32_t now)
{
    memset(e, 0, sizeof(*e));
    e->port = port;
    e->window = window != 0 ? window : WS_OTA_WINDOW;
    e->ack_step = e->window / 2u < WS_OTA_ACK_MAX_STEP ? e->window / 2u : WS_OTA_ACK_MAX_STEP;
    if (e->ack_step == 0) {
        e->ack_step = 1;
    }
    int err = port->running(port->ctx, &e->run);
    if (err != WS_OTA_PORT_OK) {
        return err;
    }
    if (ws_ota_app_desc_parse(e->run.app_desc, &e->app) != WS_OTA_IMAGE_OK) {
        memset(&e->app, 0, sizeof(e->app)); /* no description: nothing can match a project or a confirm */
    }
    char json[256];
    int n = port->load_last(port->ctx, json, sizeof(json));
    ws_ota_last_t stored;
    if (n < 0 || (size_t)n >= sizeof(json) || ws_ota_last_parse(json, (size_t)n, &stored) != WS_OTA_PORT_OK) {
        memset(&stored, 0, sizeof(stored));
    }
    char invalid_slot[WS_OTA_SLOT_NAME_MAX + 1];
    bool self_marked = false;
    bool has_invalid = false;
    ws_ota_reset_t reset = WS_OTA_RESET_POWER_ON;
    if (stored.result == WS_OTA_LAST_PENDING) {
        has_invalid = port->last_invalid(port->ctx, invalid_slot, &self_marked) == WS_OTA_PORT_OK;
        reset = port->reset_reason(port->ctx);
    }
    if (ws_ota_last_resolve(&stored, &e->run, &e->app, has_invalid ? invalid_slot : NULL, self_marked, reset,
                            &e->last)) {
        store_last(e, &e->last);
    }
    if (e->run.state == WS_OTA_STATE_PENDING_VERIFY) {
        uint32_t ms = port->confirm_ms(port->ctx);
        e->deadline_armed = true;
        e->deadline_ms = now + ms;
        char secs[16];
        (void)snprintf(secs, sizeof(secs), "%lu", (unsigned long)(ms / 1000u));
        log_line(e, "ota: %s pending verification: confirm on /ota within %s s or it rolls back", e->app.version, secs);
    }
    return WS_OTA_PORT_OK;
}

void ws_ota_engine_handshake(ws_ota_engine_t *e, bool subprotocol_offered, uint32_t now, ws_ota_answer_t *ans)
{
    memset(ans, 0, sizeof(*ans));
    uint8_t key[WS_OTA_KEY_LEN];
    bool has_key = e->port->key(e->port->ctx, key) == WS_OTA_PORT_OK;
    ws_hmac_wipe(key, sizeof(key));
    if (e->restarting || e->restart_owed) {
        *ans = (ws_ota_answer_t){503, "restarting\n", 5};
    } else if (!has_key) {
        *ans = (ws_ota_answer_t){403, "ota disabled: no key provisioned\n", 0};
    } else if (!subprotocol_offered) {
        *ans = (ws_ota_answer_t){400, "ota needs subprotocol " WS_OTA_PROTOCOL "\n", 0};
    } else if (e->blocked && !reached(now, e->blocked_until_ms)) {
        uint32_t left = e->blocked_until_ms - now;
        *ans = (ws_ota_answer_t){429, "too many failed authentications\n", (left + 999u) / 1000u};
    } else if (e->phase != WS_OTA_SESSION_NONE) {
        *ans = (ws_ota_answer_t){409, "an update is in progress\n", 0};
    } else {
        ans->status = 101;
    }
}

/* ---- answers ---- */

static ws_json_writer_t *out_begin(ws_ota_out_t *out, ws_json_writer_t *w, const char *type)
{
    size_t used = out->count > 0 ? out->offset[out->count - 1u] + out->length[out->count - 1u] + 1u : 0u;
    ws_json_begin(w, out->buf + used, sizeof(out->buf) - used);
    ws_json_put_string(w, "type", type);
    return w;
}

static void out_end(ws_ota_out_t *out, ws_json_writer_t *w)
{
    size_t n = ws_json_end(w);
    if (n == 0 || out->count == WS_OTA_OUT_MESSAGES) {
        return; /* cannot happen with the fixed messages below; a lost answer is better than a cut one */
    }
    out->offset[out->count] = (uint16_t)(w->buf - out->buf);
    out->length[out->count] = (uint16_t)n;
    out->count++;
}

/* Ends the session: aborts an open slot. */
static void session_done(ws_ota_engine_t *e)
{
    if (e->slot_open) {
        e->port->slot_abort(e->port->ctx);
        e->slot_open = false;
    }
    e->phase = WS_OTA_SESSION_DONE;
}

static void fail(ws_ota_engine_t *e, ws_ota_out_t *out, const char *code, const char *message)
{
    ws_json_writer_t w;
    out_begin(out, &w, "error");
    ws_json_put_string(&w, "code", code);
    ws_json_put_string(&w, "message", message);
    out_end(out, &w);
    out->close_code = WS_OTA_CLOSE_POLICY;
    session_done(e);
    log_line(e, "ota: refused: %s (%s)", code, message);
}

static void protocol_error(ws_ota_engine_t *e, ws_ota_out_t *out, const char *what)
{
    out->close_code = WS_OTA_CLOSE_PROTOCOL;
    session_done(e);
    log_line(e, "ota: protocol error: %s", what, NULL);
}

static void progress(ws_ota_engine_t *e, ws_ota_out_t *out)
{
    ws_json_writer_t w;
    out_begin(out, &w, "progress");
    ws_json_put_u64(&w, "written", e->written);
    out_end(out, &w);
    e->acked = e->written;
}

void ws_ota_engine_open(ws_ota_engine_t *e, uint32_t now, ws_ota_out_t *out)
{
    (void)now;
    memset(out, 0, sizeof(*out));
    e->phase = WS_OTA_SESSION_HELLO;
    e->port->random(e->port->ctx, e->nonce, sizeof(e->nonce));
    e->received = e->written = e->acked = 0;
    e->head_len = 0;
    ws_json_writer_t w;
    out_begin(out, &w, "hello");
    ws_json_put_string(&w, "protocol", WS_OTA_PROTOCOL);
    ws_json_put_hex(&w, "nonce", e->nonce, sizeof(e->nonce));
    ws_json_put_string(&w, "chip", e->run.chip);
    ws_json_put_string(&w, "project", e->app.project);
    ws_json_put_string(&w, "version", e->app.version);
    ws_json_put_hex(&w, "elf_sha256", e->app.elf_sha256, sizeof(e->app.elf_sha256));
    ws_json_put_string(&w, "running_slot", e->run.running_slot);
    ws_json_put_string(&w, "state", ws_ota_state_name(e->run.state));
    ws_json_put_u64(&w, "slot_size", e->run.update_slot_size);
    ws_json_open(&w, "last_update");
    put_last(&w, &e->last, false);
    ws_json_close(&w);
    out_end(out, &w);
}

/* ---- authentication ---- */

/* Checks auth (64 hex) = HMAC-SHA256(key, "wsctl-ota.1" || nonce || what || data) and spends the nonce. */
static bool authentic(ws_ota_engine_t *e, const char *what, const uint8_t *data, size_t data_len,
                      const ws_json_object_t *msg, uint32_t now)
{
    uint8_t given[32], mac[32], key[WS_OTA_KEY_LEN];
    const ws_json_field_t *auth = ws_json_find(msg, "auth");
    bool ok = auth != NULL && auth->type == WS_JSON_STRING && ws_json_unhex(auth->raw, auth->raw_len, given, 32) &&
              e->port->key(e->port->ctx, key) == WS_OTA_PORT_OK;
    if (ok) {
        ws_hmac_sha256_ctx_t h;
        ws_hmac_sha256_init(&h, key, sizeof(key));
        ws_hmac_sha256_update(&h, WS_OTA_PROTOCOL, sizeof(WS_OTA_PROTOCOL) - 1u);
        ws_hmac_sha256_update(&h, e->nonce, sizeof(e->nonce));
        ws_hmac_sha256_update(&h, what, strlen(what));
        ws_hmac_sha256_update(&h, data, data_len);
        ws_hmac_sha256_final(&h, mac);
        ok = ws_hmac_equal(mac, given, sizeof(mac));
    }
    ws_hmac_wipe(key, sizeof(key));
    e->port->random(e->port->ctx, e->nonce, sizeof(e->nonce)); /* single use: whatever came, this one is spent */
    if (ok) {
        e->auth_failures = 0;
        e->blocked = false;
        return true;
    }
    /* 1 s, doubling with each further failure, at most WS_OTA_BACKOFF_MAX_MS (docs 1). */
    uint32_t backoff = WS_OTA_BACKOFF_MAX_MS;
    if (e->auth_failures < 16u && (1000u << e->auth_failures) < WS_OTA_BACKOFF_MAX_MS) {
        backoff = 1000u << e->auth_failures;
    }
    e->auth_failures++;
    e->blocked = true;
    e->blocked_until_ms = now + backoff;
    return false;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        out[i] = (uint8_t)(v >> (56u - 8u * i));
    }
}

/* A 64-hex member into 32 bytes. */
static bool get_hash(const ws_json_object_t *msg, const char *key, uint8_t out[32])
{
    const ws_json_field_t *f = ws_json_find(msg, key);
    return f != NULL && f->type == WS_JSON_STRING && ws_json_unhex(f->raw, f->raw_len, out, 32);
}

static void on_begin(ws_ota_engine_t *e, const ws_json_object_t *msg, uint32_t now, ws_ota_out_t *out)
{
    uint64_t size = 0;
    bool force = false;
    int force_err = ws_json_get_bool(msg, "force", &force);
    if (ws_json_get_u64(msg, "size", UINT64_MAX, &size) != WS_JSON_OK || !get_hash(msg, "sha256", e->sha256) ||
        (force_err != WS_JSON_OK && force_err != WS_JSON_ERR_ABSENT)) {
        protocol_error(e, out, "begin without a size, a sha256 or a boolean force");
        return;
    }
    uint8_t data[8 + 32 + 1];
    be64(data, size);
    memcpy(data + 8, e->sha256, 32);
    data[40] = force ? 1u : 0u;
    if (!authentic(e, "begin", data, sizeof(data), msg, now)) {
        out->events |= WS_OTA_EV_AUTH_FAILED;
        fail(e, out, "auth_failed", "the begin's auth is not this device's key over this nonce");
        return;
    }
    if (e->run.state == WS_OTA_STATE_PENDING_VERIFY) {
        fail(e, out, "pending_verify", "the running app is not confirmed yet: confirm it, or let it roll back");
        return;
    }
    if (size > e->run.update_slot_size) {
        fail(e, out, "too_big", "the image is larger than the update slot");
        return;
    }
    if (size < WS_OTA_IMAGE_HEAD_LEN) {
        fail(e, out, "not_an_image", "an app image has at least 288 bytes");
        return;
    }
    e->size = (uint32_t)size;
    e->force = force;
    e->phase = WS_OTA_SESSION_RECEIVING;
    ws_json_writer_t w;
    out_begin(out, &w, "ready");
    ws_json_put_u64(&w, "window", e->window);
    out_end(out, &w);
    char n[16];
    (void)snprintf(n, sizeof(n), "%lu", (unsigned long)e->size);
    log_line(e, "ota: begin: %s bytes%s", n, force ? ", forced" : "");
}

static void on_confirm(ws_ota_engine_t *e, const ws_json_object_t *msg, uint32_t now, ws_ota_out_t *out)
{
    char version[WS_OTA_APP_VERSION_MAX + 1];
    uint8_t elf[32];
    int vlen = ws_json_get_string(msg, "version", version, sizeof(version));
    if (!get_hash(msg, "elf_sha256", elf) || (vlen < 0 && vlen != WS_JSON_ERR_RANGE)) {
        protocol_error(e, out, "confirm without a version or an elf_sha256");
        return;
    }
    if (!authentic(e, "confirm", elf, sizeof(elf), msg, now)) {
        out->events |= WS_OTA_EV_AUTH_FAILED;
        fail(e, out, "auth_failed", "the confirm's auth is not this device's key over this nonce");
        return;
    }
    if (vlen < 0 || strcmp(version, e->app.version) != 0 || memcmp(elf, e->app.elf_sha256, sizeof(elf)) != 0) {
        fail(e, out, "mismatch", "the running app is another version");
        return;
    }
    if (e->run.state == WS_OTA_STATE_UNDEFINED) {
        fail(e, out, "not_pending", "the running app has no OTA state to confirm (a bootloader without rollback)");
        return;
    }
    if (e->run.state == WS_OTA_STATE_PENDING_VERIFY) {
        if (e->port->mark_valid(e->port->ctx) != WS_OTA_PORT_OK) {
            fail(e, out, "flash_error", "esp_ota_mark_app_valid_cancel_rollback failed");
            return;
        }
        e->run.state = WS_OTA_STATE_VALID;
        e->deadline_armed = false;
        ws_ota_last_t confirmed = e->last.result == WS_OTA_LAST_PENDING ? e->last : (ws_ota_last_t){0};
        confirmed.result = WS_OTA_LAST_CONFIRMED;
        memcpy(confirmed.version, e->app.version, sizeof(confirmed.version));
        memcpy(confirmed.slot, e->run.running_slot, sizeof(confirmed.slot));
        memcpy(confirmed.elf_sha256, e->app.elf_sha256, sizeof(confirmed.elf_sha256));
        e->last = confirmed;
        store_last(e, &confirmed);
        out->events |= WS_OTA_EV_CONFIRMED;
        log_line(e, "ota: %s confirmed: marked valid, no rollback", e->app.version, NULL);
    }
    ws_json_writer_t w;
    out_begin(out, &w, "confirmed");
    ws_json_put_string(&w, "version", e->app.version);
    out_end(out, &w);
    out->close_code = WS_OTA_CLOSE_NORMAL;
    session_done(e);
}

/* A restart was asked for (the deadline's rollback on the host build, where the port returns): nothing more is done. */
static bool refuse_while_restarting(ws_ota_engine_t *e, ws_ota_out_t *out)
{
    if (!e->restarting || e->phase == WS_OTA_SESSION_DONE) {
        return false;
    }
    out->close_code = WS_OTA_CLOSE_GOING_AWAY;
    session_done(e);
    return true;
}

void ws_ota_engine_text(ws_ota_engine_t *e, const char *text, size_t len, uint32_t now, ws_ota_out_t *out)
{
    memset(out, 0, sizeof(*out));
    if (e->phase == WS_OTA_SESSION_DONE || e->phase == WS_OTA_SESSION_NONE || refuse_while_restarting(e, out)) {
        return; /* closing: whatever the peer still sends is discarded */
    }
    ws_json_object_t msg;
    char type[16];
    if (e->phase != WS_OTA_SESSION_HELLO || ws_json_parse(text, len, &msg) != WS_JSON_OK ||
        ws_json_get_string(&msg, "type", type, sizeof(type)) < 0) {
        protocol_error(e, out,
                       e->phase == WS_OTA_SESSION_HELLO ? "not a JSON object with a type"
                                                        : "text while "
                                                          "receiving");
        return;
    }
    if (strcmp(type, "begin") == 0) {
        on_begin(e, &msg, now, out);
    } else if (strcmp(type, "confirm") == 0) {
        on_confirm(e, &msg, now, out);
    } else {
        protocol_error(e, out, "a message type the device does not take");
    }
}

/* ---- the image ---- */

static bool slot_write(ws_ota_engine_t *e, const uint8_t *data, size_t len, ws_ota_out_t *out)
{
    if (len == 0) {
        return true;
    }
    if (e->port->slot_write(e->port->ctx, data, len) != WS_OTA_PORT_OK) {
        fail(e, out, "flash_error", "writing the update slot failed");
        return false;
    }
    e->written += (uint32_t)len;
    return true;
}

/* The first 288 bytes are in: refuse before anything is erased, or open the slot and write them. */
static bool check_head(ws_ota_engine_t *e, ws_ota_out_t *out)
{
    int err = ws_ota_image_head(e->head, sizeof(e->head), &e->image);
    if (err != WS_OTA_IMAGE_OK) {
        fail(e, out, "not_an_image",
             err == WS_OTA_IMAGE_ERR_NO_DESC ? "no app description (esp_app_desc_t) at offset 32"
                                             : "no ESP image header (magic 0xE9, 1-16 segments)");
        return false;
    }
    if (e->image.chip_id != e->run.chip_id) {
        const char *name = ws_ota_chip_name(e->image.chip_id);
        char msg[64];
        (void)snprintf(msg, sizeof(msg), "the image is for %s, this device is %s", name != NULL ? name : "another chip",
                       e->run.chip);
        fail(e, out, "wrong_chip", msg);
        return false;
    }
    if (!e->force && strcmp(e->image.project, e->app.project) != 0) {
        char msg[128];
        (void)snprintf(msg, sizeof(msg), "the image is project \"%s\", this device runs \"%s\"", e->image.project,
                       e->app.project);
        fail(e, out, "wrong_project", msg);
        return false;
    }
    if (e->port->slot_begin(e->port->ctx, e->size) != WS_OTA_PORT_OK) {
        fail(e, out, "flash_error", "opening the update slot failed (esp_ota_begin)");
        return false;
    }
    e->slot_open = true;
    log_line(e, "ota: writing %s to %s", e->image.version, e->run.update_slot);
    return slot_write(e, e->head, sizeof(e->head), out);
}

/*
 * The last byte is written: read it back from flash and hash it (what landed, not what arrived), then close the slot
 * (esp_ota_end validates the image) and set it to boot. The hash comes first so that a byte changed on the way is
 * reported as such (sha256_mismatch) rather than as a bad image.
 */
static void finish(ws_ota_engine_t *e, ws_ota_out_t *out)
{
    ws_sha256_ctx_t h;
    ws_sha256_init(&h);
    for (uint32_t off = 0; off < e->size;) {
        size_t n = e->size - off < sizeof(e->readback) ? e->size - off : sizeof(e->readback);
        if (e->port->slot_read(e->port->ctx, off, e->readback, n) != WS_OTA_PORT_OK) {
            fail(e, out, "flash_error", "reading the update slot back failed");
            return;
        }
        ws_sha256_update(&h, e->readback, n);
        off += (uint32_t)n;
    }
    uint8_t digest[32];
    ws_sha256_final(&h, digest);
    if (memcmp(digest, e->sha256, sizeof(digest)) != 0) {
        fail(e, out, "sha256_mismatch", "what the update slot holds does not hash to the begin's sha256");
        return;
    }
    e->slot_open = false;
    int err = e->port->slot_end(e->port->ctx);
    if (err != WS_OTA_PORT_OK) {
        if (err == WS_OTA_PORT_ERR_INVALID) {
            fail(e, out, "invalid_image", "the written image does not verify (esp_ota_end)");
        } else {
            fail(e, out, "flash_error", "closing the update slot failed (esp_ota_end)");
        }
        return;
    }
    if (e->port->set_boot(e->port->ctx) != WS_OTA_PORT_OK) {
        fail(e, out, "flash_error", "setting the update slot to boot failed (esp_ota_set_boot_partition)");
        return;
    }
    ws_ota_last_t pending = {.result = WS_OTA_LAST_PENDING};
    memcpy(pending.version, e->image.version, sizeof(pending.version));
    memcpy(pending.slot, e->run.update_slot, sizeof(pending.slot));
    memcpy(pending.elf_sha256, e->image.elf_sha256, sizeof(pending.elf_sha256));
    store_last(e, &pending);
    ws_json_writer_t w;
    out_begin(out, &w, "rebooting");
    ws_json_put_string(&w, "slot", e->run.update_slot);
    out_end(out, &w);
    out->close_code = WS_OTA_CLOSE_GOING_AWAY;
    out->events |= WS_OTA_EV_REBOOTING;
    e->phase = WS_OTA_SESSION_DONE;
    e->restart_owed = true;
    /* The grace counts from now, not from the message's arrival: reading back and hashing the slot takes seconds (12
     * s for 450 KB on the emulated ESP32), and a grace already spent restarted the device 10 ms after `rebooting`
     * was queued, before it left (wsctl waited 60 s for it). */
    e->restart_at_ms = e->port->now_ms(e->port->ctx) + WS_OTA_RESTART_GRACE_MS;
    log_line(e, "ota: %s written to %s and verified: rebooting", e->image.version, e->run.update_slot);
}

void ws_ota_engine_binary(ws_ota_engine_t *e, const uint8_t *data, size_t len, uint32_t now, ws_ota_out_t *out)
{
    (void)now; /* the last message's verification takes seconds: finish reads the clock after it */
    memset(out, 0, sizeof(*out));
    if (e->phase == WS_OTA_SESSION_DONE || e->phase == WS_OTA_SESSION_NONE || refuse_while_restarting(e, out)) {
        return;
    }
    if (e->phase != WS_OTA_SESSION_RECEIVING) {
        protocol_error(e, out, "image bytes before ready");
        return;
    }
    if (len > WS_OTA_MAX_FRAME) {
        out->close_code = WS_OTA_CLOSE_TOO_BIG;
        session_done(e);
        log_line(e, "ota: protocol error: a binary message over 16 KiB", NULL, NULL);
        return;
    }
    if (len > e->size - e->received) {
        fail(e, out, "too_much", "more bytes than the begin's size");
        return;
    }
    /* No window check: the device acknowledges every ack_step <= window / 2 bytes as it writes them, so what it has
     * received beyond its last `progress` never exceeds the window whatever the client does; a client that sends
     * ahead regardless only waits in TCP's flow control, since one message is read and written at a time. */
    e->received += (uint32_t)len;
    if (e->head_len < sizeof(e->head)) {
        size_t take = sizeof(e->head) - e->head_len < len ? sizeof(e->head) - e->head_len : len;
        memcpy(e->head + e->head_len, data, take);
        e->head_len += take;
        data += take;
        len -= take;
        if (e->head_len < sizeof(e->head) || !check_head(e, out)) {
            return; /* waits for the rest of the head, whatever the frames' sizes; or refused */
        }
    }
    if (!slot_write(e, data, len, out)) {
        return;
    }
    if (e->written == e->size || e->written - e->acked >= e->ack_step) {
        progress(e, out);
    }
    if (e->written == e->size) {
        finish(e, out);
    }
}

void ws_ota_engine_closed(ws_ota_engine_t *e, uint32_t now)
{
    if (e->phase == WS_OTA_SESSION_RECEIVING) {
        log_line(e, "ota: connection lost during the upload: aborted, the boot partition is unchanged", NULL, NULL);
    }
    session_done(e);
    e->phase = WS_OTA_SESSION_NONE;
    if (e->restart_owed && !reached(now, e->restart_at_ms)) {
        e->restart_at_ms = now; /* the peer has its close: restart at the next poll */
    }
}

bool ws_ota_engine_poll(ws_ota_engine_t *e, uint32_t now)
{
    if (e->restarting) {
        return true;
    }
    if (e->deadline_armed && reached(now, e->deadline_ms)) {
        e->deadline_armed = false;
        ws_ota_last_t rolled = e->last.result == WS_OTA_LAST_PENDING ? e->last : (ws_ota_last_t){0};
        rolled.result = WS_OTA_LAST_ROLLED_BACK;
        memcpy(rolled.version, e->app.version, sizeof(rolled.version));
        memcpy(rolled.slot, e->run.running_slot, sizeof(rolled.slot));
        memcpy(rolled.elf_sha256, e->app.elf_sha256, sizeof(rolled.elf_sha256));
        set_reason(&rolled, "not_confirmed");
        store_last(e, &rolled);
        log_line(e, "ota: %s not confirmed in time: marking it invalid, rolling back", e->app.version, NULL);
        if (e->port->mark_invalid(e->port->ctx) != WS_OTA_PORT_OK) {
            /* No app to roll back to (esp_ota_check_rollback_is_possible): keep running it, still pending. */
            store_last(e, &e->last);
            log_line(e, "ota: rollback impossible (no valid app in the other slot): %s keeps running", e->app.version,
                     NULL);
            return false;
        }
        e->restarting = true; /* the host port returns and exits with status 3; the device has restarted */
        return true;
    }
    if (e->restart_owed && reached(now, e->restart_at_ms)) {
        e->restart_owed = false;
        e->restarting = true;
        e->port->restart(e->port->ctx);
        return true;
    }
    return false;
}

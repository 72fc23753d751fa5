/*
 * ws_ota_engine.h - the device's side of wsctl-ota.1 (docs/ota-protocol.md), without I/O: handshakes, text and binary
 * messages and the time go in; answers (HTTP status, messages to send, the close code) come out; flash, NVS, the boot
 * choice and restarts go through the port (ws_ota_port.h). ws_ota.h binds it to the WebSocket server's /ota
 * endpoint; the tests drive it directly with a fake port (host/tests/ota_engine_test.cpp).
 *
 * One session at a time (a second /ota handshake gets 409 while one is open):
 *   NONE       no /ota connection
 *   HELLO      the hello went out with a fresh nonce; a `begin` or a `confirm` may come, once
 *   RECEIVING  `ready` went out; image bytes arrive in binary messages; the first 288 are checked before the slot is
 *              opened (erased as written); `progress` acknowledges every WS_OTA_ACK_STEP bytes and the last one;
 *              after the last, the slot is closed, read back and hashed, and set to boot
 *   DONE       an answer ended the session (`error`, `confirmed`, `rebooting`); the connection is closing
 *
 * Across sessions: the authentication back-off (429), the confirmation deadline of a pending app (ws_ota_engine_poll
 * marks it invalid, which restarts into the previous app), a restart owed after `rebooting`, and the last update's
 * outcome (`last_update` in the hello), kept in NVS key ota_last as a JSON object:
 *   {"result":"pending","version":V,"slot":"ota_1","elf_sha256":H}   written before the new slot is set to boot
 *   {"result":"confirmed","version":V,...}                           by the new app when a confirm arrives
 *   {"result":"rolled_back","version":V,"reason":R,...}               by the new app at its deadline (not_confirmed),
 *                                                                     or by the previous app at its next boot
 * A "pending" record found at boot is resolved by ws_ota_last_resolve (see there).
 */
#ifndef WS_OTA_ENGINE_H
#define WS_OTA_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_ota_image.h"
#include "ws_ota_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OTA_PROTOCOL "wsctl-ota.1"
#define WS_OTA_NVS_KEY_LAST "ota_last" /* NVS string in namespace wsctl: the last update's outcome (below) */
#define WS_OTA_MAX_FRAME 16384u        /* largest binary message (docs 3); larger: close 1009 */
#define WS_OTA_ACK_MAX_STEP 65536u     /* `progress` at least this often (docs 3) */
#define WS_OTA_NONCE_LEN 32u
#define WS_OTA_KEY_LEN 32u
#define WS_OTA_RESTART_GRACE_MS 2000u /* after `rebooting`: restart once the peer closed, at most this later */
#define WS_OTA_READBACK_CHUNK 1024u   /* bytes read back from flash at a time to hash the written image */
#define WS_OTA_OUT_MESSAGES 3u
#define WS_OTA_OUT_BUF 1024u

/* WebSocket close codes the engine asks for (RFC 6455 section 7.4.1). */
#define WS_OTA_CLOSE_NORMAL 1000u
#define WS_OTA_CLOSE_GOING_AWAY 1001u /* after `rebooting` */
#define WS_OTA_CLOSE_PROTOCOL 1002u   /* a message the protocol does not allow at that point */
#define WS_OTA_CLOSE_POLICY 1008u     /* after every `error` */
#define WS_OTA_CLOSE_TOO_BIG 1009u    /* a binary message over WS_OTA_MAX_FRAME */

typedef enum {
    WS_OTA_SESSION_NONE,
    WS_OTA_SESSION_HELLO,
    WS_OTA_SESSION_RECEIVING,
    WS_OTA_SESSION_DONE
} ws_ota_phase_t;

typedef enum {
    WS_OTA_LAST_NONE = 0,
    WS_OTA_LAST_PENDING, /* written, set to boot, not confirmed yet (never shown by another app than the new one) */
    WS_OTA_LAST_CONFIRMED,
    WS_OTA_LAST_ROLLED_BACK
} ws_ota_result_t;

#define WS_OTA_REASON_MAX 15u

typedef struct {
    ws_ota_result_t result;
    char version[WS_OTA_APP_VERSION_MAX + 1]; /* the update's version */
    char reason[WS_OTA_REASON_MAX + 1];       /* ROLLED_BACK: not_confirmed, panic, watchdog, reset, invalid */
    char slot[WS_OTA_SLOT_NAME_MAX + 1];      /* the slot it was written to */
    uint8_t elf_sha256[32];                   /* its app's ELF SHA-256 */
} ws_ota_last_t;

/* Events of one call (ws_ota_out_t.events), for the glue's log and the mDNS TXT record. */
#define WS_OTA_EV_AUTH_FAILED 0x01u /* a begin/confirm with a wrong HMAC: the back-off grew */
#define WS_OTA_EV_CONFIRMED 0x02u   /* the running app was confirmed (its state is valid now) */
#define WS_OTA_EV_REBOOTING 0x04u   /* an update was written and set to boot; a restart follows */

typedef struct {
    size_t count;                         /* text messages to send, in order */
    uint16_t offset[WS_OTA_OUT_MESSAGES]; /* each one's start in buf */
    uint16_t length[WS_OTA_OUT_MESSAGES];
    char buf[WS_OTA_OUT_BUF];
    uint16_t close_code; /* 0: keep the connection; else close with it after the messages */
    unsigned events;     /* WS_OTA_EV_* */
} ws_ota_out_t;

typedef struct {
    int status;             /* 101: accept with subprotocol wsctl-ota.1; else answer with this HTTP status */
    const char *body;       /* a short text/plain body for the error (ends with a newline), or NULL */
    uint32_t retry_after_s; /* 429 and 503: Retry-After (RFC 9110 section 10.2.3) */
} ws_ota_answer_t;

typedef struct {
    const ws_ota_port_t *port;
    /* the device */
    ws_ota_running_t run;
    ws_ota_app_info_t app; /* the running app's description */
    ws_ota_last_t last;    /* the last update's outcome, as the hello reports it */
    bool deadline_armed;   /* pending_verify: restart into the previous app at deadline_ms */
    uint32_t deadline_ms;
    uint32_t window;
    uint32_t ack_step;
    /* across sessions */
    uint32_t auth_failures;
    bool blocked;
    uint32_t blocked_until_ms;
    bool restart_owed; /* `rebooting` went out: restart once the session closes or at restart_at_ms */
    uint32_t restart_at_ms;
    bool restarting; /* the port was asked to restart (it returned: the host build); refuse everything */
    /* the session */
    ws_ota_phase_t phase;
    uint8_t nonce[WS_OTA_NONCE_LEN];
    uint32_t size;
    uint8_t sha256[32];
    bool force;
    uint32_t received; /* image bytes received */
    uint32_t written;  /* written to the slot */
    uint32_t acked;    /* the last `progress` */
    bool slot_open;
    ws_ota_app_info_t image; /* the upload's app description, from its first 288 bytes */
    uint8_t head[WS_OTA_IMAGE_HEAD_LEN];
    size_t head_len;
    uint8_t readback[WS_OTA_READBACK_CHUNK];
} ws_ota_engine_t;

/*
 * Reads the running app, its state and the stored outcome (resolving a pending one, ws_ota_last_resolve) and arms
 * the confirmation deadline when the app is pending verification. window 0: WS_OTA_WINDOW (Kconfig). Returns
 * WS_OTA_PORT_OK or the port's error from `running`.
 */
int ws_ota_engine_init(ws_ota_engine_t *e, const ws_ota_port_t *port, uint32_t window, uint32_t now);

/*
 * A handshake to /ota: 101, or in this order 503 (restarting), 403 (no key provisioned), 400 (subprotocol
 * wsctl-ota.1 not offered), 429 (authentication back-off), 409 (a session is open). The server's own 503 (every
 * client slot taken) comes after these.
 */
void ws_ota_engine_handshake(ws_ota_engine_t *e, bool subprotocol_offered, uint32_t now, ws_ota_answer_t *ans);

/* The 101 went out: starts the session and writes the hello (a new single-use nonce) into out. */
void ws_ota_engine_open(ws_ota_engine_t *e, uint32_t now, ws_ota_out_t *out);
/* A text message of the session. */
void ws_ota_engine_text(ws_ota_engine_t *e, const char *text, size_t len, uint32_t now, ws_ota_out_t *out);
/* A binary message of the session. */
void ws_ota_engine_binary(ws_ota_engine_t *e, const uint8_t *data, size_t len, uint32_t now, ws_ota_out_t *out);
/* The session's connection is gone (closed, cut, or the server stopped): an open slot is aborted. */
void ws_ota_engine_closed(ws_ota_engine_t *e, uint32_t now);

/*
 * Timers, from the application's loop (not the server's: the deadline must pass even with the network down):
 * the confirmation deadline (stores the rolled_back/not_confirmed outcome, then the port marks the app invalid and
 * restarts) and the restart owed after `rebooting`. Returns true once the port has been asked to restart.
 */
bool ws_ota_engine_poll(ws_ota_engine_t *e, uint32_t now);

/* "valid", "pending_verify" or "undefined": the running app's state as the hello and the mDNS TXT say it. */
const char *ws_ota_state_name(ws_ota_state_t state);

/* The stored record (NVS ota_last) from JSON; WS_OTA_PORT_OK or WS_OTA_PORT_ERR_NOT_FOUND when it does not parse. */
int ws_ota_last_parse(const char *json, size_t len, ws_ota_last_t *out);
/*
 * The record as JSON: stored, as NVS keeps it (with slot and elf_sha256); otherwise as the hello's last_update
 * (result, version, reason). Returns its length, 0 if cap is too small.
 */
size_t ws_ota_last_format(const ws_ota_last_t *last, bool stored, char *out, size_t cap);

/*
 * What a stored record means at boot. A "pending" record is the update this boot follows, or one whose app never
 * wrote its outcome:
 *   - the running app is the update (same slot and ELF SHA-256): still pending when it is pending_verify (its first
 *     boot), confirmed when it is valid (it confirmed but the record was not written);
 *   - another app runs: the update rolled back. reason: when the update's slot is esp_ota_get_last_invalid_partition()
 *     and the bootloader aborted it (otadata ABORTED: it reset while pending), panic, watchdog or reset from
 *     esp_reset_reason() (the reset that ended the update's first boot: the bootloader does not reset again before
 *     this app starts); when it marked itself INVALID without writing its outcome, or its slot is not the last
 *     invalid one (its image never loaded): invalid.
 * Other records are reported as stored. invalid_slot is NULL when there is no invalid partition. Returns true when
 * out differs from stored (to be written back).
 */
bool ws_ota_last_resolve(const ws_ota_last_t *stored, const ws_ota_running_t *run, const ws_ota_app_info_t *app,
                         const char *invalid_slot, bool invalid_self_marked, ws_ota_reset_t reset, ws_ota_last_t *out);

#ifdef __cplusplus
}
#endif

#endif /* WS_OTA_ENGINE_H */

/*
 * ws_app.h - the application logic shared by the ESP32 firmware (main/) and the Linux host build (host/):
 * configuration defaults and NVS overrides, the seed's counter JSON, the receive loop and the counter loop.
 * Nothing here touches ESP-IDF, so the host tests run exactly the code the device runs.
 */
#ifndef WS_APP_H
#define WS_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ws_server.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_APP_SSID_MAX 32     /* wifi_sta_config_t.ssid[32] */
#define WS_APP_PASS_MAX 64     /* wifi_sta_config_t.password[64] */
#define WS_APP_HOSTNAME_MAX 32 /* mDNS label limit is 63; keep it short for the device */
#define WS_APP_MAX_CLIENTS_LIMIT 16

/* NVS keys written by `wsctl flash` into namespace "wsctl" (at most 15 characters each). */
#define WS_APP_NVS_NAMESPACE "wsctl"
#define WS_APP_KEY_SSID "ssid"               /* string */
#define WS_APP_KEY_PASS "pass"               /* string */
#define WS_APP_KEY_HOSTNAME "hostname"       /* string */
#define WS_APP_KEY_PORT "port"               /* u16 */
#define WS_APP_KEY_MAX_CLIENTS "max_clients" /* u8 */

typedef struct {
    char ssid[WS_APP_SSID_MAX + 1];
    char pass[WS_APP_PASS_MAX + 1];
    char hostname[WS_APP_HOSTNAME_MAX + 1];
    uint16_t port;
    uint8_t max_clients;
    uint32_t max_message;
    uint32_t ping_interval_ms;
    uint32_t counter_interval_ms; /* 0 = no counter */
} ws_app_config_t;

/* Values found in NVS; a NULL string or a false has_* flag means "not stored". */
typedef struct {
    const char *ssid;
    const char *pass;
    const char *hostname;
    bool has_port;
    uint16_t port;
    bool has_max_clients;
    uint8_t max_clients;
} ws_app_overrides_t;

/* Bits returned by ws_app_config_merge. */
#define WS_APP_SET_SSID 0x01u
#define WS_APP_SET_PASS 0x02u
#define WS_APP_SET_HOSTNAME 0x04u
#define WS_APP_SET_PORT 0x08u
#define WS_APP_SET_MAX_CLIENTS 0x10u
#define WS_APP_REJECTED 0x80u /* some stored value was invalid and ignored */

/* Fills cfg with the built-in defaults (the Kconfig defaults: port 8080, 5 clients, "esp32ws", 65536, 5000 ms). */
void ws_app_config_defaults(ws_app_config_t *cfg);

/*
 * Applies stored values over cfg. Invalid ones are ignored and keep the default: strings too long for their
 * field, an empty hostname, port 0, max_clients 0 or above WS_APP_MAX_CLIENTS_LIMIT. An empty password is valid
 * (open network). Returns the WS_APP_SET_* bits of what was applied, plus WS_APP_REJECTED.
 */
unsigned ws_app_config_merge(ws_app_config_t *cfg, const ws_app_overrides_t *stored);

/* Server configuration for cfg. */
void ws_app_server_cfg(const ws_app_config_t *cfg, ws_server_cfg_t *out);

/*
 * Writes the seed's counter message {"type":"message","data":{"sensor":"counter","value":N}}.
 * Returns its length, or 0 if cap is too small.
 */
size_t ws_app_format_counter(char *out, size_t cap, uint32_t value);

/* Prints a received message as one line: text as is (CR/LF/control bytes escaped), binary as hex. Flushes. */
void ws_app_print_message(FILE *out, const ws_queue_item_t *item);

typedef struct {
    FILE *out;           /* where messages are printed (stdout); NULL = do not print */
    bool echo;           /* send each message back to its sender */
    volatile bool *stop; /* loop ends when *stop becomes true */
    uint32_t poll_ms;    /* how often *stop is looked at */
    uint32_t received;   /* messages handled so far */
} ws_app_recv_loop_t;

/* The receive task: takes messages from ws_recv, prints them, echoes if asked, frees them. */
void ws_app_recv_loop(ws_app_recv_loop_t *loop);

typedef struct {
    uint32_t interval_ms; /* > 0 */
    volatile bool *stop;
    uint32_t value; /* next value sent */
} ws_app_counter_t;

/* The counter task: every interval_ms sends the counter JSON to every client (index -1), value + 1 each time. */
void ws_app_counter_loop(ws_app_counter_t *counter);

#ifdef __cplusplus
}
#endif

#endif /* WS_APP_H */

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
#include "wsctl_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char ssid[WSCTL_SSID_MAX_BYTES + 1];
    char pass[WSCTL_PASS_PSK_HEX_LEN + 1];
    char hostname[WSCTL_HOSTNAME_MAX + 1];
    uint16_t port;
    uint8_t max_clients;
    uint32_t max_message;
    uint32_t ping_interval_ms;
    uint32_t counter_interval_ms; /* 0 = no counter */
    bool echo;                    /* the server sends each message back to its sender (ws_server_cfg_t.echo) */
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
    bool has_echo;
    uint8_t echo; /* 0 or 1 */
    bool has_counter_ms;
    uint32_t counter_ms; /* 0 = no counter */
} ws_app_overrides_t;

/* Bits returned by ws_app_config_merge. */
#define WS_APP_SET_SSID 0x01u
#define WS_APP_SET_PASS 0x02u
#define WS_APP_SET_HOSTNAME 0x04u
#define WS_APP_SET_PORT 0x08u
#define WS_APP_SET_MAX_CLIENTS 0x10u
#define WS_APP_SET_ECHO 0x20u
#define WS_APP_SET_COUNTER 0x40u
#define WS_APP_REJECTED 0x80u /* some stored value was invalid and ignored */

/*
 * Fills cfg with the built-in defaults (the Kconfig defaults: port 8080, 5 clients, "esp32ws", a counter every
 * 5000 ms from wsctl_limits.h; 65536, 30000 ms; echo off).
 */
void ws_app_config_defaults(ws_app_config_t *cfg);

/*
 * Applies stored values over cfg. Invalid ones are ignored and keep the default, with the same rules as `wsctl
 * flash` (wsctl_limits.h): an SSID of 0 or more than 32 bytes, a password that is not empty, 8-63 printable ASCII
 * or 64 hex digits, a host name that is not 1-32 letters, digits and '-' (not first or last), port 0, max_clients
 * outside 1-WSCTL_MAX_CLIENTS_MAX, echo other than 0 or 1, a counter interval above WSCTL_COUNTER_INTERVAL_MAX_MS.
 * Returns the WS_APP_SET_* bits of what was applied, plus WS_APP_REJECTED.
 */
unsigned ws_app_config_merge(ws_app_config_t *cfg, const ws_app_overrides_t *stored);

/*
 * Writes the settings line the firmware logs at boot, never the password:
 *   config: ssid "NAME", host esp32ws, port 8080, max clients 5, echo off, counter every 5000 ms
 * ("counter off" when its interval is 0). Returns the length (truncated to cap - 1 like snprintf), 0 if cap is 0.
 */
size_t ws_app_config_describe(const ws_app_config_t *cfg, char *out, size_t cap);

/* Whether pass is a usable Wi-Fi password: "" (open network), 8-63 printable ASCII, or 64 hex digits. */
bool ws_app_valid_password(const char *pass);

/* Whether name is a host name the device can use: 1-WSCTL_HOSTNAME_MAX letters, digits and '-', no '-' at the ends. */
bool ws_app_valid_hostname(const char *name);

/* One TXT entry; the same layout as mdns_txt_item_t (key, value), so main.c copies the pointers. */
typedef struct {
    const char *key;
    const char *value;
} ws_app_txt_t;

#define WS_APP_TXT_COUNT 6u      /* entries at most */
#define WS_APP_TXT_NUMBER_LEN 4u /* "255" and its NUL: room for max_clients */

/* What runs, for the TXT record (ws_ota_status on the device); NULL fields leave their entry out. */
typedef struct {
    const char *version; /* the app's version (esp_app_desc_t.version) */
    const char *elf;     /* the first 8 hex digits of its ELF SHA-256 */
    const char *slot;    /* its partition, "ota_0" */
    const char *ota;     /* its OTA state: "valid" or "pending_verify" */
} ws_app_running_t;

/*
 * The _ws._tcp TXT record: first the keys `wsctl serve --mdns-name` uses, in its order: path=/, max_clients=N,
 * version=<version>; then the firmware's own: elf=<8 hex>, slot=<partition>, ota=<state> (each only when given).
 * The max_clients value is written into number (WS_APP_TXT_NUMBER_LEN bytes), which must outlive txt; the other
 * values point at string literals and into run. Returns the number of entries written.
 */
size_t ws_app_mdns_txt(const ws_app_config_t *cfg, const ws_app_running_t *run, char number[WS_APP_TXT_NUMBER_LEN],
                       ws_app_txt_t txt[WS_APP_TXT_COUNT]);

/*
 * Server configuration for cfg: port, clients, message size, ping interval, echo, and the host name the Origin rule
 * trusts (hostname.local; out->hostname points into cfg, which ws_server_init copies).
 */
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
    volatile bool *stop; /* loop ends when *stop becomes true */
    uint32_t poll_ms;    /* how often *stop is looked at */
    uint32_t received;   /* messages handled so far */
} ws_app_recv_loop_t;

/*
 * The receive task: takes messages from ws_recv, prints them, frees them. (Echoing is the server's own, on its
 * task, so an echo never waits for this one: ws_app_server_cfg passes ws_app_config_t.echo on.)
 */
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

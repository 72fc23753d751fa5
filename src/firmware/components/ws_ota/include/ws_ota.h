/*
 * ws_ota.h - the OTA endpoint of the firmware: /ota on the WebSocket server's port, subprotocol wsctl-ota.1
 * (docs/ota-protocol.md), with the engine of ws_ota_engine.h over a port (ws_ota_port.h).
 *
 *   ws_ota_t *ota;
 *   ws_ota_start(&ota, &port);                    // at boot, before the network: reads the running app's state
 *   cfg.endpoints = ws_ota_endpoint(ota);         // ws_server_cfg_t; cfg.endpoint_count = 1
 *   for (;;) { ...; ws_ota_poll(ota); }           // from the app's loop, every few hundred ms
 *
 * The endpoint's callbacks run on the server task (flash is written there, one 16 KiB message at a time, so the
 * other clients wait while a block is erased and written); ws_ota_poll on the application's. A lock held around every
 * engine call keeps the two apart. The confirmation deadline of an app pending verification is ws_ota_poll's, so
 * it passes whether the network and the server ever come up or not.
 */
#ifndef WS_OTA_H
#define WS_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_endpoint.h"
#include "ws_ota_engine.h"
#include "ws_ota_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OTA_PATH "/ota"

typedef struct ws_ota ws_ota_t;

/* The running app as the mDNS TXT record and the logs describe it (ws_ota_status). */
typedef struct {
    char version[WS_OTA_APP_VERSION_MAX + 1];
    char project[WS_OTA_APP_PROJECT_MAX + 1];
    char elf_prefix[9];                  /* the ELF SHA-256's first 8 hex digits */
    char slot[WS_OTA_SLOT_NAME_MAX + 1]; /* the running partition */
    const char *state;                   /* "valid", "pending_verify" or "undefined" */
    bool key_provisioned;                /* NVS has ota_key: the endpoint answers */
    char last_update[192];               /* the hello's last_update object, as JSON */
} ws_ota_status_t;

/*
 * Reads the running app and the last update's outcome, and arms the confirmation deadline when the app is pending
 * verification. port must outlive the service. Returns WS_OTA_PORT_OK, WS_OTA_PORT_ERR_STATE (out of memory: the
 * lock or the service) or the port's error.
 */
int ws_ota_start(ws_ota_t **out, const ws_ota_port_t *port);

/* The /ota endpoint for ws_server_cfg_t.endpoints (one entry; valid until ws_ota_free). */
const ws_endpoint_t *ws_ota_endpoint(ws_ota_t *ota);

/* Timers (the deadline, the restart after `rebooting`). Returns true once the port has been asked to restart. */
bool ws_ota_poll(ws_ota_t *ota);

/* What runs, for the TXT record and the log (reads NVS for the key: not for a loop). */
void ws_ota_status(ws_ota_t *ota, ws_ota_status_t *out);

/* The running app's OTA state now (a confirm turns pending_verify into valid), cheaply, for a loop. */
ws_ota_state_t ws_ota_state(ws_ota_t *ota);

/* Frees the service (the server must be stopped first: its endpoint points here). NULL is ignored. */
void ws_ota_free(ws_ota_t *ota);

#ifdef __cplusplus
}
#endif

#endif /* WS_OTA_H */

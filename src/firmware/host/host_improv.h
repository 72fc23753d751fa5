/*
 * host_improv.h - Improv Wi-Fi serial (improv.h) in the host build: on stdin/stdout or a pseudo-terminal, with a
 * simulated Wi-Fi that accepts one network (SSID and password from the command line) and settings kept in a
 * host_nvs.h file, so every rule of the device side runs against real clients (the npm SDK, wsctl provision).
 */
#ifndef HOST_IMPROV_H
#define HOST_IMPROV_H

#include <stdbool.h>
#include <stdint.h>

#include "ws_app.h"

typedef struct {
    const char *pty_link;    /* --improv-pty PATH: a symlink to the pty's slave side; NULL with stdio */
    bool stdio;              /* --improv-stdio: packets on stdin/stdout */
    const char *nvs_file;    /* --nvs-file PATH: where ssid and pass are stored (NULL: kept in memory only) */
    const char *sim_ssid;    /* --sim-ssid: the one network in range */
    const char *sim_pass;    /* --sim-pass: its password ("" = open) */
    uint32_t sim_connect_ms; /* --sim-connect-ms: how long joining takes, right password or wrong */
    uint32_t timeout_ms;     /* --improv-timeout-ms: the bound on an attempt (improv.h) */
    uint16_t ws_port;        /* the WebSocket server's port, for the URL ws://127.0.0.1:PORT/ */
    const char *hostname;    /* RPC 3's device name */
} host_improv_cfg_t;

/* Opens the pty (printing "improv: pty /dev/pts/N linked at PATH" on stderr) and starts the service's thread. */
bool host_improv_start(const host_improv_cfg_t *cfg, const ws_app_config_t *app, volatile bool *stop);

/* Waits for the thread (after *stop was set) and removes the pty link. */
void host_improv_stop(void);

#endif /* HOST_IMPROV_H */

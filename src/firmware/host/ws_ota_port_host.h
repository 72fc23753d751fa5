/*
 * ws_ota_port_host.h - the OTA port (ws_ota_port.h) over files, for ws_server_host --ota-dir DIR and its tests:
 *
 *   DIR/ota_0.bin, DIR/ota_1.bin  the two app slots of partitions.csv (1984 KiB each; a file holds an image's bytes,
 *                                 what lies past its end reads as erased flash, 0xFF); a missing file is an empty slot
 *   DIR/otadata.bin               the otadata partition, 8 KiB in ESP-IDF's format (ws_otadata.h); missing = erased
 *   DIR/ota_last                  the NVS string wsctl/ota_last (the last update's outcome, ws_ota_engine.h)
 *   DIR/reset_reason              why the last run ended, as esp_reset_reason() would say: "sw" (a restart: exit
 *                                 status 3), "panic" (an abort); read and removed at start; missing = power-on
 *
 * At start (ws_ota_port_host_open) it does what the bootloader does (ws_otadata.h: ABORTED, the highest valid
 * sequence, NEW to PENDING_VERIFY, the initial state, and the slot order when an image does not load), so the
 * running "app" is the image in the chosen slot: its esp_app_desc_t gives the project, version and ELF SHA-256.
 * An image loads when ws_ota_image_verify accepts it and its chip id is --chip's. A version ending in
 * "+panic-at-start" aborts right there (reset reason "panic" recorded first), as an app that crashes before it can
 * confirm would. The key is --ota-key's file (64 hex digits, as `wsctl flash --ota-key` reads it), never logged.
 */
#ifndef WS_OTA_PORT_HOST_H
#define WS_OTA_PORT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_ota_port.h"
#include "ws_otadata.h"

#define WS_OTA_HOST_SLOT_SIZE 0x1F0000u /* ota_0 and ota_1 in partitions.csv */
#define WS_OTA_HOST_SLOTS 2
#define WS_OTA_HOST_PANIC_SUFFIX "+panic-at-start"

typedef struct {
    char dir[512];
    bool has_key;
    uint8_t key[32];
    uint32_t confirm_ms;
    char chip[16];
    uint16_t chip_id;
    ws_ota_reset_t reset;
    uint8_t otadata[WS_OTADATA_SIZE];
    ws_otadata_entry_t entries[2];
    int running; /* the slot that booted */
    uint8_t running_desc[256];
    int fd; /* the update slot while an update is written, else -1 */
    bool restart_requested;
} ws_ota_port_host_t;

/*
 * Boots DIR: key_file may be NULL (no key: /ota answers 403). Returns 0, or -1 with a sentence in err (a bad key file,
 * an unknown chip, no bootable image, I/O errors). Aborts the process for a "+panic-at-start" image.
 */
int ws_ota_port_host_open(ws_ota_port_host_t *h, const char *dir, const char *key_file, const char *chip,
                          uint32_t confirm_ms, char *err, size_t err_cap);
/* The port's function table over h. */
void ws_ota_port_host_port(ws_ota_port_host_t *h, ws_ota_port_t *port);
/* Whether the port was asked to restart (esp_restart; the program exits with status 3). */
bool ws_ota_port_host_restart_requested(const ws_ota_port_host_t *h);
/* Closes an update left open. */
void ws_ota_port_host_close(ws_ota_port_host_t *h);

#endif /* WS_OTA_PORT_HOST_H */

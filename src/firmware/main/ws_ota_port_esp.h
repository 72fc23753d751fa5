/*
 * ws_ota_port_esp.h - the OTA port (components/ws_ota/include/ws_ota_port.h) on ESP-IDF v5: the update slot through
 * esp_ota_ops.h (esp_ota_begin with OTA_WITH_SEQUENTIAL_WRITES, esp_ota_write, esp_ota_end, esp_ota_abort,
 * esp_ota_set_boot_partition), read back with esp_partition_read; the running app from esp_app_get_description()
 * and esp_ota_get_state_partition(); rollback with esp_ota_mark_app_valid_cancel_rollback() and
 * esp_ota_mark_app_invalid_rollback_and_reboot() (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, sdkconfig.defaults); the
 * outcome of an update through esp_ota_get_last_invalid_partition() and esp_reset_reason(); the key, the deadline and
 * the outcome record in NVS namespace "wsctl" (wsctl_limits.h); esp_fill_random; esp_timer.
 *
 * Its functions run on the server task (the slot) or the app's loop (the deadline), never at once: ws_ota.c locks.
 */
#ifndef WS_OTA_PORT_ESP_H
#define WS_OTA_PORT_ESP_H

#include "ws_ota_port.h"

/* Fills port with the ESP-IDF implementation. NVS must be initialised first (nvs_flash_init). */
void ws_ota_port_esp(ws_ota_port_t *port);

#endif /* WS_OTA_PORT_ESP_H */

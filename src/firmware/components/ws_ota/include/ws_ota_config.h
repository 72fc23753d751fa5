/*
 * ws_ota_config.h - build-time settings of the OTA endpoint from the ws_ota component's Kconfig
 * (components/ws_ota/Kconfig, "wsctl OTA endpoint"), as ws_config.h does for the server: CONFIG_* from sdkconfig.h
 * on ESP-IDF, -D or the Kconfig defaults below elsewhere (the host build, the RISC-V gate).
 */
#ifndef WS_OTA_CONFIG_H
#define WS_OTA_CONFIG_H

#ifdef ESP_PLATFORM
#include "sdkconfig.h"
#endif

/* Bytes a client may send beyond the last `progress` (the `ready` message's window, docs/ota-protocol.md 2). */
#ifndef CONFIG_WS_OTA_WINDOW
#define CONFIG_WS_OTA_WINDOW 131072
#endif
#define WS_OTA_WINDOW ((uint32_t)(CONFIG_WS_OTA_WINDOW))

/* The longest refusal after failed authentications (429 Retry-After; 1 s doubling up to this, docs 1). */
#ifndef CONFIG_WS_OTA_BACKOFF_MAX_S
#define CONFIG_WS_OTA_BACKOFF_MAX_S 60
#endif
#define WS_OTA_BACKOFF_MAX_MS ((uint32_t)(CONFIG_WS_OTA_BACKOFF_MAX_S)*1000u)

#endif /* WS_OTA_CONFIG_H */

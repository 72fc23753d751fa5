/*
 * ws_config.h - build-time defaults of the server that come from the ws_server component's Kconfig
 * (components/ws_server/Kconfig, "wsctl WebSocket server: limits and access").
 *
 * On ESP-IDF the values are its CONFIG_WS_SERVER_* options, read from the generated sdkconfig.h (settings only; no
 * ESP-IDF API is used, so the core stays portable). Elsewhere (the host build, the RISC-V gate) they can be given
 * with -D (host/CMakeLists.txt: -DWS_RX_BUDGET=BYTES, -DWS_ALLOWED_ORIGINS=LIST), else the Kconfig defaults below
 * apply. The fields of ws_server_cfg_t override them at run time.
 */
#ifndef WS_CONFIG_H
#define WS_CONFIG_H

#ifdef ESP_PLATFORM
#include "sdkconfig.h"
#endif

/* Bytes of received messages all clients together may make the server hold (ws_budget.h). 96 KiB: about half of
 * the ~200 KB an ESP32 has free with Wi-Fi up, more than one maximum message (64 KiB). */
#ifndef CONFIG_WS_SERVER_RX_BUDGET
#define CONFIG_WS_SERVER_RX_BUDGET 98304
#endif
#define WS_SERVER_DEFAULT_RX_BUDGET ((uint32_t)(CONFIG_WS_SERVER_RX_BUDGET))

/* Origin allow-list (ws_http_origin_allowed), off by default: a device is opened from anywhere. */
#if defined(CONFIG_WS_SERVER_ORIGIN_CHECK) && CONFIG_WS_SERVER_ORIGIN_CHECK
#ifndef CONFIG_WS_SERVER_ALLOWED_ORIGINS
#define CONFIG_WS_SERVER_ALLOWED_ORIGINS ""
#endif
#define WS_SERVER_DEFAULT_ALLOWED_ORIGINS CONFIG_WS_SERVER_ALLOWED_ORIGINS
#else
#define WS_SERVER_DEFAULT_ALLOWED_ORIGINS NULL
#endif

#endif /* WS_CONFIG_H */

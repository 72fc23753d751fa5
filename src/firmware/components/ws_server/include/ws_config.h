/*
 * ws_config.h - build-time defaults of the server that come from the ws_server component's Kconfig
 * (components/ws_server/Kconfig, "wsctl WebSocket server: limits and access").
 *
 * On ESP-IDF the values are its CONFIG_WS_SERVER_* options, read from the generated sdkconfig.h (settings only; no
 * ESP-IDF API is used, so the core stays portable). Elsewhere (the host build, the RISC-V gate) they can be given
 * with -D (host/CMakeLists.txt: -DWS_RX_BUDGET=BYTES, -DWS_ALLOWED_ORIGINS=LIST, -DWS_ORIGIN_CHECK=OFF), else the
 * Kconfig defaults below apply. The fields of ws_server_cfg_t override the numbers and the list at run time.
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

/*
 * The Origin rule (ws_origin.h), on by default as in Kconfig: a web page elsewhere must not drive the device from a
 * user's browser (RFC 6455 section 10.2). sdkconfig.h leaves a bool option that is off undefined, so on ESP-IDF an
 * undefined CONFIG_WS_SERVER_ORIGIN_CHECK means off; elsewhere it means the default, on (-D...=0 turns it off).
 */
#if defined(ESP_PLATFORM) && !defined(CONFIG_WS_SERVER_ORIGIN_CHECK)
#define CONFIG_WS_SERVER_ORIGIN_CHECK 0
#endif
#ifndef CONFIG_WS_SERVER_ORIGIN_CHECK
#define CONFIG_WS_SERVER_ORIGIN_CHECK 1
#endif
#define WS_SERVER_ORIGIN_CHECK_ON (CONFIG_WS_SERVER_ORIGIN_CHECK != 0)

/* Origins admitted besides the rule's own (comma-separated, "*" = any); empty by default. */
#ifndef CONFIG_WS_SERVER_ALLOWED_ORIGINS
#define CONFIG_WS_SERVER_ALLOWED_ORIGINS ""
#endif
#define WS_SERVER_DEFAULT_ALLOWED_ORIGINS CONFIG_WS_SERVER_ALLOWED_ORIGINS

#endif /* WS_CONFIG_H */

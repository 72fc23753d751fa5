/*
 * wsctl_limits.h - the limits and names `wsctl flash` and the firmware must agree on, defined once.
 *
 * The firmware uses these (ws_app.h, ws_app.c, main.c); tests/WsCore.Tests/Firmware/FirmwareLimitsTests.cs parses
 * this file and checks WsCore's constants (DeviceSettings, ServiceAdvertisement), the Kconfig ranges and defaults
 * (main/Kconfig.projbuild) and CONFIG_LWIP_MAX_SOCKETS (sdkconfig.defaults) against it. Changing a value here
 * without changing the other half fails those tests.
 *
 * Kept simple for that parser: one `#define WSCTL_NAME value` per line, the value a decimal integer or a "string",
 * comments after it. No includes, no expressions.
 */
#ifndef WSCTL_LIMITS_H
#define WSCTL_LIMITS_H

/* Wi-Fi (wifi_sta_config_t in esp_wifi_types.h: ssid[32], password[64]). */
#define WSCTL_SSID_MAX_BYTES 32   /* 1-32 bytes (UTF-8), not NUL-terminated in the driver's field */
#define WSCTL_PASS_PHRASE_MIN 8   /* WPA2 passphrase: 8-63 printable ASCII (IEEE 802.11i H.4.1) */
#define WSCTL_PASS_PHRASE_MAX 63  /* (the same passphrase rule) */
#define WSCTL_PASS_PSK_HEX_LEN 64 /* or the 256-bit PSK as exactly 64 hex digits; empty = open network */

/*
 * Host name: mDNS <hostname>.local and the DHCP host name. esp_netif_set_hostname() refuses more than 32 characters
 * (ESP_NETIF_HOSTNAME_MAX_SIZE in esp_netif_lwip.c), so the DNS label limit (63) is not reachable on the device.
 */
#define WSCTL_HOSTNAME_MAX 32 /* 1-32 letters, digits and '-', not starting or ending with '-' */

/* WebSocket server. */
#define WSCTL_WS_PORT_MIN 1
#define WSCTL_WS_PORT_MAX 65535

/*
 * Clients. Every socket the device opens comes from lwIP's table of CONFIG_LWIP_MAX_SOCKETS: 16 in
 * sdkconfig.defaults, not raised because ESP-IDF's Kconfig allows no more than 16 before v5.3.2 (a larger value
 * would fall back to the default, 10, there). The server needs WS_SERVER_SOCKETS(max_clients) of them (ws_server.h):
 * the listener, the clients, WS_SERVER_EXTRA_SLOTS (4) for handshakes in progress and lingering closes, and one
 * accepted only to answer 503 when every slot is taken:
 *   1 + 8 + 4 + 1 = 14, plus WSCTL_SOCKETS_SPARE (2) = 16 = CONFIG_LWIP_MAX_SOCKETS.
 * The spare sockets are for the application and ESP-IDF services that use sockets (an HTTP client for OTA, mDNS
 * built with CONFIG_MDNS_NETWORKING_SOCKET); mDNS by default, DHCP, DNS and SNTP use lwIP's raw API and take none.
 * main.c and ws_app.c check the sum with _Static_assert.
 */
#define WSCTL_MAX_CLIENTS_MIN 1
#define WSCTL_MAX_CLIENTS_MAX 8
#define WSCTL_SOCKETS_SPARE 2
#define WSCTL_LWIP_MAX_SOCKETS 16 /* CONFIG_LWIP_MAX_SOCKETS in sdkconfig.defaults (the C# test compares them) */

/* The counter message's interval: 0 turns the counter off (Kconfig WSCTL_COUNTER_INTERVAL_MS has this range). */
#define WSCTL_COUNTER_INTERVAL_MAX_MS 3600000 /* one hour */

/* Defaults (the Kconfig defaults in main/Kconfig.projbuild, and wsctl flash's). */
#define WSCTL_DEFAULT_HOSTNAME "esp32ws"
#define WSCTL_DEFAULT_WS_PORT 8080
#define WSCTL_DEFAULT_MAX_CLIENTS 5
#define WSCTL_DEFAULT_COUNTER_INTERVAL_MS 5000

/* NVS: what `wsctl flash` writes and the firmware reads at boot (names at most 15 characters). */
#define WSCTL_NVS_NAMESPACE "wsctl"
#define WSCTL_NVS_KEY_SSID "ssid"               /* string */
#define WSCTL_NVS_KEY_PASS "pass"               /* string */
#define WSCTL_NVS_KEY_HOSTNAME "hostname"       /* string */
#define WSCTL_NVS_KEY_PORT "port"               /* u16 */
#define WSCTL_NVS_KEY_MAX_CLIENTS "max_clients" /* u8 */
#define WSCTL_NVS_KEY_ECHO "echo"               /* u8: 1 = echo each message to its sender, 0 = off */
#define WSCTL_NVS_KEY_COUNTER_MS "counter_ms"   /* u32: counter interval in ms, 0 = no counter */
#define WSCTL_NVS_KEY_OTA_KEY "ota_key"         /* blob of WSCTL_OTA_KEY_BYTES: the OTA key; absent = no OTA (403) */
#define WSCTL_NVS_KEY_OTA_CONFIRM_S "ota_confirm_s" /* u16: seconds a new app has to be confirmed on /ota */

/*
 * OTA over the WebSocket server (docs/ota-protocol.md): the endpoint, its subprotocol, the key `wsctl flash
 * --ota-key FILE` provisions (32 random bytes, the file holding them as 64 hex digits) and the time a new app has to
 * be confirmed before it rolls back (Kconfig WSCTL_OTA_CONFIRM_S has this range and default).
 */
#define WSCTL_OTA_PATH "/ota"
#define WSCTL_OTA_SUBPROTOCOL "wsctl-ota.1"
#define WSCTL_OTA_KEY_BYTES 32
#define WSCTL_OTA_CONFIRM_S_MIN 10 /* boot, the network, the server and a client's reconnection need some seconds */
#define WSCTL_OTA_CONFIRM_S_MAX 3600
#define WSCTL_DEFAULT_OTA_CONFIRM_S 120

/* mDNS: the _ws._tcp service and its TXT keys, in this order; `wsctl serve --mdns-name` advertises the same. */
#define WSCTL_MDNS_SERVICE "_ws"
#define WSCTL_MDNS_PROTO "_tcp"
#define WSCTL_TXT_PATH "path"
#define WSCTL_TXT_MAX_CLIENTS "max_clients"
#define WSCTL_TXT_VERSION "version"
/* The firmware's own TXT keys after those (serve has no app image): the running app's ELF SHA-256 (first 8 hex
 * digits), its partition and its OTA state (valid or pending_verify). */
#define WSCTL_TXT_ELF "elf"
#define WSCTL_TXT_SLOT "slot"
#define WSCTL_TXT_OTA "ota"

#endif /* WSCTL_LIMITS_H */

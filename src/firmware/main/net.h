/*
 * net.h - the network the WebSocket server runs on, chosen in Kconfig ("wsctl WebSocket server" → "Network
 * interface"): net_wifi.c, a Wi-Fi station (the default, for the chip), or net_eth.c, the OpenCores Ethernet MAC
 * that Espressif's QEMU emulates (it has no Wi-Fi). main/CMakeLists.txt compiles exactly one of them; main.c
 * sees only this header.
 *
 * The implementation owns its interface, DHCP and reconnects. It tells the caller whether there is an IPv4
 * address through an event group: NET_BIT_UP when the interface got one, NET_BIT_DOWN when it lost it (bits are
 * set from the default event loop's task; the caller clears them). net_is_up() is the state after the latest
 * event, so a caller that finds both bits set knows which came last.
 */
#ifndef WSCTL_NET_H
#define WSCTL_NET_H

#include <stdbool.h>

#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"

#include "ws_app.h"

#define NET_BIT_UP BIT0
#define NET_BIT_DOWN BIT1

/* What net_start brings up, for the log: "Wi-Fi station" or "OpenCores Ethernet". */
extern const char *const NET_NAME;

/*
 * Creates the interface (esp_netif, DHCP client with cfg->hostname as its host name), registers the event handlers
 * and starts it; returns without waiting for an address. Needs esp_netif_init() and esp_event_loop_create_default()
 * first. A driver that cannot start aborts through ESP_ERROR_CHECK: without a network the firmware has nothing to do.
 */
void net_start(const ws_app_config_t *cfg, EventGroupHandle_t events);

/* Whether the interface holds an IPv4 address now. */
bool net_is_up(void);

#endif /* WSCTL_NET_H */

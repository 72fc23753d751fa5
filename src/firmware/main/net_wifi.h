/*
 * net_wifi.h - what the Wi-Fi station (net_wifi.c) offers beyond net.h: trying other credentials at run time, for
 * Improv provisioning (improv_uart.c). Only in the Wi-Fi build (Kconfig WSCTL_NET_WIFI).
 *
 * An attempt replaces the station's settings until it ends: joined (an IPv4 address) or failed (the first disconnect
 * that is not our own leaving the previous network). Either way the listener hears it, from the default event loop's
 * task; the caller then keeps the new settings (net_wifi_keep) or goes back (net_wifi_restore). The usual reconnect
 * with backoff is off during an attempt.
 */
#ifndef WSCTL_NET_WIFI_H
#define WSCTL_NET_WIFI_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    NET_WIFI_JOINED,      /* the attempt got an address */
    NET_WIFI_JOIN_FAILED, /* the attempt's network refused or was not found */
    NET_WIFI_UP,          /* outside an attempt: the station got an address */
    NET_WIFI_DOWN,        /* outside an attempt: it lost it */
} net_wifi_event_t;

typedef void (*net_wifi_listener_t)(net_wifi_event_t event);

/* Sets the one listener (called on the default event loop's task: it must not block). */
void net_wifi_listen(net_wifi_listener_t listener);

/* Leaves the current network and joins ssid with pass; false if the driver refused to start. */
bool net_wifi_try(const char *ssid, const char *pass);

/* Ends an attempt and goes back to the settings in use before it (and their network, with the usual retries). */
void net_wifi_restore(void);

/* Ends an attempt that joined: its settings are the ones in use from now on. */
void net_wifi_keep(void);

/* The station's IPv4 address as text ("192.168.1.40"); false without one. */
bool net_wifi_address(char *out, size_t cap);

#endif /* WSCTL_NET_WIFI_H */

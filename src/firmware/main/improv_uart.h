/*
 * improv_uart.h - Improv Wi-Fi serial (components/improv) on the console UART (UART0), joined to the Wi-Fi station
 * (net_wifi.h) and NVS. Only in the Wi-Fi build with Kconfig WSCTL_IMPROV on.
 */
#ifndef WSCTL_IMPROV_UART_H
#define WSCTL_IMPROV_UART_H

#include "ws_app.h"

/*
 * Installs the UART driver on UART0 if the console has not (RX only; the console keeps writing through it) and
 * starts the Improv task. cfg (its host name and port) must outlive the task; version is RPC 3's firmware version.
 */
void improv_uart_start(const ws_app_config_t *cfg, const char *version);

#endif /* WSCTL_IMPROV_UART_H */

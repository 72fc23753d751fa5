/*
 * improv_uart.c - see improv_uart.h. One task owns the improv_t (improv.h is not thread-safe): it reads UART0 in
 * slices of 100 ms, feeds the bytes, takes the Wi-Fi station's events from a queue (net_wifi.h's listener runs on
 * the event loop's task and only posts), and ticks the attempt's deadline (Kconfig WSCTL_IMPROV_TIMEOUT_MS).
 */
#include <stdio.h>
#include <string.h>

#include "driver/uart.h"
#include "esp_log.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/task.h"
#include "nvs.h"
#include "sdkconfig.h"

#include "improv.h"
#include "improv_uart.h"
#include "net.h"
#include "net_wifi.h"
#include "wsctl_limits.h"

#define IMPROV_UART UART_NUM_0
#define RX_BUFFER 1024 /* more than the hardware FIFO (uart_driver_install's minimum), several whole packets */
#define READ_SLICE_MS 100
#define SCAN_MAX 16u

static const char *TAG = "improv";
static const ws_app_config_t *s_cfg;
static QueueHandle_t s_events; /* net_wifi_event_t from the event loop's task */
static improv_t s_improv;

static uint32_t now_ms(void) { return (uint32_t)(esp_timer_get_time() / 1000); }

static void on_wifi(net_wifi_event_t event) { (void)xQueueSend(s_events, &event, 0); }

static void port_write(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    /* One call per packet: the driver writes it whole (the log may still come between two packets, not inside
     * one driver write; the SDK skips log lines). */
    (void)uart_write_bytes(IMPROV_UART, bytes, len);
}

static bool port_connect(void *ctx, const char *ssid, const char *pass)
{
    (void)ctx;
    return net_wifi_try(ssid, pass);
}

static void port_revert(void *ctx)
{
    (void)ctx;
    net_wifi_restore();
}

/* The keys and namespace `wsctl flash` writes (wsctl_limits.h), so the two agree; load_config reads them at boot. */
static bool port_save(void *ctx, const char *ssid, const char *pass)
{
    (void)ctx;
    nvs_handle_t h;
    esp_err_t err = nvs_open(WSCTL_NVS_NAMESPACE, NVS_READWRITE, &h);
    if (err == ESP_OK) {
        err = nvs_set_str(h, WSCTL_NVS_KEY_SSID, ssid);
        if (err == ESP_OK) {
            err = nvs_set_str(h, WSCTL_NVS_KEY_PASS, pass);
        }
        if (err == ESP_OK) {
            err = nvs_commit(h);
        }
        nvs_close(h);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "cannot store the Wi-Fi settings in NVS: %s", esp_err_to_name(err));
        return false;
    }
    net_wifi_keep();
    ESP_LOGI(TAG, "joined \"%s\"; settings stored in NVS", ssid);
    return true;
}

static size_t port_url(void *ctx, char *out, size_t cap)
{
    (void)ctx;
    char address[16];
    if (!net_wifi_address(address, sizeof(address))) {
        return 0;
    }
    int n = snprintf(out, cap, "ws://%s:%u/", address, (unsigned)s_cfg->port);
    return n > 0 ? (size_t)n : 0u;
}

static size_t port_scan(void *ctx, improv_network_t *out, size_t cap)
{
    (void)ctx;
    /* Blocking scan: refused while the station is connecting (ESP_ERR_WIFI_STATE), then the list is empty. */
    esp_err_t err = esp_wifi_scan_start(NULL, true);
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "scan: %s", esp_err_to_name(err));
        return 0;
    }
    static wifi_ap_record_t records[SCAN_MAX];
    uint16_t n = (uint16_t)(cap < SCAN_MAX ? cap : SCAN_MAX);
    if (esp_wifi_scan_get_ap_records(&n, records) != ESP_OK) {
        return 0;
    }
    for (uint16_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        memcpy(out[i].ssid, records[i].ssid, sizeof(records[i].ssid) - 1u); /* ssid[33], NUL-terminated */
        out[i].rssi = records[i].rssi;
        out[i].secured = records[i].authmode != WIFI_AUTH_OPEN;
    }
    return n;
}

static void improv_task(void *arg)
{
    (void)arg;
    uint8_t buf[128];
    for (;;) {
        int n = uart_read_bytes(IMPROV_UART, buf, sizeof(buf), pdMS_TO_TICKS(READ_SLICE_MS));
        if (n > 0) {
            improv_feed(&s_improv, buf, (size_t)n, now_ms());
        }
        net_wifi_event_t event;
        while (xQueueReceive(s_events, &event, 0) == pdTRUE) {
            if (event == NET_WIFI_JOINED || event == NET_WIFI_JOIN_FAILED) {
                improv_connect_result(&s_improv, event == NET_WIFI_JOINED);
            } else {
                improv_set_connected(&s_improv, event == NET_WIFI_UP);
            }
        }
        improv_tick(&s_improv, now_ms());
    }
}

void improv_uart_start(const ws_app_config_t *cfg, const char *version)
{
    s_cfg = cfg;
    if (!uart_is_driver_installed(IMPROV_UART)) {
        ESP_ERROR_CHECK(uart_driver_install(IMPROV_UART, RX_BUFFER, 0, 0, NULL, 0));
    }
    s_events = xQueueCreate(8, sizeof(net_wifi_event_t));
    configASSERT(s_events != NULL);
    static const improv_port_t port_template = {
        .ctx = NULL,
        .write = port_write,
        .connect = port_connect,
        .revert = port_revert,
        .save = port_save,
        .url = port_url,
        .scan = port_scan,
        .firmware_name = "esp32ws",
        .chip = CONFIG_IDF_TARGET,
    };
    improv_port_t port = port_template;
    port.firmware_version = version;
    port.device_name = cfg->hostname;
    improv_init(&s_improv, &port, net_is_up(), CONFIG_WSCTL_IMPROV_TIMEOUT_MS);
    net_wifi_listen(on_wifi);
    xTaskCreate(improv_task, "improv", 4096, NULL, 2, NULL);
    ESP_LOGI(TAG, "Improv Wi-Fi serial on UART%d", (int)IMPROV_UART);
}

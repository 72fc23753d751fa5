/*
 * main.c - ESP-IDF v5 glue of the wsctl firmware: NVS settings, the network (net.h: Wi-Fi station or, for the
 * emulator, OpenCores Ethernet), mDNS, and starting/stopping the WebSocket server with the interface's address.
 * The application itself (config merge, counter JSON, receive loop) is components/ws_app, which the host build
 * runs unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "mdns.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

#include "net.h"
#if CONFIG_WSCTL_IMPROV
#include "improv_uart.h"
#endif
#include "ws_app.h"
#include "ws_server.h"
#include "wsctl_limits.h"

#define FIRMWARE_VERSION "1.0.0"
/* How often the control loop looks at the server's client count, to log the heap as clients come and go. */
#define CLIENT_WATCH_MS 250u

static const char *TAG = "esp32ws";

/* The limits wsctl flash enforces (wsctl_limits.h) must hold for this build's configuration too. */
_Static_assert(CONFIG_WSCTL_MAX_CLIENTS >= WSCTL_MAX_CLIENTS_MIN && CONFIG_WSCTL_MAX_CLIENTS <= WSCTL_MAX_CLIENTS_MAX,
               "CONFIG_WSCTL_MAX_CLIENTS is outside wsctl_limits.h's range");
_Static_assert(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX) + WSCTL_SOCKETS_SPARE <= CONFIG_LWIP_MAX_SOCKETS,
               "CONFIG_LWIP_MAX_SOCKETS cannot hold the server at WSCTL_MAX_CLIENTS_MAX (see wsctl_limits.h)");
_Static_assert(sizeof(CONFIG_WSCTL_HOSTNAME) - 1u <= WSCTL_HOSTNAME_MAX,
               "CONFIG_WSCTL_HOSTNAME is longer than esp_netif accepts");

static EventGroupHandle_t s_events; /* NET_BIT_UP / NET_BIT_DOWN from net_*.c, consumed by app_main's loop */
static ws_app_config_t s_cfg;
static volatile bool s_stop_app; /* never set on the device; the loops run forever */

/* NVS first, erased and re-initialised on the two errors that mean "layout changed" (ESP-IDF NVS docs). */
static void nvs_init(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_LOGW(TAG, "NVS partition needs erasing (%s)", esp_err_to_name(err));
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
}

/*
 * Reads a string key into buf; returns buf, or NULL if the key is absent or unusable. A stored value too long for
 * buf (ESP_ERR_NVS_INVALID_LENGTH) is logged, not dropped silently: wsctl flash never writes one (wsctl_limits.h).
 */
static const char *nvs_str(nvs_handle_t h, const char *key, char *buf, size_t cap)
{
    size_t len = cap;
    esp_err_t err = nvs_get_str(h, key, buf, &len);
    if (err == ESP_OK) {
        return buf;
    }
    if (err != ESP_ERR_NVS_NOT_FOUND) {
        ESP_LOGW(TAG, "NVS key \"%s\" ignored (%s; at most %u bytes)", key, esp_err_to_name(err), (unsigned)(cap - 1u));
    }
    return NULL;
}

/* Kconfig defaults, then whatever `wsctl flash` stored in NVS namespace "wsctl". */
static void load_config(ws_app_config_t *cfg)
{
    ws_app_config_defaults(cfg);
    cfg->port = CONFIG_WSCTL_PORT;
    cfg->max_clients = CONFIG_WSCTL_MAX_CLIENTS;
    strlcpy(cfg->hostname, CONFIG_WSCTL_HOSTNAME, sizeof(cfg->hostname));
    strlcpy(cfg->ssid, CONFIG_WSCTL_WIFI_SSID, sizeof(cfg->ssid));
    strlcpy(cfg->pass, CONFIG_WSCTL_WIFI_PASSWORD, sizeof(cfg->pass));
    cfg->max_message = CONFIG_WSCTL_MAX_MESSAGE;
    cfg->ping_interval_ms = CONFIG_WSCTL_PING_INTERVAL_MS;
    cfg->counter_interval_ms = CONFIG_WSCTL_COUNTER_INTERVAL_MS;

    nvs_handle_t h;
    esp_err_t err = nvs_open(WSCTL_NVS_NAMESPACE, NVS_READONLY, &h);
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "no NVS namespace \"%s\" (%s): using Kconfig defaults", WSCTL_NVS_NAMESPACE,
                 esp_err_to_name(err));
        return;
    }
    char ssid[WSCTL_SSID_MAX_BYTES + 1], pass[WSCTL_PASS_PSK_HEX_LEN + 1], hostname[WSCTL_HOSTNAME_MAX + 1];
    ws_app_overrides_t stored = {
        .ssid = nvs_str(h, WSCTL_NVS_KEY_SSID, ssid, sizeof(ssid)),
        .pass = nvs_str(h, WSCTL_NVS_KEY_PASS, pass, sizeof(pass)),
        .hostname = nvs_str(h, WSCTL_NVS_KEY_HOSTNAME, hostname, sizeof(hostname)),
    };
    stored.has_port = nvs_get_u16(h, WSCTL_NVS_KEY_PORT, &stored.port) == ESP_OK;
    stored.has_max_clients = nvs_get_u8(h, WSCTL_NVS_KEY_MAX_CLIENTS, &stored.max_clients) == ESP_OK;
    /* Written by `wsctl flash --device-echo` and `--counter-interval` only when given; when absent, the defaults
     * stay: no echo, Kconfig's counter interval. */
    stored.has_echo = nvs_get_u8(h, WSCTL_NVS_KEY_ECHO, &stored.echo) == ESP_OK;
    stored.has_counter_ms = nvs_get_u32(h, WSCTL_NVS_KEY_COUNTER_MS, &stored.counter_ms) == ESP_OK;
    nvs_close(h);
    unsigned set = ws_app_config_merge(cfg, &stored);
    if (set & WS_APP_REJECTED) {
        ESP_LOGW(TAG, "some NVS settings were invalid and ignored (limits: wsctl_limits.h)");
    }
}

static void mdns_start(const ws_app_config_t *cfg)
{
    ESP_ERROR_CHECK(mdns_init());
    ESP_ERROR_CHECK(mdns_hostname_set(cfg->hostname));
    ESP_ERROR_CHECK(mdns_instance_name_set("wsctl WebSocket server"));
    /* The TXT keys `wsctl serve --mdns-name` advertises (path, max_clients, version); mdns copies the strings. */
    char number[WS_APP_TXT_NUMBER_LEN];
    ws_app_txt_t entries[WS_APP_TXT_COUNT];
    ws_app_mdns_txt(cfg, FIRMWARE_VERSION, number, entries);
    mdns_txt_item_t txt[WS_APP_TXT_COUNT];
    for (size_t i = 0; i < WS_APP_TXT_COUNT; i++) {
        txt[i].key = entries[i].key;
        txt[i].value = entries[i].value;
    }
    ESP_ERROR_CHECK(mdns_service_add(NULL, WSCTL_MDNS_SERVICE, WSCTL_MDNS_PROTO, cfg->port, txt, WS_APP_TXT_COUNT));
}

static void recv_task(void *arg)
{
    ws_app_recv_loop((ws_app_recv_loop_t *)arg); /* prints each message on the console (UART) */
    vTaskDelete(NULL);
}

static void counter_task(void *arg)
{
    ws_app_counter_loop((ws_app_counter_t *)arg);
    vTaskDelete(NULL);
}

/*
 * The heap now and its low-water mark since boot (the figures src/firmware/README.md reports: free heap at boot,
 * per idle client, per client with a message in reassembly). `held` is what the server holds of received messages
 * (ws_stats_t.rx_held).
 */
static void log_heap(const char *when, unsigned held)
{
    ESP_LOGI(TAG, "heap %s: %u bytes free (lowest %u), %u bytes of received messages held", when,
             (unsigned)esp_get_free_heap_size(), (unsigned)esp_get_minimum_free_heap_size(), held);
}

void app_main(void)
{
    static ws_app_recv_loop_t recv_loop;
    static ws_app_counter_t counter;

    log_heap("at boot", 0u);
    nvs_init();
    load_config(&s_cfg);
    char settings[160]; /* "config: ssid ..., echo on, counter every 5000 ms": NVS's values or Kconfig's, no password */
    (void)ws_app_config_describe(&s_cfg, settings, sizeof(settings));
    ESP_LOGI(TAG, "%s", settings);
    s_events = xEventGroupCreate();
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_LOGI(TAG, "network: %s", NET_NAME);
    net_start(&s_cfg, s_events);
    mdns_start(&s_cfg);
#if CONFIG_WSCTL_IMPROV
    improv_uart_start(&s_cfg, FIRMWARE_VERSION); /* Wi-Fi from ESP Web Tools or wsctl provision */
#endif

    recv_loop = (ws_app_recv_loop_t){.out = stdout, .stop = &s_stop_app, .poll_ms = 1000};
    xTaskCreate(recv_task, "ws_recv", 4096, &recv_loop, 1, NULL);
    if (s_cfg.counter_interval_ms > 0) {
        counter = (ws_app_counter_t){.interval_ms = s_cfg.counter_interval_ms, .stop = &s_stop_app, .value = 0};
        xTaskCreate(counter_task, "ws_counter", 3072, &counter, 1, NULL);
    }

    /* Control loop: the server follows the interface's address (net.h does the reconnecting). */
    ws_server_cfg_t scfg;
    ws_app_server_cfg(&s_cfg, &scfg);
    if (scfg.max_message >= WS_SERVER_DEFAULT_RX_BUDGET) {
        ESP_LOGE(TAG, "WSCTL_MAX_MESSAGE (%u) must be below WS_SERVER_RX_BUDGET (%u): the server will not start",
                 (unsigned)scfg.max_message, (unsigned)WS_SERVER_DEFAULT_RX_BUDGET);
    }
    bool running = false;
    uint32_t clients = 0;
    for (;;) {
        EventBits_t bits =
            xEventGroupWaitBits(s_events, NET_BIT_UP | NET_BIT_DOWN, pdTRUE, pdFALSE, pdMS_TO_TICKS(CLIENT_WATCH_MS));
        if ((bits & NET_BIT_DOWN) && running) {
            ws_server_stop(); /* sockets are dead without an address; clients reconnect later */
            running = false;
            clients = 0;
            ESP_LOGI(TAG, "server stopped");
        }
        /* Both bits may be set (lost and got back, or the other way round): net_is_up() says which came last. */
        if (!running && (bits & (NET_BIT_UP | NET_BIT_DOWN)) && net_is_up()) {
            ws_err_t err = ws_server_init(&scfg);
            running = err == WS_OK;
            if (running) {
                ESP_LOGI(TAG, "WebSocket server on ws://%s.local:%u/ (max clients %u)", s_cfg.hostname,
                         (unsigned)ws_server_port(), (unsigned)scfg.max_clients);
                log_heap("with the server running", 0u);
            } else {
                ESP_LOGE(TAG, "ws_server_init failed: %d", (int)err);
            }
        }
        ws_stats_t st;
        if (running && ws_server_get_stats(&st) == WS_OK && st.open_clients != clients) {
            clients = st.open_clients;
            char when[24];
            snprintf(when, sizeof(when), "with %u client%s", (unsigned)clients, clients == 1u ? "" : "s");
            log_heap(when, (unsigned)st.rx_held);
        }
    }
}

/*
 * main.c - ESP-IDF v5 glue of the wsctl firmware: NVS settings, Wi-Fi station with reconnect backoff, mDNS,
 * and starting/stopping the WebSocket server with the station's address. The application itself (config merge,
 * counter JSON, receive loop) is components/ws_app, which the host build runs unchanged.
 *
 * Not compiled on the development machine (no ESP32 toolchain there); see README.md.
 */
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "mdns.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

#include "ws_app.h"
#include "ws_server.h"
#include "wsctl_limits.h"

#define FIRMWARE_VERSION "1.0.0"
#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

static const char *TAG = "esp32ws";

/* The limits wsctl flash enforces (wsctl_limits.h) must hold for this build's configuration too. */
_Static_assert(CONFIG_WSCTL_MAX_CLIENTS >= WSCTL_MAX_CLIENTS_MIN && CONFIG_WSCTL_MAX_CLIENTS <= WSCTL_MAX_CLIENTS_MAX,
               "CONFIG_WSCTL_MAX_CLIENTS is outside wsctl_limits.h's range");
_Static_assert(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX) + WSCTL_SOCKETS_SPARE <= CONFIG_LWIP_MAX_SOCKETS,
               "CONFIG_LWIP_MAX_SOCKETS cannot hold the server at WSCTL_MAX_CLIENTS_MAX (see wsctl_limits.h)");
_Static_assert(sizeof(CONFIG_WSCTL_HOSTNAME) - 1u <= WSCTL_HOSTNAME_MAX,
               "CONFIG_WSCTL_HOSTNAME is longer than esp_netif accepts");

/* Event bits set by the Wi-Fi/IP handlers (event task) and consumed by the control loop in app_main. */
#define BIT_GOT_IP BIT0
#define BIT_DISCONNECTED BIT1

static EventGroupHandle_t s_events;
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
    nvs_close(h);
    unsigned set = ws_app_config_merge(cfg, &stored);
    if (set & WS_APP_REJECTED) {
        ESP_LOGW(TAG, "some NVS settings were invalid and ignored (limits: wsctl_limits.h)");
    }
    ESP_LOGI(TAG, "config: ssid \"%s\", host %s, port %u, max clients %u", cfg->ssid, cfg->hostname,
             (unsigned)cfg->port, (unsigned)cfg->max_clients);
}

static void on_wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    if (id == WIFI_EVENT_STA_START) {
        esp_wifi_connect();
    } else if (id == WIFI_EVENT_STA_DISCONNECTED) {
        const wifi_event_sta_disconnected_t *d = (const wifi_event_sta_disconnected_t *)data;
        ESP_LOGW(TAG, "Wi-Fi disconnected (reason %d)", d->reason);
        xEventGroupSetBits(s_events, BIT_DISCONNECTED);
    }
}

static void on_ip_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    if (id == IP_EVENT_STA_GOT_IP) {
        const ip_event_got_ip_t *e = (const ip_event_got_ip_t *)data;
        ESP_LOGI(TAG, "got address " IPSTR, IP2STR(&e->ip_info.ip));
        xEventGroupSetBits(s_events, BIT_GOT_IP);
    }
}

static void wifi_start(const ws_app_config_t *cfg)
{
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    esp_netif_t *sta = esp_netif_create_default_wifi_sta();
    ESP_ERROR_CHECK(esp_netif_set_hostname(sta, cfg->hostname));
    wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&init));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_wifi_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_ip_event, NULL, NULL));
    wifi_config_t wc = {0};
    memcpy(wc.sta.ssid, cfg->ssid, strnlen(cfg->ssid, sizeof(wc.sta.ssid)));
    memcpy(wc.sta.password, cfg->pass, strnlen(cfg->pass, sizeof(wc.sta.password)));
    wc.sta.threshold.authmode = cfg->pass[0] != '\0' ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
    ESP_ERROR_CHECK(esp_wifi_start());
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

void app_main(void)
{
    static ws_app_recv_loop_t recv_loop;
    static ws_app_counter_t counter;

    nvs_init();
    load_config(&s_cfg);
    s_events = xEventGroupCreate();
    wifi_start(&s_cfg);
    mdns_start(&s_cfg);

    recv_loop = (ws_app_recv_loop_t){.out = stdout, .echo = false, .stop = &s_stop_app, .poll_ms = 1000};
    xTaskCreate(recv_task, "ws_recv", 4096, &recv_loop, 1, NULL);
    if (s_cfg.counter_interval_ms > 0) {
        counter = (ws_app_counter_t){.interval_ms = s_cfg.counter_interval_ms, .stop = &s_stop_app, .value = 0};
        xTaskCreate(counter_task, "ws_counter", 3072, &counter, 1, NULL);
    }

    /* Control loop: the server follows the station's address; reconnects back off exponentially. */
    ws_server_cfg_t scfg;
    ws_app_server_cfg(&s_cfg, &scfg);
    if (scfg.max_message >= WS_SERVER_DEFAULT_RX_BUDGET) {
        ESP_LOGE(TAG, "WSCTL_MAX_MESSAGE (%u) must be below WS_SERVER_RX_BUDGET (%u): the server will not start",
                 (unsigned)scfg.max_message, (unsigned)WS_SERVER_DEFAULT_RX_BUDGET);
    }
    uint32_t backoff_ms = BACKOFF_MIN_MS;
    bool running = false;
    for (;;) {
        EventBits_t bits = xEventGroupWaitBits(s_events, BIT_GOT_IP | BIT_DISCONNECTED, pdTRUE, pdFALSE, portMAX_DELAY);
        if (bits & BIT_DISCONNECTED) {
            if (running) {
                ws_server_stop(); /* sockets are dead without an address; clients reconnect later */
                running = false;
                ESP_LOGI(TAG, "server stopped");
            }
            ESP_LOGI(TAG, "reconnecting in %u ms", (unsigned)backoff_ms);
            vTaskDelay(pdMS_TO_TICKS(backoff_ms));
            backoff_ms = backoff_ms * 2u > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2u;
            esp_wifi_connect();
        }
        if (bits & BIT_GOT_IP) {
            backoff_ms = BACKOFF_MIN_MS;
            if (!running) {
                ws_err_t err = ws_server_init(&scfg);
                running = err == WS_OK;
                if (running) {
                    ESP_LOGI(TAG, "WebSocket server on ws://%s.local:%u/", s_cfg.hostname, (unsigned)scfg.port);
                } else {
                    ESP_LOGE(TAG, "ws_server_init failed: %d", (int)err);
                }
            }
        }
    }
}

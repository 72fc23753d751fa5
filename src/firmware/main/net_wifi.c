/*
 * net_wifi.c - net.h over a Wi-Fi station (Kconfig WSCTL_NET_WIFI): credentials from the configuration (NVS written
 * by `wsctl flash`, else Kconfig), reconnects after a disconnect with exponential backoff (0.5 s doubling to 30 s,
 * back to 0.5 s once an address comes), DHCP host name = the mDNS host name.
 */
#include <stdatomic.h>
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_timer.h"
#include "esp_wifi.h"

#include "net.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

const char *const NET_NAME = "Wi-Fi station";

static const char *TAG = "net";
static EventGroupHandle_t s_events;
static esp_timer_handle_t s_retry; /* one-shot: esp_wifi_connect() after the backoff */
static uint32_t s_backoff_ms = BACKOFF_MIN_MS;
static atomic_bool s_up;

static void retry_connect(void *arg)
{
    (void)arg;
    esp_err_t err = esp_wifi_connect();
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "esp_wifi_connect: %s", esp_err_to_name(err));
    }
}

/* Runs in the default event loop's task, like every handler here. */
static void on_wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    if (id == WIFI_EVENT_STA_START) {
        retry_connect(NULL);
    } else if (id == WIFI_EVENT_STA_DISCONNECTED) {
        const wifi_event_sta_disconnected_t *d = (const wifi_event_sta_disconnected_t *)data;
        atomic_store(&s_up, false);
        xEventGroupSetBits(s_events, NET_BIT_DOWN);
        ESP_LOGW(TAG, "Wi-Fi disconnected (reason %d), reconnecting in %u ms", d->reason, (unsigned)s_backoff_ms);
        esp_timer_stop(s_retry); /* a disconnect while a retry is pending: start the wait again */
        ESP_ERROR_CHECK(esp_timer_start_once(s_retry, (uint64_t)s_backoff_ms * 1000u));
        s_backoff_ms = s_backoff_ms * 2u > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s_backoff_ms * 2u;
    }
}

static void on_ip_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    if (id == IP_EVENT_STA_GOT_IP) {
        const ip_event_got_ip_t *e = (const ip_event_got_ip_t *)data;
        ESP_LOGI(TAG, "got address " IPSTR, IP2STR(&e->ip_info.ip));
        s_backoff_ms = BACKOFF_MIN_MS;
        atomic_store(&s_up, true);
        xEventGroupSetBits(s_events, NET_BIT_UP);
    } else if (id == IP_EVENT_STA_LOST_IP) {
        ESP_LOGW(TAG, "lost the address");
        atomic_store(&s_up, false);
        xEventGroupSetBits(s_events, NET_BIT_DOWN);
    }
}

void net_start(const ws_app_config_t *cfg, EventGroupHandle_t events)
{
    s_events = events;
    const esp_timer_create_args_t retry = {.callback = retry_connect, .name = "wifi_retry"};
    ESP_ERROR_CHECK(esp_timer_create(&retry, &s_retry));
    esp_netif_t *sta = esp_netif_create_default_wifi_sta();
    ESP_ERROR_CHECK(esp_netif_set_hostname(sta, cfg->hostname));
    wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&init));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_wifi_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_ip_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_LOST_IP, on_ip_event, NULL, NULL));
    wifi_config_t wc = {0};
    memcpy(wc.sta.ssid, cfg->ssid, strnlen(cfg->ssid, sizeof(wc.sta.ssid)));
    memcpy(wc.sta.password, cfg->pass, strnlen(cfg->pass, sizeof(wc.sta.password)));
    wc.sta.threshold.authmode = cfg->pass[0] != '\0' ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
    ESP_ERROR_CHECK(esp_wifi_start());
}

bool net_is_up(void) { return atomic_load(&s_up); }

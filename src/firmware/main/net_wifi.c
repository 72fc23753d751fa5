/*
 * net_wifi.c - net.h over a Wi-Fi station (Kconfig WSCTL_NET_WIFI): credentials from the configuration (NVS written
 * by `wsctl flash`, else Kconfig), reconnects after a disconnect with exponential backoff (0.5 s doubling to 30 s,
 * back to 0.5 s once an address comes), DHCP host name = the mDNS host name. Improv provisioning (improv_uart.c)
 * tries other credentials through net_wifi.h.
 */
#include <stdatomic.h>
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_timer.h"
#include "esp_wifi.h"

#include "net.h"
#include "net_wifi.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

const char *const NET_NAME = "Wi-Fi station";

static const char *TAG = "net";
static EventGroupHandle_t s_events;
static esp_timer_handle_t s_retry; /* one-shot: esp_wifi_connect() after the backoff */
static uint32_t s_backoff_ms = BACKOFF_MIN_MS;
static atomic_bool s_up;
static esp_netif_t *s_sta;
static net_wifi_listener_t s_listener;
/* The settings in use (from NVS or Kconfig, or the last attempt kept), and whether an attempt runs. Written by the
 * Improv task, read by the event handlers: s_attempt is the handover. */
static char s_ssid[33], s_pass[65];
static char s_try_ssid[33]; /* the attempt's network */
static atomic_bool s_attempt;

static void tell(net_wifi_event_t event)
{
    if (s_listener != NULL) {
        s_listener(event);
    }
}

/* Sets the station's configuration to ssid/pass (authmode threshold WPA2 unless open). */
static esp_err_t configure(const char *ssid, const char *pass)
{
    wifi_config_t wc = {0};
    memcpy(wc.sta.ssid, ssid, strnlen(ssid, sizeof(wc.sta.ssid)));
    memcpy(wc.sta.password, pass, strnlen(pass, sizeof(wc.sta.password)));
    wc.sta.threshold.authmode = pass[0] != '\0' ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
    return esp_wifi_set_config(WIFI_IF_STA, &wc);
}

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
        if (atomic_load(&s_attempt)) {
            /* Our own leaving of the previous network (ASSOC_LEAVE) is not the attempt's answer; anything else is
             * (a wrong password ends in a handshake timeout or auth failure, a missing network in NO_AP_FOUND). */
            if (d->reason != WIFI_REASON_ASSOC_LEAVE) {
                ESP_LOGW(TAG, "Improv: could not join (reason %d)", d->reason);
                atomic_store(&s_attempt, false);
                tell(NET_WIFI_JOIN_FAILED);
            }
            return; /* no retry: the Improv task restores or keeps */
        }
        tell(NET_WIFI_DOWN);
        ESP_LOGW(TAG, "Wi-Fi disconnected (reason %d), reconnecting in %u ms", d->reason, (unsigned)s_backoff_ms);
        esp_timer_stop(s_retry); /* a disconnect while a retry is pending: start the wait again */
        ESP_ERROR_CHECK(esp_timer_start_once(s_retry, (uint64_t)s_backoff_ms * 1000u));
        s_backoff_ms = s_backoff_ms * 2u > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s_backoff_ms * 2u;
    }
}

/* Whether the station is associated with the network the attempt asked for (not the one it left). */
static bool joined_attempt(void)
{
    wifi_ap_record_t ap;
    return esp_wifi_sta_get_ap_info(&ap) == ESP_OK && strncmp((const char *)ap.ssid, s_try_ssid, sizeof(ap.ssid)) == 0;
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
        if (!atomic_load(&s_attempt)) {
            tell(NET_WIFI_UP);
        } else if (joined_attempt()) {
            atomic_store(&s_attempt, false);
            tell(NET_WIFI_JOINED);
        } /* else: the previous network's address, queued before the attempt left it; the attempt goes on */
    } else if (id == IP_EVENT_STA_LOST_IP) {
        ESP_LOGW(TAG, "lost the address");
        atomic_store(&s_up, false);
        xEventGroupSetBits(s_events, NET_BIT_DOWN);
        if (!atomic_load(&s_attempt)) {
            tell(NET_WIFI_DOWN);
        }
    }
}

void net_start(const ws_app_config_t *cfg, EventGroupHandle_t events)
{
    s_events = events;
    const esp_timer_create_args_t retry = {.callback = retry_connect, .name = "wifi_retry"};
    ESP_ERROR_CHECK(esp_timer_create(&retry, &s_retry));
    esp_netif_t *sta = esp_netif_create_default_wifi_sta();
    s_sta = sta;
    ESP_ERROR_CHECK(esp_netif_set_hostname(sta, cfg->hostname));
    wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&init));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_wifi_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_ip_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_LOST_IP, on_ip_event, NULL, NULL));
    strlcpy(s_ssid, cfg->ssid, sizeof(s_ssid));
    strlcpy(s_pass, cfg->pass, sizeof(s_pass));
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    ESP_ERROR_CHECK(configure(s_ssid, s_pass));
    ESP_ERROR_CHECK(esp_wifi_start());
}

void net_wifi_listen(net_wifi_listener_t listener) { s_listener = listener; }

bool net_wifi_try(const char *ssid, const char *pass)
{
    esp_timer_stop(s_retry); /* no backoff retry of the old network during the attempt */
    strlcpy(s_try_ssid, ssid, sizeof(s_try_ssid));
    atomic_store(&s_attempt, true);
    (void)esp_wifi_disconnect(); /* ESP_ERR_WIFI_NOT_STARTED aside, harmless when not connected */
    esp_err_t err = configure(ssid, pass);
    if (err == ESP_OK) {
        err = esp_wifi_connect();
    }
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "Improv: cannot start joining: %s", esp_err_to_name(err));
        atomic_store(&s_attempt, false);
        return false;
    }
    ESP_LOGI(TAG, "Improv: joining \"%s\"", ssid); /* never the password */
    return true;
}

void net_wifi_restore(void)
{
    atomic_store(&s_attempt, false);
    (void)esp_wifi_disconnect();
    s_backoff_ms = BACKOFF_MIN_MS;
    ESP_ERROR_CHECK(configure(s_ssid, s_pass));
    retry_connect(NULL); /* the old network, with the usual retries after it */
}

void net_wifi_keep(void)
{
    wifi_config_t wc;
    if (esp_wifi_get_config(WIFI_IF_STA, &wc) == ESP_OK) {
        /* The driver's fields are not NUL-terminated at their full length (ssid[32], password[64]). */
        memcpy(s_ssid, wc.sta.ssid, sizeof(wc.sta.ssid));
        s_ssid[sizeof(wc.sta.ssid)] = '\0';
        memcpy(s_pass, wc.sta.password, sizeof(wc.sta.password));
        s_pass[sizeof(wc.sta.password)] = '\0';
    }
}

bool net_wifi_address(char *out, size_t cap)
{
    esp_netif_ip_info_t ip;
    if (!atomic_load(&s_up) || s_sta == NULL || esp_netif_get_ip_info(s_sta, &ip) != ESP_OK) {
        return false;
    }
    return esp_ip4addr_ntoa(&ip.ip, out, (int)cap) != NULL;
}

bool net_is_up(void) { return atomic_load(&s_up); }

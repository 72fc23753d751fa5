/*
 * net_eth.c - net.h over the OpenCores Ethernet MAC (Kconfig WSCTL_NET_OPENETH, which selects ETH_USE_OPENETH):
 * the network interface of Espressif's QEMU, which has no Wi-Fi. Set up as ESP-IDF's own emulator tests do
 * (examples/common_components/protocol_examples_common/eth_connect.c): esp_eth_mac_new_openeth, the DP83848 PHY
 * driver over QEMU's PHY registers, the default Ethernet esp_netif with DHCP. On QEMU, `-nic user,model=open_eth`
 * gives it a DHCP address (10.0.2.15) and `hostfwd=tcp::PORT-:8080` brings the host's PORT to the server.
 * Not for a real chip: the driver refuses to start on hardware (it checks the EMAC's date register).
 */
#include <stdatomic.h>

#include "esp_eth.h"
#include "esp_eth_mac_openeth.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_system.h"
#include "sdkconfig.h"
#if CONFIG_IDF_TARGET_ESP32
#include "soc/timer_group_struct.h"
#endif

#include "net.h"

const char *const NET_NAME = "OpenCores Ethernet";

static const char *TAG = "net";
static EventGroupHandle_t s_events;
static atomic_bool s_up;

/* Link state: the driver restarts DHCP by itself when the link comes back, so nothing to do but report. */
static void on_eth_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    (void)data;
    if (id == ETHERNET_EVENT_CONNECTED) {
        ESP_LOGI(TAG, "Ethernet link up");
    } else if (id == ETHERNET_EVENT_DISCONNECTED) {
        ESP_LOGW(TAG, "Ethernet link down");
        atomic_store(&s_up, false);
        xEventGroupSetBits(s_events, NET_BIT_DOWN);
    }
}

static void on_ip_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    if (id == IP_EVENT_ETH_GOT_IP) {
        const ip_event_got_ip_t *e = (const ip_event_got_ip_t *)data;
        ESP_LOGI(TAG, "got address " IPSTR, IP2STR(&e->ip_info.ip));
        atomic_store(&s_up, true);
        xEventGroupSetBits(s_events, NET_BIT_UP);
    } else if (id == IP_EVENT_ETH_LOST_IP) {
        ESP_LOGW(TAG, "lost the address");
        atomic_store(&s_up, false);
        xEventGroupSetBits(s_events, NET_BIT_DOWN);
    }
}

#if CONFIG_IDF_TARGET_ESP32
/*
 * For Espressif's QEMU (8.2.0, esp-develop d6aa0b071a) only, which is all this file is for: before a restart
 * (esp_restart: an OTA update's, a rollback's), esp_timer's alarm (the LACT timer of timer group 0) is stopped and
 * its interrupt masked and cleared. A chip resets the timer groups on the way (esp_system_reset_modules_on_exit);
 * that QEMU resets only the CPUs on the ESP32's software reset, so an armed alarm outlived the reset and the next
 * boot panicked in esp_timer_init (InstrFetchProhibited at PC 0), every time. ESP-IDF's hello_world with a periodic
 * esp_timer does the same there, and survives with this. A panic's restart does not run shutdown handlers.
 */
static void quiet_esp_timer_at_restart(void)
{
    TIMERG0.lactconfig.lact_alarm_en = 0;
    TIMERG0.int_ena_timers.lact_int_ena = 0;
    TIMERG0.int_clr_timers.lact_int_clr = 1;
}
#endif

void net_start(const ws_app_config_t *cfg, EventGroupHandle_t events)
{
    s_events = events;
    esp_netif_config_t netif_cfg = ESP_NETIF_DEFAULT_ETH();
    esp_netif_t *netif = esp_netif_new(&netif_cfg);
    ESP_ERROR_CHECK(netif != NULL ? ESP_OK : ESP_FAIL);
    ESP_ERROR_CHECK(esp_netif_set_hostname(netif, cfg->hostname));

    eth_mac_config_t mac_cfg = ETH_MAC_DEFAULT_CONFIG();
    eth_phy_config_t phy_cfg = ETH_PHY_DEFAULT_CONFIG();
    phy_cfg.autonego_timeout_ms = 100; /* QEMU's PHY reports the link at once; as IDF's example sets it */
    esp_eth_mac_t *mac = esp_eth_mac_new_openeth(&mac_cfg);
    esp_eth_phy_t *phy = esp_eth_phy_new_dp83848(&phy_cfg);
    ESP_ERROR_CHECK(mac != NULL && phy != NULL ? ESP_OK : ESP_FAIL);
    esp_eth_config_t eth_cfg = ETH_DEFAULT_CONFIG(mac, phy);
    esp_eth_handle_t eth = NULL;
    ESP_ERROR_CHECK(esp_eth_driver_install(&eth_cfg, &eth)); /* the MAC address comes from eFuse (ESP_MAC_ETH) */
    ESP_ERROR_CHECK(esp_netif_attach(netif, esp_eth_new_netif_glue(eth)));

    ESP_ERROR_CHECK(esp_event_handler_instance_register(ETH_EVENT, ESP_EVENT_ANY_ID, on_eth_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_ETH_GOT_IP, on_ip_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_ETH_LOST_IP, on_ip_event, NULL, NULL));
    ESP_ERROR_CHECK(esp_eth_start(eth));
#if CONFIG_IDF_TARGET_ESP32
    (void)esp_register_shutdown_handler(quiet_esp_timer_at_restart);
#endif
}

bool net_is_up(void) { return atomic_load(&s_up); }

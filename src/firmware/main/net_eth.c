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
}

bool net_is_up(void) { return atomic_load(&s_up); }

/*
 * main.c - ESP-IDF v5 glue of the wsctl firmware: NVS settings, the network (net.h: Wi-Fi station or, for the
 * emulator, OpenCores Ethernet), mDNS, the OTA endpoint (/ota, components/ws_ota over ws_ota_port_esp.c), and
 * starting/stopping the WebSocket server with the interface's address. The application itself (config merge, counter
 * JSON, receive loop) is components/ws_app, which the host build runs unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_system.h"
#include "freertos/idf_additions.h"
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
#include "ws_ota.h"
#include "ws_ota_port_esp.h"
#include "ws_server.h"
#include "wsctl_limits.h"

/* How often the control loop looks at the server's client count (to log the heap as clients come and go) and runs
 * the OTA timers (the confirmation deadline of an app pending verification, the restart after an update). */
#define CLIENT_WATCH_MS 250u
/*
 * The core of the application's tasks (receive loop, counter: the callers of ws_send and ws_recv). On a dual-core
 * chip (the classic ESP32) the server task is pinned to CONFIG_WS_SERVER_TASK_CORE (components/ws_server/Kconfig,
 * ws_port_esp.c) and these to the other core: the application never waits for a core the server is busy on, and
 * the server's queues and locks are shared across cores as they would be in a real application (issue 27). A
 * single-core chip has no choice to make.
 */
#ifdef CONFIG_WS_SERVER_TASK_CORE /* only where FreeRTOS runs on two cores (Kconfig: !FREERTOS_UNICORE) */
#define APP_TASK_CORE ((BaseType_t)(CONFIG_WS_SERVER_TASK_CORE == 0 ? 1 : 0))
#else
#define APP_TASK_CORE tskNO_AFFINITY
#endif
/* The test hook of scripts/qemu-smoke.sh (Kconfig WSCTL_OTA_TEST_PANIC): an app whose version ends with this
 * aborts at start, as an update that crashes before it can be confirmed. */
#define PANIC_AT_START_SUFFIX "+panic-at-start"

static const char *TAG = "esp32ws";

/* The limits wsctl flash enforces (wsctl_limits.h) must hold for this build's configuration too. */
_Static_assert(CONFIG_WSCTL_MAX_CLIENTS >= WSCTL_MAX_CLIENTS_MIN && CONFIG_WSCTL_MAX_CLIENTS <= WSCTL_MAX_CLIENTS_MAX,
               "CONFIG_WSCTL_MAX_CLIENTS is outside wsctl_limits.h's range");
_Static_assert(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX) + WSCTL_SOCKETS_SPARE <= CONFIG_LWIP_MAX_SOCKETS,
               "CONFIG_LWIP_MAX_SOCKETS cannot hold the server at WSCTL_MAX_CLIENTS_MAX (see wsctl_limits.h)");
_Static_assert(sizeof(CONFIG_WSCTL_HOSTNAME) - 1u <= WSCTL_HOSTNAME_MAX,
               "CONFIG_WSCTL_HOSTNAME is longer than esp_netif accepts");
_Static_assert(CONFIG_WSCTL_OTA_CONFIRM_S >= WSCTL_OTA_CONFIRM_S_MIN &&
                   CONFIG_WSCTL_OTA_CONFIRM_S <= WSCTL_OTA_CONFIRM_S_MAX,
               "CONFIG_WSCTL_OTA_CONFIRM_S is outside wsctl_limits.h's range");
/* docs/ota-protocol.md section 5: a new app boots pending verification and is rolled back by the bootloader when it
 * resets before it is confirmed. Without this option the bootloader never does either (and /ota answers not_pending
 * to every confirm). */
#ifndef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
#error "the OTA endpoint needs CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (sdkconfig.defaults)"
#endif

static EventGroupHandle_t s_events; /* NET_BIT_UP / NET_BIT_DOWN from net_*.c, consumed by app_main's loop */
static ws_app_config_t s_cfg;
static ws_ota_port_t s_ota_port;
static ws_ota_t *s_ota; /* NULL if the OTA endpoint could not start (logged): the server runs without /ota */
static ws_ota_status_t s_ota_status; /* what the TXT record says (version, ELF, slot, OTA state) */
static volatile bool s_stop_app;     /* never set on the device; the loops run forever */
static TaskHandle_t s_recv_task, s_counter_task; /* for their stack high-water marks (log_stacks) */
static uint32_t s_server_stack;                  /* the server task's stack size (bytes), as configured */

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
    /* The TXT keys `wsctl serve --mdns-name` advertises (path, max_clients, version), then the running app's ELF
     * hash, slot and OTA state; mdns copies the strings. */
    ws_app_running_t run = {.version = esp_app_get_description()->version};
    if (s_ota != NULL) {
        run = (ws_app_running_t){s_ota_status.version, s_ota_status.elf_prefix, s_ota_status.slot, s_ota_status.state};
    }
    char number[WS_APP_TXT_NUMBER_LEN];
    ws_app_txt_t entries[WS_APP_TXT_COUNT];
    size_t n = ws_app_mdns_txt(cfg, &run, number, entries);
    mdns_txt_item_t txt[WS_APP_TXT_COUNT];
    for (size_t i = 0; i < n; i++) {
        txt[i].key = entries[i].key;
        txt[i].value = entries[i].value;
    }
    ESP_ERROR_CHECK(mdns_service_add(NULL, WSCTL_MDNS_SERVICE, WSCTL_MDNS_PROTO, cfg->port, txt, n));
}

/*
 * The OTA endpoint: reads the running app's state and the last update's outcome, and arms the confirmation deadline
 * when this app is pending verification. Before the network, so the deadline runs whether it ever comes up or not.
 */
static void ota_start(void)
{
    const esp_app_desc_t *app = esp_app_get_description();
#ifdef CONFIG_WSCTL_OTA_TEST_PANIC
    size_t n = strlen(app->version), m = strlen(PANIC_AT_START_SUFFIX);
    if (n >= m && strcmp(app->version + n - m, PANIC_AT_START_SUFFIX) == 0) {
        ESP_LOGE(TAG, "version %s: panic at start (Kconfig WSCTL_OTA_TEST_PANIC)", app->version);
        abort();
    }
#endif
    ws_ota_port_esp(&s_ota_port);
    int err = ws_ota_start(&s_ota, &s_ota_port);
    if (err != WS_OTA_PORT_OK) {
        ESP_LOGE(TAG, "the OTA endpoint did not start (%d): no /ota; running %s", err, app->version);
        s_ota = NULL;
        return;
    }
    ws_ota_status(s_ota, &s_ota_status);
    ESP_LOGI(TAG, "ota: running %s (%s) from %s, state %s, elf %s, last update %s", s_ota_status.version,
             s_ota_status.project, s_ota_status.slot, s_ota_status.state, s_ota_status.elf_prefix,
             s_ota_status.last_update);
    ESP_LOGI(TAG, "ota: %s %s", WS_OTA_PATH,
             s_ota_status.key_provisioned ? "takes updates (key provisioned)" : "answers 403 (no key provisioned)");
}

/* The OTA timers, and the TXT record's ota=… once a pending app is confirmed. */
static void ota_poll(void)
{
    if (s_ota == NULL) {
        return;
    }
    (void)ws_ota_poll(s_ota); /* on the device a restart does not return */
    const char *state = ws_ota_state_name(ws_ota_state(s_ota));
    if (strcmp(state, s_ota_status.state) != 0) {
        s_ota_status.state = state;
        esp_err_t err = mdns_service_txt_item_set(WSCTL_MDNS_SERVICE, WSCTL_MDNS_PROTO, WSCTL_TXT_OTA, state);
        ESP_LOGI(TAG, "ota: state %s (TXT %s)", state, err == ESP_OK ? "updated" : esp_err_to_name(err));
    }
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

/* The most stack a task has used since it started, in bytes: its size less FreeRTOS's high-water mark (ESP-IDF's
 * StackType_t is a byte, so uxTaskGetStackHighWaterMark counts bytes). 0 when the task is not running. */
static unsigned stack_peak(TaskHandle_t task, uint32_t size)
{
    return task != NULL ? (unsigned)(size - uxTaskGetStackHighWaterMark(task)) : 0u;
}

/*
 * Each task's peak stack use so far against its size (the figures behind the Kconfig stack sizes, WSCTL_*_STACK;
 * src/firmware/README.md), logged with the heap as clients come and go, and before a restart (an OTA update's
 * upload runs on the server task).
 */
static void log_stacks(const char *when)
{
    ESP_LOGI(TAG, "stack peak %s: ws_server %u of %u, ws_recv %u of %u, ws_counter %u of %u, main %u of %u bytes", when,
             stack_peak(xTaskGetHandle("ws_server"), s_server_stack), (unsigned)s_server_stack,
             stack_peak(s_recv_task, CONFIG_WSCTL_RECV_TASK_STACK), (unsigned)CONFIG_WSCTL_RECV_TASK_STACK,
             stack_peak(s_counter_task, CONFIG_WSCTL_COUNTER_TASK_STACK), (unsigned)CONFIG_WSCTL_COUNTER_TASK_STACK,
             stack_peak(xTaskGetHandle("main"), CONFIG_ESP_MAIN_TASK_STACK_SIZE),
             (unsigned)CONFIG_ESP_MAIN_TASK_STACK_SIZE);
}

static void log_stacks_at_restart(void) { log_stacks("before restart"); }

void app_main(void)
{
    static ws_app_recv_loop_t recv_loop;
    static ws_app_counter_t counter;

    log_heap("at boot", 0u);
    nvs_init();
    ota_start();
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
    /* Wi-Fi from ESP Web Tools or wsctl provision; the version is the one the app was built with (PROJECT_VER). */
    improv_uart_start(&s_cfg, esp_app_get_description()->version);
#endif

    recv_loop = (ws_app_recv_loop_t){.out = stdout, .stop = &s_stop_app, .poll_ms = 1000};
    xTaskCreatePinnedToCore(recv_task, "ws_recv", CONFIG_WSCTL_RECV_TASK_STACK, &recv_loop, 1, &s_recv_task,
                            APP_TASK_CORE);
    if (s_cfg.counter_interval_ms > 0) {
        counter = (ws_app_counter_t){.interval_ms = s_cfg.counter_interval_ms, .stop = &s_stop_app, .value = 0};
        xTaskCreatePinnedToCore(counter_task, "ws_counter", CONFIG_WSCTL_COUNTER_TASK_STACK, &counter, 1,
                                &s_counter_task, APP_TASK_CORE);
    }
    (void)esp_register_shutdown_handler(log_stacks_at_restart);

    /* Control loop: the server follows the interface's address (net.h does the reconnecting). */
    ws_server_cfg_t scfg;
    ws_app_server_cfg(&s_cfg, &scfg);
    if (s_ota != NULL) {
        scfg.endpoints = ws_ota_endpoint(s_ota); /* /ota on the same port, taking a client slot */
        scfg.endpoint_count = 1;
    }
    scfg.task_stack = CONFIG_WSCTL_SERVER_TASK_STACK;
    s_server_stack = scfg.task_stack;
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
        ota_poll();
        ws_stats_t st;
        if (running && ws_server_get_stats(&st) == WS_OK && st.open_clients != clients) {
            clients = st.open_clients;
            char when[24];
            snprintf(when, sizeof(when), "with %u client%s", (unsigned)clients, clients == 1u ? "" : "s");
            log_heap(when, (unsigned)st.rx_held);
            log_stacks(when);
        }
    }
}

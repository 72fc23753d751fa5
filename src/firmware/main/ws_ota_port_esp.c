/*
 * ws_ota_port_esp.c - the OTA port over ESP-IDF v5.3's esp_ota_ops, esp_partition, NVS, esp_random, esp_timer
 * (ws_ota_port_esp.h). Written against the ESP-IDF v5.3 API reference ("Over The Air Updates (OTA)", "App Image
 * Format", "Non-Volatile Storage Library", "Random Number Generation", "Miscellaneous System APIs").
 */
#include "ws_ota_port_esp.h"

#include <stdio.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_err.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "nvs.h"
#include "sdkconfig.h"

#include "ws_ota_engine.h"
#include "wsctl_limits.h"

static const char *TAG = "ota";

_Static_assert(sizeof(esp_app_desc_t) == 256, "esp_app_desc_t is the 256 bytes ws_ota_image.h reads");
_Static_assert(WSCTL_OTA_KEY_BYTES == WS_OTA_KEY_LEN, "wsctl_limits.h and ws_ota_engine.h disagree on the key");

static struct {
    const esp_partition_t *update; /* esp_ota_get_next_update_partition(NULL), found by running() */
    esp_ota_handle_t handle;
    bool open;
} s_ota;

static int esp_running(void *ctx, ws_ota_running_t *out)
{
    (void)ctx;
    memset(out, 0, sizeof(*out));
    const esp_partition_t *run = esp_ota_get_running_partition();
    s_ota.update = esp_ota_get_next_update_partition(NULL);
    if (run == NULL || s_ota.update == NULL) {
        return WS_OTA_PORT_ERR_NOT_FOUND; /* a partition table without two OTA slots */
    }
    (void)snprintf(out->chip, sizeof(out->chip), "%s", CONFIG_IDF_TARGET);
    out->chip_id = (uint16_t)CONFIG_IDF_FIRMWARE_CHIP_ID; /* what bootloader_common_check_chip_validity compares */
    memcpy(out->app_desc, esp_app_get_description(), sizeof(out->app_desc));
    (void)snprintf(out->running_slot, sizeof(out->running_slot), "%s", run->label);
    (void)snprintf(out->update_slot, sizeof(out->update_slot), "%s", s_ota.update->label);
    out->update_slot_size = (uint32_t)s_ota.update->size;
    esp_ota_img_states_t state;
    out->state = WS_OTA_STATE_UNDEFINED; /* ESP_ERR_NOT_FOUND: no otadata entry names this slot (a factory boot) */
    if (esp_ota_get_state_partition(run, &state) == ESP_OK) {
        out->state = state == ESP_OTA_IMG_VALID            ? WS_OTA_STATE_VALID
                     : state == ESP_OTA_IMG_PENDING_VERIFY ? WS_OTA_STATE_PENDING_VERIFY
                                                           : WS_OTA_STATE_UNDEFINED;
    }
    return WS_OTA_PORT_OK;
}

static int esp_slot_begin(void *ctx, uint32_t size)
{
    (void)ctx;
    (void)size;
    if (s_ota.open || s_ota.update == NULL) {
        return WS_OTA_PORT_ERR_STATE;
    }
    /* Sector by sector as the bytes come (OTA_WITH_SEQUENTIAL_WRITES): erasing a whole 1984 KiB slot at once would
     * block the server task for seconds before the first byte is taken. */
    esp_err_t err = esp_ota_begin(s_ota.update, OTA_WITH_SEQUENTIAL_WRITES, &s_ota.handle);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_begin(%s): %s", s_ota.update->label, esp_err_to_name(err));
        return err == ESP_ERR_OTA_ROLLBACK_INVALID_STATE ? WS_OTA_PORT_ERR_STATE : WS_OTA_PORT_ERR_FLASH;
    }
    s_ota.open = true;
    return WS_OTA_PORT_OK;
}

static int esp_slot_write(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (!s_ota.open) {
        return WS_OTA_PORT_ERR_STATE;
    }
    esp_err_t err = esp_ota_write(s_ota.handle, data, len);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_write: %s", esp_err_to_name(err));
        return WS_OTA_PORT_ERR_FLASH;
    }
    return WS_OTA_PORT_OK;
}

static int esp_slot_end(void *ctx)
{
    (void)ctx;
    if (!s_ota.open) {
        return WS_OTA_PORT_ERR_STATE;
    }
    s_ota.open = false; /* esp_ota_end frees the handle whatever it returns */
    esp_err_t err = esp_ota_end(s_ota.handle);
    if (err == ESP_ERR_OTA_VALIDATE_FAILED) {
        return WS_OTA_PORT_ERR_INVALID;
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_end: %s", esp_err_to_name(err));
        return WS_OTA_PORT_ERR_FLASH;
    }
    return WS_OTA_PORT_OK;
}

static void esp_slot_abort(void *ctx)
{
    (void)ctx;
    if (s_ota.open) {
        (void)esp_ota_abort(s_ota.handle); /* otadata is untouched: what boots does not change */
        s_ota.open = false;
    }
}

/*
 * The engine reads the slot back before esp_ota_end. That is every byte written: esp_ota_write holds bytes back only
 * with flash encryption on (16-byte blocks), which this firmware does not enable (sdkconfig.defaults).
 */
static int esp_slot_read(void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (s_ota.update == NULL || esp_partition_read(s_ota.update, offset, buf, len) != ESP_OK) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    return WS_OTA_PORT_OK;
}

static int esp_set_boot(void *ctx)
{
    (void)ctx;
    esp_err_t err = esp_ota_set_boot_partition(s_ota.update); /* validates the image again, then writes otadata */
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition(%s): %s", s_ota.update->label, esp_err_to_name(err));
        return err == ESP_ERR_OTA_VALIDATE_FAILED ? WS_OTA_PORT_ERR_INVALID : WS_OTA_PORT_ERR_FLASH;
    }
    return WS_OTA_PORT_OK;
}

static void esp_restart_now(void *ctx)
{
    (void)ctx;
    esp_restart();
}

static int esp_mark_valid(void *ctx)
{
    (void)ctx;
    esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_mark_app_valid_cancel_rollback: %s", esp_err_to_name(err));
        return WS_OTA_PORT_ERR_FLASH;
    }
    return WS_OTA_PORT_OK;
}

static int esp_mark_invalid(void *ctx)
{
    (void)ctx;
    /* Marks the running slot INVALID in otadata and restarts into the previous app; returns only when it could not
     * (ESP_ERR_OTA_ROLLBACK_FAILED: no valid app in the other slot). */
    esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
    ESP_LOGE(TAG, "esp_ota_mark_app_invalid_rollback_and_reboot: %s", esp_err_to_name(err));
    return WS_OTA_PORT_ERR_STATE;
}

static int esp_last_invalid(void *ctx, char slot[WS_OTA_SLOT_NAME_MAX + 1], bool *self_marked)
{
    (void)ctx;
    const esp_partition_t *p = esp_ota_get_last_invalid_partition();
    if (p == NULL) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    (void)snprintf(slot, WS_OTA_SLOT_NAME_MAX + 1u, "%s", p->label);
    esp_ota_img_states_t state;
    *self_marked = esp_ota_get_state_partition(p, &state) == ESP_OK && state == ESP_OTA_IMG_INVALID;
    return WS_OTA_PORT_OK;
}

static ws_ota_reset_t esp_reset(void *ctx)
{
    (void)ctx;
    switch (esp_reset_reason()) {
    case ESP_RST_SW:
        return WS_OTA_RESET_SOFTWARE;
    case ESP_RST_PANIC:
        return WS_OTA_RESET_PANIC;
    case ESP_RST_INT_WDT:
    case ESP_RST_TASK_WDT:
    case ESP_RST_WDT:
        return WS_OTA_RESET_WATCHDOG;
    default:
        return WS_OTA_RESET_POWER_ON; /* power-on, brown-out, external pin, deep sleep, ...: "reset" */
    }
}

static int esp_key(void *ctx, uint8_t key[32])
{
    (void)ctx;
    nvs_handle_t h;
    if (nvs_open(WSCTL_NVS_NAMESPACE, NVS_READONLY, &h) != ESP_OK) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    size_t len = WS_OTA_KEY_LEN;
    esp_err_t err = nvs_get_blob(h, WSCTL_NVS_KEY_OTA_KEY, key, &len);
    nvs_close(h);
    if (err != ESP_OK || len != WS_OTA_KEY_LEN) {
        memset(key, 0, WS_OTA_KEY_LEN);
        return WS_OTA_PORT_ERR_NOT_FOUND; /* absent, or not 32 bytes (ESP_ERR_NVS_INVALID_LENGTH): OTA stays off */
    }
    return WS_OTA_PORT_OK;
}

static uint32_t esp_confirm_ms(void *ctx)
{
    (void)ctx;
    uint16_t s = 0;
    nvs_handle_t h;
    if (nvs_open(WSCTL_NVS_NAMESPACE, NVS_READONLY, &h) == ESP_OK) {
        esp_err_t err = nvs_get_u16(h, WSCTL_NVS_KEY_OTA_CONFIRM_S, &s);
        nvs_close(h);
        if (err == ESP_OK && s >= WSCTL_OTA_CONFIRM_S_MIN && s <= WSCTL_OTA_CONFIRM_S_MAX) {
            return (uint32_t)s * 1000u;
        }
        if (err == ESP_OK) {
            ESP_LOGW(TAG, "NVS key \"%s\" = %u ignored (%d-%d s): Kconfig's %d s", WSCTL_NVS_KEY_OTA_CONFIRM_S,
                     (unsigned)s, WSCTL_OTA_CONFIRM_S_MIN, WSCTL_OTA_CONFIRM_S_MAX, CONFIG_WSCTL_OTA_CONFIRM_S);
        }
    }
    return (uint32_t)CONFIG_WSCTL_OTA_CONFIRM_S * 1000u;
}

static int esp_load_last(void *ctx, char *buf, size_t cap)
{
    (void)ctx;
    nvs_handle_t h;
    if (nvs_open(WSCTL_NVS_NAMESPACE, NVS_READONLY, &h) != ESP_OK) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    size_t len = cap;
    esp_err_t err = nvs_get_str(h, WS_OTA_NVS_KEY_LAST, buf, &len);
    nvs_close(h);
    return err == ESP_OK && len > 0 ? (int)(len - 1u) : WS_OTA_PORT_ERR_NOT_FOUND; /* len counts the NUL */
}

static int esp_store_last(void *ctx, const char *json)
{
    (void)ctx;
    nvs_handle_t h;
    esp_err_t err = nvs_open(WSCTL_NVS_NAMESPACE, NVS_READWRITE, &h);
    if (err == ESP_OK) {
        err = nvs_set_str(h, WS_OTA_NVS_KEY_LAST, json);
        if (err == ESP_OK) {
            err = nvs_commit(h);
        }
        nvs_close(h);
    }
    return err == ESP_OK ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_FLASH;
}

static void esp_random_bytes(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    /* A true random source while Wi-Fi (or Bluetooth) runs, or the bootloader's entropy source is on (ESP-IDF
     * "Random Number Generation"); the Ethernet-only emulator build has only the hardware RNG's own noise. */
    esp_fill_random(buf, len);
}

static uint32_t esp_now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)(esp_timer_get_time() / 1000);
}

static void esp_log_line(void *ctx, const char *line)
{
    (void)ctx;
    if (strncmp(line, "ota: ", 5) == 0) {
        line += 5; /* the engine's lines start with "ota: " for the host's stderr; here the tag says it */
    }
    ESP_LOGI(TAG, "%s", line);
}

void ws_ota_port_esp(ws_ota_port_t *port)
{
    *port = (ws_ota_port_t){.ctx = NULL,
                            .running = esp_running,
                            .slot_begin = esp_slot_begin,
                            .slot_write = esp_slot_write,
                            .slot_end = esp_slot_end,
                            .slot_abort = esp_slot_abort,
                            .slot_read = esp_slot_read,
                            .set_boot = esp_set_boot,
                            .restart = esp_restart_now,
                            .mark_valid = esp_mark_valid,
                            .mark_invalid = esp_mark_invalid,
                            .last_invalid = esp_last_invalid,
                            .reset_reason = esp_reset,
                            .key = esp_key,
                            .confirm_ms = esp_confirm_ms,
                            .load_last = esp_load_last,
                            .store_last = esp_store_last,
                            .random = esp_random_bytes,
                            .now_ms = esp_now_ms,
                            .log = esp_log_line};
}

/*
 * ws_ota_port.h - everything the OTA engine (ws_ota_engine.h) needs from the platform: the update slot, the boot
 * choice, the running app, the NVS settings, randomness and time. Two implementations: main/ws_ota_port_esp.c over
 * ESP-IDF's esp_ota_ops.h, esp_partition.h, nvs.h and esp_random.h, and host/ws_ota_port_host.c over files (the
 * slots, otadata in ESP-IDF's format, the key) for the host build and its tests.
 *
 * The engine calls these from one task at a time (ws_ota.c holds its lock around every call). Functions returning
 * int give WS_OTA_PORT_OK or a negative WS_OTA_PORT_ERR_* code below.
 */
#ifndef WS_OTA_PORT_H
#define WS_OTA_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OTA_PORT_OK 0
#define WS_OTA_PORT_ERR_FLASH (-1)     /* erasing, writing or reading flash failed */
#define WS_OTA_PORT_ERR_INVALID (-2)   /* slot_end: the written image does not verify (ESP_ERR_OTA_VALIDATE_FAILED) */
#define WS_OTA_PORT_ERR_STATE (-3)     /* not allowed now (ESP_ERR_OTA_ROLLBACK_INVALID_STATE, no slot open, ...) */
#define WS_OTA_PORT_ERR_NOT_FOUND (-4) /* no such partition, key or record */

/* The running app's OTA state (esp_ota_img_states_t, as the protocol names them). */
typedef enum {
    WS_OTA_STATE_VALID = 0,          /* ESP_OTA_IMG_VALID */
    WS_OTA_STATE_PENDING_VERIFY = 1, /* ESP_OTA_IMG_PENDING_VERIFY: first boot after an update, not confirmed */
    WS_OTA_STATE_UNDEFINED = 2       /* no otadata entry for the slot (ESP_ERR_NOT_FOUND), ESP_OTA_IMG_UNDEFINED */
} ws_ota_state_t;

/* Why the chip last reset (esp_reset_reason_t, grouped as the protocol's rollback reasons need). */
typedef enum {
    WS_OTA_RESET_POWER_ON = 0, /* ESP_RST_POWERON, ESP_RST_BROWNOUT, and whatever is not below */
    WS_OTA_RESET_SOFTWARE = 1, /* ESP_RST_SW: esp_restart(), including esp_ota_mark_app_invalid_rollback_and_reboot */
    WS_OTA_RESET_PANIC = 2,    /* ESP_RST_PANIC: an exception or abort() */
    WS_OTA_RESET_WATCHDOG = 3  /* ESP_RST_INT_WDT, ESP_RST_TASK_WDT, ESP_RST_WDT */
} ws_ota_reset_t;

#define WS_OTA_SLOT_NAME_MAX 16u /* a partition label: esp_partition_t.label[17] */
#define WS_OTA_CHIP_NAME_MAX 15u

typedef struct {
    char chip[WS_OTA_CHIP_NAME_MAX + 1];         /* ESP-IDF target name, "esp32c3" */
    uint16_t chip_id;                            /* esp_chip_id_t an image for this chip carries */
    uint8_t app_desc[256];                       /* the running app's esp_app_desc_t, as in flash */
    char running_slot[WS_OTA_SLOT_NAME_MAX + 1]; /* its partition's label, "ota_0" */
    ws_ota_state_t state;                        /* its OTA state */
    char update_slot[WS_OTA_SLOT_NAME_MAX + 1];  /* the partition an update goes to (the next OTA slot) */
    uint32_t update_slot_size;                   /* its size in bytes */
} ws_ota_running_t;

typedef struct ws_ota_port {
    void *ctx;
    /* The running app, its slot and state, and the update slot. */
    int (*running)(void *ctx, ws_ota_running_t *out);
    /* esp_ota_begin on the update slot, erasing as it writes (OTA_WITH_SEQUENTIAL_WRITES); size = the image's. */
    int (*slot_begin)(void *ctx, uint32_t size);
    /* esp_ota_write: the next len bytes. */
    int (*slot_write)(void *ctx, const uint8_t *data, size_t len);
    /* esp_ota_end: closes the slot and validates the image (WS_OTA_PORT_ERR_INVALID). */
    int (*slot_end)(void *ctx);
    /* esp_ota_abort: drops an open slot; nothing changes what boots. No-op when none is open. */
    void (*slot_abort)(void *ctx);
    /* esp_partition_read from the update slot. */
    int (*slot_read)(void *ctx, uint32_t offset, uint8_t *buf, size_t len);
    /* esp_ota_set_boot_partition(update slot). */
    int (*set_boot)(void *ctx);
    /* esp_restart. Does not return on the device; the host build records it and its loop exits with status 3. */
    void (*restart)(void *ctx);
    /* esp_ota_mark_app_valid_cancel_rollback. */
    int (*mark_valid)(void *ctx);
    /* esp_ota_mark_app_invalid_rollback_and_reboot: returns only when it failed (or, on the host, to exit 3). */
    int (*mark_invalid)(void *ctx);
    /* esp_ota_get_last_invalid_partition: its label, and whether its otadata state is INVALID (the app marked itself
     * invalid) rather than ABORTED (the bootloader found it still pending); WS_OTA_PORT_ERR_NOT_FOUND if none. */
    int (*last_invalid)(void *ctx, char slot[WS_OTA_SLOT_NAME_MAX + 1], bool *self_marked);
    /* esp_reset_reason, grouped. */
    ws_ota_reset_t (*reset_reason)(void *ctx);
    /* NVS wsctl/ota_key: the 32-byte key; WS_OTA_PORT_ERR_NOT_FOUND when none is provisioned. Never logged. */
    int (*key)(void *ctx, uint8_t key[32]);
    /* The confirmation deadline in ms: NVS wsctl/ota_confirm_s, else Kconfig WSCTL_OTA_CONFIRM_S (host: a flag). */
    uint32_t (*confirm_ms)(void *ctx);
    /* NVS wsctl/ota_last: the last update's record (a JSON object, see ws_ota_engine.h) into buf; its length or a
     * WS_OTA_PORT_ERR_* code (NOT_FOUND when absent). */
    int (*load_last)(void *ctx, char *buf, size_t cap);
    /* Stores it (and commits). */
    int (*store_last)(void *ctx, const char *json);
    /* Cryptographically random bytes (esp_fill_random; the host: getrandom). */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /* Monotonic milliseconds (wraps; compared with ws_time_reached). */
    uint32_t (*now_ms)(void *ctx);
    /* One line for the log (ESP_LOGI; the host: stderr), without a newline. Never given the key. */
    void (*log)(void *ctx, const char *line);
} ws_ota_port_t;

#ifdef __cplusplus
}
#endif

#endif /* WS_OTA_PORT_H */

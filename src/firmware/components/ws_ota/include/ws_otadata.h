/*
 * ws_otadata.h - the otadata partition as ESP-IDF's bootloader and esp_ota_ops read and write it, in portable code,
 * so the host build (host/ws_ota_port_host.c) chooses and records what boots exactly as a device does.
 *
 * The partition is two 4 KiB sectors; each starts with an esp_ota_select_entry_t (esp_flash_partitions.h):
 *   uint32_t ota_seq; uint8_t seq_label[20]; uint32_t ota_state; uint32_t crc;   (32 bytes, little-endian)
 * where crc = esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4) (bootloader_common_ota_select_crc). An entry names slot
 * (ota_seq - 1) % slot_count. The rules below follow ESP-IDF v5's bootloader_common_loader.c,
 * bootloader_utility.c (bootloader_utility_get_selected_boot_partition, bootloader_utility_load_boot_image,
 * set_actual_ota_seq) and app_update/esp_ota_ops.c, for a partition table with OTA slots, no factory or test app,
 * and CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (sdkconfig.defaults) without anti-rollback:
 *   - an entry is invalid when ota_seq is 0xFFFFFFFF or its state is INVALID or ABORTED; valid when not invalid and
 *     its crc matches;
 *   - at boot, an entry still PENDING_VERIFY (its app started once and reset before confirming) becomes ABORTED;
 *   - both invalid: try ota_0 (and when neither entry has a sequence and a good crc, the partition is in its initial
 *     state: the slot that loads gets entry 0 = {slot + 1, VALID});
 *   - otherwise the valid entry with the highest sequence (sector 0 on a tie); NEW becomes PENDING_VERIFY;
 *   - no valid entry: try every slot from ota_0;
 *   - a slot whose image does not load: the bootloader tries the slots below it, then those above.
 * Functions change the entries in memory and say which sector to rewrite (erase, then the 32-byte entry); the
 * caller does the I/O.
 */
#ifndef WS_OTADATA_H
#define WS_OTADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OTADATA_SECTOR_SIZE 4096u /* SPI_FLASH_SEC_SIZE */
#define WS_OTADATA_SIZE 8192u        /* two sectors */
#define WS_OTADATA_ENTRY_LEN 32u     /* sizeof(esp_ota_select_entry_t) */
#define WS_OTADATA_MAX_SLOTS 16u     /* ota_0 .. ota_15 */

/* esp_ota_img_states_t (esp_flash_partitions.h). */
#define WS_OTA_IMG_NEW 0x0u
#define WS_OTA_IMG_PENDING_VERIFY 0x1u
#define WS_OTA_IMG_VALID 0x2u
#define WS_OTA_IMG_INVALID 0x3u
#define WS_OTA_IMG_ABORTED 0x4u
#define WS_OTA_IMG_UNDEFINED 0xFFFFFFFFu

typedef struct {
    uint32_t seq;
    uint8_t label[20];
    uint32_t state;
    uint32_t crc;
} ws_otadata_entry_t;

/* esp_rom_crc32_le: CRC-32 (reflected, polynomial 0xEDB88320) continuing from crc, with ~ before and after. */
uint32_t ws_otadata_crc32_le(uint32_t crc, const uint8_t *data, size_t len);
/* The crc an entry must carry: ws_otadata_crc32_le(UINT32_MAX, ota_seq as 4 little-endian bytes). */
uint32_t ws_otadata_entry_crc(const ws_otadata_entry_t *e);

/* Reads both entries from the partition's bytes (WS_OTADATA_SIZE; an erased sector reads as all 0xFF). */
void ws_otadata_parse(const uint8_t *part, ws_otadata_entry_t e[2]);
/* Rewrites sector index of part as ESP-IDF does: erased to 0xFF, then the entry at its start. */
void ws_otadata_store(uint8_t *part, unsigned index, const ws_otadata_entry_t *e);

/* bootloader_common_ota_select_invalid / _valid. */
bool ws_otadata_invalid(const ws_otadata_entry_t *e);
bool ws_otadata_valid(const ws_otadata_entry_t *e);
/* The entry with the highest (max) or lowest sequence among those marked, or -1 (bootloader_common_select_otadata). */
int ws_otadata_select(const ws_otadata_entry_t e[2], const bool marked[2], bool max);
/* The active entry: the valid one with the highest sequence, or -1 (bootloader_common_get_active_otadata). */
int ws_otadata_active(const ws_otadata_entry_t e[2]);

#define WS_OTADATA_REWRITE_0 1u /* sector 0 changed */
#define WS_OTADATA_REWRITE_1 2u /* sector 1 changed */

typedef struct {
    int slot;         /* the slot to try first */
    bool initial;     /* the partition was in its initial state (see above) */
    unsigned rewrite; /* WS_OTADATA_REWRITE_* */
} ws_otadata_boot_t;

/* The bootloader's choice for slot_count OTA slots; changes e (ABORTED, PENDING_VERIFY) as it does. */
void ws_otadata_boot_select(ws_otadata_entry_t e[2], unsigned slot_count, ws_otadata_boot_t *out);
/*
 * The order the bootloader tries slots in, starting from first: first, the slots below it down to ota_0, then those
 * above it. Writes slot_count slot numbers into order.
 */
void ws_otadata_boot_order(int first, unsigned slot_count, int *order);
/* The slot that loaded: in the initial state, entry 0 becomes {slot + 1, VALID} (set_actual_ota_seq). */
void ws_otadata_boot_loaded(ws_otadata_entry_t e[2], int slot, ws_otadata_boot_t *boot);

/*
 * esp_ota_set_boot_partition for slot (esp_rewrite_ota_data): the entry after the active one gets a sequence that
 * names slot and is above the active one, state NEW (rollback enabled). Returns the WS_OTADATA_REWRITE_* bit, or 0
 * for a slot out of range.
 */
unsigned ws_otadata_set_boot(ws_otadata_entry_t e[2], unsigned slot_count, int slot);
/*
 * esp_ota_mark_app_valid_cancel_rollback (valid) or the otadata half of esp_ota_mark_app_invalid_rollback_and_reboot
 * (esp_ota_current_ota_is_workable): the active entry becomes VALID (if it is not already) or INVALID. Returns the
 * WS_OTADATA_REWRITE_* bit, 0 when nothing changes, or -1 when there is no active entry (a factory-like boot).
 */
int ws_otadata_mark(ws_otadata_entry_t e[2], bool valid);
/*
 * The slot a rollback would boot (esp_ota_check_rollback_is_possible, without its image check, which the caller
 * does): the other entry's slot when it is valid, else -1.
 */
int ws_otadata_rollback_slot(const ws_otadata_entry_t e[2], unsigned slot_count);
/* esp_ota_get_state_partition: the state of the first entry naming slot whose crc matches; false if none does. */
bool ws_otadata_state_of(const ws_otadata_entry_t e[2], unsigned slot_count, int slot, uint32_t *state);
/*
 * esp_ota_get_last_invalid_partition, without its image check: the slot of the INVALID or ABORTED entry (sequence
 * set, crc matching) with the lowest sequence, or -1.
 */
int ws_otadata_last_invalid(const ws_otadata_entry_t e[2], unsigned slot_count);

#ifdef __cplusplus
}
#endif

#endif /* WS_OTADATA_H */

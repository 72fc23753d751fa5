/*
 * ws_ota_image.h - what the OTA endpoint reads in an ESP-IDF app image: the image header (esp_image_header_t,
 * 24 bytes), the first segment's header (esp_image_segment_header_t, 8 bytes) and the app description after it
 * (esp_app_desc_t, 256 bytes), 288 bytes in all (ESP-IDF's esp_app_format.h and esp_image_format.h; the "App image
 * format" page of the ESP-IDF programming guide). docs/ota-protocol.md section 3 checks an upload's first 288 bytes
 * with this before anything is erased.
 *
 * ws_ota_image_verify checks a whole image the way esp_image_verify does where no chip is involved: the segments
 * inside the data, the XOR checksum, and the appended SHA-256 when the header says one is there. The host build uses
 * it for esp_ota_end's validation and for the bootloader's choice (host/ws_ota_port_host.c); on the device
 * esp_ota_end does it. Load addresses and chip revisions are not checked (they need a chip).
 */
#ifndef WS_OTA_IMAGE_H
#define WS_OTA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_OTA_IMAGE_MAGIC 0xE9u              /* ESP_IMAGE_HEADER_MAGIC */
#define WS_OTA_APP_DESC_MAGIC 0xABCD5432u     /* ESP_APP_DESC_MAGIC_WORD */
#define WS_OTA_IMAGE_HEADER_LEN 24u           /* sizeof(esp_image_header_t) */
#define WS_OTA_SEGMENT_HEADER_LEN 8u          /* sizeof(esp_image_segment_header_t) */
#define WS_OTA_APP_DESC_OFFSET 32u            /* header + first segment header: where esp_app_desc_t starts */
#define WS_OTA_APP_DESC_LEN 256u              /* sizeof(esp_app_desc_t) */
#define WS_OTA_IMAGE_HEAD_LEN 288u            /* what the endpoint reads before it erases anything */
#define WS_OTA_IMAGE_MAX_SEGMENTS 16u         /* ESP_IMAGE_MAX_SEGMENTS */
#define WS_OTA_IMAGE_CHIP_ID_OFFSET 12u       /* esp_image_header_t.chip_id (u16, little-endian) */
#define WS_OTA_IMAGE_HASH_APPENDED_OFFSET 23u /* esp_image_header_t.hash_appended */
#define WS_OTA_APP_VERSION_MAX 32u            /* esp_app_desc_t.version[32] */
#define WS_OTA_APP_PROJECT_MAX 32u            /* esp_app_desc_t.project_name[32] */

/* Results of ws_ota_image_head, ws_ota_app_desc_parse and ws_ota_image_verify (negative: the image is refused). */
#define WS_OTA_IMAGE_OK 0
#define WS_OTA_IMAGE_ERR_MAGIC (-1)    /* no 0xE9 at the start */
#define WS_OTA_IMAGE_ERR_SEGMENTS (-2) /* a segment count of 0 or above 16 */
#define WS_OTA_IMAGE_ERR_NO_DESC (-3)  /* no esp_app_desc_t magic at offset 32 */
#define WS_OTA_IMAGE_ERR_SHORT (-4)    /* the data ends inside a header, a segment, the checksum or the digest */
#define WS_OTA_IMAGE_ERR_CHECKSUM (-5) /* the XOR checksum byte does not match the segments */
#define WS_OTA_IMAGE_ERR_DIGEST (-6)   /* the appended SHA-256 does not match */

typedef struct {
    uint16_t chip_id;      /* esp_image_header_t.chip_id (esp_chip_id_t) */
    uint8_t segment_count; /* esp_image_header_t.segment_count */
    bool hash_appended;    /* esp_image_header_t.hash_appended == 1 */
    uint32_t secure_version;
    char version[WS_OTA_APP_VERSION_MAX + 1]; /* esp_app_desc_t.version, NUL-terminated */
    char project[WS_OTA_APP_PROJECT_MAX + 1]; /* esp_app_desc_t.project_name */
    uint8_t elf_sha256[32];                   /* esp_app_desc_t.app_elf_sha256 */
} ws_ota_app_info_t;

/*
 * Reads the first WS_OTA_IMAGE_HEAD_LEN bytes of an image (len must be at least that): magic, segment count, chip
 * id and the app description. Returns WS_OTA_IMAGE_OK, _ERR_MAGIC, _ERR_SEGMENTS, _ERR_NO_DESC or _ERR_SHORT.
 */
int ws_ota_image_head(const uint8_t *head, size_t len, ws_ota_app_info_t *out);

/* Reads an esp_app_desc_t's 256 bytes (what esp_app_get_description points at). WS_OTA_IMAGE_OK or _ERR_NO_DESC. */
int ws_ota_app_desc_parse(const uint8_t desc[WS_OTA_APP_DESC_LEN], ws_ota_app_info_t *out);

/*
 * Checks a whole image in data (len bytes; what follows the image, such as the rest of a flash slot, is ignored):
 * the head as above, every segment inside the data, the checksum byte (0xEF XOR every segment byte, at the end of
 * the 16-byte aligned data) and, when hash_appended, the SHA-256 of everything before it. On success *image_len (may
 * be NULL) is the image's length including the digest. Returns WS_OTA_IMAGE_OK or a WS_OTA_IMAGE_ERR_* code.
 */
int ws_ota_image_verify(const uint8_t *data, size_t len, size_t *image_len);

/* The chip id of an ESP-IDF target name ("esp32c3" -> 5); false for a name it does not know. */
bool ws_ota_chip_id(const char *target, uint16_t *id);
/* The ESP-IDF target name of a chip id, or NULL. */
const char *ws_ota_chip_name(uint16_t id);

#ifdef __cplusplus
}
#endif

#endif /* WS_OTA_IMAGE_H */

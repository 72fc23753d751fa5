/* ws_ota_image.c - the ESP-IDF app image's header, app description and integrity checks (esp_image_format.h). */
#include "ws_ota_image.h"

#include <string.h>

#include "ws_sha256.h"

/* esp_chip_id_t (esp_app_format.h) by ESP-IDF target name. */
static const struct {
    const char *name;
    uint16_t id;
} chips[] = {{"esp32", 0x0000},   {"esp32s2", 0x0002}, {"esp32c3", 0x0005}, {"esp32s3", 0x0009},
             {"esp32c2", 0x000C}, {"esp32c6", 0x000D}, {"esp32h2", 0x0010}, {"esp32p4", 0x0012}};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A fixed-size char field of esp_app_desc_t (NUL-padded, not necessarily NUL-terminated) as a C string. */
static void copy_field(char *dst, const uint8_t *src, size_t n)
{
    size_t len = 0;
    while (len < n && src[len] != 0) {
        len++;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int ws_ota_app_desc_parse(const uint8_t desc[WS_OTA_APP_DESC_LEN], ws_ota_app_info_t *out)
{
    /* esp_app_desc_t: magic_word @0, secure_version @4, reserv1 @8, version[32] @16, project_name[32] @48, time
     * @80, date @96, idf_ver[32] @112, app_elf_sha256[32] @144. */
    if (le32(desc) != WS_OTA_APP_DESC_MAGIC) {
        return WS_OTA_IMAGE_ERR_NO_DESC;
    }
    out->secure_version = le32(desc + 4);
    copy_field(out->version, desc + 16, WS_OTA_APP_VERSION_MAX);
    copy_field(out->project, desc + 48, WS_OTA_APP_PROJECT_MAX);
    memcpy(out->elf_sha256, desc + 144, sizeof(out->elf_sha256));
    return WS_OTA_IMAGE_OK;
}

int ws_ota_image_head(const uint8_t *head, size_t len, ws_ota_app_info_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len < WS_OTA_IMAGE_HEAD_LEN) {
        return WS_OTA_IMAGE_ERR_SHORT;
    }
    if (head[0] != WS_OTA_IMAGE_MAGIC) {
        return WS_OTA_IMAGE_ERR_MAGIC;
    }
    if (head[1] == 0 || head[1] > WS_OTA_IMAGE_MAX_SEGMENTS) {
        return WS_OTA_IMAGE_ERR_SEGMENTS;
    }
    out->segment_count = head[1];
    out->chip_id = (uint16_t)(head[WS_OTA_IMAGE_CHIP_ID_OFFSET] | (head[WS_OTA_IMAGE_CHIP_ID_OFFSET + 1u] << 8));
    out->hash_appended = head[WS_OTA_IMAGE_HASH_APPENDED_OFFSET] == 1u;
    /* The app description is the start of the first segment's data (the .flash.appdesc section): its segment must
     * be long enough to hold it, or the bytes at offset 32 belong to something else. */
    if (le32(head + WS_OTA_IMAGE_HEADER_LEN + 4u) < WS_OTA_APP_DESC_LEN) {
        return WS_OTA_IMAGE_ERR_NO_DESC;
    }
    return ws_ota_app_desc_parse(head + WS_OTA_APP_DESC_OFFSET, out);
}

int ws_ota_image_verify(const uint8_t *data, size_t len, size_t *image_len)
{
    ws_ota_app_info_t info;
    int err = ws_ota_image_head(data, len, &info);
    if (err != WS_OTA_IMAGE_OK) {
        return err;
    }
    size_t pos = WS_OTA_IMAGE_HEADER_LEN;
    uint8_t checksum = 0xEF; /* ESP_ROM_CHECKSUM_INITIAL */
    for (unsigned s = 0; s < info.segment_count; s++) {
        if (len - pos < WS_OTA_SEGMENT_HEADER_LEN) {
            return WS_OTA_IMAGE_ERR_SHORT;
        }
        uint32_t seg_len = le32(data + pos + 4u);
        pos += WS_OTA_SEGMENT_HEADER_LEN;
        if (seg_len > len - pos) {
            return WS_OTA_IMAGE_ERR_SHORT;
        }
        for (uint32_t i = 0; i < seg_len; i++) {
            checksum ^= data[pos + i];
        }
        pos += seg_len;
    }
    /* Zero padding so that the checksum byte is the last of a 16-byte block (esptool's align_file_position). */
    pos += 15u - pos % 16u;
    if (pos >= len) {
        return WS_OTA_IMAGE_ERR_SHORT;
    }
    if (data[pos] != checksum) {
        return WS_OTA_IMAGE_ERR_CHECKSUM;
    }
    pos++;
    if (info.hash_appended) {
        if (len - pos < WS_SHA256_DIGEST_SIZE) {
            return WS_OTA_IMAGE_ERR_SHORT;
        }
        uint8_t digest[WS_SHA256_DIGEST_SIZE];
        ws_sha256(data, pos, digest);
        if (memcmp(digest, data + pos, sizeof(digest)) != 0) {
            return WS_OTA_IMAGE_ERR_DIGEST;
        }
        pos += WS_SHA256_DIGEST_SIZE;
    }
    if (image_len != NULL) {
        *image_len = pos;
    }
    return WS_OTA_IMAGE_OK;
}

bool ws_ota_chip_id(const char *target, uint16_t *id)
{
    for (size_t i = 0; target != NULL && i < sizeof(chips) / sizeof(chips[0]); i++) {
        if (strcmp(chips[i].name, target) == 0) {
            *id = chips[i].id;
            return true;
        }
    }
    return false;
}

const char *ws_ota_chip_name(uint16_t id)
{
    for (size_t i = 0; i < sizeof(chips) / sizeof(chips[0]); i++) {
        if (chips[i].id == id) {
            return chips[i].name;
        }
    }
    return NULL;
}

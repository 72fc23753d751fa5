// App images for the OTA tests, laid out as ESP-IDF's esp_image_format.h / esp_app_format.h describe them (the same
// layout as tests/ota_image.py): header, segment 0 = esp_app_desc_t + filler, segment 1, padding, checksum, SHA-256.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "c_api.h"

using Bytes = std::vector<uint8_t>;

inline void PutLe32(Bytes &b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
}

inline Bytes AppDesc(const std::string &version, const std::string &project, uint8_t elf_seed)
{
    Bytes d(256, 0);
    const uint32_t magic = WS_OTA_APP_DESC_MAGIC;
    for (int i = 0; i < 4; i++) {
        d[i] = static_cast<uint8_t>(magic >> (8 * i));
    }
    memcpy(&d[16], version.data(), std::min<size_t>(version.size(), 32));
    memcpy(&d[48], project.data(), std::min<size_t>(project.size(), 32));
    for (int i = 0; i < 32; i++) {
        d[144 + i] = static_cast<uint8_t>(elf_seed + i);
    }
    return d;
}

// An image of about size bytes; hash_appended: the SHA-256 after the checksum (ESP-IDF's default).
inline Bytes BuildImage(const std::string &version, const std::string &project = "esp32ws", uint16_t chip = 5,
                        size_t size = 4096, bool hash_appended = true, uint8_t elf_seed = 1)
{
    Bytes desc = AppDesc(version, project, elf_seed);
    Bytes iram(64);
    for (size_t i = 0; i < iram.size(); i++) {
        iram[i] = static_cast<uint8_t>(i * 7);
    }
    size_t filler = size > 24 + 16 + 256 + 64 + 16 + 32 ? size - (24 + 16 + 256 + 64 + 16 + 32) : 0;
    Bytes seg0 = desc;
    for (size_t i = 0; i < filler; i++) {
        seg0.push_back(static_cast<uint8_t>((i * 131 + 17) >> 3));
    }
    Bytes img = {0xE9, 2, 2, 0x20};
    PutLe32(img, 0x40380000);               // entry
    img.insert(img.end(), {0xEE, 0, 0, 0}); // wp pin, pin drive
    img.insert(img.end(), {static_cast<uint8_t>(chip), static_cast<uint8_t>(chip >> 8), 0, 0, 0, 0xFF, 0xFF});
    img.insert(img.end(), {0, 0, 0, 0, static_cast<uint8_t>(hash_appended ? 1 : 0)});
    PutLe32(img, 0x3C000020);
    PutLe32(img, static_cast<uint32_t>(seg0.size()));
    img.insert(img.end(), seg0.begin(), seg0.end());
    PutLe32(img, 0x40380000);
    PutLe32(img, static_cast<uint32_t>(iram.size()));
    img.insert(img.end(), iram.begin(), iram.end());
    uint8_t checksum = 0xEF;
    for (uint8_t b : seg0) {
        checksum ^= b;
    }
    for (uint8_t b : iram) {
        checksum ^= b;
    }
    while (img.size() % 16 != 15) {
        img.push_back(0);
    }
    img.push_back(checksum);
    if (hash_appended) {
        uint8_t d[32];
        ws_sha256(img.data(), img.size(), d);
        img.insert(img.end(), d, d + 32);
    }
    return img;
}

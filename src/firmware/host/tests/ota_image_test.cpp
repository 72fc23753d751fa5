// The ESP-IDF app image as the OTA endpoint reads it (ws_ota_image.h): the first 288 bytes, whole-image
// verification as esp_image_verify does it without a chip, and the chip ids.
#include <gtest/gtest.h>

#include "ota_fixtures.h"

TEST(OtaImage, Head_ReadsChipVersionProjectAndElf)
{
    Bytes img = BuildImage("1.2.0+dev", "esp32ws", 5, 4096, true, 9);
    ws_ota_app_info_t info;
    ASSERT_EQ(ws_ota_image_head(img.data(), WS_OTA_IMAGE_HEAD_LEN, &info), WS_OTA_IMAGE_OK);
    EXPECT_EQ(info.chip_id, 5);
    EXPECT_EQ(info.segment_count, 2);
    EXPECT_TRUE(info.hash_appended);
    EXPECT_STREQ(info.version, "1.2.0+dev");
    EXPECT_STREQ(info.project, "esp32ws");
    EXPECT_EQ(info.elf_sha256[0], 9);
    EXPECT_EQ(info.elf_sha256[31], 9 + 31);
}

TEST(OtaImage, Head_FieldsOfAll32Characters_StillTerminated)
{
    std::string v32(32, 'v'), p32(32, 'p');
    Bytes img = BuildImage(v32, p32);
    ws_ota_app_info_t info;
    ASSERT_EQ(ws_ota_image_head(img.data(), img.size(), &info), WS_OTA_IMAGE_OK);
    EXPECT_EQ(std::string(info.version), v32);
    EXPECT_EQ(std::string(info.project), p32);
}

TEST(OtaImage, Head_Refusals)
{
    Bytes img = BuildImage("1.0.0");
    ws_ota_app_info_t info;
    EXPECT_EQ(ws_ota_image_head(img.data(), 287, &info), WS_OTA_IMAGE_ERR_SHORT);
    Bytes bad = img;
    bad[0] = 0xE8;
    EXPECT_EQ(ws_ota_image_head(bad.data(), bad.size(), &info), WS_OTA_IMAGE_ERR_MAGIC);
    bad = img;
    bad[1] = 0;
    EXPECT_EQ(ws_ota_image_head(bad.data(), bad.size(), &info), WS_OTA_IMAGE_ERR_SEGMENTS);
    bad[1] = 17;
    EXPECT_EQ(ws_ota_image_head(bad.data(), bad.size(), &info), WS_OTA_IMAGE_ERR_SEGMENTS);
    bad = img;
    bad[32] ^= 1; // the description's magic
    EXPECT_EQ(ws_ota_image_head(bad.data(), bad.size(), &info), WS_OTA_IMAGE_ERR_NO_DESC);
    bad = img;
    bad[28] = 100; // a first segment too short to hold the description
    bad[29] = bad[30] = bad[31] = 0;
    EXPECT_EQ(ws_ota_image_head(bad.data(), bad.size(), &info), WS_OTA_IMAGE_ERR_NO_DESC);
}

TEST(OtaImage, Verify_GoodImagesWithAndWithoutDigest)
{
    for (bool digest : {true, false}) {
        Bytes img = BuildImage("1.0.0", "esp32ws", 5, 10000, digest);
        size_t len = 0;
        ASSERT_EQ(ws_ota_image_verify(img.data(), img.size(), &len), WS_OTA_IMAGE_OK);
        EXPECT_EQ(len, img.size());
        Bytes slot = img; // followed by the rest of a flash slot
        slot.resize(img.size() + 5000, 0xFF);
        EXPECT_EQ(ws_ota_image_verify(slot.data(), slot.size(), &len), WS_OTA_IMAGE_OK);
        EXPECT_EQ(len, img.size());
    }
}

TEST(OtaImage, Verify_DamageFound)
{
    Bytes img = BuildImage("1.0.0", "esp32ws", 5, 10000, true);
    size_t checksum_at = img.size() - 33;
    Bytes bad = img;
    bad[5000] ^= 1; // segment data: the checksum no longer matches
    EXPECT_EQ(ws_ota_image_verify(bad.data(), bad.size(), nullptr), WS_OTA_IMAGE_ERR_CHECKSUM);
    bad = img;
    bad[checksum_at - 1] ^= 1; // padding: only the appended digest covers it
    EXPECT_EQ(ws_ota_image_verify(bad.data(), bad.size(), nullptr), WS_OTA_IMAGE_ERR_DIGEST);
    bad = img;
    bad.back() ^= 1;
    EXPECT_EQ(ws_ota_image_verify(bad.data(), bad.size(), nullptr), WS_OTA_IMAGE_ERR_DIGEST);
    for (size_t cut : {img.size() - 1, img.size() - 32, checksum_at, size_t{600}, size_t{300}}) {
        EXPECT_EQ(ws_ota_image_verify(img.data(), cut, nullptr), WS_OTA_IMAGE_ERR_SHORT) << cut;
    }
    bad = img;
    bad[28] = 0xFF; // segment 0 longer than the data
    bad[29] = bad[30] = bad[31] = 0xFF;
    EXPECT_EQ(ws_ota_image_verify(bad.data(), bad.size(), nullptr), WS_OTA_IMAGE_ERR_SHORT);
}

TEST(OtaImage, ChipIds_EspIdfsTable)
{
    uint16_t id = 0xFFFF;
    EXPECT_TRUE(ws_ota_chip_id("esp32", &id));
    EXPECT_EQ(id, 0);
    EXPECT_TRUE(ws_ota_chip_id("esp32c3", &id));
    EXPECT_EQ(id, 5);
    EXPECT_TRUE(ws_ota_chip_id("esp32s3", &id));
    EXPECT_EQ(id, 9);
    EXPECT_FALSE(ws_ota_chip_id("esp8266", &id));
    EXPECT_STREQ(ws_ota_chip_name(2), "esp32s2");
    EXPECT_EQ(ws_ota_chip_name(0x1234), nullptr);
}

// otadata as ESP-IDF's bootloader and esp_ota_ops read and write it (ws_otadata.h): the entry's CRC-32, its bytes,
// the bootloader's choice, set-boot, mark valid/invalid, and a whole update's life with a rollback.
#include <gtest/gtest.h>

#include "c_api.h"

namespace
{

ws_otadata_entry_t Entry(uint32_t seq, uint32_t state)
{
    ws_otadata_entry_t e;
    memset(&e, 0xFF, sizeof(e));
    e.seq = seq;
    e.state = state;
    e.crc = ws_otadata_entry_crc(&e);
    return e;
}

void Erased(ws_otadata_entry_t e[2]) { memset(e, 0xFF, 2 * sizeof(ws_otadata_entry_t)); }

} // namespace

TEST(Otadata, Crc_AsEsptoolComputesIt)
{
    // binascii.crc32(struct.pack("<I", seq), 0xFFFFFFFF), as ESP-IDF's otatool.py and esp_rom_crc32_le compute it.
    EXPECT_EQ(Entry(1, 0).crc, 0x4743989Au);
    EXPECT_EQ(Entry(2, 0).crc, 0x55F63774u);
    EXPECT_EQ(Entry(3, 0).crc, 0xED4A5011u);
    EXPECT_EQ(Entry(0xFFFFFFFEu, 0).crc, 0x99F8B879u);
    const uint8_t check[] = "123456789"; // the CRC-32 check value, through the ROM function's convention
    EXPECT_EQ(ws_otadata_crc32_le(0, check, 9), 0xCBF43926u);
}

TEST(Otadata, StoreAndParse_TheEntryAtEachSectorsStart)
{
    uint8_t part[WS_OTADATA_SIZE];
    memset(part, 0x00, sizeof(part));
    ws_otadata_entry_t e = Entry(7, WS_OTA_IMG_VALID);
    ws_otadata_store(part, 1, &e);
    EXPECT_EQ(part[WS_OTADATA_SECTOR_SIZE], 7);
    EXPECT_EQ(part[WS_OTADATA_SECTOR_SIZE + 24], WS_OTA_IMG_VALID);
    EXPECT_EQ(part[WS_OTADATA_SECTOR_SIZE + 28], 0x46); // crc of 7 is 0x6228C746, little-endian
    EXPECT_EQ(part[WS_OTADATA_SECTOR_SIZE + 40], 0xFF); // the rest of the sector erased
    EXPECT_EQ(part[0], 0x00);                           // the other sector untouched
    ws_otadata_entry_t back[2];
    ws_otadata_parse(part, back);
    EXPECT_EQ(back[1].seq, 7u);
    EXPECT_EQ(back[1].state, WS_OTA_IMG_VALID);
    EXPECT_EQ(back[1].crc, e.crc);
}

TEST(Otadata, ValidAndInvalid_AsTheBootloaderJudges)
{
    ws_otadata_entry_t e = Entry(3, WS_OTA_IMG_PENDING_VERIFY);
    EXPECT_TRUE(ws_otadata_valid(&e));
    e.crc ^= 1;
    EXPECT_FALSE(ws_otadata_valid(&e));
    EXPECT_FALSE(ws_otadata_invalid(&e)); // a bad crc is not "invalid", only not valid
    for (uint32_t st : {WS_OTA_IMG_INVALID, WS_OTA_IMG_ABORTED}) {
        e = Entry(3, st);
        EXPECT_TRUE(ws_otadata_invalid(&e));
        EXPECT_FALSE(ws_otadata_valid(&e));
    }
    e = Entry(UINT32_MAX, WS_OTA_IMG_VALID);
    EXPECT_TRUE(ws_otadata_invalid(&e));
}

TEST(Otadata, BootSelect_ErasedPartition_Ota0AndItsFirstEntry)
{
    ws_otadata_entry_t e[2];
    Erased(e);
    ws_otadata_boot_t boot;
    ws_otadata_boot_select(e, 2, &boot);
    EXPECT_EQ(boot.slot, 0);
    EXPECT_TRUE(boot.initial);
    ws_otadata_boot_loaded(e, 0, &boot);
    EXPECT_EQ(e[0].seq, 1u);
    EXPECT_EQ(e[0].state, WS_OTA_IMG_VALID);
    EXPECT_TRUE(ws_otadata_valid(&e[0]));
    EXPECT_EQ(boot.rewrite, WS_OTADATA_REWRITE_0);
    ws_otadata_entry_t again[2];
    Erased(again);
    ws_otadata_boot_select(again, 2, &boot);
    ws_otadata_boot_loaded(again, 1, &boot); // ota_0 did not load: ota_1 gets seq 2
    EXPECT_EQ(again[0].seq, 2u);
}

TEST(Otadata, BootSelect_HighestValidSequence_NewBecomesPending)
{
    ws_otadata_entry_t e[2] = {Entry(1, WS_OTA_IMG_VALID), Entry(2, WS_OTA_IMG_NEW)};
    ws_otadata_boot_t boot;
    ws_otadata_boot_select(e, 2, &boot);
    EXPECT_EQ(boot.slot, 1);
    EXPECT_FALSE(boot.initial);
    EXPECT_EQ(e[1].state, WS_OTA_IMG_PENDING_VERIFY);
    EXPECT_EQ(boot.rewrite, WS_OTADATA_REWRITE_1);
    // It resets before confirming: the next boot aborts it and takes the other.
    ws_otadata_boot_select(e, 2, &boot);
    EXPECT_EQ(e[1].state, WS_OTA_IMG_ABORTED);
    EXPECT_EQ(boot.slot, 0);
    EXPECT_EQ(boot.rewrite, WS_OTADATA_REWRITE_1);
    EXPECT_EQ(ws_otadata_last_invalid(e, 2), 1);
}

TEST(Otadata, BootSelect_BadCrcIgnoredAndBothInvalidTriesOta0)
{
    ws_otadata_entry_t e[2] = {Entry(1, WS_OTA_IMG_VALID), Entry(2, WS_OTA_IMG_VALID)};
    e[1].crc ^= 1;
    ws_otadata_boot_t boot;
    ws_otadata_boot_select(e, 2, &boot);
    EXPECT_EQ(boot.slot, 0);
    ws_otadata_entry_t f[2] = {Entry(3, WS_OTA_IMG_ABORTED), Entry(2, WS_OTA_IMG_INVALID)};
    ws_otadata_boot_select(f, 2, &boot);
    EXPECT_EQ(boot.slot, 0);
    EXPECT_FALSE(boot.initial);
    ws_otadata_boot_loaded(f, 0, &boot);
    EXPECT_EQ(f[0].seq, 3u); // not the initial state: nothing rewritten
}

TEST(Otadata, BootOrder_DownFromTheChoiceThenUp)
{
    int order[4];
    ws_otadata_boot_order(2, 4, order);
    EXPECT_EQ(std::vector<int>(order, order + 4), (std::vector<int>{2, 1, 0, 3}));
    ws_otadata_boot_order(0, 2, order);
    EXPECT_EQ(std::vector<int>(order, order + 2), (std::vector<int>{0, 1}));
    ws_otadata_boot_order(1, 2, order);
    EXPECT_EQ(std::vector<int>(order, order + 2), (std::vector<int>{1, 0}));
}

TEST(Otadata, SetBoot_TheOtherEntryNamesTheSlotAboveTheActiveSequence)
{
    ws_otadata_entry_t e[2] = {Entry(1, WS_OTA_IMG_VALID), Entry(UINT32_MAX, UINT32_MAX)};
    e[1].crc = UINT32_MAX;
    EXPECT_EQ(ws_otadata_set_boot(e, 2, 1), WS_OTADATA_REWRITE_1);
    EXPECT_EQ(e[1].seq, 2u);
    EXPECT_EQ(e[1].state, WS_OTA_IMG_NEW);
    EXPECT_TRUE(ws_otadata_valid(&e[1]));
    // Confirmed, then an update back to ota_0: sequence 3, in entry 0.
    e[1].state = WS_OTA_IMG_VALID;
    EXPECT_EQ(ws_otadata_set_boot(e, 2, 0), WS_OTADATA_REWRITE_0);
    EXPECT_EQ(e[0].seq, 3u);
    EXPECT_EQ((e[0].seq - 1) % 2, 0u);
    EXPECT_EQ(ws_otadata_set_boot(e, 2, 2), 0u); // no such slot
    ws_otadata_entry_t none[2];
    Erased(none);
    EXPECT_EQ(ws_otadata_set_boot(none, 2, 1), WS_OTADATA_REWRITE_0);
    EXPECT_EQ(none[0].seq, 2u);
}

TEST(Otadata, MarkValidAndInvalid_TheActiveEntry)
{
    ws_otadata_entry_t e[2] = {Entry(1, WS_OTA_IMG_VALID), Entry(2, WS_OTA_IMG_PENDING_VERIFY)};
    uint32_t st = 0;
    ASSERT_TRUE(ws_otadata_state_of(e, 2, 1, &st));
    EXPECT_EQ(st, WS_OTA_IMG_PENDING_VERIFY);
    EXPECT_EQ(ws_otadata_rollback_slot(e, 2), 0);
    EXPECT_EQ(ws_otadata_mark(e, true), (int)WS_OTADATA_REWRITE_1);
    EXPECT_EQ(e[1].state, WS_OTA_IMG_VALID);
    EXPECT_EQ(ws_otadata_mark(e, true), 0); // already valid: nothing to write
    EXPECT_EQ(ws_otadata_mark(e, false), (int)WS_OTADATA_REWRITE_1);
    EXPECT_EQ(e[1].state, WS_OTA_IMG_INVALID);
    EXPECT_EQ(ws_otadata_last_invalid(e, 2), 1);
    ws_otadata_boot_t boot;
    ws_otadata_boot_select(e, 2, &boot);
    EXPECT_EQ(boot.slot, 0);
    ws_otadata_entry_t none[2];
    Erased(none);
    EXPECT_EQ(ws_otadata_mark(none, true), -1);
    EXPECT_EQ(ws_otadata_rollback_slot(none, 2), -1);
    EXPECT_EQ(ws_otadata_last_invalid(none, 2), -1);
    EXPECT_FALSE(ws_otadata_state_of(none, 2, 0, &st));
}

TEST(Otadata, LastInvalid_TheLowerSequenceOfTwo)
{
    ws_otadata_entry_t e[2] = {Entry(3, WS_OTA_IMG_ABORTED), Entry(4, WS_OTA_IMG_INVALID)};
    EXPECT_EQ(ws_otadata_last_invalid(e, 2), 0); // seq 3 names ota_0 (ESP-IDF takes the minimum)
}

/* ws_otadata.c - ESP-IDF's otadata rules (bootloader_support and app_update), see ws_otadata.h. */
#include "ws_otadata.h"

#include <string.h>

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t ws_otadata_crc32_le(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    while (len-- > 0) {
        crc ^= *data++;
        for (unsigned k = 0; k < 8; k++) {
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
    }
    return ~crc;
}

uint32_t ws_otadata_entry_crc(const ws_otadata_entry_t *e)
{
    uint8_t seq[4];
    put_le32(seq, e->seq);
    return ws_otadata_crc32_le(UINT32_MAX, seq, sizeof(seq));
}

void ws_otadata_parse(const uint8_t *part, ws_otadata_entry_t e[2])
{
    for (unsigned i = 0; i < 2; i++) {
        const uint8_t *p = part + i * WS_OTADATA_SECTOR_SIZE;
        e[i].seq = le32(p);
        memcpy(e[i].label, p + 4, sizeof(e[i].label));
        e[i].state = le32(p + 24);
        e[i].crc = le32(p + 28);
    }
}

void ws_otadata_store(uint8_t *part, unsigned index, const ws_otadata_entry_t *e)
{
    uint8_t *p = part + (index & 1u) * WS_OTADATA_SECTOR_SIZE;
    memset(p, 0xFF, WS_OTADATA_SECTOR_SIZE); /* the sector is erased before the entry is written */
    put_le32(p, e->seq);
    memcpy(p + 4, e->label, sizeof(e->label));
    put_le32(p + 24, e->state);
    put_le32(p + 28, e->crc);
}

bool ws_otadata_invalid(const ws_otadata_entry_t *e)
{
    return e->seq == UINT32_MAX || e->state == WS_OTA_IMG_INVALID || e->state == WS_OTA_IMG_ABORTED;
}

bool ws_otadata_valid(const ws_otadata_entry_t *e)
{
    return !ws_otadata_invalid(e) && e->crc == ws_otadata_entry_crc(e);
}

int ws_otadata_select(const ws_otadata_entry_t e[2], const bool marked[2], bool max)
{
    if (marked[0] && marked[1]) {
        uint32_t pick = max ? (e[0].seq > e[1].seq ? e[0].seq : e[1].seq) : (e[0].seq < e[1].seq ? e[0].seq : e[1].seq);
        return pick == e[0].seq ? 0 : 1;
    }
    return marked[0] ? 0 : marked[1] ? 1 : -1;
}

int ws_otadata_active(const ws_otadata_entry_t e[2])
{
    bool valid[2] = {ws_otadata_valid(&e[0]), ws_otadata_valid(&e[1])};
    return ws_otadata_select(e, valid, true);
}

static bool unset(const ws_otadata_entry_t *e) { return e->seq == UINT32_MAX || e->crc != ws_otadata_entry_crc(e); }

void ws_otadata_boot_select(ws_otadata_entry_t e[2], unsigned slot_count, ws_otadata_boot_t *out)
{
    memset(out, 0, sizeof(*out));
    if (slot_count == 0) {
        return;
    }
    /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE: an app still pending verification reset before it confirmed. */
    for (unsigned i = 0; i < 2; i++) {
        if (e[i].state == WS_OTA_IMG_PENDING_VERIFY) {
            e[i].state = WS_OTA_IMG_ABORTED;
            out->rewrite |= 1u << i;
        }
    }
    if (ws_otadata_invalid(&e[0]) && ws_otadata_invalid(&e[1])) {
        out->slot = 0; /* no factory app: "No factory image, trying OTA 0" */
        out->initial = unset(&e[0]) && unset(&e[1]);
        return;
    }
    int active = ws_otadata_active(e);
    if (active < 0) {
        out->slot = 0; /* "ota data partition invalid and no factory, will try all partitions" */
        return;
    }
    out->slot = (int)((e[active].seq - 1u) % slot_count);
    if (e[active].state == WS_OTA_IMG_NEW) {
        e[active].state = WS_OTA_IMG_PENDING_VERIFY;
        out->rewrite |= 1u << (unsigned)active;
    }
}

void ws_otadata_boot_order(int first, unsigned slot_count, int *order)
{
    unsigned n = 0;
    for (int s = first; s >= 0; s--) { /* "work backwards from start_index, down to the factory app" */
        order[n++] = s;
    }
    for (int s = first + 1; s < (int)slot_count; s++) { /* "failing that work forwards from start_index" */
        order[n++] = s;
    }
}

void ws_otadata_boot_loaded(ws_otadata_entry_t e[2], int slot, ws_otadata_boot_t *boot)
{
    if (!boot->initial || slot < 0) {
        return;
    }
    ws_otadata_entry_t fresh;
    memset(&fresh, 0xFF, sizeof(fresh));
    fresh.seq = (uint32_t)slot + 1u;
    fresh.state = WS_OTA_IMG_VALID;
    fresh.crc = ws_otadata_entry_crc(&fresh);
    e[0] = fresh;
    boot->rewrite |= WS_OTADATA_REWRITE_0;
}

unsigned ws_otadata_set_boot(ws_otadata_entry_t e[2], unsigned slot_count, int slot)
{
    if (slot < 0 || slot_count == 0 || (unsigned)slot >= slot_count) {
        return 0;
    }
    uint32_t base = ((uint32_t)slot + 1u) % slot_count;
    int active = ws_otadata_active(e);
    unsigned next;
    uint32_t seq;
    if (active >= 0) {
        /* The smallest sequence naming slot that is not below the active one (esp_rewrite_ota_data). */
        uint32_t i = 0;
        while (e[active].seq > base + i * slot_count) {
            i++;
        }
        seq = base + i * slot_count;
        next = (unsigned)active ^ 1u;
    } else {
        seq = (uint32_t)slot + 1u; /* both entries invalid, probably never written */
        next = 0;
    }
    e[next].seq = seq;
    e[next].state = WS_OTA_IMG_NEW; /* set_new_state_otadata() with rollback enabled */
    e[next].crc = ws_otadata_entry_crc(&e[next]);
    return 1u << next;
}

int ws_otadata_mark(ws_otadata_entry_t e[2], bool valid)
{
    int active = ws_otadata_active(e);
    if (active < 0) {
        return -1;
    }
    uint32_t want = valid ? WS_OTA_IMG_VALID : WS_OTA_IMG_INVALID;
    if (e[active].state == want && valid) {
        return 0;
    }
    e[active].state = want;
    e[active].crc = ws_otadata_entry_crc(&e[active]);
    return (int)(1u << (unsigned)active);
}

int ws_otadata_rollback_slot(const ws_otadata_entry_t e[2], unsigned slot_count)
{
    bool valid[2] = {ws_otadata_valid(&e[0]), ws_otadata_valid(&e[1])};
    int active = ws_otadata_select(e, valid, true);
    if (active < 0 || slot_count == 0) {
        return -1;
    }
    int last = active ^ 1;
    return valid[last] ? (int)((e[last].seq - 1u) % slot_count) : -1;
}

bool ws_otadata_state_of(const ws_otadata_entry_t e[2], unsigned slot_count, int slot, uint32_t *state)
{
    if (slot_count == 0) {
        return false;
    }
    for (unsigned i = 0; i < 2; i++) {
        if ((int)((e[i].seq - 1u) % slot_count) == slot && e[i].crc == ws_otadata_entry_crc(&e[i])) {
            *state = e[i].state;
            return true;
        }
    }
    return false;
}

int ws_otadata_last_invalid(const ws_otadata_entry_t e[2], unsigned slot_count)
{
    bool invalid[2];
    for (unsigned i = 0; i < 2; i++) {
        invalid[i] = e[i].seq != UINT32_MAX && e[i].crc == ws_otadata_entry_crc(&e[i]) &&
                     (e[i].state == WS_OTA_IMG_INVALID || e[i].state == WS_OTA_IMG_ABORTED);
    }
    int which = ws_otadata_select(e, invalid, false);
    return which < 0 || slot_count == 0 ? -1 : (int)((e[which].seq - 1u) % slot_count);
}

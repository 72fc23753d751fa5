/* ws_ota_port_host.c - the OTA port over files (ws_ota_port_host.h): slots, otadata, NVS records, reset reason. */
#define _GNU_SOURCE
#include "ws_ota_port_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ws_json.h"
#include "ws_ota_image.h"
#include "ws_port.h"
#include "wsctl_limits.h"

static void path_of(const ws_ota_port_host_t *h, const char *name, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/%s", h->dir, name);
}

static void slot_path(const ws_ota_port_host_t *h, int slot, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/ota_%d.bin", h->dir, slot);
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated past its end); NULL when missing or unreadable. */
static uint8_t *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = (uint8_t *)malloc(max + 1u);
    size_t n = buf != NULL ? fread(buf, 1, max, f) : 0u;
    bool failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Writes a whole file through a temporary and a rename, so a reader never sees half of it. */
static int write_file(const char *path, const void *data, size_t len)
{
    char tmp[620]; /* path (< 600) and ".tmp" */
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        return -1;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        (void)unlink(tmp);
        return -1;
    }
    return 0;
}

/* Whether the image in slot loads: it verifies (ws_ota_image_verify) and is for this chip. desc gets its app desc. */
static bool slot_loads(const ws_ota_port_host_t *h, int slot, uint8_t desc[256])
{
    char path[600];
    slot_path(h, slot, path, sizeof(path));
    size_t len = 0;
    uint8_t *img = read_file(path, WS_OTA_HOST_SLOT_SIZE, &len);
    if (img == NULL) {
        return false;
    }
    ws_ota_app_info_t info;
    bool ok = ws_ota_image_verify(img, len, NULL) == WS_OTA_IMAGE_OK &&
              ws_ota_image_head(img, len, &info) == WS_OTA_IMAGE_OK && info.chip_id == h->chip_id;
    if (ok && desc != NULL) {
        memcpy(desc, img + WS_OTA_APP_DESC_OFFSET, WS_OTA_APP_DESC_LEN);
    }
    free(img);
    return ok;
}

static int save_otadata(ws_ota_port_host_t *h, unsigned rewrite)
{
    for (unsigned i = 0; i < 2; i++) {
        if (rewrite & (1u << i)) {
            ws_otadata_store(h->otadata, i, &h->entries[i]);
        }
    }
    char path[600];
    path_of(h, "otadata.bin", path, sizeof(path));
    return rewrite == 0 || write_file(path, h->otadata, sizeof(h->otadata)) == 0 ? 0 : -1;
}

static void set_reset_reason(ws_ota_port_host_t *h, const char *reason)
{
    char path[600];
    path_of(h, "reset_reason", path, sizeof(path));
    (void)write_file(path, reason, strlen(reason));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int ws_ota_port_host_open(ws_ota_port_host_t *h, const char *dir, const char *key_file, const char *chip,
                          uint32_t confirm_ms, char *err, size_t err_cap)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->confirm_ms = confirm_ms;
    if (strlen(dir) >= sizeof(h->dir) - 32u) {
        (void)snprintf(err, err_cap, "--ota-dir: the path is too long");
        return -1;
    }
    memcpy(h->dir, dir, strlen(dir) + 1u);
    if (strlen(chip) >= sizeof(h->chip) || !ws_ota_chip_id(chip, &h->chip_id)) {
        (void)snprintf(err, err_cap, "--chip: '%s' is not an ESP-IDF target this build knows (esp32, esp32c3, ...)",
                       chip);
        return -1;
    }
    memcpy(h->chip, chip, strlen(chip) + 1u);
    if (key_file != NULL) {
        size_t len = 0;
        uint8_t *text = read_file(key_file, 256, &len);
        size_t n = len;
        while (text != NULL && n > 0 && (text[n - 1u] == '\n' || text[n - 1u] == '\r' || text[n - 1u] == ' ')) {
            n--;
        }
        h->has_key = text != NULL && ws_json_unhex((const char *)text, n, h->key, sizeof(h->key));
        free(text);
        if (!h->has_key) {
            (void)snprintf(err, err_cap, "--ota-key: %s does not hold a key as 64 hex digits", key_file);
            return -1;
        }
    }
    /* The reset that ended the last run, once (esp_reset_reason() describes the latest reset only). */
    char path[600];
    path_of(h, "reset_reason", path, sizeof(path));
    size_t rlen = 0;
    uint8_t *reason = read_file(path, 32, &rlen);
    h->reset = WS_OTA_RESET_POWER_ON;
    if (reason != NULL) {
        if (strncmp((const char *)reason, "sw", 2) == 0) {
            h->reset = WS_OTA_RESET_SOFTWARE;
        } else if (strncmp((const char *)reason, "panic", 5) == 0) {
            h->reset = WS_OTA_RESET_PANIC;
        } else if (strncmp((const char *)reason, "watchdog", 8) == 0) {
            h->reset = WS_OTA_RESET_WATCHDOG;
        }
        free(reason);
        (void)unlink(path);
    }
    /* The bootloader: otadata, the choice, the slot order. */
    memset(h->otadata, 0xFF, sizeof(h->otadata));
    path_of(h, "otadata.bin", path, sizeof(path));
    size_t olen = 0;
    uint8_t *od = read_file(path, WS_OTADATA_SIZE, &olen);
    if (od != NULL) {
        memcpy(h->otadata, od, olen);
        free(od);
    }
    ws_otadata_parse(h->otadata, h->entries);
    ws_otadata_boot_t boot;
    ws_otadata_boot_select(h->entries, WS_OTA_HOST_SLOTS, &boot);
    int order[WS_OTA_HOST_SLOTS];
    ws_otadata_boot_order(boot.slot, WS_OTA_HOST_SLOTS, order);
    h->running = -1;
    for (int i = 0; i < WS_OTA_HOST_SLOTS && h->running < 0; i++) {
        if (slot_loads(h, order[i], h->running_desc)) {
            h->running = order[i];
        }
    }
    if (h->running >= 0) {
        ws_otadata_boot_loaded(h->entries, h->running, &boot);
    }
    if (save_otadata(h, boot.rewrite) != 0) {
        (void)snprintf(err, err_cap, "cannot write %s/otadata.bin: %s", dir, strerror(errno));
        return -1;
    }
    if (h->running < 0) {
        (void)snprintf(err, err_cap,
                       "no bootable app for %s in %s/ota_0.bin or ota_1.bin (as the bootloader would "
                       "say: \"No bootable app partitions\")",
                       chip, dir);
        return -1;
    }
    ws_ota_app_info_t app;
    if (ws_ota_app_desc_parse(h->running_desc, &app) == WS_OTA_IMAGE_OK &&
        ends_with(app.version, WS_OTA_HOST_PANIC_SUFFIX)) {
        fprintf(stderr, "ota: %s from ota_%d: panic at start (its version ends in %s)\n", app.version, h->running,
                WS_OTA_HOST_PANIC_SUFFIX);
        fflush(stderr);
        set_reset_reason(h, "panic"); /* what the chip's reset reason register would say after the panic */
        abort();
    }
    return 0;
}

/* ---- the port ---- */

static int update_slot(const ws_ota_port_host_t *h) { return (h->running + 1) % WS_OTA_HOST_SLOTS; }

static int host_running(void *ctx, ws_ota_running_t *out)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    memset(out, 0, sizeof(*out));
    memcpy(out->chip, h->chip, sizeof(out->chip));
    out->chip_id = h->chip_id;
    memcpy(out->app_desc, h->running_desc, sizeof(out->app_desc));
    (void)snprintf(out->running_slot, sizeof(out->running_slot), "ota_%d", h->running);
    (void)snprintf(out->update_slot, sizeof(out->update_slot), "ota_%d", update_slot(h));
    out->update_slot_size = WS_OTA_HOST_SLOT_SIZE;
    uint32_t state = WS_OTA_IMG_UNDEFINED;
    (void)ws_otadata_state_of(h->entries, WS_OTA_HOST_SLOTS, h->running, &state);
    /* esp_ota_get_state_partition's states: VALID and PENDING_VERIFY are the protocol's; the rest have nothing to
     * confirm (a slot booted without an entry of its own, as after the bootloader tried every slot). */
    out->state = state == WS_OTA_IMG_VALID            ? WS_OTA_STATE_VALID
                 : state == WS_OTA_IMG_PENDING_VERIFY ? WS_OTA_STATE_PENDING_VERIFY
                                                      : WS_OTA_STATE_UNDEFINED;
    return WS_OTA_PORT_OK;
}

static int host_slot_begin(void *ctx, uint32_t size)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (h->fd >= 0 || size > WS_OTA_HOST_SLOT_SIZE) {
        return WS_OTA_PORT_ERR_STATE;
    }
    char path[600];
    slot_path(h, update_slot(h), path, sizeof(path));
    /* Flash erased as it is written (OTA_WITH_SEQUENTIAL_WRITES): the slot's old image is gone from here on. */
    h->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return h->fd >= 0 ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_FLASH;
}

static int host_slot_write(void *ctx, const uint8_t *data, size_t len)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (h->fd < 0) {
        return WS_OTA_PORT_ERR_STATE;
    }
    while (len > 0) {
        ssize_t n = write(h->fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return WS_OTA_PORT_ERR_FLASH;
        }
        data += n;
        len -= (size_t)n;
    }
    return WS_OTA_PORT_OK;
}

static int host_slot_end(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (h->fd < 0) {
        return WS_OTA_PORT_ERR_STATE;
    }
    int rc = close(h->fd);
    h->fd = -1;
    if (rc != 0) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    /* esp_ota_end: esp_image_verify of the slot, the chip id included. */
    return slot_loads(h, update_slot(h), NULL) ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_INVALID;
}

static void host_slot_abort(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (h->fd >= 0) {
        (void)close(h->fd); /* what was written stays, as on flash; otadata does not name it */
        h->fd = -1;
    }
}

static int host_slot_read(void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    char path[600];
    slot_path(h, update_slot(h), path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(buf, 0xFF, len); /* past the file's end: erased flash */
    if (fd < 0) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)offset + (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    if (got < len) {
        memset(buf + got, 0xFF, len - got);
    }
    (void)close(fd);
    return WS_OTA_PORT_OK;
}

static int host_set_boot(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (!slot_loads(h, update_slot(h), NULL)) {
        return WS_OTA_PORT_ERR_INVALID; /* esp_ota_set_boot_partition validates the image again */
    }
    unsigned rewrite = ws_otadata_set_boot(h->entries, WS_OTA_HOST_SLOTS, update_slot(h));
    return save_otadata(h, rewrite) == 0 ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_FLASH;
}

static void host_restart(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    set_reset_reason(h, "sw");
    h->restart_requested = true;
}

static int host_mark_valid(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    int rewrite = ws_otadata_mark(h->entries, true);
    if (rewrite < 0) {
        return WS_OTA_PORT_ERR_STATE; /* "Running firmware is factory" */
    }
    return save_otadata(h, (unsigned)rewrite) == 0 ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_FLASH;
}

static int host_mark_invalid(void *ctx)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    int back = ws_otadata_rollback_slot(h->entries, WS_OTA_HOST_SLOTS);
    if (back < 0 || !slot_loads(h, back, NULL)) {
        return WS_OTA_PORT_ERR_STATE; /* esp_ota_check_rollback_is_possible() is false */
    }
    int rewrite = ws_otadata_mark(h->entries, false);
    if (rewrite < 0 || save_otadata(h, (unsigned)rewrite) != 0) {
        return WS_OTA_PORT_ERR_FLASH;
    }
    host_restart(ctx); /* "Rollback to previously worked partition. Restart." */
    return WS_OTA_PORT_OK;
}

static int host_last_invalid(void *ctx, char slot[WS_OTA_SLOT_NAME_MAX + 1], bool *self_marked)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    int s = ws_otadata_last_invalid(h->entries, WS_OTA_HOST_SLOTS);
    if (s < 0 || !slot_loads(h, s, NULL)) {
        return WS_OTA_PORT_ERR_NOT_FOUND; /* none, or its image is damaged (ESP-IDF returns NULL then too) */
    }
    *self_marked = false;
    uint32_t state = 0;
    if (ws_otadata_state_of(h->entries, WS_OTA_HOST_SLOTS, s, &state)) {
        *self_marked = state == WS_OTA_IMG_INVALID;
    }
    (void)snprintf(slot, WS_OTA_SLOT_NAME_MAX + 1u, "ota_%d", s);
    return WS_OTA_PORT_OK;
}

static ws_ota_reset_t host_reset_reason(void *ctx) { return ((ws_ota_port_host_t *)ctx)->reset; }

static int host_key(void *ctx, uint8_t key[32])
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    if (!h->has_key) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    memcpy(key, h->key, sizeof(h->key));
    return WS_OTA_PORT_OK;
}

static uint32_t host_confirm_ms(void *ctx) { return ((ws_ota_port_host_t *)ctx)->confirm_ms; }

static int host_load_last(void *ctx, char *buf, size_t cap)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    char path[600];
    path_of(h, "ota_last", path, sizeof(path));
    size_t len = 0;
    uint8_t *text = read_file(path, 4000, &len); /* an NVS string holds at most 4000 bytes */
    if (text == NULL) {
        return WS_OTA_PORT_ERR_NOT_FOUND;
    }
    int rc = len < cap ? (int)len : WS_OTA_PORT_ERR_NOT_FOUND;
    if (len < cap) {
        memcpy(buf, text, len + 1u);
    }
    free(text);
    return rc;
}

static int host_store_last(void *ctx, const char *json)
{
    ws_ota_port_host_t *h = (ws_ota_port_host_t *)ctx;
    char path[600];
    path_of(h, "ota_last", path, sizeof(path));
    return write_file(path, json, strlen(json)) == 0 ? WS_OTA_PORT_OK : WS_OTA_PORT_ERR_FLASH;
}

static void host_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            abort(); /* no randomness: a nonce must never repeat, so stop rather than go on with a weak one */
        }
        got += (size_t)n;
    }
}

static uint32_t host_now_ms(void *ctx)
{
    (void)ctx;
    return ws_port_now_ms();
}

static void host_log(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

void ws_ota_port_host_port(ws_ota_port_host_t *h, ws_ota_port_t *port)
{
    *port = (ws_ota_port_t){.ctx = h,
                            .running = host_running,
                            .slot_begin = host_slot_begin,
                            .slot_write = host_slot_write,
                            .slot_end = host_slot_end,
                            .slot_abort = host_slot_abort,
                            .slot_read = host_slot_read,
                            .set_boot = host_set_boot,
                            .restart = host_restart,
                            .mark_valid = host_mark_valid,
                            .mark_invalid = host_mark_invalid,
                            .last_invalid = host_last_invalid,
                            .reset_reason = host_reset_reason,
                            .key = host_key,
                            .confirm_ms = host_confirm_ms,
                            .load_last = host_load_last,
                            .store_last = host_store_last,
                            .random = host_random,
                            .now_ms = host_now_ms,
                            .log = host_log};
}

bool ws_ota_port_host_restart_requested(const ws_ota_port_host_t *h) { return h->restart_requested; }

void ws_ota_port_host_close(ws_ota_port_host_t *h)
{
    host_slot_abort(h);
    memset(h->key, 0, sizeof(h->key));
}

/*
 * host_nvs.h - the host build's stand-in for the NVS partition: the string keys of namespace "wsctl"
 * (wsctl_limits.h: ssid, pass, hostname) in a file, one line per key, "wsctl:KEY:str:HEX\n" with the value's bytes
 * in lower-case hex, in the order the keys were first set. A write replaces the file whole (a temporary file renamed
 * over it, mode 0600: it holds the password), so a reader sees the old settings or the new, never half.
 *
 * Two clients that provision the same settings into the same file leave the same bytes; the interop tests compare
 * them. The device itself writes the same keys with nvs_set_str (main/improv_uart.c).
 */
#ifndef HOST_NVS_H
#define HOST_NVS_H

#include <stdbool.h>
#include <stddef.h>

#define HOST_NVS_MAX_KEYS 8u
#define HOST_NVS_KEY_MAX 15u   /* NVS key names: at most 15 characters */
#define HOST_NVS_VALUE_MAX 64u /* the longest value: a 64-hex-digit PSK */

typedef struct {
    size_t count;
    struct {
        char key[HOST_NVS_KEY_MAX + 1];
        char value[HOST_NVS_VALUE_MAX + 1];
    } entries[HOST_NVS_MAX_KEYS];
} host_nvs_t;

/* Reads path into nvs. A missing file is an empty store (true); an unreadable or malformed one is false. */
bool host_nvs_load(const char *path, host_nvs_t *nvs);

/* The value of key, or NULL if not set. */
const char *host_nvs_get(const host_nvs_t *nvs, const char *key);

/* Sets key (kept in its place if present, appended otherwise); false if there is no room or it is too long. */
bool host_nvs_set(host_nvs_t *nvs, const char *key, const char *value);

/* Writes nvs to path (temporary file, fsync, rename). */
bool host_nvs_save(const char *path, const host_nvs_t *nvs);

#endif /* HOST_NVS_H */

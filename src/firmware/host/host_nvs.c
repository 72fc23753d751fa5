/*
 * host_nvs.c - see host_nvs.h.
 */
#define _GNU_SOURCE
#include "host_nvs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsctl_limits.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* One line "wsctl:KEY:str:HEX" (without its '\n') into nvs; false if malformed. */
static bool parse_line(char *line, host_nvs_t *nvs)
{
    const char prefix[] = WSCTL_NVS_NAMESPACE ":";
    if (strncmp(line, prefix, sizeof(prefix) - 1u) != 0) {
        return false;
    }
    char *key = line + sizeof(prefix) - 1u;
    char *type = strchr(key, ':');
    if (type == NULL) {
        return false;
    }
    *type++ = '\0';
    if (strncmp(type, "str:", 4) != 0) {
        return false;
    }
    const char *hex = type + 4;
    size_t n = strlen(hex);
    if (n % 2u != 0 || n / 2u > HOST_NVS_VALUE_MAX) {
        return false;
    }
    char value[HOST_NVS_VALUE_MAX + 1];
    for (size_t i = 0; i < n / 2u; i++) {
        int hi = hex_value(hex[2u * i]), lo = hex_value(hex[2u * i + 1u]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return false;
        }
        value[i] = (char)(hi * 16 + lo);
    }
    value[n / 2u] = '\0';
    return host_nvs_set(nvs, key, value);
}

bool host_nvs_load(const char *path, host_nvs_t *nvs)
{
    memset(nvs, 0, sizeof(*nvs));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return true; /* like an erased NVS partition: nothing stored yet */
    }
    char line[HOST_NVS_KEY_MAX + 2u * HOST_NVS_VALUE_MAX + 32u];
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1u] != '\n') {
            ok = false;
            break;
        }
        line[n - 1u] = '\0';
        ok = parse_line(line, nvs);
    }
    fclose(f);
    return ok;
}

const char *host_nvs_get(const host_nvs_t *nvs, const char *key)
{
    for (size_t i = 0; i < nvs->count; i++) {
        if (strcmp(nvs->entries[i].key, key) == 0) {
            return nvs->entries[i].value;
        }
    }
    return NULL;
}

bool host_nvs_set(host_nvs_t *nvs, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen == 0 || klen > HOST_NVS_KEY_MAX || vlen > HOST_NVS_VALUE_MAX || strchr(key, ':') != NULL) {
        return false;
    }
    size_t i = 0;
    while (i < nvs->count && strcmp(nvs->entries[i].key, key) != 0) {
        i++;
    }
    if (i == nvs->count) {
        if (nvs->count == HOST_NVS_MAX_KEYS) {
            return false;
        }
        memcpy(nvs->entries[i].key, key, klen + 1u);
        nvs->count++;
    }
    memcpy(nvs->entries[i].value, value, vlen + 1u);
    return true;
}

bool host_nvs_save(const char *path, const host_nvs_t *nvs)
{
    size_t plen = strlen(path);
    char *tmp = (char *)malloc(plen + 5u);
    if (tmp == NULL) {
        return false;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".new", 5u);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = f != NULL;
    for (size_t i = 0; ok && i < nvs->count; i++) {
        ok = fprintf(f, "%s:%s:str:", WSCTL_NVS_NAMESPACE, nvs->entries[i].key) > 0;
        for (const char *c = nvs->entries[i].value; ok && *c != '\0'; c++) {
            ok = fprintf(f, "%02x", (unsigned)(unsigned char)*c) == 2;
        }
        ok = ok && fputc('\n', f) == '\n';
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f != NULL) {
        ok = fclose(f) == 0 && ok;
    } else if (fd >= 0) {
        close(fd);
    }
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

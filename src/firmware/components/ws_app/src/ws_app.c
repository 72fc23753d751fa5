/* ws_app.c - application logic shared by the firmware and the host build. */
#include "ws_app.h"

#include <string.h>

/* The server's sockets for the most clients, plus the spare ones, must fit lwIP's table (see wsctl_limits.h). */
_Static_assert(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX) + WSCTL_SOCKETS_SPARE <= WSCTL_LWIP_MAX_SOCKETS,
               "WSCTL_MAX_CLIENTS_MAX does not fit WSCTL_LWIP_MAX_SOCKETS");
_Static_assert(WSCTL_DEFAULT_MAX_CLIENTS >= WSCTL_MAX_CLIENTS_MIN && WSCTL_DEFAULT_MAX_CLIENTS <= WSCTL_MAX_CLIENTS_MAX,
               "the default client count is out of range");
_Static_assert(WSCTL_MAX_CLIENTS_MAX <= 255, "max_clients is stored as u8");
_Static_assert(sizeof(WSCTL_DEFAULT_HOSTNAME) - 1u <= WSCTL_HOSTNAME_MAX, "the default host name is too long");

void ws_app_config_defaults(ws_app_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    memcpy(cfg->hostname, WSCTL_DEFAULT_HOSTNAME, sizeof(WSCTL_DEFAULT_HOSTNAME));
    cfg->port = WSCTL_DEFAULT_WS_PORT;
    cfg->max_clients = WSCTL_DEFAULT_MAX_CLIENTS;
    cfg->max_message = 65536;
    cfg->ping_interval_ms = 30000;
    cfg->counter_interval_ms = WSCTL_DEFAULT_COUNTER_INTERVAL_MS;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool ws_app_valid_password(const char *pass)
{
    size_t n = strlen(pass);
    bool printable = true, hex = true;
    for (size_t i = 0; i < n; i++) {
        printable = printable && pass[i] >= 0x20 && pass[i] <= 0x7E;
        hex = hex && is_hex(pass[i]);
    }
    return n == 0 || (printable && n >= WSCTL_PASS_PHRASE_MIN && n <= WSCTL_PASS_PHRASE_MAX) ||
           (hex && n == WSCTL_PASS_PSK_HEX_LEN);
}

bool ws_app_valid_hostname(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > WSCTL_HOSTNAME_MAX || name[0] == '-' || name[n - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(name[i]) && name[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Copies src into dst (cap bytes) when ok and it fits; returns whether it did. */
static bool copy_str(char *dst, size_t cap, const char *src, bool ok)
{
    size_t n = strlen(src);
    if (!ok || n >= cap) {
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

unsigned ws_app_config_merge(ws_app_config_t *cfg, const ws_app_overrides_t *stored)
{
    unsigned set = 0;
    if (stored == NULL) {
        return 0;
    }
    if (stored->ssid != NULL) {
        set |= copy_str(cfg->ssid, sizeof(cfg->ssid), stored->ssid, stored->ssid[0] != '\0') ? WS_APP_SET_SSID
                                                                                             : WS_APP_REJECTED;
    }
    if (stored->pass != NULL) {
        set |= copy_str(cfg->pass, sizeof(cfg->pass), stored->pass, ws_app_valid_password(stored->pass))
                   ? WS_APP_SET_PASS
                   : WS_APP_REJECTED;
    }
    if (stored->hostname != NULL) {
        set |= copy_str(cfg->hostname, sizeof(cfg->hostname), stored->hostname, ws_app_valid_hostname(stored->hostname))
                   ? WS_APP_SET_HOSTNAME
                   : WS_APP_REJECTED;
    }
    if (stored->has_port) {
        if (stored->port >= WSCTL_WS_PORT_MIN) { /* u16: never above WSCTL_WS_PORT_MAX */
            cfg->port = stored->port;
            set |= WS_APP_SET_PORT;
        } else {
            set |= WS_APP_REJECTED;
        }
    }
    if (stored->has_max_clients) {
        if (stored->max_clients >= WSCTL_MAX_CLIENTS_MIN && stored->max_clients <= WSCTL_MAX_CLIENTS_MAX) {
            cfg->max_clients = stored->max_clients;
            set |= WS_APP_SET_MAX_CLIENTS;
        } else {
            set |= WS_APP_REJECTED;
        }
    }
    if (stored->has_echo) {
        if (stored->echo <= 1u) {
            cfg->echo = stored->echo == 1u;
            set |= WS_APP_SET_ECHO;
        } else {
            set |= WS_APP_REJECTED;
        }
    }
    if (stored->has_counter_ms) {
        if (stored->counter_ms <= WSCTL_COUNTER_INTERVAL_MAX_MS) {
            cfg->counter_interval_ms = stored->counter_ms;
            set |= WS_APP_SET_COUNTER;
        } else {
            set |= WS_APP_REJECTED;
        }
    }
    return set;
}

size_t ws_app_config_describe(const ws_app_config_t *cfg, char *out, size_t cap)
{
    if (cap == 0) {
        return 0;
    }
    char counter[32] = "counter off";
    if (cfg->counter_interval_ms > 0) {
        (void)snprintf(counter, sizeof(counter), "counter every %lu ms", (unsigned long)cfg->counter_interval_ms);
    }
    int n = snprintf(out, cap, "config: ssid \"%s\", host %s, port %u, max clients %u, echo %s, %s", cfg->ssid,
                     cfg->hostname, (unsigned)cfg->port, (unsigned)cfg->max_clients, cfg->echo ? "on" : "off", counter);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1u;
}

void ws_app_server_cfg(const ws_app_config_t *cfg, ws_server_cfg_t *out)
{
    memset(out, 0, sizeof(*out));
    out->port = cfg->port;
    out->max_clients = cfg->max_clients;
    out->max_message = cfg->max_message;
    out->ping_interval_ms = cfg->ping_interval_ms;
    out->echo = cfg->echo;
    out->hostname = cfg->hostname; /* its pages at hostname.local are the device's own (ws_origin.h); copied */
}

size_t ws_app_mdns_txt(const ws_app_config_t *cfg, const ws_app_running_t *run, char number[WS_APP_TXT_NUMBER_LEN],
                       ws_app_txt_t txt[WS_APP_TXT_COUNT])
{
    (void)snprintf(number, WS_APP_TXT_NUMBER_LEN, "%u", (unsigned)cfg->max_clients);
    size_t n = 0;
    txt[n++] = (ws_app_txt_t){WSCTL_TXT_PATH, "/"};
    txt[n++] = (ws_app_txt_t){WSCTL_TXT_MAX_CLIENTS, number};
    txt[n++] = (ws_app_txt_t){WSCTL_TXT_VERSION, run->version != NULL ? run->version : ""};
    if (run->elf != NULL) {
        txt[n++] = (ws_app_txt_t){WSCTL_TXT_ELF, run->elf};
    }
    if (run->slot != NULL) {
        txt[n++] = (ws_app_txt_t){WSCTL_TXT_SLOT, run->slot};
    }
    if (run->ota != NULL) {
        txt[n++] = (ws_app_txt_t){WSCTL_TXT_OTA, run->ota};
    }
    return n;
}

size_t ws_app_format_counter(char *out, size_t cap, uint32_t value)
{
    int n = snprintf(out, cap, "{\"type\":\"message\",\"data\":{\"sensor\":\"counter\",\"value\":%lu}}",
                     (unsigned long)value);
    return (n > 0 && (size_t)n < cap) ? (size_t)n : 0u;
}

void ws_app_print_message(FILE *out, const ws_queue_item_t *item)
{
    static const char hex[] = "0123456789abcdef";
    if (item->opcode == WS_OP_BIN) {
        fprintf(out, "binary %lu:", (unsigned long)item->len);
        for (size_t i = 0; i < item->len; i++) {
            fputc(hex[item->payload[i] >> 4], out);
            fputc(hex[item->payload[i] & 15u], out);
        }
    } else {
        for (size_t i = 0; i < item->len; i++) {
            uint8_t c = item->payload[i];
            if (c == '\n') {
                fputs("\\n", out);
            } else if (c == '\r') {
                fputs("\\r", out);
            } else if (c < 0x20 || c == 0x7F) {
                fprintf(out, "\\x%02x", (unsigned)c);
            } else {
                fputc(c, out);
            }
        }
    }
    fputc('\n', out);
    fflush(out);
}

void ws_app_recv_loop(ws_app_recv_loop_t *loop)
{
    uint32_t poll_ms = loop->poll_ms != 0 ? loop->poll_ms : 200u;
    while (!*loop->stop) {
        ws_queue_item_t *item = NULL;
        if (ws_recv(&item, poll_ms) != WS_OK) {
            if (ws_get_recv_queue() == NULL) {
                ws_port_sleep_ms(poll_ms); /* server not started yet */
            }
            continue;
        }
        loop->received++;
        if (loop->out != NULL) {
            ws_app_print_message(loop->out, item);
        }
        ws_item_free(item);
    }
}

void ws_app_counter_loop(ws_app_counter_t *counter)
{
    uint32_t next = ws_port_now_ms() + counter->interval_ms;
    while (!*counter->stop) {
        uint32_t now = ws_port_now_ms();
        if (!ws_time_reached(now, next)) {
            uint32_t wait = next - now;
            ws_port_sleep_ms(wait < 100u ? wait : 100u); /* short slices so a stop request is seen quickly */
            continue;
        }
        next += counter->interval_ms;
        char json[96];
        size_t len = ws_app_format_counter(json, sizeof(json), counter->value);
        ws_queue_item_t item = {
            .payload = (uint8_t *)json, .len = len, .index = -1, .opcode = WS_OP_TXT, .ws_frame = 1};
        (void)ws_send(&item, 100); /* WS_ERR_STATE while Wi-Fi is down: the count goes on, as in the seed */
        counter->value++;
    }
}

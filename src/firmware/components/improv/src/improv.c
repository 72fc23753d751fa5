/*
 * improv.c - the Improv Wi-Fi serial protocol, version 1, device side (see improv.h for the rules and the spec).
 */
#include "improv.h"

#include <stdio.h>
#include <string.h>

/* The SDK's reader (improv-wifi-serial-sdk, serial.ts _processInput) starts a packet only at the start of a line
 * and resets its line on every '\n' before the ninth byte, so a packet whose length byte is 10 would be lost
 * there. Only a scan result can have that length (an SSID of one byte, an RSSI of two characters and "NO"):
 * such a network is left out. */
#define SDK_LINE_FEED 0x0Au

void improv_parser_init(improv_parser_t *p) { p->pos = 0; }

static bool header_byte_fits(size_t pos, uint8_t byte)
{
    if (pos < IMPROV_HEADER_LEN) {
        return byte == (uint8_t)IMPROV_HEADER[pos];
    }
    return pos != IMPROV_HEADER_LEN || byte == IMPROV_SERIAL_VERSION;
}

static uint8_t checksum(const uint8_t *bytes, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += bytes[i];
    }
    return (uint8_t)(sum & 0xFFu);
}

improv_parse_t improv_parser_feed(improv_parser_t *p, uint8_t byte)
{
    if (p->pos <= IMPROV_HEADER_LEN && !header_byte_fits(p->pos, byte)) {
        /* Not (or no longer) a header: this byte may begin the next one ("IMPIMPROV..."). */
        p->pos = 0;
        if (!header_byte_fits(0, byte)) {
            return IMPROV_PARSE_MORE;
        }
    }
    p->buf[p->pos++] = byte;
    if (p->pos < IMPROV_PREFIX_LEN) {
        return IMPROV_PARSE_MORE;
    }
    size_t len = p->buf[IMPROV_PREFIX_LEN - 1u];
    if (p->pos < IMPROV_PREFIX_LEN + len + 1u) {
        return IMPROV_PARSE_MORE;
    }
    size_t total = p->pos;
    p->pos = 0;
    return checksum(p->buf, total - 1u) == p->buf[total - 1u] ? IMPROV_PARSE_PACKET : IMPROV_PARSE_BAD_CHECKSUM;
}

uint8_t improv_parser_type(const improv_parser_t *p) { return p->buf[7]; }
const uint8_t *improv_parser_data(const improv_parser_t *p) { return p->buf + IMPROV_PREFIX_LEN; }
size_t improv_parser_length(const improv_parser_t *p) { return p->buf[IMPROV_PREFIX_LEN - 1u]; }

size_t improv_encode(uint8_t type, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
    size_t total = IMPROV_PREFIX_LEN + len + 2u;
    if (len > IMPROV_MAX_DATA || cap < total) {
        return 0;
    }
    memcpy(out, IMPROV_HEADER, IMPROV_HEADER_LEN);
    out[6] = IMPROV_SERIAL_VERSION;
    out[7] = type;
    out[8] = (uint8_t)len;
    if (len > 0) {
        memcpy(out + IMPROV_PREFIX_LEN, data, len);
    }
    out[IMPROV_PREFIX_LEN + len] = checksum(out, IMPROV_PREFIX_LEN + len);
    out[IMPROV_PREFIX_LEN + len + 1u] = '\n';
    return total;
}

size_t improv_encode_result(uint8_t command, const char *const *strings, size_t count, uint8_t *out, size_t cap)
{
    /* Data: command, length of what follows, then each string as length and bytes (spec: "Packet: RPC Result"). */
    uint8_t data[IMPROV_MAX_DATA];
    size_t len = 2;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(strings[i]);
        if (n > 255u || len + 1u + n > IMPROV_MAX_DATA) {
            return 0;
        }
        data[len++] = (uint8_t)n;
        memcpy(data + len, strings[i], n);
        len += n;
    }
    data[0] = command;
    data[1] = (uint8_t)(len - 2u);
    return improv_encode(IMPROV_TYPE_RPC_RESULT, data, len, out, cap);
}

static void send_byte_packet(improv_t *s, improv_type_t type, uint8_t value)
{
    uint8_t packet[IMPROV_PREFIX_LEN + 3u];
    size_t n = improv_encode((uint8_t)type, &value, 1, packet, sizeof(packet));
    s->port.write(s->port.ctx, packet, n);
}

static void send_result(improv_t *s, uint8_t command, const char *const *strings, size_t count)
{
    uint8_t packet[IMPROV_MAX_PACKET];
    size_t n = improv_encode_result(command, strings, count, packet, sizeof(packet));
    if (n == 0) {
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_UNKNOWN); /* strings too long for one packet */
        return;
    }
    s->port.write(s->port.ctx, packet, n);
}

static void set_state(improv_t *s, improv_state_t state)
{
    s->state = state;
    send_byte_packet(s, IMPROV_TYPE_CURRENT_STATE, (uint8_t)state);
}

/* The result a provisioning ends with, and RPC 2 repeats while provisioned: the URL, or no string without one. */
static void send_url(improv_t *s, uint8_t command)
{
    char url[128];
    size_t n = s->port.url != NULL ? s->port.url(s->port.ctx, url, sizeof(url)) : 0u;
    const char *strings[1] = {url};
    send_result(s, command, strings, n > 0 && n < sizeof(url) ? 1u : 0u);
}

bool improv_valid_password(const char *pass, size_t len)
{
    if (len == 0) {
        return true;
    }
    if (len == IMPROV_PASS_MAX) {
        for (size_t i = 0; i < len; i++) {
            char c = pass[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }
    if (len < 8u || len > 63u) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)pass[i] < 0x20u || (unsigned char)pass[i] > 0x7Eu) {
            return false;
        }
    }
    return true;
}

static void fail_attempt(improv_t *s)
{
    s->attempting = false;
    memset(s->pass, 0, sizeof(s->pass));
    s->port.revert(s->port.ctx);
    send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_UNABLE_TO_CONNECT);
    set_state(s, IMPROV_STATE_AUTHORIZED);
}

/* RPC 1's data: ssid length, ssid, password length, password, exactly filling the RPC's data length. */
static void wifi_settings(improv_t *s, const uint8_t *data, size_t len, uint32_t now_ms)
{
    if (len < 2u) {
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_INVALID_RPC);
        return;
    }
    size_t ssid_len = data[0];
    size_t pass_at = 1u + ssid_len;
    size_t pass_len = pass_at < len ? data[pass_at] : 0u;
    if (pass_at >= len || pass_at + 1u + pass_len != len || ssid_len == 0 || ssid_len > IMPROV_SSID_MAX ||
        pass_len > IMPROV_PASS_MAX || memchr(data + 1, 0, ssid_len) != NULL ||
        memchr(data + pass_at + 1u, 0, pass_len) != NULL) {
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_INVALID_RPC);
        return;
    }
    if (s->attempting) {
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_UNKNOWN); /* one attempt at a time */
        return;
    }
    memcpy(s->ssid, data + 1, ssid_len);
    s->ssid[ssid_len] = '\0';
    memcpy(s->pass, data + pass_at + 1u, pass_len);
    s->pass[pass_len] = '\0';
    set_state(s, IMPROV_STATE_PROVISIONING);
    /* A password no access point can take (IEEE 802.11i H.4.1) cannot connect; nothing is tried or stored. */
    if (!improv_valid_password(s->pass, pass_len) || !s->port.connect(s->port.ctx, s->ssid, s->pass)) {
        s->attempting = true;
        fail_attempt(s);
        return;
    }
    s->attempting = true;
    s->deadline_ms = now_ms + s->timeout_ms;
}

static void handle_rpc(improv_t *s, const uint8_t *data, size_t len, uint32_t now_ms)
{
    /* Every RPC first clears the error state (spec: "Packet: RPC Command"). */
    send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_NONE);
    if (len < 2u || (size_t)data[1] != len - 2u) {
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_INVALID_RPC);
        return;
    }
    const uint8_t *args = data + 2;
    size_t args_len = data[1];
    switch (data[0]) {
    case IMPROV_CMD_WIFI_SETTINGS:
        wifi_settings(s, args, args_len, now_ms);
        break;
    case IMPROV_CMD_GET_CURRENT_STATE:
        set_state(s, s->state);
        if (s->state == IMPROV_STATE_PROVISIONED) {
            send_url(s, IMPROV_CMD_GET_CURRENT_STATE);
        }
        break;
    case IMPROV_CMD_GET_DEVICE_INFO: {
        const char *info[4] = {s->port.firmware_name, s->port.firmware_version, s->port.chip, s->port.device_name};
        send_result(s, IMPROV_CMD_GET_DEVICE_INFO, info, 4);
        break;
    }
    case IMPROV_CMD_GET_WIFI_NETWORKS: {
        improv_network_t networks[16];
        size_t found = s->port.scan != NULL ? s->port.scan(s->port.ctx, networks, 16u) : 0u;
        for (size_t i = 0; i < found && i < 16u; i++) {
            char rssi[8];
            snprintf(rssi, sizeof(rssi), "%d", (int)networks[i].rssi);
            const char *fields[3] = {networks[i].ssid, rssi, networks[i].secured ? "YES" : "NO"};
            size_t packet_len = 2u + 3u + strlen(fields[0]) + strlen(fields[1]) + strlen(fields[2]);
            if (fields[0][0] == '\0' || packet_len == SDK_LINE_FEED) {
                continue; /* a hidden network cannot be chosen by name; see SDK_LINE_FEED */
            }
            send_result(s, IMPROV_CMD_GET_WIFI_NETWORKS, fields, 3);
        }
        send_result(s, IMPROV_CMD_GET_WIFI_NETWORKS, NULL, 0); /* the end of the list */
        break;
    }
    default:
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_UNKNOWN_RPC);
        break;
    }
}

void improv_init(improv_t *s, const improv_port_t *port, bool provisioned, uint32_t timeout_ms)
{
    memset(s, 0, sizeof(*s));
    s->port = *port;
    improv_parser_init(&s->parser);
    s->state = provisioned ? IMPROV_STATE_PROVISIONED : IMPROV_STATE_AUTHORIZED;
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : IMPROV_DEFAULT_TIMEOUT_MS;
}

void improv_feed(improv_t *s, const uint8_t *bytes, size_t len, uint32_t now_ms)
{
    for (size_t i = 0; i < len; i++) {
        improv_parse_t r = improv_parser_feed(&s->parser, bytes[i]);
        if (r == IMPROV_PARSE_BAD_CHECKSUM) {
            send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_INVALID_RPC); /* as improv-wifi/sdk-cpp */
        } else if (r == IMPROV_PARSE_PACKET && improv_parser_type(&s->parser) == IMPROV_TYPE_RPC) {
            handle_rpc(s, improv_parser_data(&s->parser), improv_parser_length(&s->parser), now_ms);
        }
    }
}

void improv_tick(improv_t *s, uint32_t now_ms)
{
    /* Wrap-safe: the difference of two u32 millisecond counters, read as signed. */
    if (s->attempting && (int32_t)(now_ms - s->deadline_ms) >= 0) {
        fail_attempt(s);
    }
}

void improv_connect_result(improv_t *s, bool connected)
{
    if (!s->attempting) {
        return;
    }
    if (!connected) {
        fail_attempt(s);
        return;
    }
    s->attempting = false;
    bool saved = s->port.save(s->port.ctx, s->ssid, s->pass);
    memset(s->pass, 0, sizeof(s->pass));
    if (!saved) {
        s->port.revert(s->port.ctx);
        send_byte_packet(s, IMPROV_TYPE_ERROR_STATE, IMPROV_ERROR_UNKNOWN);
        set_state(s, IMPROV_STATE_AUTHORIZED);
        return;
    }
    set_state(s, IMPROV_STATE_PROVISIONED);
    send_url(s, IMPROV_CMD_WIFI_SETTINGS);
}

void improv_set_connected(improv_t *s, bool connected)
{
    if (!s->attempting) {
        s->state = connected ? IMPROV_STATE_PROVISIONED : IMPROV_STATE_AUTHORIZED;
    }
}

improv_state_t improv_state(const improv_t *s) { return s->state; }

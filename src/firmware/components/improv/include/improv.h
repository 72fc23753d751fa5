/*
 * improv.h - the Improv Wi-Fi serial protocol, version 1 (https://www.improv-wifi.com/serial/), device side.
 *
 * A client (ESP Web Tools through the npm improv-wifi-serial-sdk, or `wsctl provision`) sends RPC packets over the
 * serial console; the device answers with current-state, error-state and RPC-result packets. Every packet is
 *
 *   "IMPROV" | version (1) | type | length | data[length] | checksum
 *
 * where the checksum is the low byte of the sum of every byte before it. The SDK sends a '\n' after each packet and
 * skips console lines that do not start with "IMPROV", so the device may log on the same UART; packets written here
 * end with '\n' too (ESPHome's improv_serial component does the same).
 *
 * This module does no I/O and keeps no clock: bytes come in through improv_feed, packets go out through the port's
 * write function, the Wi-Fi attempt is the port's, and time is the caller's millisecond counter. One task calls
 * every function of one improv_t (not thread-safe); a port that learns of a Wi-Fi result on another task hands it
 * over (a queue on the device, the same poll loop on the host).
 *
 * Rules (each has a host test in host/tests/improv_test.cpp):
 *  - every RPC first gets error state 0 (no error), as the spec asks;
 *  - RPC 1 (send Wi-Fi settings): state 3 (provisioning), then either state 4 (provisioned) and an RPC result whose
 *    first string is the device's URL, or error 3 (unable to connect) and state 2 (authorized) again. The settings
 *    are saved only after the device connected with them, so a wrong password leaves the previous ones in place
 *    (and the port's revert brings the previous network back). An attempt that has no answer within timeout_ms
 *    counts as unable to connect;
 *  - RPC 2 (request current state): the state, and when provisioned the same RPC result as a provisioning (the
 *    SDK waits for the state first and reads the URL from the result after it);
 *  - RPC 3 (request device information): one RPC result with firmware name, version, chip, device name;
 *  - RPC 4 (request scanned networks): one RPC result per network (SSID, RSSI in dBm, "YES"/"NO" for security),
 *    then an empty one;
 *  - a packet whose checksum is wrong, or an RPC whose lengths do not add up: error 1 (invalid RPC packet);
 *  - an RPC command this device does not know: error 2 (unknown RPC command);
 *  - packets of another type or version from the client are ignored.
 */
#ifndef IMPROV_H
#define IMPROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMPROV_SERIAL_VERSION 1u
#define IMPROV_HEADER "IMPROV"
#define IMPROV_HEADER_LEN 6u
/* "IMPROV", version, type, length; then the data and the checksum. */
#define IMPROV_PREFIX_LEN 9u
#define IMPROV_MAX_DATA 255u
/* The longest packet written: prefix, 255 data bytes, checksum and the trailing '\n'. */
#define IMPROV_MAX_PACKET (IMPROV_PREFIX_LEN + IMPROV_MAX_DATA + 2u)
/* The default bound on one connection attempt (the device's Kconfig WSCTL_IMPROV_TIMEOUT_MS overrides it). */
#define IMPROV_DEFAULT_TIMEOUT_MS 30000u

/* Packet types (spec: "Packet format"). */
typedef enum {
    IMPROV_TYPE_CURRENT_STATE = 0x01,
    IMPROV_TYPE_ERROR_STATE = 0x02,
    IMPROV_TYPE_RPC = 0x03,
    IMPROV_TYPE_RPC_RESULT = 0x04,
} improv_type_t;

/* Current states (spec: "Packet: Current State"). This device needs no authorization: it starts authorized. */
typedef enum {
    IMPROV_STATE_AUTHORIZED = 0x02,
    IMPROV_STATE_PROVISIONING = 0x03,
    IMPROV_STATE_PROVISIONED = 0x04,
} improv_state_t;

/* Error states (spec: "Packet: Error state"). */
typedef enum {
    IMPROV_ERROR_NONE = 0x00,
    IMPROV_ERROR_INVALID_RPC = 0x01,
    IMPROV_ERROR_UNKNOWN_RPC = 0x02,
    IMPROV_ERROR_UNABLE_TO_CONNECT = 0x03,
    IMPROV_ERROR_UNKNOWN = 0xFF,
} improv_error_t;

/* RPC commands this device answers (spec: "Packet: RPC Command"). */
typedef enum {
    IMPROV_CMD_WIFI_SETTINGS = 0x01,
    IMPROV_CMD_GET_CURRENT_STATE = 0x02,
    IMPROV_CMD_GET_DEVICE_INFO = 0x03,
    IMPROV_CMD_GET_WIFI_NETWORKS = 0x04,
} improv_command_t;

/* Credentials as the C strings NVS stores: SSID 1-32 bytes, password empty, 8-63 printable ASCII or 64 hex. */
#define IMPROV_SSID_MAX 32u
#define IMPROV_PASS_MAX 64u

typedef struct {
    char ssid[IMPROV_SSID_MAX + 1];
    int8_t rssi; /* dBm */
    bool secured;
} improv_network_t;

/*
 * What the protocol needs from the device. Every function is called from improv_feed, improv_tick or
 * improv_connect_result, on the caller's task.
 */
typedef struct {
    void *ctx;
    /* Writes one whole packet (at most IMPROV_MAX_PACKET bytes) to the serial port, not interleaved with others. */
    void (*write)(void *ctx, const uint8_t *bytes, size_t len);
    /* Starts joining ssid with pass; returns false if it cannot start. The outcome comes as improv_connect_result. */
    bool (*connect)(void *ctx, const char *ssid, const char *pass);
    /* The attempt failed or took too long: stop it and go back to the previous settings and network. */
    void (*revert)(void *ctx);
    /* Stores ssid and pass where the firmware reads them at boot (NVS "wsctl": ssid, pass); false on failure. */
    bool (*save)(void *ctx, const char *ssid, const char *pass);
    /* Writes the device's URL (e.g. "ws://192.168.1.40:8080/") as a C string; returns its length, 0 if none. */
    size_t (*url)(void *ctx, char *out, size_t cap);
    /* Fills out with up to cap networks in sight; returns how many. May block for the scan. NULL: none. */
    size_t (*scan)(void *ctx, improv_network_t *out, size_t cap);
    /* RPC 3's strings: firmware name, firmware version, hardware chip/variant, device name. */
    const char *firmware_name;
    const char *firmware_version;
    const char *chip;
    const char *device_name;
} improv_port_t;

/* The receive side of the framing: header, version, type, length, data, checksum. */
typedef struct {
    size_t pos; /* bytes of the current packet held in buf */
    uint8_t buf[IMPROV_PREFIX_LEN + IMPROV_MAX_DATA + 1u];
} improv_parser_t;

typedef enum {
    IMPROV_PARSE_MORE,         /* no whole packet yet */
    IMPROV_PARSE_PACKET,       /* a whole packet with a good checksum is in buf (improv_parser_* read it) */
    IMPROV_PARSE_BAD_CHECKSUM, /* a whole packet arrived but its checksum is wrong */
} improv_parse_t;

typedef struct {
    improv_port_t port;
    improv_parser_t parser;
    improv_state_t state;
    bool attempting;      /* a connection attempt is running */
    uint32_t deadline_ms; /* when it counts as failed */
    uint32_t timeout_ms;
    char ssid[IMPROV_SSID_MAX + 1]; /* the settings being tried */
    char pass[IMPROV_PASS_MAX + 1];
} improv_t;

/*
 * Resets the parser to look for a packet header. Bytes outside packets (console lines) are skipped, and a header
 * that breaks off starts over at the byte that broke it.
 */
void improv_parser_init(improv_parser_t *p);

/* Takes one byte. After IMPROV_PARSE_PACKET or IMPROV_PARSE_BAD_CHECKSUM, the next byte starts a new packet. */
improv_parse_t improv_parser_feed(improv_parser_t *p, uint8_t byte);

/* The type, data and data length of the packet improv_parser_feed just reported. */
uint8_t improv_parser_type(const improv_parser_t *p);
const uint8_t *improv_parser_data(const improv_parser_t *p);
size_t improv_parser_length(const improv_parser_t *p);

/*
 * Writes the packet of type with data[len] into out (prefix, data, checksum, '\n'). Returns its length, or 0 if
 * len exceeds IMPROV_MAX_DATA or cap is too small.
 */
size_t improv_encode(uint8_t type, const uint8_t *data, size_t len, uint8_t *out, size_t cap);

/*
 * Writes the RPC result for command with count strings (each at most 255 bytes) as a whole packet into out.
 * Returns its length, or 0 if the strings do not fit one packet or cap is too small.
 */
size_t improv_encode_result(uint8_t command, const char *const *strings, size_t count, uint8_t *out, size_t cap);

/*
 * Starts the service: provisioned says whether the device is on its network now (then RPC 2 answers with state 4
 * and the URL), timeout_ms bounds a connection attempt (0: IMPROV_DEFAULT_TIMEOUT_MS). The port is copied.
 */
void improv_init(improv_t *s, const improv_port_t *port, bool provisioned, uint32_t timeout_ms);

/* Takes bytes read from the serial port; answers the packets among them through port.write. */
void improv_feed(improv_t *s, const uint8_t *bytes, size_t len, uint32_t now_ms);

/* Ends an attempt that passed its deadline (unable to connect). Call it at least every few hundred ms. */
void improv_tick(improv_t *s, uint32_t now_ms);

/*
 * The outcome of the attempt port.connect started: connected, or not (wrong password, network not found). Ignored
 * when no attempt is running (one that already timed out).
 */
void improv_connect_result(improv_t *s, bool connected);

/*
 * The network came up or went down outside an attempt (the previous network back after a revert, a lost access
 * point): state 4 or 2 from now on. Nothing is sent; RPC 2 reports it. Ignored while an attempt runs.
 */
void improv_set_connected(improv_t *s, bool connected);

/* The state now. */
improv_state_t improv_state(const improv_t *s);

/*
 * Whether pass can be stored for a network: "" (open), 8-63 printable ASCII (IEEE 802.11i H.4.1), or 64 hex
 * digits. The same rule as ws_app_valid_password and `wsctl flash`.
 */
bool improv_valid_password(const char *pass, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* IMPROV_H */

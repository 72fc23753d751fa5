/*
 * ws_server_host.c - the firmware's server and app loop as a Linux program, for tests and conformance suites.
 *
 *   ws_server_host --port P [--max-clients N (1-255)] [--max-message BYTES] [--rx-budget BYTES]
 *                  [--hostname NAME] [--allow-origin ORIGIN]... [--counter-interval-ms MS] [--ping-interval-ms MS]
 *                  [--echo] [--improv-stdio | --improv-pty PATH] [--nvs-file PATH] [--sim-ssid NAME]
 *                  [--sim-pass PASS] [--sim-connect-ms MS] [--improv-timeout-ms MS]
 *
 * --rx-budget is the receive budget of all clients together (default: the build's, 98304 like the device, raised
 * to max-message + 1 when that is larger, so a big --max-message alone works). The Origin rule (ws_origin.h) is on
 * as on the device, unless the build turned it off (-DWS_ORIGIN_CHECK=OFF): --hostname is the device's name (default
 * esp32ws; pages at http(s)://NAME.local[:port] whose Host says the same are its own), --allow-origin adds an origin
 * to the allow-list (repeatable; a value may also be a comma-separated list; "*" admits every page); without it the
 * build's list applies (empty unless -DWS_ALLOWED_ORIGINS).
 *
 * OTA (docs/ota-protocol.md; the endpoint /ota, subprotocol wsctl-ota.1):
 *   --ota-dir DIR [--ota-key FILE] [--ota-confirm-timeout DURATION] [--chip TARGET]
 * DIR holds the slots (ota_0.bin, ota_1.bin), otadata.bin, ota_last and reset_reason (ws_ota_port_host.h); at start
 * the program boots it as the bootloader would and runs "the app" in the chosen slot. --ota-key: a file with the key
 * as 64 hex digits (without it /ota answers 403); --ota-confirm-timeout: the time a new app has to be confirmed
 * (default WSCTL_DEFAULT_OTA_CONFIRM_S, 120 s; "2s", "500ms", "2m" or seconds); --chip: the ESP-IDF target whose
 * images load (default esp32c3). A restart (after an update, or a rollback at the deadline) is an exit with status 3:
 * the harness starts the program again with the same arguments; an image whose version ends in "+panic-at-start"
 * aborts (SIGABRT) at start.
 *
 * Prints on stderr the settings ("config: ...") and the Origin rule ("origins: ...") it runs with, with --ota-dir
 * "ota: running VERSION (PROJECT) from SLOT, state STATE, last update {...}" and "ota: /ota ...", then "listening
 * on port N" once it listens; each received message as one line on stdout.
 * SIGINT/SIGTERM: close 1001 to every client, then exit 0. Exit 1: cannot start (no bootable app ...), 2: usage.
 *
 * Improv Wi-Fi serial (host_improv.h): --improv-stdio speaks it on stdin/stdout (beside the printed messages, as the
 * device's console carries its log), --improv-pty PATH on a pseudo-terminal linked at PATH. The simulated Wi-Fi has
 * one network, --sim-ssid with --sim-pass ("" for an open one); joining takes --sim-connect-ms (default 300), and
 * an attempt is bounded by --improv-timeout-ms (default 30000). --nvs-file PATH stands for the NVS partition: its
 * ssid, pass and hostname are read at start (as main.c reads NVS) and Improv stores ssid and pass there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_improv.h"
#include "host_nvs.h"
#include "ws_app.h"
#include "ws_ota.h"
#include "ws_ota_port_host.h"
#include "ws_server.h"

/*
 * The device stops at WSCTL_MAX_CLIENTS_MAX (8) because lwIP's socket table is small (wsctl_limits.h); Linux has no
 * such table, and the benchmarks (bench/run.py) run the host build with more clients.
 */
#define HOST_MAX_CLIENTS 255u /* ws_app_config_t.max_clients is a u8, as in NVS */
#define HOST_EXIT_RESTART 3   /* esp_restart(): the harness starts the program again */
#define HOST_LOOP_MS 100      /* how often the main loop runs the OTA timers and looks for a restart */

_Static_assert(WSCTL_OTA_KEY_BYTES == WS_OTA_KEY_LEN, "wsctl_limits.h and ws_ota_engine.h disagree on the key");

static volatile bool g_stop;

static void usage(FILE *out)
{
    fprintf(out, "usage: ws_server_host --port P [--max-clients N] [--max-message BYTES] [--rx-budget BYTES] "
                 "[--hostname NAME] [--allow-origin ORIGIN]... [--counter-interval-ms MS] [--ping-interval-ms MS] "
                 "[--echo] [--improv-stdio | --improv-pty PATH] [--nvs-file PATH] [--sim-ssid NAME] [--sim-pass PASS] "
                 "[--sim-connect-ms MS] [--improv-timeout-ms MS] "
                 "[--ota-dir DIR [--ota-key FILE] [--ota-confirm-timeout DURATION] [--chip TARGET]]\n");
}

/* A duration: a number of seconds, or a number with the unit ms, s or m. */
static bool parse_duration_ms(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-') {
        return false;
    }
    unsigned long scale = strcmp(end, "ms") == 0 ? 1ul : strcmp(end, "m") == 0 ? 60000ul : 1000ul;
    if (*end != '\0' && strcmp(end, "ms") != 0 && strcmp(end, "s") != 0 && strcmp(end, "m") != 0) {
        return false;
    }
    if (v > UINT32_MAX / 2u / scale) {
        return false;
    }
    *out = (uint32_t)(v * scale);
    return true;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Appends origin to the comma-separated list *list (malloc'd, NULL at first). Returns false if out of memory. */
static bool append_origin(char **list, const char *origin)
{
    size_t had = *list != NULL ? strlen(*list) : 0u, add = strlen(origin);
    char *grown = (char *)realloc(*list, had + 1u + add + 1u);
    if (grown == NULL) {
        return false;
    }
    if (had > 0) {
        grown[had++] = ',';
    }
    memcpy(grown + had, origin, add + 1u);
    *list = grown;
    return true;
}

static void recv_task(void *arg) { ws_app_recv_loop((ws_app_recv_loop_t *)arg); }
static void counter_task(void *arg) { ws_app_counter_loop((ws_app_counter_t *)arg); }

int main(int argc, char **argv)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    bool have_port = false;
    uint32_t rx_budget = 0;
    char *origins = NULL; /* --allow-origin values joined by commas; NULL: the build's list */
    host_improv_cfg_t improv = {.sim_connect_ms = 300, .timeout_ms = 30000};
    const char *ota_dir = NULL, *ota_key = NULL, *chip = "esp32c3";
    uint32_t confirm_ms = WSCTL_DEFAULT_OTA_CONFIRM_S * 1000u;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint32_t v = 0;
        if (strcmp(a, "--echo") == 0) {
            cfg.echo = true;
            continue;
        }
        if (strcmp(a, "--improv-stdio") == 0) {
            improv.stdio = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--port") == 0 && parse_u32(val, 65535, &v)) {
            cfg.port = (uint16_t)v;
            have_port = true;
        } else if (strcmp(a, "--max-clients") == 0 && parse_u32(val, HOST_MAX_CLIENTS, &v) && v > 0) {
            cfg.max_clients = (uint8_t)v;
        } else if (strcmp(a, "--max-message") == 0 && parse_u32(val, 64u * 1024u * 1024u, &v) && v > 0) {
            cfg.max_message = v;
        } else if (strcmp(a, "--rx-budget") == 0 && parse_u32(val, UINT32_MAX - 1u, &v) && v > 0) {
            rx_budget = v;
        } else if (strcmp(a, "--hostname") == 0 && ws_app_valid_hostname(val)) {
            memcpy(cfg.hostname, val, strlen(val) + 1u); /* valid: at most WSCTL_HOSTNAME_MAX characters */
        } else if (strcmp(a, "--allow-origin") == 0) {
            if (!append_origin(&origins, val)) {
                fprintf(stderr, "ws_server_host: out of memory\n");
                return 1;
            }
        } else if (strcmp(a, "--counter-interval-ms") == 0 && parse_u32(val, UINT32_MAX / 2u, &v)) {
            cfg.counter_interval_ms = v;
        } else if (strcmp(a, "--ping-interval-ms") == 0 && parse_u32(val, UINT32_MAX / 2u, &v) && v > 0) {
            cfg.ping_interval_ms = v;
        } else if (strcmp(a, "--improv-pty") == 0) {
            improv.pty_link = val;
        } else if (strcmp(a, "--nvs-file") == 0) {
            improv.nvs_file = val;
        } else if (strcmp(a, "--sim-ssid") == 0) {
            improv.sim_ssid = val;
        } else if (strcmp(a, "--sim-pass") == 0) {
            improv.sim_pass = val;
        } else if (strcmp(a, "--sim-connect-ms") == 0 && parse_u32(val, 600000u, &v)) {
            improv.sim_connect_ms = v;
        } else if (strcmp(a, "--improv-timeout-ms") == 0 && parse_u32(val, 600000u, &v) && v > 0) {
            improv.timeout_ms = v;
        } else if (strcmp(a, "--ota-dir") == 0) {
            ota_dir = val;
        } else if (strcmp(a, "--ota-key") == 0) {
            ota_key = val;
        } else if (strcmp(a, "--chip") == 0) {
            chip = val;
        } else if (strcmp(a, "--ota-confirm-timeout") == 0 && parse_duration_ms(val, &v)) {
            confirm_ms = v;
        } else {
            fprintf(stderr, "ws_server_host: bad option or value: %s %s\n", a, val);
            usage(stderr);
            free(origins);
            return 2;
        }
    }
    if (!have_port || (improv.stdio && improv.pty_link != NULL) || (ota_dir == NULL && ota_key != NULL)) {
        usage(stderr);
        free(origins);
        return 2;
    }
    /* The stored settings, as main.c's load_config reads NVS (the other keys come from the command line here). */
    host_nvs_t stored;
    if (improv.nvs_file != NULL) {
        if (!host_nvs_load(improv.nvs_file, &stored)) {
            fprintf(stderr, "ws_server_host: %s is not an NVS file this build wrote\n", improv.nvs_file);
            free(origins);
            return 2;
        }
        ws_app_overrides_t o = {.ssid = host_nvs_get(&stored, WSCTL_NVS_KEY_SSID),
                                .pass = host_nvs_get(&stored, WSCTL_NVS_KEY_PASS),
                                .hostname = host_nvs_get(&stored, WSCTL_NVS_KEY_HOSTNAME)};
        (void)ws_app_config_merge(&cfg, &o);
    }

    /* The device's boot: the bootloader's choice of slot (and, for a "+panic-at-start" image, the abort). */
    static ws_ota_port_host_t ota_host;
    static ws_ota_port_t ota_port;
    ws_ota_t *ota = NULL;
    if (ota_dir != NULL) {
        char why[300];
        if (ws_ota_port_host_open(&ota_host, ota_dir, ota_key, chip, confirm_ms, why, sizeof(why)) != 0) {
            fprintf(stderr, "ws_server_host: %s\n", why);
            free(origins);
            return strncmp(why, "--", 2) == 0 ? 2 : 1;
        }
        ws_ota_port_host_port(&ota_host, &ota_port);
        if (ws_ota_start(&ota, &ota_port) != WS_OTA_PORT_OK) {
            fprintf(stderr, "ws_server_host: cannot start the OTA endpoint\n");
            free(origins);
            return 1;
        }
    }

    /* Signals are taken synchronously by sigwait in main; every thread created below inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    ws_server_cfg_t scfg;
    ws_app_server_cfg(&cfg, &scfg);
    if (rx_budget == 0) {
        rx_budget = cfg.max_message < WS_SERVER_DEFAULT_RX_BUDGET ? WS_SERVER_DEFAULT_RX_BUDGET : cfg.max_message + 1u;
    }
    scfg.rx_budget = rx_budget;
    scfg.allowed_origins = origins;
    if (ota != NULL) {
        scfg.endpoints = ws_ota_endpoint(ota);
        scfg.endpoint_count = 1;
    }
    ws_err_t err = ws_server_init(&scfg); /* copies the lists and names it is given */
    if (err != WS_OK) {
        free(origins);
        ws_ota_free(ota);
    }
    if (err == WS_ERR_ARG) {
        fprintf(stderr, "ws_server_host: --rx-budget must be larger than --max-message\n");
        return 2;
    }
    if (err != WS_OK) {
        fprintf(stderr, "ws_server_host: cannot start the server on port %u (error %d)\n", (unsigned)cfg.port,
                (int)err);
        return 1;
    }
    cfg.port = ws_server_port();
    char line[200];
    (void)ws_app_config_describe(&cfg, line, sizeof(line));
    fprintf(stderr, "%s\n", line);
    if (WS_SERVER_ORIGIN_CHECK_ON) {
        fprintf(stderr, "origins: rule on, own name %s.local, allowed \"%s\"\n", cfg.hostname,
                origins != NULL ? origins : WS_SERVER_DEFAULT_ALLOWED_ORIGINS);
    } else {
        fprintf(stderr, "origins: rule off in this build (every page admitted)\n");
    }
    free(origins);
    origins = NULL;
    if (ota != NULL) {
        ws_ota_status_t st;
        ws_ota_status(ota, &st);
        fprintf(stderr, "ota: running %s (%s) from %s, state %s, elf %s, last update %s\n", st.version, st.project,
                st.slot, st.state, st.elf_prefix, st.last_update);
        fprintf(stderr, "ota: %s%s, chip %s\n", WS_OTA_PATH,
                st.key_provisioned ? " takes updates (key provisioned)" : " answers 403 (no key provisioned)", chip);
    }
    bool improv_on = improv.stdio || improv.pty_link != NULL;
    improv.ws_port = cfg.port;
    improv.hostname = cfg.hostname;
    if (improv_on && !host_improv_start(&improv, &cfg, &g_stop)) {
        return 1;
    }
    fprintf(stderr, "listening on port %u\n", (unsigned)ws_server_port());
    fflush(stderr);

    ws_app_recv_loop_t loop = {.out = stdout, .stop = &g_stop, .poll_ms = 100};
    ws_app_counter_t counter = {.interval_ms = cfg.counter_interval_ms, .stop = &g_stop, .value = 0};
    ws_port_task_t *recv_t = ws_port_task_start(recv_task, &loop, "ws_recv", 4096, 1);
    ws_port_task_t *counter_t =
        cfg.counter_interval_ms > 0 ? ws_port_task_start(counter_task, &counter, "ws_counter", 4096, 1) : NULL;
    if (recv_t == NULL || (cfg.counter_interval_ms > 0 && counter_t == NULL)) {
        fprintf(stderr, "ws_server_host: cannot start threads\n");
        return 1;
    }

    /* The application's loop: signals, and the OTA timers (the confirmation deadline, the restart after an update). */
    int sig = 0;
    bool restart = false;
    struct timespec tick = {0, HOST_LOOP_MS * 1000000L};
    for (;;) {
        sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig > 0) {
            fprintf(stderr, "signal %d: closing clients with 1001\n", sig);
            break;
        }
        if (ota != NULL && ws_ota_poll(ota) && ws_ota_port_host_restart_requested(&ota_host)) {
            restart = true;
            fprintf(stderr, "ota: restarting (exit status %d)\n", HOST_EXIT_RESTART);
            break;
        }
    }
    g_stop = true;
    ws_port_task_join(counter_t);
    if (improv_on) {
        host_improv_stop();
    }
    ws_server_stop(); /* close 1001 to every client, wait for their close frames */
    ws_port_task_join(recv_t);
    ws_server_release_recv_queue();
    ws_ota_free(ota);
    if (ota != NULL) {
        ws_ota_port_host_close(&ota_host);
    }
    fprintf(stderr, "stopped\n");
    fflush(stderr);
    return restart ? HOST_EXIT_RESTART : 0;
}

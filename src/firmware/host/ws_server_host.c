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
 * Prints on stderr the settings ("config: ...") and the Origin rule ("origins: ...") it runs with, then "listening
 * on port N" once it listens; each received message as one line on stdout.
 * SIGINT/SIGTERM: close 1001 to every client, then exit 0.
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
#include "ws_server.h"

/*
 * The device stops at WSCTL_MAX_CLIENTS_MAX (8) because lwIP's socket table is small (wsctl_limits.h); Linux has no
 * such table, and the benchmarks (bench/run.py) run the host build with more clients.
 */
#define HOST_MAX_CLIENTS 255u /* ws_app_config_t.max_clients is a u8, as in NVS */

static volatile bool g_stop;

static void usage(FILE *out)
{
    fprintf(out, "usage: ws_server_host --port P [--max-clients N] [--max-message BYTES] [--rx-budget BYTES] "
                 "[--hostname NAME] [--allow-origin ORIGIN]... [--counter-interval-ms MS] [--ping-interval-ms MS] "
                 "[--echo] [--improv-stdio | --improv-pty PATH] [--nvs-file PATH] [--sim-ssid NAME] [--sim-pass PASS] "
                 "[--sim-connect-ms MS] [--improv-timeout-ms MS]\n");
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
        } else {
            fprintf(stderr, "ws_server_host: bad option or value: %s %s\n", a, val);
            usage(stderr);
            free(origins);
            return 2;
        }
    }
    if (!have_port || (improv.stdio && improv.pty_link != NULL)) {
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
    ws_err_t err = ws_server_init(&scfg); /* copies the lists and names it is given */
    if (err != WS_OK) {
        free(origins);
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

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "signal %d: closing clients with 1001\n", sig);
    g_stop = true;
    ws_port_task_join(counter_t);
    if (improv_on) {
        host_improv_stop();
    }
    ws_server_stop(); /* close 1001 to every client, wait for their close frames */
    ws_port_task_join(recv_t);
    ws_server_release_recv_queue();
    fprintf(stderr, "stopped\n");
    return 0;
}

/*
 * host_improv.c - see host_improv.h. One thread owns the improv_t: it polls the serial side every 50 ms, feeds the
 * bytes, completes the simulated attempt when its time has come and ticks the deadline.
 */
#define _GNU_SOURCE
#include "host_improv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host_nvs.h"
#include "improv.h"
#include "wsctl_limits.h"

#define POLL_MS 50

static struct {
    host_improv_cfg_t cfg;
    improv_t improv;
    host_nvs_t nvs;
    int in_fd, out_fd, slave_fd;
    volatile bool *stop;
    pthread_t thread;
    bool started;
    /* the simulated station */
    bool pending;    /* an attempt is under way */
    bool pending_ok; /* and it will succeed */
    uint32_t due_ms; /* when it ends */
} g;

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static bool sim_accepts(const char *ssid, const char *pass)
{
    return g.cfg.sim_ssid != NULL && strcmp(ssid, g.cfg.sim_ssid) == 0 && strcmp(pass, g.cfg.sim_pass) == 0;
}

static void port_write(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    if (g.cfg.stdio) {
        /* stdout also carries the received messages (ws_app_print_message): one locked write keeps a packet whole. */
        flockfile(stdout);
        fwrite(bytes, 1, len, stdout);
        fflush(stdout);
        funlockfile(stdout);
        return;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(g.out_fd, bytes + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* a client that went away: the packet is lost, as on a UART nobody listens to */
        }
        off += (size_t)n;
    }
}

static bool port_connect(void *ctx, const char *ssid, const char *pass)
{
    (void)ctx;
    g.pending = true;
    g.pending_ok = sim_accepts(ssid, pass);
    g.due_ms = now_ms() + g.cfg.sim_connect_ms;
    fprintf(stderr, "improv: joining \"%s\"\n", ssid); /* never the password */
    return true;
}

static void port_revert(void *ctx)
{
    (void)ctx;
    g.pending = false;
    const char *ssid = host_nvs_get(&g.nvs, WSCTL_NVS_KEY_SSID), *pass = host_nvs_get(&g.nvs, WSCTL_NVS_KEY_PASS);
    bool back = ssid != NULL && sim_accepts(ssid, pass != NULL ? pass : "");
    fprintf(stderr, "improv: could not join; back to the stored settings (%s)\n", back ? "connected" : "offline");
    improv_set_connected(&g.improv, back);
}

static bool port_save(void *ctx, const char *ssid, const char *pass)
{
    (void)ctx;
    host_nvs_t next = g.nvs;
    if (!host_nvs_set(&next, WSCTL_NVS_KEY_SSID, ssid) || !host_nvs_set(&next, WSCTL_NVS_KEY_PASS, pass)) {
        return false;
    }
    if (g.cfg.nvs_file != NULL && !host_nvs_save(g.cfg.nvs_file, &next)) {
        fprintf(stderr, "improv: cannot write %s: %s\n", g.cfg.nvs_file, strerror(errno));
        return false;
    }
    g.nvs = next;
    fprintf(stderr, "improv: joined \"%s\", settings stored\n", ssid);
    return true;
}

static size_t port_url(void *ctx, char *out, size_t cap)
{
    (void)ctx;
    int n = snprintf(out, cap, "ws://127.0.0.1:%u/", (unsigned)g.cfg.ws_port);
    return n > 0 ? (size_t)n : 0u;
}

static size_t port_scan(void *ctx, improv_network_t *out, size_t cap)
{
    (void)ctx;
    if (g.cfg.sim_ssid == NULL || cap == 0) {
        return 0;
    }
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].ssid, sizeof(out[0].ssid), "%s", g.cfg.sim_ssid);
    out[0].rssi = -52;
    out[0].secured = g.cfg.sim_pass[0] != '\0';
    return 1;
}

static void *run(void *arg)
{
    (void)arg;
    uint8_t buf[256];
    bool open_input = true;
    while (!*g.stop) {
        struct pollfd p = {.fd = g.in_fd, .events = POLLIN};
        int r = open_input ? poll(&p, 1, POLL_MS) : poll(NULL, 0, POLL_MS);
        if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(g.in_fd, buf, sizeof(buf));
            if (n > 0) {
                improv_feed(&g.improv, buf, (size_t)n, now_ms());
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                open_input = false; /* stdin at its end: nothing more will come */
            }
        }
        uint32_t now = now_ms();
        if (g.pending && (int32_t)(now - g.due_ms) >= 0) {
            g.pending = false;
            improv_connect_result(&g.improv, g.pending_ok);
        }
        improv_tick(&g.improv, now);
    }
    return NULL;
}

static bool open_pty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("ws_server_host: posix_openpt");
        return false;
    }
    const char *slave = ptsname(master);
    /* The slave stays open here too, so the master never reads EIO between two clients; raw, as a UART is. */
    g.slave_fd = slave != NULL ? open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    struct termios t;
    if (g.slave_fd < 0 || tcgetattr(g.slave_fd, &t) != 0) {
        perror("ws_server_host: pty");
        return false;
    }
    cfmakeraw(&t);
    tcsetattr(g.slave_fd, TCSANOW, &t);
    unlink(g.cfg.pty_link);
    if (symlink(slave, g.cfg.pty_link) != 0) {
        fprintf(stderr, "ws_server_host: cannot link %s: %s\n", g.cfg.pty_link, strerror(errno));
        return false;
    }
    g.in_fd = g.out_fd = master;
    fprintf(stderr, "improv: pty %s linked at %s\n", slave, g.cfg.pty_link);
    return true;
}

bool host_improv_start(const host_improv_cfg_t *cfg, const ws_app_config_t *app, volatile bool *stop)
{
    memset(&g, 0, sizeof(g));
    g.cfg = *cfg;
    g.stop = stop;
    g.slave_fd = -1;
    if (g.cfg.sim_pass == NULL) {
        g.cfg.sim_pass = "";
    }
    if (g.cfg.nvs_file != NULL && !host_nvs_load(g.cfg.nvs_file, &g.nvs)) {
        fprintf(stderr, "ws_server_host: %s is not an NVS file this build wrote\n", g.cfg.nvs_file);
        return false;
    }
    if (g.cfg.stdio) {
        g.in_fd = STDIN_FILENO;
        g.out_fd = STDOUT_FILENO;
    } else if (!open_pty()) {
        return false;
    }
    const improv_port_t port = {
        .ctx = NULL,
        .write = port_write,
        .connect = port_connect,
        .revert = port_revert,
        .save = port_save,
        .url = port_url,
        .scan = port_scan,
        .firmware_name = "esp32ws",
        .firmware_version = "1.0.0",
        .chip = "host",
        .device_name = app->hostname,
    };
    const char *ssid = host_nvs_get(&g.nvs, WSCTL_NVS_KEY_SSID), *pass = host_nvs_get(&g.nvs, WSCTL_NVS_KEY_PASS);
    bool connected = ssid != NULL && sim_accepts(ssid, pass != NULL ? pass : "");
    improv_init(&g.improv, &port, connected, g.cfg.timeout_ms);
    fprintf(stderr, "improv: %s, simulated network \"%s\", %s\n", g.cfg.stdio ? "stdin/stdout" : "pty",
            g.cfg.sim_ssid != NULL ? g.cfg.sim_ssid : "", connected ? "connected" : "not connected");
    if (pthread_create(&g.thread, NULL, run, NULL) != 0) {
        return false;
    }
    g.started = true;
    return true;
}

void host_improv_stop(void)
{
    if (g.started) {
        pthread_join(g.thread, NULL);
        g.started = false;
    }
    if (g.cfg.pty_link != NULL) {
        unlink(g.cfg.pty_link);
        close(g.slave_fd);
        close(g.in_fd);
    }
}

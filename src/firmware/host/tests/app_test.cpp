// Application logic shared with the firmware: config merge, counter JSON, message printing.
#include <gtest/gtest.h>

#include "c_api.h"

TEST(AppConfig, Defaults_MatchKconfigDefaults)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    EXPECT_EQ(cfg.port, 8080);
    EXPECT_EQ(cfg.max_clients, 5);
    EXPECT_STREQ(cfg.hostname, "esp32ws");
    EXPECT_EQ(cfg.max_message, 65536u);
    EXPECT_EQ(cfg.counter_interval_ms, 5000u);
    EXPECT_STREQ(WSCTL_NVS_NAMESPACE, "wsctl");
}

TEST(AppConfig, StoredValues_OverrideDefaults)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    ws_app_overrides_t s = {"home", "secret99", "kitchen", true, 9000, true, 3, false, 0, false, 0};
    unsigned set = ws_app_config_merge(&cfg, &s);
    EXPECT_EQ(set, WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_HOSTNAME | WS_APP_SET_PORT | WS_APP_SET_MAX_CLIENTS);
    EXPECT_STREQ(cfg.ssid, "home");
    EXPECT_STREQ(cfg.pass, "secret99");
    EXPECT_STREQ(cfg.hostname, "kitchen");
    EXPECT_EQ(cfg.port, 9000);
    EXPECT_EQ(cfg.max_clients, 3);
}

TEST(AppConfig, InvalidStoredValues_KeepDefaultsAndAreReported)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    std::string long_ssid(33, 's');
    ws_app_overrides_t s = {long_ssid.c_str(), "", "", true, 0, true, 0, false, 0, false, 0};
    unsigned set = ws_app_config_merge(&cfg, &s);
    EXPECT_EQ(set, WS_APP_SET_PASS | WS_APP_REJECTED); // an empty password is an open network
    EXPECT_STREQ(cfg.ssid, "");
    EXPECT_STREQ(cfg.hostname, "esp32ws");
    EXPECT_EQ(cfg.port, 8080);
    EXPECT_EQ(cfg.max_clients, 5);
    ws_app_overrides_t none = {};
    EXPECT_EQ(ws_app_config_merge(&cfg, &none), 0u);
}

// The limits of wsctl_limits.h, which `wsctl flash` enforces too: a value at the limit is taken, one past it is
// refused and the default kept (and reported), never cut short.
TEST(AppConfig, Limits_AtTheEdge_TakenOrRefusedLikeWsctlFlash)
{
    struct Case {
        std::string ssid, pass, hostname;
        unsigned max_clients;
        unsigned expect;
    };
    const std::string ssid32(WSCTL_SSID_MAX_BYTES, 's'), host32(WSCTL_HOSTNAME_MAX, 'h');
    const std::string phrase63(WSCTL_PASS_PHRASE_MAX, 'p'), hex64(WSCTL_PASS_PSK_HEX_LEN, 'a');
    const Case cases[] = {
        {ssid32, phrase63, host32, WSCTL_MAX_CLIENTS_MAX,
         WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_HOSTNAME | WS_APP_SET_MAX_CLIENTS},
        {ssid32 + "s", "", "", 0, WS_APP_SET_PASS | WS_APP_REJECTED}, // 33-byte SSID
        {"n", hex64, "esp32ws", WSCTL_MAX_CLIENTS_MIN,
         WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_HOSTNAME | WS_APP_SET_MAX_CLIENTS}, // 64 hex digits
        {"n", std::string(WSCTL_PASS_PSK_HEX_LEN, 'g'), "x", 1,
         WS_APP_SET_SSID | WS_APP_SET_HOSTNAME | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED},
        {"n", std::string(WSCTL_PASS_PHRASE_MIN - 1, 'p'), "x", 1,
         WS_APP_SET_SSID | WS_APP_SET_HOSTNAME | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED}, // 7 characters
        {"n", "pass\x01word", "x", 1, WS_APP_SET_SSID | WS_APP_SET_HOSTNAME | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED},
        {"n", "password", host32 + "h", 1,
         WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED},
        {"n", "password", "-lab", 1, WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED},
        {"n", "password", "bad_name", 1, WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_MAX_CLIENTS | WS_APP_REJECTED},
        {"n", "password", "lab-7", WSCTL_MAX_CLIENTS_MAX + 1,
         WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_HOSTNAME | WS_APP_REJECTED},
    };
    for (const Case &c : cases) {
        ws_app_config_t cfg;
        ws_app_config_defaults(&cfg);
        ws_app_overrides_t s = {c.ssid.c_str(),
                                c.pass.c_str(),
                                c.hostname.c_str(),
                                false,
                                0,
                                true,
                                static_cast<uint8_t>(c.max_clients),
                                false,
                                0,
                                false,
                                0};
        EXPECT_EQ(ws_app_config_merge(&cfg, &s), c.expect) << c.ssid.size() << "/" << c.pass << "/" << c.hostname;
        if (!(c.expect & WS_APP_SET_HOSTNAME)) {
            EXPECT_STREQ(cfg.hostname, WSCTL_DEFAULT_HOSTNAME);
        }
        if (!(c.expect & WS_APP_SET_MAX_CLIENTS)) {
            EXPECT_EQ(cfg.max_clients, WSCTL_DEFAULT_MAX_CLIENTS);
        }
    }
}

// NVS keys echo (u8) and counter_ms (u32), written by `wsctl flash --device-echo` and `--counter-interval`.
TEST(AppConfig, StoredEchoAndCounter_OverrideDefaults)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    EXPECT_FALSE(cfg.echo);
    ws_app_overrides_t s = {};
    s.has_echo = true;
    s.echo = 1;
    s.has_counter_ms = true;
    s.counter_ms = 0; // no counter
    EXPECT_EQ(ws_app_config_merge(&cfg, &s), WS_APP_SET_ECHO | WS_APP_SET_COUNTER);
    EXPECT_TRUE(cfg.echo);
    EXPECT_EQ(cfg.counter_interval_ms, 0u);
    s.echo = 0;
    s.counter_ms = WSCTL_COUNTER_INTERVAL_MAX_MS;
    EXPECT_EQ(ws_app_config_merge(&cfg, &s), WS_APP_SET_ECHO | WS_APP_SET_COUNTER);
    EXPECT_FALSE(cfg.echo);
    EXPECT_EQ(cfg.counter_interval_ms, static_cast<uint32_t>(WSCTL_COUNTER_INTERVAL_MAX_MS));
    ws_server_cfg_t server;
    cfg.echo = true;
    ws_app_server_cfg(&cfg, &server);
    EXPECT_TRUE(server.echo); // echo mode is the server's (it answers on its own task)
}

TEST(AppConfig, InvalidStoredEchoAndCounter_KeepDefaultsAndAreReported)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    ws_app_overrides_t s = {};
    s.has_echo = true;
    s.echo = 2; // written by another tool: neither off nor on
    s.has_counter_ms = true;
    s.counter_ms = WSCTL_COUNTER_INTERVAL_MAX_MS + 1u;
    EXPECT_EQ(ws_app_config_merge(&cfg, &s), WS_APP_REJECTED);
    EXPECT_FALSE(cfg.echo);
    EXPECT_EQ(cfg.counter_interval_ms, static_cast<uint32_t>(WSCTL_DEFAULT_COUNTER_INTERVAL_MS));
}

// The line the firmware logs at boot: every setting it uses, never the password.
TEST(AppConfig, Describe_NamesEverySettingButThePassword)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    ws_app_overrides_t s = {"home", "secret99", "kitchen", true, 9000, true, 3, false, 0, false, 0};
    ws_app_config_merge(&cfg, &s);
    char line[160];
    size_t n = ws_app_config_describe(&cfg, line, sizeof(line));
    EXPECT_EQ(std::string(line, n),
              "config: ssid \"home\", host kitchen, port 9000, max clients 3, echo off, counter every 5000 ms");
    cfg.echo = true;
    cfg.counter_interval_ms = 0;
    n = ws_app_config_describe(&cfg, line, sizeof(line));
    EXPECT_EQ(std::string(line, n),
              "config: ssid \"home\", host kitchen, port 9000, max clients 3, echo on, counter off");
    EXPECT_EQ(std::string(line).find("secret99"), std::string::npos);
    n = ws_app_config_describe(&cfg, line, 12); // cut short like snprintf, NUL-terminated
    EXPECT_EQ(n, 11u);
    EXPECT_STREQ(line, "config: ssi");
}

// The numbers behind WSCTL_MAX_CLIENTS_MAX: the server's sockets at that many clients plus the spare ones fill
// lwIP's table exactly (the C# test checks sdkconfig.defaults holds the same CONFIG_LWIP_MAX_SOCKETS).
TEST(AppConfig, MaxClients_FitsLwipSockets)
{
    EXPECT_EQ(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX), 14u); // 1 listener + 8 + 4 extra slots + 1 for a 503
    EXPECT_LE(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX) + WSCTL_SOCKETS_SPARE, (unsigned)WSCTL_LWIP_MAX_SOCKETS);
    EXPECT_GT(WS_SERVER_SOCKETS(WSCTL_MAX_CLIENTS_MAX + 1) + WSCTL_SOCKETS_SPARE, (unsigned)WSCTL_LWIP_MAX_SOCKETS);
}

// The firmware's _ws._tcp TXT record has serve's keys in serve's order (ServiceAdvertisement.WebSocket), then its own.
TEST(AppMdns, Txt_PathMaxClientsVersion)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    cfg.max_clients = WSCTL_MAX_CLIENTS_MAX;
    char number[WS_APP_TXT_NUMBER_LEN];
    ws_app_txt_t txt[WS_APP_TXT_COUNT];
    ws_app_running_t run = {"1.0.0", nullptr, nullptr, nullptr};
    size_t n = ws_app_mdns_txt(&cfg, &run, number, txt);
    std::vector<std::string> got;
    for (size_t i = 0; i < n; i++) {
        got.push_back(std::string(txt[i].key) + "=" + txt[i].value);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"path=/", "max_clients=8", "version=1.0.0"}));
    cfg.max_clients = 255;
    ws_app_mdns_txt(&cfg, &run, number, txt);
    EXPECT_STREQ(txt[1].value, "255");
}

TEST(AppMdns, Txt_WithTheRunningApp_AddsElfSlotAndOtaStateAfterServesKeys)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    char number[WS_APP_TXT_NUMBER_LEN];
    ws_app_txt_t txt[WS_APP_TXT_COUNT];
    ws_app_running_t run = {"1.3.0", "0123abcd", "ota_1", "pending_verify"};
    size_t n = ws_app_mdns_txt(&cfg, &run, number, txt);
    std::vector<std::string> got;
    for (size_t i = 0; i < n; i++) {
        got.push_back(std::string(txt[i].key) + "=" + txt[i].value);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"path=/", "max_clients=5", "version=1.3.0", "elf=0123abcd", "slot=ota_1",
                                             "ota=pending_verify"}));
}

TEST(AppCounter, Json_MatchesSeedFormat)
{
    char out[96];
    size_t n = ws_app_format_counter(out, sizeof(out), 42);
    EXPECT_EQ(std::string(out, n), R"({"type":"message","data":{"sensor":"counter","value":42}})");
    n = ws_app_format_counter(out, sizeof(out), 4294967295u);
    EXPECT_EQ(std::string(out, n), R"({"type":"message","data":{"sensor":"counter","value":4294967295}})");
    EXPECT_EQ(ws_app_format_counter(out, 10, 1), 0u);
}

TEST(AppPrint, TextAndBinary_PrintedAsOneLine)
{
    char *buf = nullptr;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    uint8_t text[] = "two\nlines";
    ws_queue_item_t t = {text, 9, 0, WS_OP_TXT, 1};
    uint8_t bin[] = {0x00, 0xff};
    ws_queue_item_t b = {bin, 2, 0, WS_OP_BIN, 1};
    ws_app_print_message(f, &t);
    ws_app_print_message(f, &b);
    fclose(f);
    EXPECT_EQ(std::string(buf, size), "two\\nlines\nbinary 2:00ff\n");
    free(buf);
}

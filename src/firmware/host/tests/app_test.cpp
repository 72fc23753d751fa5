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
    EXPECT_STREQ(WS_APP_NVS_NAMESPACE, "wsctl");
}

TEST(AppConfig, StoredValues_OverrideDefaults)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    ws_app_overrides_t s = {"home", "secret", "kitchen", true, 9000, true, 3};
    unsigned set = ws_app_config_merge(&cfg, &s);
    EXPECT_EQ(set, WS_APP_SET_SSID | WS_APP_SET_PASS | WS_APP_SET_HOSTNAME | WS_APP_SET_PORT | WS_APP_SET_MAX_CLIENTS);
    EXPECT_STREQ(cfg.ssid, "home");
    EXPECT_STREQ(cfg.pass, "secret");
    EXPECT_STREQ(cfg.hostname, "kitchen");
    EXPECT_EQ(cfg.port, 9000);
    EXPECT_EQ(cfg.max_clients, 3);
}

TEST(AppConfig, InvalidStoredValues_KeepDefaultsAndAreReported)
{
    ws_app_config_t cfg;
    ws_app_config_defaults(&cfg);
    std::string long_ssid(33, 's');
    ws_app_overrides_t s = {long_ssid.c_str(), "", "", true, 0, true, 0};
    unsigned set = ws_app_config_merge(&cfg, &s);
    EXPECT_EQ(set, WS_APP_SET_PASS | WS_APP_REJECTED); // an empty password is an open network
    EXPECT_STREQ(cfg.ssid, "");
    EXPECT_STREQ(cfg.hostname, "esp32ws");
    EXPECT_EQ(cfg.port, 8080);
    EXPECT_EQ(cfg.max_clients, 5);
    ws_app_overrides_t none = {};
    EXPECT_EQ(ws_app_config_merge(&cfg, &none), 0u);
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

// The OTA protocol engine (ws_ota_engine.h) against a fake port: every message in every state, the refusals before
// anything is erased, acknowledgements, the read-back hash, confirm, the deadline, the back-off, the stored outcome.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ota_fixtures.h"

namespace
{

std::string Hex(const uint8_t *d, size_t n)
{
    char buf[129];
    ws_json_hex(d, n, buf);
    return buf;
}

struct FakePort {
    ws_ota_running_t run{};
    bool has_key = true;
    uint8_t key[32];
    Bytes slot;
    bool slot_open = false;
    int begins = 0, aborts = 0, ends = 0, set_boots = 0, restarts = 0, mark_valids = 0, mark_invalids = 0;
    bool fail_begin = false, fail_write = false, fail_read = false, flip_on_read = false;
    int end_result = WS_OTA_PORT_OK, set_boot_result = WS_OTA_PORT_OK, mark_valid_result = WS_OTA_PORT_OK,
        mark_invalid_result = WS_OTA_PORT_OK;
    std::string last;
    bool has_last = false;
    std::string invalid_slot;
    bool invalid_self = false;
    ws_ota_reset_t reset = WS_OTA_RESET_POWER_ON;
    uint32_t confirm = 120000;
    uint8_t counter = 0;
    uint32_t clock = 1000; // now_ms: the fixture's `now` unless a read takes time
    uint32_t read_ms = 0;  // what each slot_read adds to the clock (the ESP32's flash reads)
    std::vector<std::string> logs;
    ws_ota_port_t port{};

    FakePort()
    {
        for (int i = 0; i < 32; i++) {
            key[i] = static_cast<uint8_t>(0xA0 + i);
        }
        memcpy(run.chip, "esp32c3", 8);
        run.chip_id = 5;
        Bytes desc = AppDesc("1.0.0", "esp32ws", 1);
        memcpy(run.app_desc, desc.data(), 256);
        memcpy(run.running_slot, "ota_0", 6);
        memcpy(run.update_slot, "ota_1", 6);
        run.update_slot_size = 0x1F0000;
        run.state = WS_OTA_STATE_VALID;
        port.ctx = this;
        port.running = [](void *c, ws_ota_running_t *out) {
            *out = Self(c)->run;
            return WS_OTA_PORT_OK;
        };
        port.slot_begin = [](void *c, uint32_t) {
            FakePort *p = Self(c);
            p->begins++;
            if (p->fail_begin) {
                return WS_OTA_PORT_ERR_FLASH;
            }
            p->slot.clear();
            p->slot_open = true;
            return WS_OTA_PORT_OK;
        };
        port.slot_write = [](void *c, const uint8_t *d, size_t n) {
            FakePort *p = Self(c);
            EXPECT_TRUE(p->slot_open);
            if (p->fail_write) {
                return WS_OTA_PORT_ERR_FLASH;
            }
            p->slot.insert(p->slot.end(), d, d + n);
            return WS_OTA_PORT_OK;
        };
        port.slot_end = [](void *c) {
            FakePort *p = Self(c);
            p->ends++;
            p->slot_open = false;
            return p->end_result;
        };
        port.slot_abort = [](void *c) {
            FakePort *p = Self(c);
            p->aborts++;
            p->slot_open = false;
        };
        port.slot_read = [](void *c, uint32_t off, uint8_t *buf, size_t n) {
            FakePort *p = Self(c);
            if (p->fail_read || off + n > p->slot.size()) {
                return WS_OTA_PORT_ERR_FLASH;
            }
            memcpy(buf, p->slot.data() + off, n);
            p->clock += p->read_ms;
            if (p->flip_on_read && off == 0) {
                buf[100] ^= 1; // what landed differs from what arrived
            }
            return WS_OTA_PORT_OK;
        };
        port.set_boot = [](void *c) {
            Self(c)->set_boots++;
            return Self(c)->set_boot_result;
        };
        port.restart = [](void *c) { Self(c)->restarts++; };
        port.mark_valid = [](void *c) {
            Self(c)->mark_valids++;
            return Self(c)->mark_valid_result;
        };
        port.mark_invalid = [](void *c) {
            Self(c)->mark_invalids++;
            return Self(c)->mark_invalid_result;
        };
        port.last_invalid = [](void *c, char slot[WS_OTA_SLOT_NAME_MAX + 1], bool *self_marked) {
            FakePort *p = Self(c);
            if (p->invalid_slot.empty()) {
                return WS_OTA_PORT_ERR_NOT_FOUND;
            }
            snprintf(slot, WS_OTA_SLOT_NAME_MAX + 1, "%s", p->invalid_slot.c_str());
            *self_marked = p->invalid_self;
            return WS_OTA_PORT_OK;
        };
        port.reset_reason = [](void *c) { return Self(c)->reset; };
        port.key = [](void *c, uint8_t k[32]) {
            if (!Self(c)->has_key) {
                return WS_OTA_PORT_ERR_NOT_FOUND;
            }
            memcpy(k, Self(c)->key, 32);
            return WS_OTA_PORT_OK;
        };
        port.confirm_ms = [](void *c) { return Self(c)->confirm; };
        port.load_last = [](void *c, char *buf, size_t cap) {
            FakePort *p = Self(c);
            if (!p->has_last || p->last.size() >= cap) {
                return WS_OTA_PORT_ERR_NOT_FOUND;
            }
            memcpy(buf, p->last.c_str(), p->last.size() + 1);
            return static_cast<int>(p->last.size());
        };
        port.store_last = [](void *c, const char *json) {
            Self(c)->last = json;
            Self(c)->has_last = true;
            return WS_OTA_PORT_OK;
        };
        port.random = [](void *c, uint8_t *buf, size_t n) {
            for (size_t i = 0; i < n; i++) {
                buf[i] = static_cast<uint8_t>(Self(c)->counter++ * 37 + i);
            }
        };
        port.now_ms = [](void *c) { return Self(c)->clock; };
        port.log = [](void *c, const char *line) { Self(c)->logs.push_back(line); };
    }
    static FakePort *Self(void *c) { return static_cast<FakePort *>(c); }
    void SetRunning(const std::string &version, uint8_t elf_seed, const char *slot, ws_ota_state_t state)
    {
        Bytes desc = AppDesc(version, "esp32ws", elf_seed);
        memcpy(run.app_desc, desc.data(), 256);
        snprintf(run.running_slot, sizeof(run.running_slot), "%s", slot);
        snprintf(run.update_slot, sizeof(run.update_slot), "%s", strcmp(slot, "ota_0") == 0 ? "ota_1" : "ota_0");
        run.state = state;
    }
};

std::vector<std::string> Messages(const ws_ota_out_t &out)
{
    std::vector<std::string> v;
    for (size_t i = 0; i < out.count; i++) {
        v.emplace_back(out.buf + out.offset[i], out.length[i]);
    }
    return v;
}

std::string Field(const std::string &json, const std::string &key)
{
    size_t at = json.find("\"" + key + "\":");
    if (at == std::string::npos) {
        return "";
    }
    at += key.size() + 3;
    if (json[at] == '"') {
        return json.substr(at + 1, json.find('"', at + 1) - at - 1);
    }
    size_t end = json.find_first_of(",}", at);
    return json.substr(at, end - at);
}

std::string Mac(const uint8_t key[32], const std::string &nonce_hex, const std::string &what, const Bytes &data)
{
    uint8_t nonce[32];
    EXPECT_TRUE(ws_json_unhex(nonce_hex.data(), nonce_hex.size(), nonce, 32));
    ws_hmac_sha256_ctx_t h;
    ws_hmac_sha256_init(&h, key, 32);
    ws_hmac_sha256_update(&h, "wsctl-ota.1", 11);
    ws_hmac_sha256_update(&h, nonce, 32);
    ws_hmac_sha256_update(&h, what.data(), what.size());
    ws_hmac_sha256_update(&h, data.data(), data.size());
    uint8_t mac[32];
    ws_hmac_sha256_final(&h, mac);
    return Hex(mac, 32);
}

class OtaEngine : public ::testing::Test
{
  protected:
    FakePort fake;
    ws_ota_engine_t e;
    ws_ota_out_t out;
    std::string nonce;
    uint32_t now = 1000;

    void Init(uint32_t window = 0) { ASSERT_EQ(ws_ota_engine_init(&e, &fake.port, window, now), WS_OTA_PORT_OK); }
    std::string Open()
    {
        ws_ota_answer_t ans;
        ws_ota_engine_handshake(&e, true, now, &ans);
        EXPECT_EQ(ans.status, 101);
        ws_ota_engine_open(&e, now, &out);
        EXPECT_EQ(out.count, 1u);
        std::string hello = Messages(out)[0];
        nonce = Field(hello, "nonce");
        return hello;
    }
    std::vector<std::string> Text(const std::string &s)
    {
        ws_ota_engine_text(&e, s.data(), s.size(), now, &out);
        return Messages(out);
    }
    std::vector<std::string> Binary(const Bytes &b, size_t from = 0, size_t n = SIZE_MAX)
    {
        n = std::min(n, b.size() - from);
        ws_ota_engine_binary(&e, b.data() + from, n, now, &out);
        return Messages(out);
    }
    std::string BeginJson(uint64_t size, const Bytes &image, bool force = false, const uint8_t *key = nullptr)
    {
        uint8_t sha[32];
        ws_sha256(image.data(), image.size(), sha);
        Bytes data;
        for (int i = 7; i >= 0; i--) {
            data.push_back(static_cast<uint8_t>(size >> (8 * i)));
        }
        data.insert(data.end(), sha, sha + 32);
        data.push_back(force ? 1 : 0);
        return "{\"type\":\"begin\",\"size\":" + std::to_string(size) + ",\"sha256\":\"" + Hex(sha, 32) +
               "\",\"force\":" + (force ? "true" : "false") + ",\"auth\":\"" +
               Mac(key ? key : fake.key, nonce, "begin", data) + "\"}";
    }
    std::vector<std::string> Begin(const Bytes &image, bool force = false)
    {
        return Text(BeginJson(image.size(), image, force));
    }
    std::string ConfirmJson(const std::string &version, uint8_t elf_seed, const uint8_t *key = nullptr)
    {
        Bytes elf(32);
        for (int i = 0; i < 32; i++) {
            elf[i] = static_cast<uint8_t>(elf_seed + i);
        }
        return "{\"type\":\"confirm\",\"version\":\"" + version + "\",\"elf_sha256\":\"" + Hex(elf.data(), 32) +
               "\",\"auth\":\"" + Mac(key ? key : fake.key, nonce, "confirm", elf) + "\"}";
    }
    // Sends the whole image in frames of n bytes; returns every message the device sent.
    std::vector<std::string> SendAll(const Bytes &image, size_t n = 16384)
    {
        std::vector<std::string> all;
        for (size_t at = 0; at < image.size() && out.close_code == 0; at += n) {
            for (auto &m : Binary(image, at, n)) {
                all.push_back(m);
            }
        }
        return all;
    }
};

} // namespace

TEST_F(OtaEngine, Handshake_RefusalsInOrder)
{
    Init();
    ws_ota_answer_t ans;
    fake.has_key = false;
    ws_ota_engine_handshake(&e, false, now, &ans);
    EXPECT_EQ(ans.status, 403);
    EXPECT_STREQ(ans.body, "ota disabled: no key provisioned\n");
    fake.has_key = true;
    ws_ota_engine_handshake(&e, false, now, &ans);
    EXPECT_EQ(ans.status, 400);
    EXPECT_STREQ(ans.body, "ota needs subprotocol wsctl-ota.1\n");
    Open();
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.status, 409);
    EXPECT_STREQ(ans.body, "an update is in progress\n");
    ws_ota_engine_closed(&e, now);
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.status, 101);
}

TEST_F(OtaEngine, Hello_DescribesTheRunningApp)
{
    Init();
    std::string hello = Open();
    EXPECT_EQ(Field(hello, "type"), "hello");
    EXPECT_EQ(Field(hello, "protocol"), "wsctl-ota.1");
    EXPECT_EQ(nonce.size(), 64u);
    EXPECT_EQ(Field(hello, "chip"), "esp32c3");
    EXPECT_EQ(Field(hello, "project"), "esp32ws");
    EXPECT_EQ(Field(hello, "version"), "1.0.0");
    EXPECT_EQ(Field(hello, "elf_sha256").substr(0, 8), "01020304");
    EXPECT_EQ(Field(hello, "running_slot"), "ota_0");
    EXPECT_EQ(Field(hello, "state"), "valid");
    EXPECT_EQ(Field(hello, "slot_size"), "2031616");
    EXPECT_NE(hello.find("\"last_update\":{\"result\":\"none\"}"), std::string::npos) << hello;
    ws_ota_engine_closed(&e, now);
    Open();
    EXPECT_NE(Field(hello, "nonce"), nonce); // a new nonce per connection
}

TEST_F(OtaEngine, Update_WholeFlow_ReadyProgressRebootingAndRestart)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 300000, true, 7);
    auto ready = Begin(image);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0], "{\"type\":\"ready\",\"window\":131072}");
    std::vector<std::string> all = SendAll(image);
    ASSERT_GE(all.size(), 2u);
    std::vector<std::string> progress(all.begin(), all.end() - 1);
    for (size_t i = 0; i + 1 < progress.size(); i++) {
        EXPECT_EQ(Field(progress[i], "written"), std::to_string(65536 * (i + 1))); // every 64 KiB
    }
    EXPECT_EQ(Field(progress.back(), "written"), std::to_string(image.size())); // and the last byte
    EXPECT_EQ(all.back(), "{\"type\":\"rebooting\",\"slot\":\"ota_1\"}");
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_GOING_AWAY);
    EXPECT_TRUE(out.events & WS_OTA_EV_REBOOTING);
    EXPECT_EQ(fake.slot, image);
    EXPECT_EQ(fake.ends, 1);
    EXPECT_EQ(fake.set_boots, 1);
    EXPECT_EQ(fake.aborts, 0);
    EXPECT_EQ(Field(fake.last, "result"), "pending");
    EXPECT_EQ(Field(fake.last, "version"), "2.0.0");
    EXPECT_EQ(Field(fake.last, "slot"), "ota_1");
    // Restart once the peer has closed, not before, and nothing new is accepted meanwhile.
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 10));
    ws_ota_answer_t ans;
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.status, 503);
    ws_ota_engine_closed(&e, now + 20);
    EXPECT_TRUE(ws_ota_engine_poll(&e, now + 20));
    EXPECT_EQ(fake.restarts, 1);
}

TEST_F(OtaEngine, Update_PeerNeverCloses_RestartAfterTheGrace)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 2000);
    Begin(image);
    SendAll(image);
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + WS_OTA_RESTART_GRACE_MS - 1));
    EXPECT_TRUE(ws_ota_engine_poll(&e, now + WS_OTA_RESTART_GRACE_MS));
    EXPECT_EQ(fake.restarts, 1);
}

// Reading the slot back and hashing it took 12 s on the emulated ESP32: the grace after `rebooting` counts from the
// verification's end, not from the last message's arrival, or the device restarts before `rebooting` leaves it.
TEST_F(OtaEngine, Update_SlowReadBack_GraceCountsFromTheVerification)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 2000);
    Begin(image);
    fake.read_ms = WS_OTA_RESTART_GRACE_MS; // each read of the slot outlasts the whole grace
    SendAll(image);
    uint32_t verified = fake.clock;
    ASSERT_GE(verified, now + WS_OTA_RESTART_GRACE_MS);
    EXPECT_FALSE(ws_ota_engine_poll(&e, verified));
    EXPECT_FALSE(ws_ota_engine_poll(&e, verified + WS_OTA_RESTART_GRACE_MS - 1));
    EXPECT_TRUE(ws_ota_engine_poll(&e, verified + WS_OTA_RESTART_GRACE_MS));
    EXPECT_EQ(fake.restarts, 1);
}

TEST_F(OtaEngine, Head_SplitIntoSingleBytes_CheckedOnceComplete)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 1000);
    Begin(image);
    for (size_t i = 0; i < WS_OTA_IMAGE_HEAD_LEN - 1; i++) {
        ASSERT_TRUE(Binary(image, i, 1).empty());
        ASSERT_EQ(fake.begins, 0) << "erased before the head was complete";
    }
    Binary(image, WS_OTA_IMAGE_HEAD_LEN - 1, 1);
    EXPECT_EQ(fake.begins, 1);
    SendAll(Bytes(image.begin() + WS_OTA_IMAGE_HEAD_LEN, image.end()), 7);
    EXPECT_EQ(fake.slot, image);
}

TEST_F(OtaEngine, Head_RefusalsBeforeAnythingIsErased)
{
    struct Case {
        Bytes image;
        bool force;
        const char *code;
    } cases[] = {
        {BuildImage("2.0.0", "esp32ws", 0, 4000), false, "wrong_chip"},
        {BuildImage("2.0.0", "other", 5, 4000), false, "wrong_project"},
        {Bytes(4000, 0xE9), false, "not_an_image"},
        {Bytes(4000, 0x00), false, "not_an_image"},
    };
    Init();
    for (const Case &c : cases) {
        Open();
        Begin(c.image, c.force);
        auto msgs = Binary(c.image);
        ASSERT_EQ(msgs.size(), 1u) << c.code;
        EXPECT_EQ(Field(msgs[0], "type"), "error");
        EXPECT_EQ(Field(msgs[0], "code"), c.code);
        EXPECT_FALSE(Field(msgs[0], "message").empty());
        EXPECT_EQ(out.close_code, WS_OTA_CLOSE_POLICY);
        EXPECT_EQ(fake.begins, 0) << c.code;
        ws_ota_engine_closed(&e, now);
    }
    Open();
    Bytes other = BuildImage("2.0.0", "other", 5, 4000);
    Begin(other, true);
    SendAll(other);
    EXPECT_EQ(Messages(out).back(), "{\"type\":\"rebooting\",\"slot\":\"ota_1\"}"); // force: another project is fine
}

TEST_F(OtaEngine, Begin_RefusedSizesAndStates)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0");
    auto msgs = Text(BeginJson(0x1F0001, image));
    EXPECT_EQ(Field(msgs.at(0), "code"), "too_big");
    ws_ota_engine_closed(&e, now);
    Open();
    msgs = Text(BeginJson(287, image));
    EXPECT_EQ(Field(msgs.at(0), "code"), "not_an_image");
    ws_ota_engine_closed(&e, now);
    fake.SetRunning("1.0.0", 1, "ota_0", WS_OTA_STATE_PENDING_VERIFY);
    Init();
    Open();
    msgs = Begin(image);
    EXPECT_EQ(Field(msgs.at(0), "code"), "pending_verify"); // esp_ota_begin would refuse it
    EXPECT_EQ(fake.begins, 0);
}

TEST_F(OtaEngine, Begin_Malformed_Close1002)
{
    const char *bad[] = {
        "not json",
        "{\"type\":\"begin\"}",
        "{\"type\":\"begin\",\"size\":-1,\"sha256\":\"00\"}",
        "{\"type\":\"begin\",\"size\":1000,\"sha256\":\"xyz\",\"auth\":\"00\"}",
        "{\"type\":\"begin\",\"size\":1000,\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaa\",\"auth\":\"00\"}", // not 64 hex digits
        "{\"type\":\"hello\"}",
        "{\"nope\":1}",
        "{\"type\":\"begin\",\"x\":{\"y\":1}}"};
    Init();
    for (const char *b : bad) {
        Open();
        auto msgs = Text(b);
        EXPECT_TRUE(msgs.empty()) << b;
        EXPECT_EQ(out.close_code, WS_OTA_CLOSE_PROTOCOL) << b;
        ws_ota_engine_closed(&e, now);
    }
    Open();
    std::string force_string = BeginJson(1000, BuildImage("2.0.0"));
    force_string.replace(force_string.find("false"), 5, "\"no\"");
    Text(force_string);
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_PROTOCOL);
}

TEST_F(OtaEngine, WrongKey_AuthFailedAndTheBackOffDoubles)
{
    Init();
    uint8_t wrong[32] = {1};
    Bytes image = BuildImage("2.0.0");
    uint32_t expected[] = {1, 2, 4, 8, 16, 32, 60, 60};
    for (uint32_t want : expected) {
        Open();
        auto msgs = Text(BeginJson(image.size(), image, false, wrong));
        ASSERT_EQ(Field(msgs.at(0), "code"), "auth_failed");
        EXPECT_TRUE(out.events & WS_OTA_EV_AUTH_FAILED);
        EXPECT_EQ(out.close_code, WS_OTA_CLOSE_POLICY);
        ws_ota_engine_closed(&e, now);
        ws_ota_answer_t ans;
        ws_ota_engine_handshake(&e, true, now, &ans);
        EXPECT_EQ(ans.status, 429);
        EXPECT_EQ(ans.retry_after_s, want);
        ws_ota_engine_handshake(&e, true, now + want * 1000 - 1, &ans);
        EXPECT_EQ(ans.status, 429);
        now += want * 1000;
        ws_ota_engine_handshake(&e, true, now, &ans);
        EXPECT_EQ(ans.status, 101);
    }
    Open();
    Begin(image); // a success resets the back-off
    ws_ota_engine_closed(&e, now);
    Open();
    Text(BeginJson(image.size(), image, false, wrong));
    ws_ota_engine_closed(&e, now);
    ws_ota_answer_t ans;
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.retry_after_s, 1u);
}

TEST_F(OtaEngine, Nonce_SingleUse_ABeginForAnotherNonceFails)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0");
    std::string begin = BeginJson(image.size(), image);
    ws_ota_engine_closed(&e, now);
    Open(); // another connection, another nonce: the same message is a replay
    auto msgs = Text(begin);
    EXPECT_EQ(Field(msgs.at(0), "code"), "auth_failed");
    EXPECT_EQ(fake.begins, 0);
}

TEST_F(OtaEngine, Stream_ProtocolViolations)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 40000);
    Binary(image, 0, 100);
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_PROTOCOL); // bytes before ready
    ws_ota_engine_closed(&e, now);
    Open();
    Begin(image);
    Binary(Bytes(WS_OTA_MAX_FRAME + 1, 0xE9));
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_TOO_BIG);
    ws_ota_engine_closed(&e, now);
    Open();
    Begin(image);
    Binary(image, 0, 1000);
    Text("{\"type\":\"begin\"}");
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_PROTOCOL); // text while receiving
    EXPECT_EQ(fake.aborts, 1);
    ws_ota_engine_closed(&e, now);
    Open();
    Text(BeginJson(image.size() - 10, image));
    auto msgs = SendAll(image);
    EXPECT_EQ(Field(msgs.back(), "code"), "too_much");
    EXPECT_EQ(fake.set_boots, 0);
    EXPECT_EQ(fake.aborts, 2);
}

TEST_F(OtaEngine, Stream_ConnectionCut_SlotAbortedBootUnchanged)
{
    Init();
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 100000);
    Begin(image);
    Binary(image, 0, 16384);
    Binary(image, 16384, 16384);
    ws_ota_engine_closed(&e, now);
    EXPECT_EQ(fake.aborts, 1);
    EXPECT_EQ(fake.set_boots, 0);
    EXPECT_FALSE(fake.has_last);
    ws_ota_answer_t ans;
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.status, 101);
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 100000));
}

TEST_F(OtaEngine, End_FailuresEachWithItsCode)
{
    struct Case {
        const char *code;
        void (*setup)(FakePort &);
    } cases[] = {
        {"sha256_mismatch", [](FakePort &f) { f.flip_on_read = true; }},
        {"invalid_image", [](FakePort &f) { f.end_result = WS_OTA_PORT_ERR_INVALID; }},
        {"flash_error", [](FakePort &f) { f.end_result = WS_OTA_PORT_ERR_FLASH; }},
        {"flash_error", [](FakePort &f) { f.fail_read = true; }},
        {"flash_error", [](FakePort &f) { f.set_boot_result = WS_OTA_PORT_ERR_FLASH; }},
        {"flash_error", [](FakePort &f) { f.fail_write = true; }},
        {"flash_error", [](FakePort &f) { f.fail_begin = true; }},
    };
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 20000);
    for (const Case &c : cases) {
        FakePort fresh;
        c.setup(fresh);
        ws_ota_engine_t eng;
        ASSERT_EQ(ws_ota_engine_init(&eng, &fresh.port, 0, now), WS_OTA_PORT_OK);
        ws_ota_engine_open(&eng, now, &out);
        nonce = Field(Messages(out)[0], "nonce");
        std::string b = BeginJson(image.size(), image, false, fresh.key);
        ws_ota_engine_text(&eng, b.data(), b.size(), now, &out);
        std::string last;
        for (size_t at = 0; at < image.size() && out.close_code == 0; at += 16384) {
            ws_ota_engine_binary(&eng, image.data() + at, std::min<size_t>(16384, image.size() - at), now, &out);
            if (out.count > 0) {
                last = Messages(out).back();
            }
        }
        EXPECT_EQ(Field(last, "code"), c.code) << last;
        EXPECT_EQ(out.close_code, WS_OTA_CLOSE_POLICY);
        EXPECT_FALSE(fresh.has_last) << c.code; // no "pending" record: nothing boots differently
        EXPECT_FALSE(fresh.slot_open) << c.code;
        ws_ota_engine_closed(&eng, now);
        EXPECT_FALSE(ws_ota_engine_poll(&eng, now + 10000));
        EXPECT_EQ(fresh.restarts, 0);
    }
}

TEST_F(OtaEngine, Window_AcknowledgementsKeepAClientInsideIt)
{
    Init(32768); // the smallest window: acknowledgements every 16 KiB
    Open();
    Bytes image = BuildImage("2.0.0", "esp32ws", 5, 100000);
    EXPECT_EQ(Begin(image)[0], "{\"type\":\"ready\",\"window\":32768}");
    uint32_t acked = 0, sent = 0;
    for (size_t at = 0; at < image.size(); at += 4096) {
        size_t n = std::min<size_t>(4096, image.size() - at);
        ASSERT_LE(sent + n - acked, 32768u) << "the client would have to wait: the device acknowledged too late";
        sent += static_cast<uint32_t>(n);
        for (auto &m : Binary(image, at, n)) {
            if (Field(m, "type") == "progress") {
                acked = static_cast<uint32_t>(std::stoul(Field(m, "written")));
            }
        }
    }
    EXPECT_EQ(acked, image.size());
}

TEST_F(OtaEngine, Confirm_PendingApp_MarkedValidAndRecorded)
{
    fake.SetRunning("2.0.0", 7, "ota_1", WS_OTA_STATE_PENDING_VERIFY);
    fake.last = "{\"result\":\"pending\",\"version\":\"2.0.0\",\"slot\":\"ota_1\",\"elf_sha256\":\"" +
                Hex(AppDesc("2.0.0", "esp32ws", 7).data() + 144, 32) + "\"}";
    fake.has_last = true;
    fake.confirm = 5000;
    Init();
    std::string hello = Open();
    EXPECT_EQ(Field(hello, "state"), "pending_verify");
    EXPECT_NE(hello.find("\"last_update\":{\"result\":\"pending\",\"version\":\"2.0.0\"}"), std::string::npos);
    auto msgs = Text(ConfirmJson("2.0.0", 7));
    EXPECT_EQ(msgs, (std::vector<std::string>{"{\"type\":\"confirmed\",\"version\":\"2.0.0\"}"}));
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_NORMAL);
    EXPECT_TRUE(out.events & WS_OTA_EV_CONFIRMED);
    EXPECT_EQ(fake.mark_valids, 1);
    EXPECT_EQ(Field(fake.last, "result"), "confirmed");
    ws_ota_engine_closed(&e, now);
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 6000)); // the deadline is off
    EXPECT_EQ(fake.mark_invalids, 0);
    hello = Open();
    EXPECT_EQ(Field(hello, "state"), "valid");
    msgs = Text(ConfirmJson("2.0.0", 7)); // again: confirmed, nothing written
    EXPECT_EQ(Field(msgs.at(0), "type"), "confirmed");
    EXPECT_EQ(fake.mark_valids, 1);
}

TEST_F(OtaEngine, Confirm_Refusals)
{
    Init();
    Open();
    EXPECT_EQ(Field(Text(ConfirmJson("1.0.1", 1)).at(0), "code"), "mismatch");
    ws_ota_engine_closed(&e, now);
    Open();
    EXPECT_EQ(Field(Text(ConfirmJson("1.0.0", 2)).at(0), "code"), "mismatch");
    ws_ota_engine_closed(&e, now);
    Open();
    uint8_t wrong[32] = {9};
    EXPECT_EQ(Field(Text(ConfirmJson("1.0.0", 1, wrong)).at(0), "code"), "auth_failed");
    ws_ota_engine_closed(&e, now);
    now += 1000;
    fake.run.state = WS_OTA_STATE_UNDEFINED;
    Init();
    Open();
    EXPECT_EQ(Field(Text(ConfirmJson("1.0.0", 1)).at(0), "code"), "not_pending");
    ws_ota_engine_closed(&e, now);
    fake.run.state = WS_OTA_STATE_PENDING_VERIFY;
    fake.mark_valid_result = WS_OTA_PORT_ERR_FLASH;
    Init();
    Open();
    EXPECT_EQ(Field(Text(ConfirmJson("1.0.0", 1)).at(0), "code"), "flash_error");
    ws_ota_engine_closed(&e, now);
    Open();
    Text("{\"type\":\"confirm\",\"version\":\"1.0.0\"}");
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_PROTOCOL);
}

TEST_F(OtaEngine, Deadline_NotConfirmed_RecordedThenMarkedInvalid)
{
    fake.SetRunning("2.0.0", 7, "ota_1", WS_OTA_STATE_PENDING_VERIFY);
    fake.confirm = 3000;
    Init();
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 2999));
    EXPECT_TRUE(ws_ota_engine_poll(&e, now + 3000));
    EXPECT_EQ(fake.mark_invalids, 1);
    EXPECT_EQ(Field(fake.last, "result"), "rolled_back");
    EXPECT_EQ(Field(fake.last, "reason"), "not_confirmed");
    EXPECT_EQ(Field(fake.last, "version"), "2.0.0");
    ws_ota_answer_t ans;
    ws_ota_engine_handshake(&e, true, now, &ans);
    EXPECT_EQ(ans.status, 503);
}

TEST_F(OtaEngine, Deadline_WhileASessionIsOpen_ItsConfirmComesTooLate)
{
    fake.SetRunning("2.0.0", 7, "ota_1", WS_OTA_STATE_PENDING_VERIFY);
    fake.confirm = 3000;
    Init();
    Open();
    EXPECT_TRUE(ws_ota_engine_poll(&e, now + 3000)); // the deadline does not wait for an open connection
    EXPECT_TRUE(Text(ConfirmJson("2.0.0", 7)).empty());
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_GOING_AWAY);
    EXPECT_EQ(fake.mark_valids, 0);
    EXPECT_EQ(fake.mark_invalids, 1);
}

TEST_F(OtaEngine, Deadline_RollbackImpossible_KeepsRunning)
{
    fake.SetRunning("2.0.0", 7, "ota_1", WS_OTA_STATE_PENDING_VERIFY);
    fake.confirm = 3000;
    fake.mark_invalid_result = WS_OTA_PORT_ERR_STATE;
    Init();
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 3000));
    EXPECT_FALSE(ws_ota_engine_poll(&e, now + 9000)); // once
    EXPECT_EQ(fake.mark_invalids, 1);
    EXPECT_EQ(fake.last, "{\"result\":\"none\"}");
}

TEST_F(OtaEngine, Last_ParseFormatRoundTripAndGarbage)
{
    ws_ota_last_t l = {WS_OTA_LAST_ROLLED_BACK, "2.0.0", "panic", "ota_1", {0xAB}};
    char buf[256];
    size_t n = ws_ota_last_format(&l, true, buf, sizeof(buf));
    ASSERT_GT(n, 0u);
    ws_ota_last_t back;
    ASSERT_EQ(ws_ota_last_parse(buf, n, &back), WS_OTA_PORT_OK);
    EXPECT_EQ(back.result, WS_OTA_LAST_ROLLED_BACK);
    EXPECT_STREQ(back.version, "2.0.0");
    EXPECT_STREQ(back.reason, "panic");
    EXPECT_STREQ(back.slot, "ota_1");
    EXPECT_EQ(back.elf_sha256[0], 0xAB);
    n = ws_ota_last_format(&l, false, buf, sizeof(buf));
    EXPECT_EQ(std::string(buf, n), "{\"result\":\"rolled_back\",\"version\":\"2.0.0\",\"reason\":\"panic\"}");
    for (const char *bad : {"", "{", "{\"result\":\"exploded\"}", "{\"version\":\"1\"}", "[1]"}) {
        EXPECT_EQ(ws_ota_last_parse(bad, strlen(bad), &back), WS_OTA_PORT_ERR_NOT_FOUND) << bad;
    }
}

TEST_F(OtaEngine, LastResolve_APendingRecordAtBoot)
{
    ws_ota_last_t pending = {WS_OTA_LAST_PENDING, "2.0.0", "", "ota_1", {}};
    Bytes d = AppDesc("2.0.0", "esp32ws", 7);
    memcpy(pending.elf_sha256, d.data() + 144, 32);
    ws_ota_app_info_t v2, v1;
    ASSERT_EQ(ws_ota_app_desc_parse(d.data(), &v2), WS_OTA_IMAGE_OK);
    ASSERT_EQ(ws_ota_app_desc_parse(AppDesc("1.0.0", "esp32ws", 1).data(), &v1), WS_OTA_IMAGE_OK);
    ws_ota_running_t run = {};
    ws_ota_last_t out_last;
    // The update itself, first boot: still pending.
    snprintf(run.running_slot, sizeof(run.running_slot), "ota_1");
    run.state = WS_OTA_STATE_PENDING_VERIFY;
    EXPECT_FALSE(ws_ota_last_resolve(&pending, &run, &v2, nullptr, false, WS_OTA_RESET_SOFTWARE, &out_last));
    EXPECT_EQ(out_last.result, WS_OTA_LAST_PENDING);
    // The update, valid: it confirmed and its record was not written.
    run.state = WS_OTA_STATE_VALID;
    EXPECT_TRUE(ws_ota_last_resolve(&pending, &run, &v2, nullptr, false, WS_OTA_RESET_POWER_ON, &out_last));
    EXPECT_EQ(out_last.result, WS_OTA_LAST_CONFIRMED);
    // The previous app: the reset that ended the update's first boot says why.
    snprintf(run.running_slot, sizeof(run.running_slot), "ota_0");
    struct {
        ws_ota_reset_t reset;
        const char *invalid;
        bool self;
        const char *reason;
    } cases[] = {{WS_OTA_RESET_PANIC, "ota_1", false, "panic"},     {WS_OTA_RESET_WATCHDOG, "ota_1", false, "watchdog"},
                 {WS_OTA_RESET_POWER_ON, "ota_1", false, "reset"},  {WS_OTA_RESET_SOFTWARE, "ota_1", false, "reset"},
                 {WS_OTA_RESET_SOFTWARE, "ota_1", true, "invalid"}, {WS_OTA_RESET_PANIC, nullptr, false, "invalid"},
                 {WS_OTA_RESET_PANIC, "ota_0", false, "invalid"}};
    for (auto &c : cases) {
        EXPECT_TRUE(ws_ota_last_resolve(&pending, &run, &v1, c.invalid, c.self, c.reset, &out_last));
        EXPECT_EQ(out_last.result, WS_OTA_LAST_ROLLED_BACK);
        EXPECT_STREQ(out_last.reason, c.reason);
        EXPECT_STREQ(out_last.version, "2.0.0");
    }
    ws_ota_last_t confirmed = {WS_OTA_LAST_CONFIRMED, "2.0.0", "", "ota_1", {}};
    EXPECT_FALSE(ws_ota_last_resolve(&confirmed, &run, &v1, "ota_1", false, WS_OTA_RESET_PANIC, &out_last));
    EXPECT_EQ(out_last.result, WS_OTA_LAST_CONFIRMED);
}

TEST_F(OtaEngine, Init_ResolvesAndStoresAPanickedUpdate)
{
    fake.last = "{\"result\":\"pending\",\"version\":\"2.0.0+panic-at-start\",\"slot\":\"ota_1\"}";
    fake.has_last = true;
    fake.invalid_slot = "ota_1";
    fake.reset = WS_OTA_RESET_PANIC;
    Init();
    EXPECT_EQ(Field(fake.last, "result"), "rolled_back");
    EXPECT_EQ(Field(fake.last, "reason"), "panic");
    std::string hello = Open();
    EXPECT_NE(hello.find("\"last_update\":{\"result\":\"rolled_back\",\"version\":\"2.0.0+panic-at-start\","
                         "\"reason\":\"panic\"}"),
              std::string::npos)
        << hello;
}

TEST_F(OtaEngine, Closed_Twice_AndMessagesAfterTheEnd_Ignored)
{
    Init();
    Open();
    Text(ConfirmJson("1.0.0", 1));
    EXPECT_EQ(out.close_code, WS_OTA_CLOSE_NORMAL);
    EXPECT_TRUE(Text("{\"type\":\"begin\"}").empty()); // DONE: discarded while closing
    EXPECT_EQ(out.close_code, 0);
    EXPECT_TRUE(Binary(Bytes(10, 1)).empty());
    ws_ota_engine_closed(&e, now);
    ws_ota_engine_closed(&e, now);
    EXPECT_EQ(e.phase, WS_OTA_SESSION_NONE);
}

// The names wsctl and the firmware share (wsctl_limits.h) are the ones the endpoint uses.
TEST(OtaLimits, EndpointNamesAreWsctlLimits)
{
    EXPECT_STREQ(WS_OTA_PATH, WSCTL_OTA_PATH);
    EXPECT_STREQ(WS_OTA_PROTOCOL, WSCTL_OTA_SUBPROTOCOL);
    EXPECT_EQ(WS_OTA_KEY_LEN, static_cast<unsigned>(WSCTL_OTA_KEY_BYTES));
    EXPECT_LE(WSCTL_OTA_CONFIRM_S_MIN, WSCTL_DEFAULT_OTA_CONFIRM_S);
    EXPECT_LE(WSCTL_DEFAULT_OTA_CONFIRM_S, WSCTL_OTA_CONFIRM_S_MAX);
    EXPECT_LE(WSCTL_OTA_CONFIRM_S_MAX, 65535); // stored as u16
}

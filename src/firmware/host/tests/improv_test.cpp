// The Improv Wi-Fi serial protocol (improv.h): framing, and each rule of the device side over a recording port.
#include <gtest/gtest.h>

extern "C" {
#include "improv.h"
}

#include <cstdint>
#include <string>
#include <vector>

namespace
{
using Bytes = std::vector<uint8_t>;

// A packet as the npm SDK writes it (serial.ts writePacketToStream): header, version 1, type, length, data, the low
// byte of the sum of all of them, '\n'. Built here, not with improv_encode, so the tests do not trust the code.
Bytes Packet(uint8_t type, const Bytes &data, bool newline = true)
{
    Bytes out = {'I', 'M', 'P', 'R', 'O', 'V', 1, type, static_cast<uint8_t>(data.size())};
    out.insert(out.end(), data.begin(), data.end());
    unsigned sum = 0;
    for (uint8_t b : out) {
        sum += b;
    }
    out.push_back(static_cast<uint8_t>(sum & 0xFF));
    if (newline) {
        out.push_back('\n');
    }
    return out;
}

Bytes Rpc(uint8_t command, const Bytes &args)
{
    Bytes data = {command, static_cast<uint8_t>(args.size())};
    data.insert(data.end(), args.begin(), args.end());
    return Packet(0x03, data);
}

Bytes WifiSettings(const std::string &ssid, const std::string &pass)
{
    Bytes args = {static_cast<uint8_t>(ssid.size())};
    args.insert(args.end(), ssid.begin(), ssid.end());
    args.push_back(static_cast<uint8_t>(pass.size()));
    args.insert(args.end(), pass.begin(), pass.end());
    return Rpc(0x01, args);
}

// One packet the device wrote, decoded.
struct Sent {
    uint8_t type;
    Bytes data;
};

// An RPC result's strings (spec: command, length, then length-prefixed strings).
std::vector<std::string> Strings(const Sent &p)
{
    std::vector<std::string> out;
    size_t i = 2;
    while (i < p.data.size()) {
        size_t n = p.data[i];
        out.emplace_back(p.data.begin() + static_cast<long>(i) + 1, p.data.begin() + static_cast<long>(i + 1 + n));
        i += 1 + n;
    }
    return out;
}

struct FakeDevice {
    std::vector<Sent> sent;
    std::vector<std::pair<std::string, std::string>> connects;
    std::vector<std::pair<std::string, std::string>> saved;
    int reverts = 0;
    bool connect_starts = true;
    bool save_works = true;
    std::vector<improv_network_t> networks;
    std::string url = "ws://192.168.1.40:8080/";

    static FakeDevice &Of(void *ctx) { return *static_cast<FakeDevice *>(ctx); }

    static void Write(void *ctx, const uint8_t *bytes, size_t len)
    {
        // Each write is one whole packet with a good checksum and a trailing '\n'.
        EXPECT_GE(len, 12u);
        EXPECT_EQ(std::string(bytes, bytes + 6), "IMPROV");
        EXPECT_EQ(bytes[6], 1);
        EXPECT_EQ(len, 9u + bytes[8] + 2u);
        unsigned sum = 0;
        for (size_t i = 0; i + 2 < len; i++) {
            sum += bytes[i];
        }
        EXPECT_EQ(bytes[len - 2], sum & 0xFF);
        EXPECT_EQ(bytes[len - 1], '\n');
        Of(ctx).sent.push_back({bytes[7], Bytes(bytes + 9, bytes + 9 + bytes[8])});
    }
    static bool Connect(void *ctx, const char *ssid, const char *pass)
    {
        Of(ctx).connects.emplace_back(ssid, pass);
        return Of(ctx).connect_starts;
    }
    static void Revert(void *ctx) { Of(ctx).reverts++; }
    static bool Save(void *ctx, const char *ssid, const char *pass)
    {
        if (Of(ctx).save_works) {
            Of(ctx).saved.emplace_back(ssid, pass);
        }
        return Of(ctx).save_works;
    }
    static size_t Url(void *ctx, char *out, size_t cap)
    {
        const std::string &u = Of(ctx).url;
        snprintf(out, cap, "%s", u.c_str());
        return u.size();
    }
    static size_t Scan(void *ctx, improv_network_t *out, size_t cap)
    {
        size_t n = 0;
        for (const auto &net : Of(ctx).networks) {
            if (n < cap) {
                out[n++] = net;
            }
        }
        return n;
    }
};

class Improv : public ::testing::Test
{
  protected:
    FakeDevice dev;
    improv_t s{};

    void Start(bool provisioned = false, uint32_t timeout_ms = 5000)
    {
        improv_port_t port = {&dev,
                              FakeDevice::Write,
                              FakeDevice::Connect,
                              FakeDevice::Revert,
                              FakeDevice::Save,
                              FakeDevice::Url,
                              FakeDevice::Scan,
                              "esp32ws",
                              "1.0.0",
                              "ESP32-C3",
                              "kitchen"};
        improv_init(&s, &port, provisioned, timeout_ms);
    }
    void Feed(const Bytes &b, uint32_t now = 0) { improv_feed(&s, b.data(), b.size(), now); }
};

Sent State(uint8_t v) { return {0x01, {v}}; }
Sent Error(uint8_t v) { return {0x02, {v}}; }
bool operator==(const Sent &a, const Sent &b) { return a.type == b.type && a.data == b.data; }
void PrintTo(const Sent &p, std::ostream *os)
{
    *os << "type " << int(p.type) << " data";
    for (uint8_t b : p.data) {
        *os << ' ' << int(b);
    }
}
} // namespace

TEST(ImprovCodec, Encode_SpecExampleWifiSettings_ChecksumIsLowByteOfSum)
{
    // The spec's example RPC: 01 1E 0C {MyWirelessAP} 10 {mysecurepassword}.
    Bytes data = {0x01, 0x1E, 0x0C};
    for (char c : std::string("MyWirelessAP")) {
        data.push_back(static_cast<uint8_t>(c));
    }
    data.push_back(0x10);
    for (char c : std::string("mysecurepassword")) {
        data.push_back(static_cast<uint8_t>(c));
    }
    uint8_t out[IMPROV_MAX_PACKET];
    size_t n = improv_encode(IMPROV_TYPE_RPC, data.data(), data.size(), out, sizeof(out));
    EXPECT_EQ(Bytes(out, out + n), Packet(0x03, data));
}

TEST(ImprovCodec, Encode_TooSmallBuffer_ReturnsZero)
{
    uint8_t out[12]; // 9-byte prefix, one data byte, checksum, '\n'
    uint8_t v = 2;
    EXPECT_EQ(improv_encode(IMPROV_TYPE_CURRENT_STATE, &v, 1, out, sizeof(out) - 1), 0u);
    EXPECT_EQ(improv_encode(IMPROV_TYPE_CURRENT_STATE, &v, 1, out, sizeof(out)), 12u);
}

TEST(ImprovCodec, EncodeResult_StringsLengthPrefixed)
{
    const char *strings[2] = {"ab", ""};
    uint8_t out[IMPROV_MAX_PACKET];
    size_t n = improv_encode_result(3, strings, 2, out, sizeof(out));
    EXPECT_EQ(Bytes(out, out + n), Packet(0x04, {3, 4, 2, 'a', 'b', 0}));
}

TEST(ImprovCodec, EncodeResult_TooLongForOnePacket_ReturnsZero)
{
    std::string big(200, 'x');
    const char *strings[2] = {big.c_str(), big.c_str()};
    uint8_t out[IMPROV_MAX_PACKET];
    EXPECT_EQ(improv_encode_result(3, strings, 2, out, sizeof(out)), 0u);
}

TEST(ImprovParser, ConsoleTextAndBrokenHeaders_AreSkipped)
{
    improv_parser_t p;
    improv_parser_init(&p);
    Bytes in = {'I', ' ', 'b', 'o', 'o', 't', '\n', 'I', 'M', 'P', 'I', 'M', 'P', 'R', 'O', 'V', '!'};
    Bytes pkt = Packet(0x03, {2, 0}, false);
    // "IMPROV" followed by a version other than 1 is not a packet either; the real one follows.
    in.insert(in.end(), pkt.begin(), pkt.end());
    int packets = 0;
    for (uint8_t b : in) {
        if (improv_parser_feed(&p, b) == IMPROV_PARSE_PACKET) {
            packets++;
            EXPECT_EQ(improv_parser_type(&p), 3);
            EXPECT_EQ(improv_parser_length(&p), 2u);
            EXPECT_EQ(improv_parser_data(&p)[0], 2);
        }
    }
    EXPECT_EQ(packets, 1);
}

TEST(ImprovParser, ByteByByteAcrossTwoPackets_BothFound)
{
    improv_parser_t p;
    improv_parser_init(&p);
    Bytes in = Packet(0x03, {3, 0});
    Bytes second = Packet(0x03, {2, 0});
    in.insert(in.end(), second.begin(), second.end());
    int packets = 0;
    for (uint8_t b : in) {
        packets += improv_parser_feed(&p, b) == IMPROV_PARSE_PACKET;
    }
    EXPECT_EQ(packets, 2);
}

TEST_F(Improv, BadChecksum_InvalidRpcError)
{
    Start();
    Bytes pkt = Rpc(0x02, {});
    pkt[pkt.size() - 2] ^= 0x01;
    Feed(pkt);
    ASSERT_EQ(dev.sent.size(), 1u);
    EXPECT_EQ(dev.sent[0], Error(IMPROV_ERROR_INVALID_RPC));
}

TEST_F(Improv, RpcLengthNotMatchingPacket_InvalidRpcError)
{
    Start();
    Feed(Packet(0x03, {0x02, 5}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[0], Error(IMPROV_ERROR_NONE));
    EXPECT_EQ(dev.sent[1], Error(IMPROV_ERROR_INVALID_RPC));
}

TEST_F(Improv, UnknownCommand_UnknownRpcError)
{
    Start();
    Feed(Rpc(0x09, {}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[1], Error(IMPROV_ERROR_UNKNOWN_RPC));
}

TEST_F(Improv, OtherPacketTypesFromClient_Ignored)
{
    Start();
    Feed(Packet(0x01, {2}));
    Feed(Packet(0x04, {2, 0}));
    EXPECT_TRUE(dev.sent.empty());
}

TEST_F(Improv, CurrentState_NotProvisioned_StateOnlyNoResult)
{
    Start(false);
    Feed(Rpc(0x02, {}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[0], Error(IMPROV_ERROR_NONE));
    EXPECT_EQ(dev.sent[1], State(IMPROV_STATE_AUTHORIZED));
}

TEST_F(Improv, CurrentState_Provisioned_StateThenUrlResult)
{
    Start(true);
    Feed(Rpc(0x02, {}));
    ASSERT_EQ(dev.sent.size(), 3u);
    EXPECT_EQ(dev.sent[1], State(IMPROV_STATE_PROVISIONED));
    EXPECT_EQ(dev.sent[2].type, 0x04);
    EXPECT_EQ(dev.sent[2].data[0], 0x02);
    EXPECT_EQ(Strings(dev.sent[2]), std::vector<std::string>{"ws://192.168.1.40:8080/"});
}

TEST_F(Improv, DeviceInfo_FourStringsInSpecOrder)
{
    Start();
    Feed(Rpc(0x03, {}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[1].data[0], 0x03);
    EXPECT_EQ(Strings(dev.sent[1]), (std::vector<std::string>{"esp32ws", "1.0.0", "ESP32-C3", "kitchen"}));
}

TEST_F(Improv, Scan_OneResultPerNetworkThenEmpty_HiddenLeftOut)
{
    Start();
    dev.networks = {{"home", -48, true}, {"", -70, true}, {"cafe", -81, false}};
    Feed(Rpc(0x04, {}));
    ASSERT_EQ(dev.sent.size(), 4u);
    EXPECT_EQ(Strings(dev.sent[1]), (std::vector<std::string>{"home", "-48", "YES"}));
    EXPECT_EQ(Strings(dev.sent[2]), (std::vector<std::string>{"cafe", "-81", "NO"}));
    EXPECT_EQ(dev.sent[3], (Sent{0x04, {0x04, 0}}));
}

TEST_F(Improv, Scan_PacketLengthTen_LeftOutForTheSdk)
{
    // SSID "a", RSSI "-9", "NO": data 2 + 2 + 3 + 3 = 10 bytes, the '\n' the SDK's line reader resets on.
    Start();
    dev.networks = {{"a", -9, false}};
    Feed(Rpc(0x04, {}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[1], (Sent{0x04, {0x04, 0}}));
}

TEST_F(Improv, Provision_Connected_SavedThenProvisionedWithUrl)
{
    Start();
    Feed(WifiSettings("home", "correct horse"));
    ASSERT_EQ(dev.connects.size(), 1u);
    EXPECT_EQ(dev.connects[0], (std::pair<std::string, std::string>{"home", "correct horse"}));
    ASSERT_EQ(dev.sent.size(), 2u);
    EXPECT_EQ(dev.sent[1], State(IMPROV_STATE_PROVISIONING));
    EXPECT_TRUE(dev.saved.empty()); // nothing stored before it connected
    improv_connect_result(&s, true);
    ASSERT_EQ(dev.saved.size(), 1u);
    EXPECT_EQ(dev.saved[0], (std::pair<std::string, std::string>{"home", "correct horse"}));
    ASSERT_EQ(dev.sent.size(), 4u);
    EXPECT_EQ(dev.sent[2], State(IMPROV_STATE_PROVISIONED));
    EXPECT_EQ(dev.sent[3].data[0], 0x01);
    EXPECT_EQ(Strings(dev.sent[3]), std::vector<std::string>{"ws://192.168.1.40:8080/"});
    EXPECT_EQ(improv_state(&s), IMPROV_STATE_PROVISIONED);
}

TEST_F(Improv, Provision_WrongPassword_UnableToConnectNothingSavedReverted)
{
    Start(true);
    Feed(WifiSettings("home", "wrong password"));
    improv_connect_result(&s, false);
    EXPECT_TRUE(dev.saved.empty());
    EXPECT_EQ(dev.reverts, 1);
    ASSERT_EQ(dev.sent.size(), 4u);
    EXPECT_EQ(dev.sent[2], Error(IMPROV_ERROR_UNABLE_TO_CONNECT));
    EXPECT_EQ(dev.sent[3], State(IMPROV_STATE_AUTHORIZED));
}

TEST_F(Improv, Provision_NoAnswerWithinTimeout_UnableToConnectAtTheDeadline)
{
    Start(false, 5000);
    Feed(WifiSettings("home", "correct horse"), 1000);
    improv_tick(&s, 5999);
    EXPECT_EQ(dev.sent.size(), 2u); // still provisioning one ms before the deadline
    improv_tick(&s, 6000);
    ASSERT_EQ(dev.sent.size(), 4u);
    EXPECT_EQ(dev.sent[2], Error(IMPROV_ERROR_UNABLE_TO_CONNECT));
    EXPECT_EQ(dev.reverts, 1);
    improv_connect_result(&s, true); // too late: ignored
    EXPECT_TRUE(dev.saved.empty());
    EXPECT_EQ(dev.sent.size(), 4u);
}

TEST_F(Improv, Provision_DeadlineAcrossClockWrap_StillBounded)
{
    Start(false, 5000);
    Feed(WifiSettings("home", "correct horse"), UINT32_MAX - 1000u);
    improv_tick(&s, 100);
    EXPECT_EQ(dev.sent.size(), 2u);
    improv_tick(&s, 4000);
    EXPECT_EQ(dev.sent.size(), 4u);
}

TEST_F(Improv, Provision_PasswordNoNetworkTakes_UnableToConnectWithoutTrying)
{
    Start();
    Feed(WifiSettings("home", "short"));
    EXPECT_TRUE(dev.connects.empty());
    ASSERT_EQ(dev.sent.size(), 4u);
    EXPECT_EQ(dev.sent[2], Error(IMPROV_ERROR_UNABLE_TO_CONNECT));
}

TEST_F(Improv, Provision_OpenNetworkAndHexPsk_Tried)
{
    Start();
    Feed(WifiSettings("cafe", ""));
    improv_connect_result(&s, false);
    Feed(WifiSettings("home", std::string(64, 'a')));
    EXPECT_EQ(dev.connects.size(), 2u);
}

TEST_F(Improv, Provision_MalformedSettings_InvalidRpc)
{
    Start();
    Feed(Rpc(0x01, {5, 'h', 'o'}));                        // SSID longer than the data
    Feed(Rpc(0x01, {2, 'h', 'o', 3, 'a', 'b', 'c', 'd'})); // a byte left over
    Feed(Rpc(0x01, {0, 0}));                               // no SSID
    std::string long_ssid(33, 's');
    Feed(WifiSettings(long_ssid, "correct horse"));
    Feed(WifiSettings(std::string("a\0b", 3), "correct horse"));
    EXPECT_TRUE(dev.connects.empty());
    ASSERT_EQ(dev.sent.size(), 10u);
    for (size_t i = 1; i < dev.sent.size(); i += 2) {
        EXPECT_EQ(dev.sent[i], Error(IMPROV_ERROR_INVALID_RPC)) << i;
    }
}

TEST_F(Improv, Provision_WhileAttempting_RefusedFirstGoesOn)
{
    Start();
    Feed(WifiSettings("home", "correct horse"));
    Feed(WifiSettings("other", "correct horse"));
    EXPECT_EQ(dev.connects.size(), 1u);
    EXPECT_EQ(dev.sent.back(), Error(IMPROV_ERROR_UNKNOWN));
    improv_connect_result(&s, true);
    ASSERT_EQ(dev.saved.size(), 1u);
    EXPECT_EQ(dev.saved[0].first, "home");
}

TEST_F(Improv, Provision_SaveFails_UnknownErrorReverted)
{
    Start();
    dev.save_works = false;
    Feed(WifiSettings("home", "correct horse"));
    improv_connect_result(&s, true);
    EXPECT_EQ(dev.reverts, 1);
    EXPECT_EQ(dev.sent[dev.sent.size() - 2], Error(IMPROV_ERROR_UNKNOWN));
    EXPECT_EQ(dev.sent.back(), State(IMPROV_STATE_AUTHORIZED));
}

TEST_F(Improv, SetConnected_ChangesWhatCurrentStateReports)
{
    Start(false);
    improv_set_connected(&s, true);
    Feed(Rpc(0x02, {}));
    EXPECT_EQ(dev.sent[1], State(IMPROV_STATE_PROVISIONED));
}

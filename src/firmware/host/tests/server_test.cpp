// The whole server over real loopback sockets (port 0): handshake, echo through the app API, limits, stop.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "c_api.h"

namespace
{

class Client
{
  public:
    explicit Client(uint16_t port)
    {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0;
    }
    ~Client() { close(fd_); }
    bool connected() const { return connected_; }
    void Send(const Bytes &b) { ASSERT_EQ(send(fd_, b.data(), b.size(), MSG_NOSIGNAL), (ssize_t)b.size()); }
    // For a client thread racing the server's stop: a failed send only ends its loop.
    bool TrySend(const Bytes &b) { return send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == (ssize_t)b.size(); }
    // Reads until `done(buffer)` or 5 s pass; returns what arrived.
    template <class Pred> std::string ReadUntil(Pred done)
    {
        for (int i = 0; i < 50 && !done(buf_); i++) {
            pollfd p = {fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            char tmp[4096];
            ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
            if (n <= 0) {
                break;
            }
            buf_.append(tmp, static_cast<size_t>(n));
        }
        return buf_;
    }
    std::string Handshake(const std::string &extra_headers = "", const std::string &host = "x")
    {
        Send(B("GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extra_headers +
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        std::string s = ReadUntil([](const std::string &b) { return b.find("\r\n\r\n") != std::string::npos; });
        size_t end = s.find("\r\n\r\n");
        std::string head = end == std::string::npos ? s : s.substr(0, end + 4);
        buf_.erase(0, head.size());
        return head;
    }
    std::string &buffer() { return buf_; }
    // Each Send leaves at once in its own TCP segment (no Nagle delay to coalesce them on the way).
    void NoDelay()
    {
        int one = 1;
        ASSERT_EQ(setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    }
    void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
    // Reads until a close frame has arrived (or 5 s); returns every frame as (opcode, payload).
    std::vector<std::pair<int, std::string>> FramesUntilClose()
    {
        std::vector<std::pair<int, std::string>> frames;
        auto parse = [&frames](const std::string &b) {
            frames.clear();
            size_t pos = 0;
            while (pos + 2 <= b.size()) {
                size_t n = static_cast<uint8_t>(b[pos + 1]) & 0x7F, h = 2;
                if (n == 126) {
                    if (pos + 4 > b.size()) {
                        break;
                    }
                    n = (static_cast<uint8_t>(b[pos + 2]) << 8) | static_cast<uint8_t>(b[pos + 3]);
                    h = 4;
                }
                if (pos + h + n > b.size()) {
                    break;
                }
                frames.emplace_back(b[pos] & 0x0F, b.substr(pos + h, n));
                pos += h + n;
            }
            return !frames.empty() && frames.back().first == WS_OPCODE_CLOSE;
        };
        ReadUntil(parse);
        parse(buf_);
        return frames;
    }

  private:
    int fd_;
    bool connected_;
    std::string buf_;
};

class ServerTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ws_server_cfg_t cfg = {};
        cfg.port = 0;
        cfg.max_clients = 2;
        cfg.max_message = 1000;
        cfg.close_timeout_ms = 300;
        ASSERT_EQ(ws_server_init(&cfg), WS_OK);
        port = ws_server_port();
        ASSERT_NE(port, 0);
    }
    void TearDown() override
    {
        ws_server_stop();
        ws_server_release_recv_queue();
    }
    uint16_t port = 0;
};

} // namespace

TEST_F(ServerTest, MessageFromClient_ReachesRecvQueueAndEchoReachesClient)
{
    Client c(port);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("ping me")));
    ws_queue_item_t *item = nullptr;
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(item->payload), item->len), "ping me");
    EXPECT_EQ(item->opcode, WS_OP_TXT);
    ASSERT_EQ(ws_send(item, 1000), WS_OK); // back to the sender (item->index)
    ws_item_free(item);
    std::string got = c.ReadUntil([](const std::string &b) { return b.size() >= 9; });
    EXPECT_EQ(got, std::string("\x81\x07ping me", 9));
}

TEST_F(ServerTest, ClientsBeyondMax_Get503AndBroadcastReachesOthers)
{
    Client a(port), b(port), third(port);
    ASSERT_EQ(a.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    ASSERT_EQ(b.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    std::string head = third.Handshake();
    EXPECT_EQ(head.rfind("HTTP/1.1 503", 0), 0u);
    EXPECT_NE(head.find("Retry-After:"), std::string::npos);
    uint8_t hi[] = {'h', 'i'};
    ws_queue_item_t item = {hi, 2, -1, WS_OP_TXT, 1};
    ASSERT_EQ(ws_send(&item, 1000), WS_OK);
    for (Client *c : {&a, &b}) {
        EXPECT_EQ(c->ReadUntil([](const std::string &s) { return s.size() >= 4; }), std::string("\x81\x02hi", 4));
    }
    ws_stats_t st;
    ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
    EXPECT_EQ(st.rejected_full, 1u);
}

// ws_stats_t.open_clients, which the firmware logs the heap by as clients come and go: the WebSockets open now, not
// connections still in their handshake or answered 503.
TEST_F(ServerTest, ClientsComeAndGo_OpenClientsFollowsThem)
{
    auto open_clients = [](uint32_t want) {
        ws_stats_t st = {};
        for (int i = 0; i < 500; i++) {
            if (ws_server_get_stats(&st) == WS_OK && st.open_clients == want) {
                break;
            }
            ws_port_sleep_ms(10);
        }
        return st.open_clients;
    };
    EXPECT_EQ(open_clients(0), 0u);
    auto a = std::make_unique<Client>(port);
    Client b(port);
    ASSERT_EQ(a->Handshake().rfind("HTTP/1.1 101", 0), 0u);
    EXPECT_EQ(open_clients(1), 1u);
    Client pending(port); // connected, no request yet: a handshake slot, not an open client
    ASSERT_TRUE(pending.connected());
    ASSERT_EQ(b.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    EXPECT_EQ(open_clients(2), 2u);
    Client third(port); // max_clients is 2
    EXPECT_EQ(third.Handshake().rfind("HTTP/1.1 503", 0), 0u);
    EXPECT_EQ(open_clients(2), 2u);
    a.reset(); // TCP close without a close frame
    EXPECT_EQ(open_clients(1), 1u);
}

// Sockets open in this process (client and server ends alike), from /proc/self/fd.
static int CountSockets()
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == nullptr) {
        return -1;
    }
    while (dirent *e = readdir(d)) {
        char link[64] = {0}, path[300];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        if (readlink(path, link, sizeof(link) - 1) > 0 && strncmp(link, "socket:", 7) == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

// WS_SERVER_SOCKETS, which sizes CONFIG_LWIP_MAX_SOCKETS on the device (wsctl_limits.h): however many connect, the
// server keeps the listener and one socket per table slot (max_clients + WS_SERVER_EXTRA_SLOTS); the others are
// answered 503 and closed at once, holding one more socket only for that moment.
TEST_F(ServerTest, ManyConnections_ServerHoldsNoMoreSocketsThanWsServerSockets)
{
    const int before = CountSockets(); // the listener
    ASSERT_GT(before, 0);
    Client a(port), b(port);
    ASSERT_EQ(a.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    ASSERT_EQ(b.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    const int silent = 10; // connect and never send: each takes a handshake slot while one is free
    std::vector<std::unique_ptr<Client>> others;
    for (int i = 0; i < silent; i++) {
        others.push_back(std::make_unique<Client>(port));
        ASSERT_TRUE(others.back()->connected());
    }
    const uint32_t slots = 2u + WS_SERVER_EXTRA_SLOTS;
    ws_stats_t st = {};
    for (int i = 0; i < 200 && (ws_server_get_stats(&st) != WS_OK || st.rejected_full < 2u + silent - slots); i++) {
        ws_port_sleep_ms(10);
    }
    EXPECT_EQ(st.rejected_full, 2u + silent - slots);
    const int clients = 2 + silent;
    const int held = CountSockets() - clients - before; // the server's, besides the listener
    EXPECT_EQ(held, static_cast<int>(slots));
    EXPECT_EQ(1u + static_cast<unsigned>(held) + 1u, WS_SERVER_SOCKETS(2)); // + the listener + a 503 being answered
}

TEST_F(ServerTest, StopWithOpenClient_SendsClose1001)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    ws_server_stop();
    std::string got = c.ReadUntil([](const std::string &s) { return s.size() >= 4; });
    EXPECT_EQ(got.substr(0, 4), std::string("\x88\x02\x03\xe9", 4));
    EXPECT_EQ(ws_send(nullptr, 0), WS_ERR_ARG);
    uint8_t x = 'x';
    ws_queue_item_t item = {&x, 1, -1, WS_OP_TXT, 1};
    EXPECT_EQ(ws_send(&item, 0), WS_ERR_STATE);
}

TEST_F(ServerTest, InvalidUtf8InUnfinishedFirstFragment_Close1007WithoutTheRest)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("fine so far \xed\xa0\x80"), false)); // a surrogate; FIN clear
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].second, std::string("\x03\xef", 2));
}

TEST_F(ServerTest, MessagesBeforeAProtocolError_AreAnsweredBeforeTheClose)
{
    // Autobahn 3.2 / 4.1.3: a message, then a bad frame and a ping, in one segment. This thread plays the
    // application's receive loop: ws_recv, answer with ws_send, come back to ws_recv.
    ws_queue_item_t *item = nullptr;
    EXPECT_EQ(ws_recv(&item, 0), WS_ERR_TIMEOUT); // the application reads through ws_recv
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.Send(Concat({ClientFrame(WS_OPCODE_TEXT, B("Hello, world!")), ClientFrame(WS_OPCODE_TEXT, B("x"), true, 2),
                   ClientFrame(WS_OPCODE_PING, B(""))}));
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    ws_port_sleep_ms(50); // a slow application: the close must still wait for it
    ASSERT_EQ(ws_send(item, 1000), WS_OK);
    ws_item_free(item);
    EXPECT_EQ(ws_recv(&item, 0), WS_ERR_TIMEOUT); // back for more: done with "Hello, world!"
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0], std::make_pair(static_cast<int>(WS_OPCODE_TEXT), std::string("Hello, world!")));
    EXPECT_EQ(frames[1].second, std::string("\x03\xea", 2)); // 1002, and no pong
}

TEST_F(ServerTest, MessageThenPeerClose_AnswerBeforeTheCloseEcho)
{
    ws_queue_item_t *item = nullptr;
    EXPECT_EQ(ws_recv(&item, 0), WS_ERR_TIMEOUT);
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.Send(Concat({ClientFrame(WS_OPCODE_TEXT, B("last words")), ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8})}));
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    ASSERT_EQ(ws_send(item, 1000), WS_OK);
    ws_item_free(item);
    EXPECT_EQ(ws_recv(&item, 0), WS_ERR_TIMEOUT);
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].second, "last words");
    EXPECT_EQ(frames[1].second, std::string("\x03\xe8", 2));
}

TEST_F(ServerTest, AnnouncedTooBig_Close1009)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    Bytes f = ClientFrame(WS_OPCODE_BINARY, Bytes(1001, 'x'));
    f.resize(8); // only the header: the decision must not wait for the payload
    c.Send(f);
    std::string got = c.ReadUntil([](const std::string &s) { return s.size() >= 4; });
    EXPECT_EQ(got.substr(0, 4), std::string("\x88\x02\x03\xf1", 4));
}

TEST_F(ServerTest, TwentyPingsInOneSegment_AllAnsweredWithoutSlowClientClose)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    Bytes burst;
    for (int i = 0; i < 20; i++) {
        Bytes p = ClientFrame(WS_OPCODE_PING, B("p" + std::to_string(i % 10)));
        burst.insert(burst.end(), p.begin(), p.end());
    }
    c.Send(burst);
    std::string got = c.ReadUntil([](const std::string &s) { return s.size() >= 20 * 4; });
    ASSERT_EQ(got.size(), 20u * 4u);
    for (int i = 0; i < 20; i++) {
        EXPECT_EQ(got.substr(static_cast<size_t>(i) * 4, 4), std::string("\x8a\x02p") + char('0' + i % 10));
    }
}

TEST_F(ServerTest, HundredMessagesInOneSegment_AllEchoedInOrder)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    Bytes burst;
    for (int i = 0; i < 100; i++) {
        Bytes m = ClientFrame(WS_OPCODE_TEXT, B("m" + std::to_string(i % 10)));
        burst.insert(burst.end(), m.begin(), m.end());
    }
    c.Send(burst);
    for (int i = 0; i < 100; i++) { // this thread plays the app's echo loop
        ws_queue_item_t *item = nullptr;
        ASSERT_EQ(ws_recv(&item, 5000), WS_OK) << i;
        ASSERT_EQ(ws_send(item, 5000), WS_OK);
        ws_item_free(item);
    }
    std::string got = c.ReadUntil([](const std::string &s) { return s.size() >= 100 * 4; });
    ASSERT_EQ(got.size(), 100u * 4u);
    EXPECT_EQ(got.substr(99 * 4, 4), std::string("\x81\x02m9"));
    ws_stats_t st;
    ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
    EXPECT_EQ(st.slow_closed, 0u);
}

TEST_F(ServerTest, ClientThatNeverReads_ClosedAsSlowClientAndCounted)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    std::vector<uint8_t> big(60000, 'b');
    ws_queue_item_t item = {big.data(), big.size(), -1, WS_OP_BIN, 1};
    ws_stats_t st = {};
    // Kernel buffers take a few MB first; after that the bounded queue fills and the policy applies.
    for (int i = 0; i < 2000 && st.slow_closed == 0; i++) {
        ASSERT_EQ(ws_send(&item, 5000), WS_OK);
        ws_port_sleep_ms(1);
        ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
    }
    EXPECT_EQ(st.slow_closed, 1u);
}

TEST(ServerConfig, BudgetNotLargerThanMaxMessage_IsRefused)
{
    ws_server_cfg_t cfg = {};
    cfg.max_message = 4096;
    cfg.rx_budget = 4096;
    EXPECT_EQ(ws_server_init(&cfg), WS_ERR_ARG);
    EXPECT_EQ(ws_server_port(), 0);
    ws_server_release_recv_queue();
}

// Several clients announce big frames and trickle their payload. A frame that fits the shared budget when its
// first byte arrives is given its whole buffer at once; the others' memory follows what they sent, the one that
// would pass the budget is closed with 1008, and a client sending small messages is served throughout.
TEST(ServerBudget, TricklingBigFrames_OnlyTheOneBeyondTheBudgetIsClosed)
{
    ws_server_cfg_t cfg = {};
    cfg.port = 0;
    cfg.max_clients = 4;
    cfg.max_message = 8000;
    cfg.rx_budget = 20000;
    cfg.close_timeout_ms = 300;
    ASSERT_EQ(ws_server_init(&cfg), WS_OK);
    uint16_t port = ws_server_port();
    Client a(port), b(port), d(port), small(port);
    for (Client *c : {&a, &b, &d, &small}) {
        ASSERT_EQ(c->Handshake().rfind("HTTP/1.1 101", 0), 0u);
    }
    Bytes fa = ClientFrame(WS_OPCODE_BINARY, Bytes(8000, 'a')), fb = ClientFrame(WS_OPCODE_BINARY, Bytes(8000, 'b')),
          fd = ClientFrame(WS_OPCODE_BINARY, Bytes(8000, 'd'));
    ws_stats_t st = {};
    auto held = [&st](uint32_t want) { // waits until the server holds exactly want bytes
        for (int i = 0; i < 200; i++) {
            if (ws_server_get_stats(&st) == WS_OK && st.rx_held == want) {
                return true;
            }
            ws_port_sleep_ms(10);
        }
        return false;
    };
    auto part = [](const Bytes &f, size_t from, size_t to) {
        return Bytes(f.begin() + static_cast<long>(from), f.begin() + static_cast<long>(to));
    };
    // Headers alone (8,000 announced each): nothing is allocated.
    a.Send(part(fa, 0, 8));
    b.Send(part(fb, 0, 8));
    d.Send(part(fd, 0, 8));
    ASSERT_TRUE(held(0));
    // a's and b's frames fit when their first bytes come: 8,001 bytes each, at once.
    a.Send(part(fa, 8, 508));
    ASSERT_TRUE(held(8001)) << st.rx_held;
    b.Send(part(fb, 8, 508));
    ASSERT_TRUE(held(2 * 8001)) << st.rx_held;
    // d's does not (3,998 left): its buffer follows its bytes, 1,024 for 1,000.
    d.Send(part(fd, 8, 1008));
    ASSERT_TRUE(held(2 * 8001 + 1024)) << st.rx_held;
    // The small client is served (its first buffer is within the reserve) while the budget is nearly used up.
    small.Send(ClientFrame(WS_OPCODE_TEXT, B("still here")));
    ws_queue_item_t *item = nullptr;
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(item->payload), item->len), "still here");
    ASSERT_EQ(ws_send(item, 1000), WS_OK);
    ws_item_free(item);
    EXPECT_EQ(small.ReadUntil([](const std::string &s) { return s.size() >= 12; }), "\x81\x0astill here");
    // d needs 4,096 bytes for 3,000: 20,098 > 20,000, so d alone is closed with 1008.
    d.Send(part(fd, 1008, 3008));
    auto frames = d.FramesUntilClose();
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().second, std::string("\x03\xf0", 2));
    ASSERT_TRUE(held(2 * 8001)); // d's memory went back
    EXPECT_EQ(st.budget_closed, 1u);
    EXPECT_LE(st.rx_peak, 20000u + 4 * WS_BUDGET_RESERVE);
    b.ShutdownWrite(); // b gives up (EOF): its partial message is freed
    ASSERT_TRUE(held(8001));
    a.Send(part(fa, 508, fa.size())); // a's message completes in the buffer it had from its first byte
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    EXPECT_EQ(item->len, 8000u);
    EXPECT_EQ(item->index, 0);
    ws_item_free(item);
    ASSERT_TRUE(held(0)); // taken by the application: no longer the server's
    EXPECT_EQ(st.budget_closed, 1u);
    ws_server_stop();
    ws_server_release_recv_queue();
}

// The Origin rule (ws_origin.h), on by default: the device's own pages, pages on loopback and listed origins are
// admitted, clients without Origin always; any other page gets 403, also one whose name was rebound to the device.
TEST(ServerOrigin, Rule_AdmitsOwnLoopbackListedAndOriginlessRefusesOtherPagesWith403)
{
    std::string list = "http://app.example:8080";
    std::string name = "esp32ws";
    ws_server_cfg_t cfg = {};
    cfg.port = 0;
    cfg.max_clients = 8;
    cfg.allowed_origins = list.c_str();
    cfg.hostname = name.c_str();
    ASSERT_EQ(ws_server_init(&cfg), WS_OK);
    list.assign(list.size(), '#'); // the server keeps its own copies
    name.assign(name.size(), '#');
    uint16_t port = ws_server_port();
    const std::string device = "esp32ws.local:" + std::to_string(port);
    {
        Client evil(port), rebound(port), own(port), dev(port), listed(port), script(port);
        std::string head = evil.Handshake("Origin: http://evil.example\r\n", device);
        EXPECT_EQ(head.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << head;
        EXPECT_EQ(evil.ReadUntil([](const std::string &s) { return s.size() >= 19; }), "origin not allowed\n");
        const std::string evil_name = "evil.example:" + std::to_string(port);
        EXPECT_EQ(rebound.Handshake("Origin: http://" + evil_name + "\r\n", evil_name).rfind("HTTP/1.1 403", 0), 0u);
        EXPECT_EQ(own.Handshake("Origin: http://" + device + "\r\n", device).rfind("HTTP/1.1 101", 0), 0u);
        EXPECT_EQ(dev.Handshake("Origin: http://localhost:5173\r\n", device).rfind("HTTP/1.1 101", 0), 0u);
        EXPECT_EQ(listed.Handshake("Origin: http://APP.example:8080\r\n", device).rfind("HTTP/1.1 101", 0), 0u);
        EXPECT_EQ(script.Handshake("", device).rfind("HTTP/1.1 101", 0), 0u);
        ws_stats_t st;
        ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
        EXPECT_EQ(st.rejected_origin, 2u);
    }
    ws_server_stop();
    ws_server_release_recv_queue();
}

// The receive queue's free places go round the clients (flush_pending_in_turn). A client is not read while a
// message of its own waits for a place (back-pressure), and in the table's order the first client with one waiting
// took every place a slow application freed: on the emulated ESP32, four echo clients made 2,739, 320, 7 and 7
// round trips in 60 s. Here four clients echo as fast as they can into a two-place queue that the application
// drains slowly; each must get a fair share of what the application takes (a quarter; at least half of that).
TEST(ServerFairness, FourEchoClientsAndASlowApplication_EachGetsItsShareOfTheQueue)
{
    ws_server_cfg_t cfg = {};
    cfg.max_clients = 4;
    cfg.recv_queue_len = 2;
    cfg.close_timeout_ms = 300;
    cfg.echo = true;
    ASSERT_EQ(ws_server_init(&cfg), WS_OK);
    uint16_t port = ws_server_port();
    std::atomic<bool> stop{false};
    std::atomic<int> ready{0};
    std::vector<std::thread> clients;
    for (int k = 0; k < 4; k++) {
        clients.emplace_back([&] {
            Client c(port);
            if (c.Handshake().rfind("HTTP/1.1 101", 0) != 0) {
                return;
            }
            ready++;
            const Bytes m = ClientFrame(WS_OPCODE_TEXT, B("m"));
            while (!stop && c.TrySend(m)) {
                std::string got = c.ReadUntil([](const std::string &b) { return b.size() >= 3; }); // "\x81\x01m"
                if (got.size() < 3) {
                    break;
                }
                c.buffer().erase(0, 3);
            }
        });
    }
    for (int i = 0; i < 500 && ready < 4; i++) {
        ws_port_sleep_ms(10);
    }
    ASSERT_EQ(ready.load(), 4);
    int taken[4] = {0, 0, 0, 0};
    const int total = 120;
    for (int n = 0; n < total; n++) {
        ws_queue_item_t *item = nullptr;
        ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
        ASSERT_GE(item->index, 0);
        ASSERT_LT(item->index, 4);
        taken[item->index]++;
        ws_item_free(item);
        ws_port_sleep_ms(5); // the slow application
    }
    stop = true;
    ws_server_stop(); // its close frames end the clients' waits
    for (auto &t : clients) {
        t.join();
    }
    ws_server_release_recv_queue();
    for (int i = 0; i < 4; i++) {
        EXPECT_GE(taken[i], total / 8) << "client slot " << i << " took " << taken[i] << " of " << total;
    }
}

// Echo mode (ws_server_cfg_t.echo): the server answers on its own task. Autobahn case 3.4 is a text message, a
// frame with RSV bits set (a protocol error) and a ping; the echo must come before the close 1002 and there must be
// no pong (RFC 6455 sections 5.2, 5.5.1). In these tests the application never takes the message: the order cannot
// depend on it.
class EchoServerTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ws_server_cfg_t cfg = {};
        cfg.port = 0;
        cfg.max_clients = 2;
        cfg.close_timeout_ms = 300;
        cfg.echo = true;
        ASSERT_EQ(ws_server_init(&cfg), WS_OK);
        port = ws_server_port();
    }
    void TearDown() override
    {
        ws_server_stop();
        ws_server_release_recv_queue();
    }
    static Bytes Hello() { return ClientFrame(WS_OPCODE_TEXT, B("Hello, world!")); }
    static Bytes BadThenPing()
    {
        return Concat({ClientFrame(WS_OPCODE_TEXT, B("Hello, world!"), true, 4), ClientFrame(WS_OPCODE_PING, B(""))});
    }
    static void ExpectEchoThenClose1002(const std::vector<std::pair<int, std::string>> &frames)
    {
        ASSERT_EQ(frames.size(), 2u);
        EXPECT_EQ(frames[0], std::make_pair(static_cast<int>(WS_OPCODE_TEXT), std::string("Hello, world!")));
        EXPECT_EQ(frames[1], std::make_pair(static_cast<int>(WS_OPCODE_CLOSE), std::string("\x03\xea", 2)));
    }
    uint16_t port = 0;
};

TEST_F(EchoServerTest, Autobahn34_BothFramesInOneSegment_EchoThenClose1002)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.Send(Concat({Hello(), BadThenPing()})); // one send: one segment, read by the server in one recv
    ExpectEchoThenClose1002(c.FramesUntilClose());
}

TEST_F(EchoServerTest, Autobahn34_FramesInTwoSegments_EchoThenClose1002)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.NoDelay();
    c.Send(Hello());
    // The echo arriving proves the server read the message on its own; only then does the bad frame leave.
    std::string echo("\x81\x0dHello, world!", 15);
    ASSERT_EQ(c.ReadUntil([&echo](const std::string &b) { return b.size() >= echo.size(); }), echo);
    c.Send(BadThenPing());
    ExpectEchoThenClose1002(c.FramesUntilClose());
}

TEST_F(EchoServerTest, Autobahn34_OctetByOctet_EchoThenClose1002)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    c.NoDelay();
    for (uint8_t octet : Concat({Hello(), BadThenPing()})) { // Autobahn's "octet-wise chops"
        c.Send(Bytes{octet});
    }
    ExpectEchoThenClose1002(c.FramesUntilClose());
}

// A message longer than WS_SERVER_ECHO_COPY_MAX is echoed from the buffer it was received into, then reaches the
// application unchanged (its payload comes back from the echo frame once written).
TEST_F(EchoServerTest, LongMessage_EchoedThenDeliveredToTheApplication)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    Bytes payload(60000);
    for (size_t i = 0; i < payload.size(); i++) {
        payload[i] = static_cast<uint8_t>(i * 7u);
    }
    c.Send(ClientFrame(WS_OPCODE_BINARY, payload));
    std::string want = std::string("\x82\x7e\xea\x60", 4) + std::string(payload.begin(), payload.end());
    EXPECT_TRUE(c.ReadUntil([&want](const std::string &b) { return b.size() >= want.size(); }) == want);
    ws_queue_item_t *item = nullptr;
    ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
    EXPECT_EQ(item->opcode, WS_OP_BIN);
    ASSERT_EQ(item->len, payload.size());
    EXPECT_EQ(Bytes(item->payload, item->payload + item->len), payload);
    EXPECT_EQ(item->payload[item->len], 0); // the NUL after the message, as for every received item
    ws_item_free(item);
}

// Short and long echoes keep their order on the wire, and every message reaches the application in order.
TEST_F(EchoServerTest, ShortAndLongMessagesInOneSegment_EchoedAndDeliveredInOrder)
{
    Client c(port);
    ASSERT_EQ(c.Handshake().rfind("HTTP/1.1 101", 0), 0u);
    Bytes big(5000, 'L');
    c.Send(Concat({ClientFrame(WS_OPCODE_TEXT, B("one")), ClientFrame(WS_OPCODE_BINARY, big),
                   ClientFrame(WS_OPCODE_TEXT, B("three")), ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8})}));
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[0].second, "one");
    EXPECT_EQ(frames[1].second, std::string(big.begin(), big.end()));
    EXPECT_EQ(frames[2].second, "three");
    EXPECT_EQ(frames[3].second, std::string("\x03\xe8", 2));
    for (size_t want : {3u, 5000u, 5u}) {
        ws_queue_item_t *item = nullptr;
        ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
        EXPECT_EQ(item->len, want);
        ws_item_free(item);
    }
}

// An endpoint (ws_endpoint.h) over loopback: its path is decided by it, its messages reach it on the server task
// instead of the receive queue, its answers and its close go out in order, closed() comes once.
namespace
{

struct TestEndpoint {
    // Written on the server task, read by the test's thread (ThreadSanitizer's stage): atomics.
    std::atomic<int> handshakes{0}, opened{0}, closed{0};
    int refuse = 0; // an HTTP status to answer instead of 101
    uint32_t slow_ms = 0;
    std::vector<std::string> messages;
};

void EpHandshake(void *ctx, const ws_http_request_t *req, uint32_t, ws_endpoint_answer_t *ans)
{
    auto *t = static_cast<TestEndpoint *>(ctx);
    t->handshakes++;
    if (t->refuse != 0) {
        ans->status = t->refuse;
        ans->body = "refused by the endpoint\n";
        ans->retry_after_s = 7;
        return;
    }
    ans->status = ws_http_offers_protocol(req, "test.1") ? 101 : 400;
    ans->subprotocol = "test.1";
}

void EpOpened(void *ctx, ws_endpoint_conn_t *conn, uint32_t)
{
    static_cast<TestEndpoint *>(ctx)->opened++;
    ASSERT_EQ(ws_server_endpoint_send(conn, WS_OP_TXT, "hello", 5), WS_OK);
}

void EpMessage(void *ctx, ws_endpoint_conn_t *conn, int opcode, const uint8_t *data, size_t len, uint32_t)
{
    auto *t = static_cast<TestEndpoint *>(ctx);
    std::string m(reinterpret_cast<const char *>(data), len);
    t->messages.push_back((opcode == WS_OP_TXT ? "text:" : "binary:") + m);
    ws_server_endpoint_send(conn, WS_OP_TXT, data, len);
    if (m == "slow bye") {
        ws_port_sleep_ms(t->slow_ms); // as /ota verifying an image before its `rebooting`
    }
    if (m == "bye" || m == "slow bye") {
        ws_server_endpoint_send(conn, WS_OP_TXT, "last words", 10);
        ws_server_endpoint_close(conn, 1008);
    }
}

void EpClosed(void *ctx, uint32_t) { static_cast<TestEndpoint *>(ctx)->closed++; }

class EndpointServerTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ep = {"/ep", &state, EpHandshake, EpOpened, EpMessage, EpClosed};
        Start(300);
    }
    void TearDown() override { Stop(); }
    void Start(uint32_t close_timeout_ms)
    {
        ws_server_cfg_t cfg = {};
        cfg.max_clients = 2;
        cfg.close_timeout_ms = close_timeout_ms;
        cfg.endpoints = &ep;
        cfg.endpoint_count = 1;
        ASSERT_EQ(ws_server_init(&cfg), WS_OK);
        port = ws_server_port();
    }
    static void Stop()
    {
        ws_server_stop();
        ws_server_release_recv_queue();
    }
    std::string Upgrade(Client &c, const std::string &path, const std::string &extra)
    {
        c.Send(B("GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extra +
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        std::string s = c.ReadUntil([](const std::string &b) { return b.find("\r\n\r\n") != std::string::npos; });
        size_t end = s.find("\r\n\r\n");
        std::string head = end == std::string::npos ? s : s.substr(0, end + 4);
        c.buffer().erase(0, head.size()); // the frames that follow stay for FramesUntilClose
        return head;
    }
    TestEndpoint state;
    ws_endpoint_t ep{};
    uint16_t port = 0;
};

} // namespace

TEST_F(EndpointServerTest, Path_101WithSubprotocolThenHelloAndAnswersInOrder)
{
    Client c(port);
    std::string head = Upgrade(c, "/ep?q=1", "Sec-WebSocket-Protocol: other, test.1\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u);
    EXPECT_NE(head.find("Sec-WebSocket-Protocol: test.1\r\n"), std::string::npos);
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("one")));
    c.Send(ClientFrame(WS_OPCODE_BINARY, B("two")));
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("bye")));
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 6u);
    EXPECT_EQ(frames[0].second, "hello"); // opened() before the first message
    EXPECT_EQ(frames[1].second, "one");
    EXPECT_EQ(frames[2].second, "two");
    EXPECT_EQ(frames[3].second, "bye");
    EXPECT_EQ(frames[4].second, "last words"); // queued before the close: not dropped by it
    EXPECT_EQ(frames[5].first, WS_OPCODE_CLOSE);
    EXPECT_EQ(frames[5].second, std::string("\x03\xf0", 2)); // 1008
    ws_queue_item_t *item = nullptr;
    EXPECT_EQ(ws_recv(&item, 100), WS_ERR_TIMEOUT); // nothing reached the application's queue
    c.Send(ClientFrame(WS_OPCODE_CLOSE, B("\x03\xf0")));
    for (int i = 0; i < 100 && state.closed == 0; i++) {
        ws_port_sleep_ms(10);
    }
    EXPECT_EQ(state.opened, 1);
    EXPECT_EQ(state.closed.load(), 1);
    EXPECT_EQ(state.messages, (std::vector<std::string>{"text:one", "binary:two", "text:bye"}));
}

// The application's broadcast (ws_send, index -1: the firmware's counter) reaches its own clients, never an
// endpoint's connection, which speaks the endpoint's protocol (wsctl ota stopped at an unknown "message" on /ota).
TEST_F(EndpointServerTest, Broadcast_ReachesApplicationClientsNeverTheEndpoint)
{
    Client c(port);
    EXPECT_EQ(Upgrade(c, "/ep", "Sec-WebSocket-Protocol: test.1\r\n").rfind("HTTP/1.1 101", 0), 0u);
    Client app(port);
    EXPECT_EQ(Upgrade(app, "/", "").rfind("HTTP/1.1 101", 0), 0u);
    uint8_t hi[] = {'h', 'i'};
    ws_queue_item_t item = {hi, 2, -1, WS_OP_TXT, 1};
    ASSERT_EQ(ws_send(&item, 1000), WS_OK);
    EXPECT_EQ(app.ReadUntil([](const std::string &s) { return s.size() >= 4; }), std::string("\x81\x02hi", 4));
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("bye"))); // after the broadcast went out: the endpoint's answers, its close
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[0].second, "hello");
    EXPECT_EQ(frames[1].second, "bye");
    EXPECT_EQ(frames[2].second, "last words");
    EXPECT_EQ(frames[3].first, WS_OPCODE_CLOSE);
}

TEST_F(EndpointServerTest, Refusal_StatusBodyRetryAfterAndOtherPathsUntouched)
{
    state.refuse = 429;
    Client c(port);
    std::string head = Upgrade(c, "/ep", "Sec-WebSocket-Protocol: test.1\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u);
    EXPECT_NE(head.find("Retry-After: 7\r\n"), std::string::npos);
    EXPECT_NE(c.ReadUntil([](const std::string &b) {
                   return b.find("endpoint\n") != std::string::npos;
               }).find("refused by the endpoint\n"),
              std::string::npos);
    Client app(port);
    head = Upgrade(app, "/", "");
    EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u);
    EXPECT_EQ(head.find("Sec-WebSocket-Protocol"), std::string::npos);
    EXPECT_EQ(state.handshakes, 1);
    ws_stats_t st;
    ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
    EXPECT_EQ(st.rejected_endpoint, 1u);
}

// An endpoint's callback that takes longer than the close timeout before it closes (/ota verifies the image for
// 10 s on the emulated ESP32, then says `rebooting` and closes): the close handshake still gets its full timeout,
// counted from the close, so the connection is not dropped under its last answers (the emulated ESP32 restarted
// 10 ms after `rebooting`, which never reached wsctl).
TEST_F(EndpointServerTest, CloseAfterASlowCallback_WaitsForThePeerTheFullTimeout)
{
    Stop();
    Start(3000);
    state.slow_ms = 3500;
    Client c(port);
    EXPECT_EQ(Upgrade(c, "/ep", "Sec-WebSocket-Protocol: test.1\r\n").rfind("HTTP/1.1 101", 0), 0u);
    c.Send(ClientFrame(WS_OPCODE_TEXT, B("slow bye")));
    auto frames = c.FramesUntilClose();
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[2].second, "last words");
    EXPECT_EQ(frames[3].first, WS_OPCODE_CLOSE);
    EXPECT_EQ(state.closed.load(), 0); // still waiting for the peer's close, 3 s from the server's
    c.Send(ClientFrame(WS_OPCODE_CLOSE, B("\x03\xf0")));
    c.ShutdownWrite(); // the peer's FIN after its close frame: the server's linger ends with it
    for (int i = 0; i < 100 && state.closed == 0; i++) {
        ws_port_sleep_ms(10);
    }
    EXPECT_EQ(state.closed.load(), 1);
}

TEST_F(EndpointServerTest, CutConnectionAndStop_ClosedOnceEach)
{
    {
        Client c(port);
        EXPECT_EQ(Upgrade(c, "/ep", "Sec-WebSocket-Protocol: test.1\r\n").rfind("HTTP/1.1 101", 0), 0u);
        c.ReadUntil([](const std::string &b) { return b.find("hello") != std::string::npos; });
    } // closed without a close frame
    for (int i = 0; i < 100 && state.closed == 0; i++) {
        ws_port_sleep_ms(10);
    }
    EXPECT_EQ(state.closed.load(), 1);
    Client d(port);
    EXPECT_EQ(Upgrade(d, "/ep", "Sec-WebSocket-Protocol: test.1\r\n").rfind("HTTP/1.1 101", 0), 0u);
    d.ReadUntil([](const std::string &b) { return b.find("hello") != std::string::npos; });
    ws_server_stop();
    EXPECT_EQ(state.opened, 2);
    EXPECT_EQ(state.closed.load(), 2);
    ASSERT_EQ(ws_server_init(nullptr), WS_OK); // for TearDown
}

// The whole server over real loopback sockets (port 0): handshake, echo through the app API, limits, stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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
    std::string Handshake()
    {
        Send(B("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        std::string s = ReadUntil([](const std::string &b) { return b.find("\r\n\r\n") != std::string::npos; });
        size_t end = s.find("\r\n\r\n");
        std::string head = end == std::string::npos ? s : s.substr(0, end + 4);
        buf_.erase(0, head.size());
        return head;
    }
    std::string &buffer() { return buf_; }

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

// Connection state machine, send-queue policy and connection table (no sockets).
#include <gtest/gtest.h>

#include "c_api.h"

static const std::string kRequest = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

class ConnTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        lim = {4096, 4, 1000, 500, 500, 9, nullptr, nullptr, 0, nullptr, 0};
        c.index = 0;
        ASSERT_EQ(ws_conn_start(&c, 42, &lim, 0), WS_OK);
    }
    void TearDown() override { ws_conn_release(&c); }

    // Feeds everything; returns messages delivered.
    std::vector<std::string> Input(const Bytes &in, uint32_t now = 1, bool can_open = true)
    {
        std::vector<std::string> out;
        size_t pos = 0;
        while (pos < in.size()) {
            ws_read_event_t msg;
            pos += ws_conn_input(&c, &lim, &stats, in.data() + pos, in.size() - pos, now, can_open, &msg);
            if (msg.type == WS_READ_MESSAGE) {
                out.emplace_back(reinterpret_cast<char *>(msg.data), msg.len);
                free(msg.data);
            }
        }
        return out;
    }
    // Drains the send queue as if the socket took everything.
    std::string Output()
    {
        std::string out;
        size_t len;
        const uint8_t *p;
        while ((p = ws_sendq_peek(&c.sendq, &len)) != nullptr) {
            out.append(reinterpret_cast<const char *>(p), len);
            ws_sendq_advance(&c.sendq, len);
        }
        return out;
    }
    void Open()
    {
        Input(B(kRequest));
        ASSERT_EQ(c.state, WS_CONN_OPEN);
        Output();
    }

    ws_conn_limits_t lim;
    ws_stats_t stats = {};
    ws_conn_t c = {};
};

TEST_F(ConnTest, UpgradeWithPipelinedFrame_Answers101AndDeliversFrame)
{
    auto msgs = Input(Concat({B(kRequest), ClientFrame(1, B("early"))}));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], "early");
    EXPECT_EQ(Output().rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
    EXPECT_EQ(stats.accepted, 1u);
}

TEST_F(ConnTest, TableFull_Answers503WithRetryAfterAndLingers)
{
    Input(B(kRequest), 1, false);
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    std::string out = Output();
    EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u);
    EXPECT_NE(out.find("Retry-After: 9\r\n"), std::string::npos);
    EXPECT_EQ(stats.rejected_full, 1u);
}

TEST_F(ConnTest, OversizedRequest_Answers400)
{
    Input(B("GET / HTTP/1.1\r\nX: " + std::string(WS_CONN_MAX_REQUEST, 'a')));
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output().rfind("HTTP/1.1 400", 0), 0u);
}

TEST_F(ConnTest, Ping_AnsweredWithPongCarryingSamePayload)
{
    Open();
    Input(ClientFrame(WS_OPCODE_PING, B("abc")));
    EXPECT_EQ(Output(), std::string("\x8a\x03"
                                    "abc",
                                    5));
}

TEST_F(ConnTest, PeerClose_EchoesCodeThenLingers)
{
    Open();
    Input(ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8, 'b', 'y', 'e'}));
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xe8", 4));
}

TEST_F(ConnTest, PeerCloseWithoutCode_AnsweredWithEmptyClose)
{
    Open();
    Input(ClientFrame(WS_OPCODE_CLOSE, Bytes{}));
    EXPECT_EQ(Output(), std::string("\x88\x00", 2)); // 1005 is never sent (section 7.4.1)
}

TEST_F(ConnTest, ProtocolError_SendsClose1002AndCounts)
{
    Open();
    Input(ClientFrame(1, B("hi"), true, 0, false));
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xea", 4));
    EXPECT_EQ(stats.failed, 1u);
}

TEST_F(ConnTest, ServerClose_WaitsForPeerCloseThenTimesOut)
{
    Open();
    ws_conn_close(&c, &lim, WS_CLOSE_GOING_AWAY, 100);
    EXPECT_EQ(c.state, WS_CONN_CLOSING);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xe9", 4));
    auto msgs = Input(ClientFrame(1, B("late data")), 150); // discarded while closing (7.1.2)
    EXPECT_TRUE(msgs.empty());
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 599));
    EXPECT_TRUE(ws_conn_tick(&c, &lim, &stats, 150 + lim.close_timeout_ms));
}

TEST_F(ConnTest, ServerCloseAnswered_GoesToLinger)
{
    Open();
    ws_conn_close(&c, &lim, WS_CLOSE_GOING_AWAY, 100);
    Output();
    Input(ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE9}), 120);
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), ""); // our close was already sent
}

TEST_F(ConnTest, SendQueueFull_ClosesSlowClientWith1008AndCounts)
{
    Open();
    ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_TEXT, reinterpret_cast<const uint8_t *>("x"), 1);
    for (uint32_t i = 0; i < lim.send_queue_len; i++) {
        ASSERT_EQ(ws_conn_send(&c, &lim, &stats, b, 10), WS_OK);
    }
    EXPECT_EQ(ws_conn_send(&c, &lim, &stats, b, 10), WS_ERR_FULL);
    ws_buf_unref(b);
    EXPECT_EQ(stats.slow_closed, 1u);
    EXPECT_EQ(c.state, WS_CONN_CLOSING);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xf0", 4)); // unsent frames dropped, then close 1008
}

TEST_F(ConnTest, IdlePeer_PingedThenDroppedWithoutPong)
{
    Open(); // last input at t=1
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 1000));
    EXPECT_EQ(Output(), "");
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 1001));
    EXPECT_EQ(Output(), std::string("\x89\x04idle", 6));
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 2000));
    EXPECT_TRUE(ws_conn_tick(&c, &lim, &stats, 2001));
    EXPECT_EQ(stats.ping_dropped, 1u);
}

TEST_F(ConnTest, IdlePeerAnsweringPong_StaysOpen)
{
    Open();
    ws_conn_tick(&c, &lim, &stats, 1001);
    Output();
    Input(ClientFrame(WS_OPCODE_PONG, B("idle")), 1200);
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 2100));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
}

TEST(SendQueue, BroadcastBufferShared_FreedAfterLastQueueDrains)
{
    ws_sendq_t a, b;
    ws_sendq_init(&a, 2);
    ws_sendq_init(&b, 2);
    ws_buf_t *buf = ws_buf_new_frame(WS_OPCODE_TEXT, reinterpret_cast<const uint8_t *>("hey"), 3);
    ASSERT_EQ(ws_sendq_push(&a, buf), WS_OK);
    ASSERT_EQ(ws_sendq_push(&b, buf), WS_OK);
    ws_buf_unref(buf); // the queues hold the remaining references
    EXPECT_EQ(buf->refs, 2u);
    size_t len;
    ws_sendq_peek(&a, &len);
    ws_sendq_advance(&a, 2); // partial write
    ws_sendq_peek(&a, &len);
    EXPECT_EQ(len, 3u);
    ws_sendq_advance(&a, 3);
    EXPECT_TRUE(ws_sendq_empty(&a));
    EXPECT_EQ(buf->refs, 1u);
    ws_sendq_clear(&b); // frees the buffer (checked by ASan/valgrind)
}

TEST(SendQueue, DropUnstarted_KeepsPartlyWrittenHead)
{
    ws_sendq_t q;
    ws_sendq_init(&q, 3);
    for (int i = 0; i < 3; i++) {
        ws_buf_t *b = ws_buf_new_frame(WS_OPCODE_TEXT, reinterpret_cast<const uint8_t *>("abc"), 3);
        ASSERT_EQ(ws_sendq_push(&q, b), WS_OK);
        ws_buf_unref(b);
    }
    ws_buf_t *extra = ws_buf_new_raw("x", 1);
    EXPECT_EQ(ws_sendq_push(&q, extra), WS_ERR_FULL);
    EXPECT_EQ(q.full_events, 1u);
    ws_sendq_advance(&q, 1);
    ws_sendq_drop_unstarted(&q);
    EXPECT_EQ(q.count, 1u); // the frame already on the wire must be completed
    EXPECT_EQ(ws_sendq_push_force(&q, extra), WS_OK);
    ws_buf_unref(extra);
    ws_sendq_clear(&q);
}

TEST(ConnTable, OpenLimit_CountsOnlyOpenAndClosing)
{
    ws_conn_table_t t;
    ASSERT_EQ(ws_conn_table_init(&t, 4, 2), WS_OK);
    ws_conn_limits_t lim = {4096, 4, 0, 500, 500, 5, nullptr, nullptr, 0, nullptr, 0};
    ws_conn_t *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = ws_conn_table_alloc(&t);
        ASSERT_NE(c[i], nullptr);
        EXPECT_EQ(c[i]->index, i);
        ASSERT_EQ(ws_conn_start(c[i], 10 + i, &lim, 0), WS_OK);
    }
    EXPECT_EQ(ws_conn_table_alloc(&t), nullptr); // every slot busy
    EXPECT_TRUE(ws_conn_table_can_open(&t));     // handshakes do not count
    c[0]->state = WS_CONN_OPEN;
    c[1]->state = WS_CONN_CLOSING;
    EXPECT_EQ(ws_conn_table_open_count(&t), 2u);
    EXPECT_FALSE(ws_conn_table_can_open(&t));
    ws_conn_release(c[1]);
    EXPECT_TRUE(ws_conn_table_can_open(&t));
    EXPECT_EQ(ws_conn_table_alloc(&t), c[1]);
    for (auto *x : c) {
        ws_conn_release(x);
    }
    ws_conn_table_free(&t);
    EXPECT_EQ(ws_conn_table_init(&t, 1, 2), WS_ERR_ARG);
}

TEST(RamPerClient, ConnectionStruct_IsSmall)
{
    // Documented in README.md; this prints the host (64-bit) figure and guards against accidental growth.
    std::printf("sizeof(ws_conn_t) = %zu on this host\n", sizeof(ws_conn_t));
    EXPECT_LT(sizeof(ws_conn_t), 640u);
}

// ---- the Origin rule (ws_origin.h) in the handshake ----

static std::string RequestWithOrigin(const std::string &origin_lines, const std::string &host = "h")
{
    return "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + origin_lines +
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

static const ws_origin_policy_t kDevicePolicy = {"http://esp32ws.local,http://app.example", "esp32ws.local"};

TEST_F(ConnTest, OriginInAllowList_Answers101)
{
    lim.origins = &kDevicePolicy;
    Input(B(RequestWithOrigin("Origin: HTTP://App.Example\r\n")));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
    EXPECT_EQ(Output().rfind("HTTP/1.1 101", 0), 0u);
}

TEST_F(ConnTest, SameOriginUnderTheDevicesName_Answers101)
{
    lim.origins = &kDevicePolicy;
    Input(B(RequestWithOrigin("Origin: http://esp32ws.local:8080\r\n", "esp32ws.local:8080")));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
}

TEST_F(ConnTest, OriginTheRuleRefuses_Answers403AndCounts)
{
    lim.origins = &kDevicePolicy;
    Input(B(RequestWithOrigin("Origin: http://evil.example\r\n", "evil.example"))); // a rebinding page
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    std::string out = Output();
    EXPECT_EQ(out.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
    EXPECT_EQ(out.substr(out.size() - 19), "origin not allowed\n");
    EXPECT_EQ(stats.rejected_origin, 1u);
    EXPECT_EQ(stats.accepted, 0u);
}

TEST_F(ConnTest, NoOriginHeaderWithTheRule_Answers101)
{
    lim.origins = &kDevicePolicy;
    Input(B(kRequest));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
}

TEST_F(ConnTest, RepeatedOrigin_Answers403)
{
    // Read as the values joined by commas (RFC 9110 section 5.3): no origin, even when each is allowed.
    lim.origins = &kDevicePolicy;
    Input(B(RequestWithOrigin("Origin: http://esp32ws.local\r\nOrigin: http://app.example\r\n")));
    EXPECT_EQ(Output().rfind("HTTP/1.1 403", 0), 0u);
}

TEST_F(ConnTest, OriginWithTheRuleOff_Answers101)
{
    Input(B(RequestWithOrigin("Origin: http://anywhere.example\r\n")));
    EXPECT_EQ(c.state, WS_CONN_OPEN);
}

TEST_F(ConnTest, RefusedOriginOnFullServer_Answers403Not503)
{
    lim.origins = &kDevicePolicy;
    Input(B(RequestWithOrigin("Origin: http://x.example\r\n")), 1, false);
    EXPECT_EQ(Output().rfind("HTTP/1.1 403", 0), 0u);
}

// ---- answers before the close (RFC 6455 section 5.5.1; Autobahn 3.2, 4.1.3, 5.15, 7.1.6) ----

TEST_F(ConnTest, ErrorWhileAnswerPending_ClosesAfterTheAnswer)
{
    lim.answer_timeout_ms = 500;
    Open();
    auto msgs = Input(ClientFrame(1, B("Hello")));
    ASSERT_EQ(msgs.size(), 1u);
    c.answer_pending = true; // the server gave "Hello" to the application
    Input(Concat({ClientFrame(1, B("x"), true, 2), ClientFrame(WS_OPCODE_PING, B(""))}), 5); // RSV, then a ping
    EXPECT_EQ(c.state, WS_CONN_FINISHING);
    EXPECT_EQ(stats.failed, 1u);
    EXPECT_EQ(Output(), ""); // no close yet, and never a pong after the error
    ws_buf_t *echo = ws_buf_new_frame(WS_OPCODE_TEXT, reinterpret_cast<const uint8_t *>("Hello"), 5);
    EXPECT_EQ(ws_conn_send(&c, &lim, &stats, echo, 6), WS_OK);
    ws_buf_unref(echo);
    ws_conn_answered(&c, &lim, 7);
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x81\x05Hello\x88\x02\x03\xea", 11));
}

TEST_F(ConnTest, ErrorWithoutAnswerPending_ClosesAtOnce)
{
    lim.answer_timeout_ms = 500;
    Open();
    Input(ClientFrame(1, B("ok\xc3\x28"), false)); // invalid UTF-8 in an unfinished message
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xef", 4));
}

TEST_F(ConnTest, PeerCloseWhileAnswerPending_EchoesCloseAfterTheAnswer)
{
    lim.answer_timeout_ms = 500;
    Open();
    Input(ClientFrame(1, B("Hi")));
    c.answer_pending = true;
    Input(ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8}), 5);
    EXPECT_EQ(c.state, WS_CONN_FINISHING);
    auto late = Input(ClientFrame(1, B("after close")), 6); // 5.5.1: nothing after a close frame counts
    EXPECT_TRUE(late.empty());
    ws_buf_t *echo = ws_buf_new_frame(WS_OPCODE_TEXT, reinterpret_cast<const uint8_t *>("Hi"), 2);
    ws_conn_send(&c, &lim, &stats, echo, 7);
    ws_buf_unref(echo);
    ws_conn_answered(&c, &lim, 8);
    EXPECT_EQ(Output(), std::string("\x81\x02Hi\x88\x02\x03\xe8", 8));
}

TEST_F(ConnTest, ApplicationNeverAnswers_CloseSentAtAnswerTimeout)
{
    lim.answer_timeout_ms = 500;
    Open();
    c.answer_pending = true;
    Input(ClientFrame(1, B("hi"), true, 0, false), 100); // unmasked: 1002
    EXPECT_EQ(c.state, WS_CONN_FINISHING);
    EXPECT_EQ(ws_conn_next_deadline(&c, &lim, 100), 600u);
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 599));
    EXPECT_EQ(Output(), "");
    EXPECT_FALSE(ws_conn_tick(&c, &lim, &stats, 600));
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xea", 4));
}

TEST_F(ConnTest, ServerStopWhileFinishing_SendsTheOwedCloseAtOnce)
{
    lim.answer_timeout_ms = 500;
    Open();
    c.answer_pending = true;
    Input(ClientFrame(1, B("hi"), true, 0, false), 100);
    ws_conn_close(&c, &lim, WS_CLOSE_GOING_AWAY, 110);
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xea", 4)); // the peer's error code, not 1001
}

TEST_F(ConnTest, FinishingClient_StillCountsAgainstMaxClients)
{
    ws_conn_table_t t;
    ASSERT_EQ(ws_conn_table_init(&t, 2, 1), WS_OK);
    t.conns[0].state = WS_CONN_FINISHING;
    EXPECT_FALSE(ws_conn_table_can_open(&t));
    t.conns[0].state = WS_CONN_FREE;
    ws_conn_table_free(&t);
}

// ---- the shared receive budget ----

TEST_F(ConnTest, GrowthBeyondBudget_Closes1008AndCountsIt)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 1000);
    ws_budget_add(&budget, 900); // other clients hold most of it
    lim.rx_budget = &budget;
    ws_conn_release(&c);
    ASSERT_EQ(ws_conn_start(&c, 42, &lim, 0), WS_OK);
    Open();
    Bytes f = ClientFrame(WS_OPCODE_BINARY, Bytes(3000, 'z'));
    Input(Bytes(f.begin(), f.begin() + 8 + 600)); // 600 bytes need a 1024-byte buffer: 1924 > 1000
    EXPECT_EQ(c.state, WS_CONN_LINGER);
    EXPECT_EQ(Output(), std::string("\x88\x02\x03\xf0", 4));
    EXPECT_EQ(stats.budget_closed, 1u);
    EXPECT_EQ(stats.failed, 0u);
    EXPECT_EQ(budget.used, 900u); // this client's bytes went back
}

// Frame header parser/writer (RFC 6455 section 5.2) and the incremental reader (sections 5.4, 5.5, 7.4, 8.1).
#include <gtest/gtest.h>

#include "c_api.h"

class ReaderTest : public ::testing::Test
{
  protected:
    void SetUp() override { ws_reader_init(&r, 65536); }
    void TearDown() override { ws_reader_free(&r); }
    ws_reader_t r;
};

TEST(FrameHeader, Rfc6455MaskedHelloExample_ParsesFields)
{
    // RFC 6455 section 5.7: a single-frame masked text message "Hello".
    const uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    ws_frame_header_t h;
    ASSERT_EQ(ws_frame_parse_header(f, sizeof(f), &h), 6);
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, WS_OPCODE_TEXT);
    EXPECT_EQ(h.payload_len, 5u);
    uint8_t payload[5];
    memcpy(payload, f + 6, 5);
    ws_frame_unmask(payload, 5, h.mask, 0);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(payload), 5), "Hello");
}

TEST(FrameHeader, EveryPrefixOfAHeader_IsIncomplete)
{
    Bytes f = ClientFrame(WS_OPCODE_BINARY, Bytes(70000, 1));
    ws_frame_header_t h;
    for (size_t n = 0; n < 14; n++) {
        EXPECT_EQ(ws_frame_parse_header(f.data(), n, &h), WS_FRAME_INCOMPLETE) << n;
    }
    ASSERT_EQ(ws_frame_parse_header(f.data(), 14, &h), 14);
    EXPECT_EQ(h.payload_len, 70000u);
}

TEST(FrameHeader, ProtocolViolations_Return1002Error)
{
    ws_frame_header_t h;
    const uint8_t rsv[] = {0xC1, 0x80, 0, 0, 0, 0};       // RSV1 without an extension
    const uint8_t opcode3[] = {0x83, 0x80, 0, 0, 0, 0};   // reserved non-control opcode
    const uint8_t opcodeB[] = {0x8B, 0x80, 0, 0, 0, 0};   // reserved control opcode
    const uint8_t frag_ping[] = {0x09, 0x80, 0, 0, 0, 0}; // fragmented control frame
    const uint8_t long_ping[] = {0x89, 0xFE, 0, 126};     // control frame > 125 bytes
    const uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};    // client frame without mask
    const uint8_t top_bit[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (auto *f : {rsv, opcode3, opcodeB, frag_ping, long_ping, unmasked}) {
        EXPECT_EQ(ws_frame_parse_header(f, 4, &h), WS_FRAME_PROTOCOL_ERROR);
    }
    EXPECT_EQ(ws_frame_parse_header(top_bit, sizeof(top_bit), &h), WS_FRAME_PROTOCOL_ERROR);
}

TEST(FrameWriter, LengthEncodings_UseMinimalForm)
{
    uint8_t out[WS_FRAME_MAX_HEADER];
    EXPECT_EQ(ws_frame_write_header(out, true, WS_OPCODE_TEXT, 125, nullptr), 2u);
    EXPECT_EQ(out[0], 0x81);
    EXPECT_EQ(out[1], 125);
    EXPECT_EQ(ws_frame_write_header(out, true, WS_OPCODE_BINARY, 126, nullptr), 4u);
    EXPECT_EQ(out[1], 126);
    EXPECT_EQ(out[2], 0);
    EXPECT_EQ(out[3], 126);
    EXPECT_EQ(ws_frame_write_header(out, false, WS_OPCODE_BINARY, 65536, nullptr), 10u);
    EXPECT_EQ(out[0], 0x02);
    EXPECT_EQ(out[1], 127);
    EXPECT_EQ(out[7], 1); // 0x0000000000010000
    EXPECT_EQ(ws_frame_header_size(65535, true), 8u);
}

TEST(FrameWriter, CloseCodeValidity_FollowsSection7_4)
{
    for (uint16_t ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
        EXPECT_TRUE(ws_frame_close_code_valid(ok)) << ok;
    }
    for (uint16_t bad : {0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        EXPECT_FALSE(ws_frame_close_code_valid(bad)) << bad;
    }
}

TEST_F(ReaderTest, FrameFedOneByteAtATime_DeliversMessageOnLastByte)
{
    Bytes f = ClientFrame(WS_OPCODE_TEXT, B("slow-frame"));
    for (size_t i = 0; i + 1 < f.size(); i++) {
        ws_read_event_t ev;
        ASSERT_EQ(ws_reader_feed(&r, &f[i], 1, &ev), 1u);
        ASSERT_EQ(ev.type, WS_READ_NEED_MORE) << "byte " << i;
    }
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, &f.back(), 1, &ev), 1u);
    ASSERT_EQ(ev.type, WS_READ_MESSAGE);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(ev.data), ev.len), "slow-frame");
    EXPECT_EQ(ev.data[ev.len], 0); // NUL-terminated for printing
    free(ev.data);
}

TEST_F(ReaderTest, ThreeFramesInOneChunk_DeliversThreeMessagesInOrder)
{
    Bytes in = Concat({ClientFrame(1, B("one")), ClientFrame(1, B("two")), ClientFrame(1, B("three"))});
    ReadResult res = FeedAll(&r, in, in.size());
    ASSERT_EQ(res.messages.size(), 3u);
    EXPECT_EQ(res.messages[0], "one");
    EXPECT_EQ(res.messages[1], "two");
    EXPECT_EQ(res.messages[2], "three");
}

TEST_F(ReaderTest, SixteenAndSixtyFourBitLengths_AnySplit_Reassemble)
{
    Bytes big16(300, 'a'), big64(70000, 'b');
    Bytes in = Concat({ClientFrame(WS_OPCODE_BINARY, big16), ClientFrame(WS_OPCODE_BINARY, big64)});
    ws_reader_free(&r);
    ws_reader_init(&r, 100000);
    for (size_t chunk : {1u, 3u, 13u, 1460u}) {
        ReadResult res = FeedAll(&r, in, chunk);
        ASSERT_EQ(res.messages.size(), 2u) << chunk;
        EXPECT_EQ(res.messages[0], std::string(300, 'a'));
        EXPECT_EQ(res.messages[1], std::string(70000, 'b'));
        EXPECT_EQ(res.opcodes[1], WS_OPCODE_BINARY);
    }
}

TEST_F(ReaderTest, FragmentsWithPingBetween_PingFirstThenWholeMessage)
{
    Bytes in = Concat({ClientFrame(1, B("frag-"), false), ClientFrame(WS_OPCODE_PING, B("p")),
                       ClientFrame(0, B("men"), false), ClientFrame(0, B("ted"))});
    ReadResult res = FeedAll(&r, in, 2);
    ASSERT_EQ(res.types.size(), 2u);
    EXPECT_EQ(res.types[0], WS_READ_PING);
    EXPECT_EQ(res.messages[0], "p");
    EXPECT_EQ(res.types[1], WS_READ_MESSAGE);
    EXPECT_EQ(res.messages[1], "frag-mented");
}

TEST_F(ReaderTest, Utf8SplitAcrossFragments_IsAccepted)
{
    Bytes in = Concat({ClientFrame(1, Bytes{0xe2, 0x82}, false), ClientFrame(0, Bytes{0xac})});
    ReadResult res = FeedAll(&r, in, in.size());
    ASSERT_EQ(res.messages.size(), 1u);
    EXPECT_EQ(res.messages[0], "\xe2\x82\xac");
}

TEST_F(ReaderTest, InvalidUtf8InFirstFragment_Fails1007BeforeMessageEnds)
{
    Bytes in = ClientFrame(1, B("ok\xc3\x28"), false); // the message is not finished, still fails fast
    ReadResult res = FeedAll(&r, in, in.size());
    ASSERT_EQ(res.types.size(), 1u);
    EXPECT_EQ(res.types[0], WS_READ_FAIL);
    EXPECT_EQ(res.close_code, WS_CLOSE_INVALID_PAYLOAD);
}

TEST_F(ReaderTest, TextEndingInsideCodePoint_Fails1007)
{
    ReadResult res = FeedAll(&r, ClientFrame(1, Bytes{'a', 0xe2, 0x82}), 64);
    EXPECT_EQ(res.close_code, WS_CLOSE_INVALID_PAYLOAD);
}

TEST_F(ReaderTest, InvalidUtf8InBinary_IsDelivered)
{
    ReadResult res = FeedAll(&r, ClientFrame(WS_OPCODE_BINARY, Bytes{0xc3, 0x28}), 64);
    ASSERT_EQ(res.messages.size(), 1u);
}

TEST_F(ReaderTest, AnnouncedLengthOverMax_Fails1009FromHeaderAlone)
{
    ws_reader_free(&r);
    ws_reader_init(&r, 1000);
    Bytes f = ClientFrame(WS_OPCODE_TEXT, Bytes(1001, 'x'));
    ws_read_event_t ev;
    size_t used = ws_reader_feed(&r, f.data(), 8, &ev); // header only: 2 + 2 + 4 bytes
    EXPECT_EQ(used, 8u);
    EXPECT_EQ(ev.type, WS_READ_FAIL);
    EXPECT_EQ(ev.close_code, WS_CLOSE_MESSAGE_TOO_BIG);
}

TEST_F(ReaderTest, FragmentsAddingUpOverMax_Fail1009)
{
    ws_reader_free(&r);
    ws_reader_init(&r, 10);
    Bytes in = Concat({ClientFrame(1, B("123456"), false), ClientFrame(0, B("7890x"))});
    ReadResult res = FeedAll(&r, in, in.size());
    EXPECT_EQ(res.close_code, WS_CLOSE_MESSAGE_TOO_BIG);
    // Exactly the maximum is fine.
    ws_reader_free(&r);
    ws_reader_init(&r, 10);
    res = FeedAll(&r, Concat({ClientFrame(1, B("123456"), false), ClientFrame(0, B("7890"))}), 100);
    ASSERT_EQ(res.messages.size(), 1u);
}

TEST_F(ReaderTest, EveryProtocolError_Fails1002)
{
    const Bytes cases[] = {
        ClientFrame(1, B("hi"), true, 0, false),                         // unmasked
        ClientFrame(1, B("hi"), true, 4),                                // RSV1
        ClientFrame(1, B("hi"), true, 1),                                // RSV3
        ClientFrame(5, B("")),                                           // reserved opcode
        ClientFrame(0xC, B("")),                                         // reserved control opcode
        ClientFrame(WS_OPCODE_PING, Bytes(126, 'p')),                    // control > 125
        ClientFrame(WS_OPCODE_PING, B("p"), false),                      // fragmented control
        ClientFrame(0, B("x")),                                          // nothing to continue
        Concat({ClientFrame(1, B("a"), false), ClientFrame(1, B("b"))}), // new message inside one
        ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03}),                       // 1-byte close body
        ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xED}),                 // close code 1005
        ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE7}),                 // close code 999
    };
    for (const Bytes &in : cases) {
        ws_reader_free(&r);
        ws_reader_init(&r, 65536);
        ReadResult res = FeedAll(&r, in, 1);
        ASSERT_FALSE(res.types.empty());
        EXPECT_EQ(res.types.back(), WS_READ_FAIL);
        EXPECT_EQ(res.close_code, WS_CLOSE_PROTOCOL_ERROR);
    }
}

TEST_F(ReaderTest, CloseFrames_ReportCodeReasonOrNoStatus)
{
    ReadResult res = FeedAll(&r, ClientFrame(WS_OPCODE_CLOSE, Concat({Bytes{0x03, 0xE8}, B("bye")})), 3);
    ASSERT_EQ(res.types.back(), WS_READ_CLOSE);
    EXPECT_EQ(res.close_code, WS_CLOSE_NORMAL);
    ws_reader_init(&r, 65536);
    res = FeedAll(&r, ClientFrame(WS_OPCODE_CLOSE, Bytes{}), 3);
    EXPECT_EQ(res.close_code, WS_CLOSE_NO_STATUS);
    ws_reader_init(&r, 65536);
    res = FeedAll(&r, ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8, 0xc3, 0x28}), 3); // reason not UTF-8
    EXPECT_EQ(res.types.back(), WS_READ_FAIL);
    EXPECT_EQ(res.close_code, WS_CLOSE_INVALID_PAYLOAD);
}

TEST_F(ReaderTest, AfterClose_FurtherInputIsIgnored)
{
    Bytes in = Concat({ClientFrame(WS_OPCODE_CLOSE, Bytes{0x03, 0xE8}), ClientFrame(1, B("late"))});
    ReadResult res = FeedAll(&r, in, in.size());
    ASSERT_EQ(res.types.size(), 1u);
    EXPECT_EQ(res.types[0], WS_READ_CLOSE);
}

TEST_F(ReaderTest, EmptyTextAndPong_AreReported)
{
    Bytes in = Concat({ClientFrame(1, B("")), ClientFrame(WS_OPCODE_PONG, B("pp"))});
    ReadResult res = FeedAll(&r, in, in.size());
    ASSERT_EQ(res.types.size(), 2u);
    EXPECT_EQ(res.types[0], WS_READ_MESSAGE);
    EXPECT_EQ(res.messages[0], "");
    EXPECT_EQ(res.types[1], WS_READ_PONG);
}

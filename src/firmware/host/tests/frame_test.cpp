// Frame header parser/writer (RFC 6455 section 5.2) and the incremental reader (sections 5.4, 5.5, 7.4, 8.1).
#include <gtest/gtest.h>

#include "c_api.h"

class ReaderTest : public ::testing::Test
{
  protected:
    void SetUp() override { ws_reader_init(&r, 65536, nullptr); }
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
    ws_reader_init(&r, 100000, nullptr);
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
    ws_reader_init(&r, 1000, nullptr);
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
    ws_reader_init(&r, 10, nullptr);
    Bytes in = Concat({ClientFrame(1, B("123456"), false), ClientFrame(0, B("7890x"))});
    ReadResult res = FeedAll(&r, in, in.size());
    EXPECT_EQ(res.close_code, WS_CLOSE_MESSAGE_TOO_BIG);
    // Exactly the maximum is fine.
    ws_reader_free(&r);
    ws_reader_init(&r, 10, nullptr);
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
        ws_reader_init(&r, 65536, nullptr);
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
    ws_reader_init(&r, 65536, nullptr);
    res = FeedAll(&r, ClientFrame(WS_OPCODE_CLOSE, Bytes{}), 3);
    EXPECT_EQ(res.close_code, WS_CLOSE_NO_STATUS);
    ws_reader_init(&r, 65536, nullptr);
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

// ---- fail fast on invalid UTF-8 (RFC 6455 section 8.1, Autobahn 6.4.x) ----

// Feeds in and reports the first event other than NEED_MORE, and how many bytes were consumed up to it.
static ws_read_event_t FirstEvent(ws_reader_t *r, const Bytes &in, size_t *consumed)
{
    ws_read_event_t ev = {};
    size_t pos = 0;
    while (pos < in.size()) {
        pos += ws_reader_feed(r, in.data() + pos, in.size() - pos, &ev);
        if (ev.type != WS_READ_NEED_MORE) {
            break;
        }
    }
    *consumed = pos;
    return ev;
}

TEST_F(ReaderTest, CodePointCutAtEveryFragmentBoundary_IsAccepted)
{
    Bytes text = B("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xf0\x9f\x98\x80 \xe2\x82\xac");
    for (size_t cut = 1; cut < text.size(); cut++) {
        ws_reader_free(&r);
        ws_reader_init(&r, 65536, nullptr);
        Bytes in = Concat({ClientFrame(1, Bytes(text.begin(), text.begin() + cut), false),
                           ClientFrame(0, Bytes(text.begin() + cut, text.end()))});
        ReadResult res = FeedAll(&r, in, 3);
        ASSERT_EQ(res.messages.size(), 1u) << cut;
        EXPECT_EQ(res.messages[0], std::string(text.begin(), text.end())) << cut;
    }
}

TEST_F(ReaderTest, CodePointSpreadOverThreeFragments_IsAccepted)
{
    Bytes in = Concat(
        {ClientFrame(1, Bytes{0xf0}, false), ClientFrame(0, Bytes{0x9f, 0x98}, false), ClientFrame(0, Bytes{0x80})});
    ReadResult res = FeedAll(&r, in, 1);
    ASSERT_EQ(res.messages.size(), 1u);
    EXPECT_EQ(res.messages[0], "\xf0\x9f\x98\x80");
}

TEST_F(ReaderTest, InvalidByteInFirstFragmentWithMoreToCome_Fails1007AtThatFragment)
{
    // The first fragment (FIN clear) carries the bad byte; the continuation is never needed to decide.
    Bytes first = ClientFrame(1, B("ab\xf4\x90"), false);
    size_t used = 0;
    ws_read_event_t ev = FirstEvent(&r, Concat({first, ClientFrame(0, B("cd"))}), &used);
    EXPECT_EQ(ev.type, WS_READ_FAIL);
    EXPECT_EQ(ev.close_code, WS_CLOSE_INVALID_PAYLOAD);
    EXPECT_EQ(used, first.size()); // decided on the last byte of the first fragment
}

TEST_F(ReaderTest, InvalidByteInLaterFragment_Fails1007BeforeTheFinalFragment)
{
    // Autobahn 6.4.1/6.4.2: valid first fragment, the invalid sequence in the second, FIN only on the third.
    const Bytes part1 = B("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
    for (const auto &parts :
         {std::vector<Bytes>{part1, B("\xf4\x90\x80\x80"), B("edited")},
          std::vector<Bytes>{Concat({part1, Bytes{0xf4}}), Bytes{0x90}, Concat({Bytes{0x80, 0x80}, B("edited")})}}) {
        ws_reader_free(&r);
        ws_reader_init(&r, 65536, nullptr);
        size_t used = 0;
        EXPECT_EQ(FirstEvent(&r, ClientFrame(1, parts[0], false), &used).type, WS_READ_NEED_MORE);
        ws_read_event_t ev = FirstEvent(&r, ClientFrame(0, parts[1], false), &used);
        EXPECT_EQ(ev.type, WS_READ_FAIL);
        EXPECT_EQ(ev.close_code, WS_CLOSE_INVALID_PAYLOAD);
    }
}

TEST_F(ReaderTest, InvalidByteInLaterChopOfOneFrame_Fails1007OnThatChop)
{
    // Autobahn 6.4.3/6.4.4: one frame, its payload sent in three TCP chops; fail on the chop with the bad byte.
    Bytes payload = B("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
                      "edited");
    Bytes f = ClientFrame(1, payload);
    size_t header = f.size() - payload.size();
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, f.data(), header + 12, &ev), header + 12); // up to and including F4
    EXPECT_EQ(ev.type, WS_READ_NEED_MORE);
    size_t used = ws_reader_feed(&r, f.data() + header + 12, 1, &ev); // 0x90
    EXPECT_EQ(used, 1u);
    EXPECT_EQ(ev.type, WS_READ_FAIL);
    EXPECT_EQ(ev.close_code, WS_CLOSE_INVALID_PAYLOAD);
}

TEST_F(ReaderTest, OverlongSurrogateAndTooLargeInFragments_EachFail1007BeforeFin)
{
    const Bytes bad[] = {
        B("\xc0\xaf"),         // overlong '/'
        B("\xe0\x80\xaf"),     // overlong 3-byte
        B("\xf0\x8f\xbf\xbf"), // overlong 4-byte
        B("\xed\xa0\x80"),     // U+D800
        B("\xed\xbf\xbf"),     // U+DFFF
        B("\xf4\x90\x80\x80"), // U+110000
        B("\xf5\x80\x80\x80"), // never a lead byte
    };
    for (const Bytes &seq : bad) {
        for (size_t cut = 0; cut < seq.size(); cut++) { // the sequence itself split over two fragments
            ws_reader_free(&r);
            ws_reader_init(&r, 65536, nullptr);
            Bytes in = Concat({ClientFrame(1, Concat({B("ok"), Bytes(seq.begin(), seq.begin() + cut)}), false),
                               ClientFrame(0, Bytes(seq.begin() + cut, seq.end()), false)});
            ReadResult res = FeedAll(&r, in, 1);
            ASSERT_EQ(res.types.size(), 1u) << cut;
            EXPECT_EQ(res.types[0], WS_READ_FAIL);
            EXPECT_EQ(res.close_code, WS_CLOSE_INVALID_PAYLOAD);
        }
    }
}

// ---- memory follows the bytes (RFC 6455 section 10.4) ----

TEST_F(ReaderTest, HeaderAlone_AllocatesNothing)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 100000);
    ws_reader_free(&r);
    ws_reader_init(&r, 65536, &budget);
    Bytes f = ClientFrame(WS_OPCODE_BINARY, Bytes(60000, 'x'));
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, f.data(), 8, &ev), 8u); // 16-bit length header + mask: 60,000 announced
    EXPECT_EQ(r.msg_cap, 0u);
    EXPECT_EQ(budget.used, 0u);
}

// A frame whose announced length fits the limit and the budget is received into one buffer of exactly its size,
// taken at its first payload byte: never copied while it arrives, and handed over as it is.
TEST_F(ReaderTest, AnnouncedFrameWithinTheBudget_OneBufferOfItsSizeFromTheFirstByte)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 100000);
    ws_reader_free(&r);
    ws_reader_init(&r, 65536, &budget);
    Bytes payload(60000, 'x');
    Bytes f = ClientFrame(WS_OPCODE_BINARY, payload);
    size_t header = f.size() - payload.size();
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, f.data(), header + 10, &ev), header + 10);
    EXPECT_EQ(r.msg_cap, 60001u); // the payload and its NUL
    EXPECT_EQ(budget.used, 60001u);
    const uint8_t *first = r.msg;
    for (size_t pos = header + 10; pos < f.size(); pos += 1000) {
        size_t n = std::min<size_t>(1000, f.size() - pos);
        ASSERT_EQ(ws_reader_feed(&r, f.data() + pos, n, &ev), n);
        if (ev.type == WS_READ_NEED_MORE) {
            EXPECT_EQ(r.msg, first); // never reallocated
        }
    }
    ASSERT_EQ(ev.type, WS_READ_MESSAGE);
    EXPECT_EQ(ev.data, first);
    EXPECT_EQ(ev.len, 60000u);
    EXPECT_EQ(budget.peak, 60001u);
    EXPECT_EQ(budget.used, 0u);
    free(ev.data);
}

// Section 10.4: a frame that does not fit the budget's free room is not reserved for; memory follows the bytes that
// arrived (doubling, at most twice them) until a growth the budget refuses closes this client with 1008.
TEST_F(ReaderTest, AnnouncedFrameBeyondTheBudget_BufferDoublesWithArrivingBytesUntilRefused)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 100000);
    ws_budget_add(&budget, 50000); // other clients hold half: 60,001 does not fit
    ws_reader_free(&r);
    ws_reader_init(&r, 65536, &budget);
    Bytes payload(60000, 'y');
    Bytes f = ClientFrame(WS_OPCODE_BINARY, payload);
    size_t header = f.size() - payload.size();
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, f.data(), header, &ev), header);
    size_t pos = header, prev_cap = 0;
    while (pos - header < 32000) { // up to 32 KiB: 50,000 + 32,768 fits
        ASSERT_EQ(ws_reader_feed(&r, f.data() + pos, 1000, &ev), 1000u);
        ASSERT_EQ(ev.type, WS_READ_NEED_MORE);
        pos += 1000;
        size_t arrived = pos - header;
        EXPECT_GE(r.msg_cap, arrived + 1);
        EXPECT_LE(r.msg_cap, std::max<size_t>(WS_READER_MIN_CAP, 2 * (arrived + 1)));
        EXPECT_TRUE(r.msg_cap == prev_cap || r.msg_cap == 2 * prev_cap || prev_cap == 0);
        EXPECT_EQ(budget.used, 50000u + r.msg_cap);
        prev_cap = r.msg_cap;
    }
    EXPECT_EQ(r.msg_cap, 32768u);
    ws_reader_feed(&r, f.data() + pos, 1000, &ev); // 33,000 bytes need 65,536: 115,536 > 100,000
    EXPECT_EQ(ev.type, WS_READ_FAIL);
    EXPECT_EQ(ev.close_code, WS_CLOSE_POLICY_VIOLATION);
    EXPECT_EQ(budget.used, 50000u);
}

// A message in many small fragments: each fragment that is not the last at least doubles the buffer, so the
// message is reallocated a logarithmic number of times, not once per fragment.
TEST_F(ReaderTest, ManySmallFragments_BufferDoublesInsteadOfGrowingPerFragment)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 0); // unlimited, still counted
    ws_reader_free(&r);
    ws_reader_init(&r, 65536, &budget);
    std::vector<size_t> caps;
    ws_read_event_t ev = {};
    for (int i = 0; i < 200; i++) {
        Bytes f = ClientFrame(i == 0 ? WS_OPCODE_TEXT : WS_OPCODE_CONTINUATION, Bytes(100, 'f'), i == 199);
        ASSERT_EQ(ws_reader_feed(&r, f.data(), f.size(), &ev), f.size());
        if (i < 199 && (caps.empty() || caps.back() != r.msg_cap)) {
            caps.push_back(r.msg_cap);
        }
    }
    ASSERT_EQ(ev.type, WS_READ_MESSAGE);
    EXPECT_EQ(ev.len, 20000u);
    EXPECT_EQ(caps, (std::vector<size_t>{256, 512, 1024, 2048, 4096, 8192, 16384, 32768}));
    EXPECT_EQ(budget.used, 0u);
    free(ev.data);
}

TEST_F(ReaderTest, SmallAndEmptyMessages_ShrinkToTheirLengthAndReleaseTheBudget)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 1000);
    ws_reader_free(&r);
    ws_reader_init(&r, 500, &budget);
    ReadResult res = FeedAll(&r, Concat({ClientFrame(1, B("")), ClientFrame(2, B("abc"))}), 64);
    ASSERT_EQ(res.messages.size(), 2u);
    EXPECT_EQ(res.messages[0], "");
    EXPECT_EQ(res.messages[1], "abc");
    EXPECT_EQ(budget.used, 0u);
    EXPECT_EQ(r.msg_cap, 0u);
}

TEST_F(ReaderTest, MaxMessageBelowFirstBufferSize_CapsTheBuffer)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 0);
    ws_reader_free(&r);
    ws_reader_init(&r, 10, &budget);
    Bytes f = ClientFrame(1, B("0123456789"));
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&r, f.data(), f.size() - 1, &ev), f.size() - 1);
    EXPECT_EQ(r.msg_cap, 11u);
    ASSERT_EQ(ws_reader_feed(&r, f.data() + f.size() - 1, 1, &ev), 1u);
    ASSERT_EQ(ev.type, WS_READ_MESSAGE);
    free(ev.data);
}

TEST(ReaderBudget, GrowthBeyondSharedBudget_Fails1008ForThatReaderOnly)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 5000);
    ws_reader_t a, b;
    ws_reader_init(&a, 10000, &budget);
    ws_reader_init(&b, 10000, &budget);
    Bytes fa = ClientFrame(WS_OPCODE_BINARY, Bytes(4000, 'a'));
    Bytes fb = ClientFrame(WS_OPCODE_BINARY, Bytes(8000, 'b'));
    ws_read_event_t ev;
    ASSERT_EQ(ws_reader_feed(&a, fa.data(), 8 + 2500, &ev), 8u + 2500u); // a's 4,000 fit: it holds 4,001
    EXPECT_EQ(budget.used, 4001u);
    ASSERT_EQ(ws_reader_feed(&b, fb.data(), 8 + 300, &ev), 8u + 300u); // b's 8,000 do not: 512, total 4,513
    EXPECT_EQ(ev.type, WS_READ_NEED_MORE);
    EXPECT_EQ(budget.used, 4513u);
    ws_reader_feed(&b, fb.data() + 8 + 300, 300, &ev); // b would need 1024: 5025 > 5000
    EXPECT_EQ(ev.type, WS_READ_FAIL);
    EXPECT_EQ(ev.close_code, WS_CLOSE_POLICY_VIOLATION);
    EXPECT_EQ(budget.used, 4001u); // b's memory went back
    EXPECT_EQ(budget.refused, 1u);
    size_t pos = 8 + 2500;
    ASSERT_EQ(ws_reader_feed(&a, fa.data() + pos, fa.size() - pos, &ev), fa.size() - pos); // a goes on
    ASSERT_EQ(ev.type, WS_READ_MESSAGE);
    EXPECT_EQ(ev.len, 4000u);
    free(ev.data);
    EXPECT_EQ(budget.used, 0u);
    ws_reader_free(&a);
    ws_reader_free(&b);
}

TEST(ReaderBudget, BudgetUsedUp_SmallMessagesStillPassThroughTheReserve)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 1024);
    ws_budget_add(&budget, 1024); // others hold everything
    ws_reader_t r;
    ws_reader_init(&r, 4096, &budget);
    ReadResult res = FeedAll(&r, ClientFrame(1, Bytes(WS_BUDGET_RESERVE - 1, 's')), 7);
    ASSERT_EQ(res.messages.size(), 1u);
    res = FeedAll(&r, ClientFrame(1, Bytes(WS_BUDGET_RESERVE, 'S')), 7); // needs 257 with the NUL: refused
    ASSERT_EQ(res.types.size(), 1u);
    EXPECT_EQ(res.close_code, WS_CLOSE_POLICY_VIOLATION);
    EXPECT_EQ(budget.used, 1024u);
    ws_reader_free(&r);
}

TEST(ReaderBudget, FreeMidMessage_ReleasesTheCharge)
{
    ws_budget_t budget;
    ws_budget_init(&budget, 0);
    ws_reader_t r;
    ws_reader_init(&r, 65536, &budget);
    Bytes f = ClientFrame(WS_OPCODE_BINARY, Bytes(3000, 'x'), false);
    ws_read_event_t ev;
    ws_reader_feed(&r, f.data(), f.size(), &ev);
    EXPECT_EQ(budget.used, 4096u);
    ws_reader_free(&r);
    EXPECT_EQ(budget.used, 0u);
    EXPECT_EQ(budget.peak, 4096u);
}

// UTF-8 validation (RFC 3629; RFC 6455 section 8.1).
#include <gtest/gtest.h>

#include "c_api.h"

static int Valid(const Bytes &b) { return ws_utf8_is_valid(b.data(), b.size()); }

TEST(Utf8, WellFormedSequences_AreValid)
{
    EXPECT_TRUE(Valid(B("plain ascii")));
    EXPECT_TRUE(Valid(B("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"))); // é € 😀
    EXPECT_TRUE(Valid(B("\xed\x9f\xbf")));                         // U+D7FF, just below surrogates
    EXPECT_TRUE(Valid(B("\xf4\x8f\xbf\xbf")));                     // U+10FFFF
    EXPECT_TRUE(Valid(Bytes{}));
}

TEST(Utf8, IllFormedSequences_AreInvalid)
{
    EXPECT_FALSE(Valid(B("\xc3\x28")));         // bad continuation
    EXPECT_FALSE(Valid(B("\xc0\xaf")));         // overlong '/'
    EXPECT_FALSE(Valid(B("\xe0\x80\xaf")));     // overlong 3-byte
    EXPECT_FALSE(Valid(B("\xed\xa0\x80")));     // surrogate U+D800
    EXPECT_FALSE(Valid(B("\xf4\x90\x80\x80"))); // above U+10FFFF
    EXPECT_FALSE(Valid(B("\xf5\x80\x80\x80"))); // never a lead byte
    EXPECT_FALSE(Valid(B("\xe2\x82")));         // truncated
    EXPECT_FALSE(Valid(B("\x80")));             // lone continuation
}

TEST(Utf8, CodePointSplitAcrossFeeds_IsPartialThenComplete)
{
    ws_utf8_t v;
    ws_utf8_init(&v);
    const uint8_t euro[] = {0xe2, 0x82, 0xac};
    EXPECT_EQ(ws_utf8_feed(&v, euro, 1), WS_UTF8_PARTIAL);
    EXPECT_EQ(ws_utf8_feed(&v, euro + 1, 1), WS_UTF8_PARTIAL);
    EXPECT_EQ(ws_utf8_feed(&v, euro + 2, 1), WS_UTF8_COMPLETE);
}

TEST(Utf8, InvalidByte_FailsImmediatelyAndStaysInvalid)
{
    ws_utf8_t v;
    ws_utf8_init(&v);
    const uint8_t bad[] = {'o', 'k', 0xf4, 0x90};
    EXPECT_EQ(ws_utf8_feed(&v, bad, 3), WS_UTF8_PARTIAL);
    EXPECT_EQ(ws_utf8_feed(&v, bad + 3, 1), WS_UTF8_INVALID); // fails on the first impossible byte
    const uint8_t fine[] = {'a'};
    EXPECT_EQ(ws_utf8_feed(&v, fine, 1), WS_UTF8_INVALID);
}

// Feeds one byte at a time; returns the index of the byte that made the input invalid, or -1 if none did.
static int FirstInvalidByte(const Bytes &b)
{
    ws_utf8_t v;
    ws_utf8_init(&v);
    for (size_t i = 0; i < b.size(); i++) {
        if (ws_utf8_feed(&v, &b[i], 1) == WS_UTF8_INVALID) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

TEST(Utf8, OverlongEncodings_FailOnTheFirstByteThatMakesThemOverlong)
{
    EXPECT_EQ(FirstInvalidByte(B("\xc0\xaf")), 0);             // C0 can only start an overlong form
    EXPECT_EQ(FirstInvalidByte(B("\xc1\xbf")), 0);             // C1 likewise
    EXPECT_EQ(FirstInvalidByte(B("\xe0\x80\xaf")), 1);         // E0 needs A0..BF next
    EXPECT_EQ(FirstInvalidByte(B("\xe0\x9f\xbf")), 1);         // largest overlong 3-byte form
    EXPECT_EQ(FirstInvalidByte(B("\xf0\x80\x80\xaf")), 1);     // F0 needs 90..BF next
    EXPECT_EQ(FirstInvalidByte(B("\xf0\x8f\xbf\xbf")), 1);     // largest overlong 4-byte form
    EXPECT_EQ(FirstInvalidByte(B("\xf8\x88\x80\x80\x80")), 0); // 5-byte forms do not exist
    EXPECT_EQ(FirstInvalidByte(B("\xe0\xa0\x80")), -1);        // U+0800, the first 3-byte code point
    EXPECT_EQ(FirstInvalidByte(B("\xf0\x90\x80\x80")), -1);    // U+10000, the first 4-byte code point
}

TEST(Utf8, Surrogates_FailOnTheSecondByte)
{
    EXPECT_EQ(FirstInvalidByte(B("\xed\xa0\x80")), 1);             // U+D800
    EXPECT_EQ(FirstInvalidByte(B("\xed\xbf\xbf")), 1);             // U+DFFF
    EXPECT_EQ(FirstInvalidByte(B("\xed\xa0\x80\xed\xb0\x80")), 1); // a "paired" surrogate is still invalid
    EXPECT_EQ(FirstInvalidByte(B("\xed\x9f\xbf")), -1);            // U+D7FF
    EXPECT_EQ(FirstInvalidByte(B("\xee\x80\x80")), -1);            // U+E000
}

TEST(Utf8, AboveU10FFFF_FailsAsSoonAsTheValueIsKnown)
{
    EXPECT_EQ(FirstInvalidByte(B("\xf4\x90\x80\x80")), 1); // U+110000: F4 allows only 80..8F next
    EXPECT_EQ(FirstInvalidByte(B("\xf5\x80\x80\x80")), 0); // F5..F7 would start values above U+13FFFF
    EXPECT_EQ(FirstInvalidByte(B("\xf7\xbf\xbf\xbf")), 0);
    EXPECT_EQ(FirstInvalidByte(B("\xfe")), 0);
    EXPECT_EQ(FirstInvalidByte(B("\xf4\x8f\xbf\xbf")), -1); // U+10FFFF
}

TEST(Utf8, AutobahnCase6_4Payload_FailsOnByte12)
{
    // Autobahn 6.4.1-6.4.4: "κόσμε" then F4 90 80 80 (U+110000) then "edited"; fail fast means on byte 12 (0x90).
    Bytes p = B("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
                "edited");
    EXPECT_EQ(FirstInvalidByte(p), 12);
}

TEST(Utf8, ValidTextSplitAtEveryByte_IsAcceptedAndEndsComplete)
{
    // Two-, three- and four-byte code points, cut between any two bytes (fragment or TCP segment boundaries).
    Bytes text = B("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbfz");
    for (size_t cut = 0; cut <= text.size(); cut++) {
        ws_utf8_t v;
        ws_utf8_init(&v);
        ws_utf8_result_t first = ws_utf8_feed(&v, text.data(), cut);
        EXPECT_NE(first, WS_UTF8_INVALID) << cut;
        EXPECT_EQ(ws_utf8_feed(&v, text.data() + cut, text.size() - cut), WS_UTF8_COMPLETE) << cut;
    }
}

TEST(Utf8, TruncatedSequence_IsPartialNotInvalid)
{
    ws_utf8_t v;
    ws_utf8_init(&v);
    const uint8_t lead[] = {'o', 'k', 0xf0, 0x9f, 0x98};
    EXPECT_EQ(ws_utf8_feed(&v, lead, sizeof(lead)), WS_UTF8_PARTIAL); // may still complete in the next fragment
}

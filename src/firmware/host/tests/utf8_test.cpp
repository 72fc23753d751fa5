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

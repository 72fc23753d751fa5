// SHA-1 (FIPS 180-4 example vectors) and base64 (RFC 4648 section 10 vectors).
#include <gtest/gtest.h>

#include "c_api.h"

static std::string Sha1Hex(const std::string &in)
{
    uint8_t d[WS_SHA1_DIGEST_SIZE];
    ws_sha1(in.data(), in.size(), d);
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (uint8_t b : d) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

TEST(Sha1, FipsVectorAbc_MatchesDigest) { EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"); }

TEST(Sha1, FipsVectorTwoBlocks_MatchesDigest)
{
    EXPECT_EQ(Sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, EmptyInput_MatchesDigest) { EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709"); }

TEST(Sha1, MillionAsFedInUnevenPieces_MatchesFipsDigest)
{
    ws_sha1_ctx_t ctx;
    ws_sha1_init(&ctx);
    std::string chunk(997, 'a');
    size_t left = 1000000;
    while (left > 0) {
        size_t n = std::min(left, chunk.size());
        ws_sha1_update(&ctx, chunk.data(), n);
        left -= n;
    }
    uint8_t d[20];
    ws_sha1_final(&ctx, d);
    const uint8_t want[20] = {0x34, 0xaa, 0x97, 0x3c, 0xd4, 0xc4, 0xda, 0xa4, 0xf6, 0x1e,
                              0xeb, 0x2b, 0xdb, 0xad, 0x27, 0x31, 0x65, 0x34, 0x01, 0x6f};
    EXPECT_EQ(0, memcmp(d, want, 20));
}

TEST(Base64, Rfc4648Vectors_EncodeAndDecodeBothWays)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        ASSERT_EQ(ws_base64_encode(plain[i], strlen(plain[i]), out, sizeof(out)), (int)strlen(coded[i]));
        EXPECT_STREQ(out, coded[i]);
        char back[16] = {0};
        ASSERT_EQ(ws_base64_decode(coded[i], strlen(coded[i]), back, sizeof(back)), (int)strlen(plain[i]));
        EXPECT_EQ(std::string(back, strlen(plain[i])), plain[i]);
    }
}

TEST(Base64, DecodeBadInput_ReturnsError)
{
    uint8_t out[16];
    EXPECT_LT(ws_base64_decode("Zm9", 3, out, sizeof(out)), 0);      // not a multiple of 4
    EXPECT_LT(ws_base64_decode("Zm=v", 4, out, sizeof(out)), 0);     // data after padding
    EXPECT_LT(ws_base64_decode("Zm9v!A==", 8, out, sizeof(out)), 0); // bad character
    EXPECT_LT(ws_base64_decode("=AAA", 4, out, sizeof(out)), 0);     // padding first
    EXPECT_LT(ws_base64_decode("Zm9vYmFy", 8, out, 5), 0);           // output too small
    char small[4];
    EXPECT_LT(ws_base64_encode("foo", 3, small, sizeof(small)), 0); // no room for the NUL
}

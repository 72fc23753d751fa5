// SHA-256 (FIPS 180-4; the NIST example vectors of "Cryptographic Standards and Guidelines: Examples with
// Intermediate Values") and HMAC-SHA256 (RFC 4231 section 4, test cases 1-7), and the constant-time comparison.
#include <gtest/gtest.h>

#include <string>

#include "c_api.h"

namespace
{

std::string Hex(const uint8_t *d, size_t n)
{
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out += hex[d[i] >> 4];
        out += hex[d[i] & 15];
    }
    return out;
}

std::string Sha256Hex(const std::string &in)
{
    uint8_t d[WS_SHA256_DIGEST_SIZE];
    ws_sha256(in.data(), in.size(), d);
    return Hex(d, sizeof(d));
}

std::string HmacHex(const std::string &key, const std::string &data)
{
    ws_hmac_sha256_ctx_t ctx;
    ws_hmac_sha256_init(&ctx, reinterpret_cast<const uint8_t *>(key.data()), key.size());
    ws_hmac_sha256_update(&ctx, data.data(), data.size());
    uint8_t mac[32];
    ws_hmac_sha256_final(&ctx, mac);
    return Hex(mac, sizeof(mac));
}

} // namespace

TEST(Sha256, NistOneBlockAbc_MatchesDigest)
{
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Empty_MatchesDigest)
{
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, NistTwoBlocks448Bits_MatchesDigest)
{
    EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Nist896Bits_MatchesDigest)
{
    EXPECT_EQ(
        Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                  "mnopqrstnopqrstu"),
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionAsInUnevenPieces_MatchesNistDigest)
{
    ws_sha256_ctx_t ctx;
    ws_sha256_init(&ctx);
    std::string chunk(997, 'a');
    size_t left = 1000000;
    size_t step = 1;
    while (left > 0) { // 1, 2, 3 ... bytes, then 997 at a time: every offset inside a block is crossed
        size_t n = std::min({left, chunk.size(), step++});
        ws_sha256_update(&ctx, chunk.data(), n);
        left -= n;
    }
    uint8_t d[32];
    ws_sha256_final(&ctx, d);
    EXPECT_EQ(Hex(d, 32), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EveryLengthAroundThePadding_SameAsOneShotAndByteByByte)
{
    // Lengths 0-130 cross the 55/56-byte padding boundary of one and two blocks.
    for (size_t n = 0; n <= 130; n++) {
        std::string m(n, '\0');
        for (size_t i = 0; i < n; i++) {
            m[i] = static_cast<char>(i * 31 + n);
        }
        uint8_t one[32], bytes[32];
        ws_sha256(m.data(), n, one);
        ws_sha256_ctx_t ctx;
        ws_sha256_init(&ctx);
        for (size_t i = 0; i < n; i++) {
            ws_sha256_update(&ctx, &m[i], 1);
        }
        ws_sha256_final(&ctx, bytes);
        ASSERT_EQ(Hex(one, 32), Hex(bytes, 32)) << "length " << n;
    }
}

TEST(HmacSha256, Rfc4231Case1)
{
    EXPECT_EQ(HmacHex(std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256, Rfc4231Case2_ShortKey)
{
    EXPECT_EQ(HmacHex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, Rfc4231Case3)
{
    EXPECT_EQ(HmacHex(std::string(20, '\xaa'), std::string(50, '\xdd')),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256, Rfc4231Case4)
{
    std::string key;
    for (int i = 1; i <= 25; i++) {
        key += static_cast<char>(i);
    }
    EXPECT_EQ(HmacHex(key, std::string(50, '\xcd')),
              "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256, Rfc4231Case5_TruncatedTo128Bits)
{
    EXPECT_EQ(HmacHex(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32),
              "a3b6167473100ee06e0c796c2955552b");
}

TEST(HmacSha256, Rfc4231Case6_KeyLongerThanABlockIsHashed)
{
    EXPECT_EQ(HmacHex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, Rfc4231Case7_LongKeyAndLongData)
{
    EXPECT_EQ(HmacHex(std::string(131, '\xaa'),
                      "This is a test using a larger than block-size key and a larger than block-size data. The key "
                      "needs to be hashed before being used by the HMAC algorithm."),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256, DataInPieces_SameMac)
{
    ws_hmac_sha256_ctx_t ctx;
    ws_hmac_sha256_init(&ctx, reinterpret_cast<const uint8_t *>("Jefe"), 4);
    ws_hmac_sha256_update(&ctx, "what do ya ", 11);
    ws_hmac_sha256_update(&ctx, "want for nothing?", 17);
    uint8_t mac[32];
    ws_hmac_sha256_final(&ctx, mac);
    EXPECT_EQ(Hex(mac, 32), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, Final_WipesTheContext)
{
    ws_hmac_sha256_ctx_t ctx;
    ws_hmac_sha256_init(&ctx, reinterpret_cast<const uint8_t *>("secret key"), 10);
    uint8_t mac[32];
    ws_hmac_sha256_final(&ctx, mac);
    const uint8_t *p = reinterpret_cast<const uint8_t *>(&ctx);
    for (size_t i = 0; i < sizeof(ctx); i++) {
        ASSERT_EQ(p[i], 0) << "byte " << i;
    }
}

TEST(HmacEqual, EqualAndDifferentAnywhere)
{
    uint8_t a[32], b[32];
    for (int i = 0; i < 32; i++) {
        a[i] = b[i] = static_cast<uint8_t>(i * 7);
    }
    EXPECT_TRUE(ws_hmac_equal(a, b, 32));
    for (int i = 0; i < 32; i++) {
        b[i] ^= 0x80;
        EXPECT_FALSE(ws_hmac_equal(a, b, 32)) << "byte " << i;
        b[i] ^= 0x80;
    }
    EXPECT_TRUE(ws_hmac_equal(a, b, 0));
}

// The OTA protocol's JSON reader and writer (ws_json.h, RFC 8259): every kind of value, escapes, and hostile input
// (nesting, duplicates, truncation at every byte, invalid UTF-8, bad escapes, numbers out of range).
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

#include "c_api.h"

namespace
{

// The object points into the text it was parsed from: the texts are kept here until the test ends.

int Parse(const std::string &s, ws_json_object_t *o)
{
    static std::deque<std::string> texts; // a deque never moves its elements
    texts.push_back(s);
    return ws_json_parse(texts.back().data(), texts.back().size(), o);
}

std::string Str(const ws_json_object_t &o, const char *key)
{
    char buf[128];
    int n = ws_json_get_string(&o, key, buf, sizeof(buf));
    return n < 0 ? "<" + std::to_string(n) + ">" : std::string(buf, static_cast<size_t>(n));
}

} // namespace

TEST(JsonRead, BeginMessage_EveryMember)
{
    ws_json_object_t o;
    ASSERT_EQ(Parse(R"( {"type":"begin", "size":1048576,"sha256":"ab","force":false,"auth":"cd","x":null} )", &o),
              WS_JSON_OK);
    EXPECT_EQ(o.count, 6u);
    EXPECT_EQ(Str(o, "type"), "begin");
    uint64_t size = 0;
    EXPECT_EQ(ws_json_get_u64(&o, "size", UINT64_MAX, &size), WS_JSON_OK);
    EXPECT_EQ(size, 1048576u);
    bool force = true;
    EXPECT_EQ(ws_json_get_bool(&o, "force", &force), WS_JSON_OK);
    EXPECT_FALSE(force);
    EXPECT_EQ(ws_json_find(&o, "x")->type, WS_JSON_NULL);
    EXPECT_EQ(ws_json_find(&o, "missing"), nullptr);
    EXPECT_EQ(ws_json_get_bool(&o, "missing", &force), WS_JSON_ERR_ABSENT);
    EXPECT_EQ(ws_json_get_bool(&o, "size", &force), WS_JSON_ERR_TYPE);
    EXPECT_EQ(ws_json_get_u64(&o, "type", 10, &size), WS_JSON_ERR_TYPE);
}

TEST(JsonRead, EmptyObject_Accepted)
{
    ws_json_object_t o;
    EXPECT_EQ(Parse("{}", &o), WS_JSON_OK);
    EXPECT_EQ(Parse(" \t\r\n{ \n}\n", &o), WS_JSON_OK);
    EXPECT_EQ(o.count, 0u);
}

TEST(JsonRead, Escapes_Decoded)
{
    ws_json_object_t o;
    ASSERT_EQ(Parse(R"({"s":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"})", &o), WS_JSON_OK);
    EXPECT_EQ(Str(o, "s"), "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ASSERT_EQ(Parse(R"({"\u0074ype":"x"})", &o), WS_JSON_OK); // an escaped name is the same name
    EXPECT_EQ(Str(o, "type"), "x");
}

TEST(JsonRead, HostileStrings_Refused)
{
    ws_json_object_t o;
    EXPECT_EQ(Parse("{\"s\":\"a\x01\"}", &o), WS_JSON_ERR_SYNTAX);        // a raw control character
    EXPECT_EQ(Parse(R"({"s":"\x41"})", &o), WS_JSON_ERR_SYNTAX);          // not a JSON escape
    EXPECT_EQ(Parse(R"({"s":"\u12"})", &o), WS_JSON_ERR_SYNTAX);          // short \u
    EXPECT_EQ(Parse(R"({"s":"\u12G4"})", &o), WS_JSON_ERR_SYNTAX);        // not hex
    EXPECT_EQ(Parse(R"({"s":"\ud83d"})", &o), WS_JSON_ERR_SYNTAX);        // a high surrogate alone
    EXPECT_EQ(Parse(R"({"s":"\ud83d\u0041"})", &o), WS_JSON_ERR_SYNTAX);  // not followed by a low one
    EXPECT_EQ(Parse(R"({"s":"\ude00"})", &o), WS_JSON_ERR_SYNTAX);        // a low surrogate first
    EXPECT_EQ(Parse(R"({"s":"\u0000"})", &o), WS_JSON_ERR_SYNTAX);        // NUL would end a C string
    EXPECT_EQ(Parse("{\"s\":\"\\", &o), WS_JSON_ERR_SYNTAX);              // a backslash at the very end
    EXPECT_EQ(Parse("{\"s\":\"\xc3\x28\"}", &o), WS_JSON_ERR_SYNTAX);     // invalid UTF-8
    EXPECT_EQ(Parse("{\"s\":\"\xed\xa0\x80\"}", &o), WS_JSON_ERR_SYNTAX); // an encoded surrogate
}

TEST(JsonRead, Structure_RefusedWithItsCode)
{
    ws_json_object_t o;
    EXPECT_EQ(Parse(R"({"a":{"b":1}})", &o), WS_JSON_ERR_NESTED);
    EXPECT_EQ(Parse(R"({"a":[1,2]})", &o), WS_JSON_ERR_NESTED);
    EXPECT_EQ(Parse(R"({"a":1,"a":2})", &o), WS_JSON_ERR_DUPLICATE);
    std::string many = "{";
    for (int i = 0; i <= WS_JSON_MAX_FIELDS; i++) {
        many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
    }
    EXPECT_EQ(Parse(many + "}", &o), WS_JSON_ERR_TOO_MANY);
    for (const char *bad :
         {"",           "[]",         "\"x\"",       "1",           "{",           "{\"a\"}",
          "{\"a\":}",   "{\"a\":1,}", "{,}",         "{\"a\" 1}",   "{\"a\":1}x",  "{\"a\":1}{}",
          "{a:1}",      "{'a':1}",    "{\"a\":tru}", "{\"a\":nul}", "{\"a\":01}",  "{\"a\":1.}",
          "{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}",   "{\"a\":+1}",  "{\"a\":1 2}", "{\"a\":\"x\" \"y\"}"}) {
        EXPECT_EQ(Parse(bad, &o), WS_JSON_ERR_SYNTAX) << bad;
    }
}

TEST(JsonRead, Numbers_OnlyIntegersInRangeAreRead)
{
    ws_json_object_t o;
    uint64_t v = 0;
    ASSERT_EQ(Parse(R"({"a":18446744073709551615,"b":18446744073709551616,"c":-1,"d":1.5,"e":1e3,"f":0})", &o),
              WS_JSON_OK);
    EXPECT_EQ(ws_json_get_u64(&o, "a", UINT64_MAX, &v), WS_JSON_OK);
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_EQ(ws_json_get_u64(&o, "b", UINT64_MAX, &v), WS_JSON_ERR_RANGE);
    EXPECT_EQ(ws_json_get_u64(&o, "c", UINT64_MAX, &v), WS_JSON_ERR_RANGE);
    EXPECT_EQ(ws_json_get_u64(&o, "d", UINT64_MAX, &v), WS_JSON_ERR_RANGE);
    EXPECT_EQ(ws_json_get_u64(&o, "e", UINT64_MAX, &v), WS_JSON_ERR_RANGE);
    EXPECT_EQ(ws_json_get_u64(&o, "f", UINT64_MAX, &v), WS_JSON_OK);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(ws_json_get_u64(&o, "a", 100, &v), WS_JSON_ERR_RANGE);
}

TEST(JsonRead, LongNamesAndStrings_KeptWithinTheirBuffers)
{
    ws_json_object_t o;
    std::string name(40, 'n');
    ASSERT_EQ(Parse("{\"" + name + "\":1,\"" + name + "x\":2}", &o), WS_JSON_OK); // both kept as "", not duplicates
    EXPECT_EQ(ws_json_find(&o, ""), nullptr);
    ASSERT_EQ(Parse("{\"s\":\"" + std::string(200, 'v') + "\"}", &o), WS_JSON_OK);
    char small[16];
    EXPECT_EQ(ws_json_get_string(&o, "s", small, sizeof(small)), WS_JSON_ERR_RANGE);
    EXPECT_STREQ(small, "");
}

TEST(JsonRead, EveryTruncation_RefusedWithoutReadingPastTheEnd)
{
    const std::string msg = R"({"type":"confirm","version":"1.3.0","elf_sha256":"00ff","auth":"\u00e9\ud83d\ude00"})";
    ws_json_object_t o;
    for (size_t n = 0; n < msg.size(); n++) {
        std::string cut = msg.substr(0, n); // its own allocation: ASan sees any read past n
        EXPECT_NE(Parse(cut, &o), WS_JSON_OK) << n;
    }
    EXPECT_EQ(Parse(msg, &o), WS_JSON_OK);
}

TEST(JsonRead, RandomBytesAndMutations_NeverCrash)
{
    std::mt19937 rng(2024);
    const std::string msg = R"({"type":"begin","size":123,"sha256":"aa","force":true,"auth":"bb"})";
    ws_json_object_t o;
    for (int i = 0; i < 20000; i++) {
        std::string s = msg;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = rng() % s.size();
            switch (rng() % 3) {
            case 0:
                s[at] = static_cast<char>(rng() & 0xFF);
                break;
            case 1:
                s.erase(at, 1);
                break;
            default:
                s.insert(at, 1, "{}[]\",:\\u0"[rng() % 11]);
                break;
            }
            if (s.empty()) {
                s = "{";
            }
        }
        int rc = Parse(s, &o);
        if (rc == WS_JSON_OK) { // whatever parsed reads back within bounds
            char buf[64];
            for (size_t f = 0; f < o.count; f++) {
                (void)ws_json_get_string(&o, o.fields[f].key, buf, sizeof(buf));
            }
        }
    }
}

TEST(JsonWrite, HelloShape_ParsesBack)
{
    char buf[256];
    ws_json_writer_t w;
    ws_json_begin(&w, buf, sizeof(buf));
    ws_json_put_string(&w, "type", "hello");
    const uint8_t bytes[3] = {0x00, 0xab, 0xff};
    ws_json_put_hex(&w, "nonce", bytes, 3);
    ws_json_put_u64(&w, "slot_size", 2031616);
    ws_json_put_bool(&w, "t", true);
    ws_json_open(&w, "last_update");
    ws_json_put_string(&w, "result", "none");
    ws_json_close(&w);
    ws_json_put_string(&w, "after", "x");
    size_t n = ws_json_end(&w);
    EXPECT_EQ(std::string(buf, n), R"({"type":"hello","nonce":"00abff","slot_size":2031616,"t":true,)"
                                   R"("last_update":{"result":"none"},"after":"x"})");
}

TEST(JsonWrite, Strings_EscapedAndNonUtf8MadeSafe)
{
    char buf[128];
    ws_json_writer_t w;
    ws_json_begin(&w, buf, sizeof(buf));
    ws_json_put_string(&w, "a", "q\"b\\\n\x01\x7f\xc3\xa9");
    ws_json_put_string(&w, "b", "\xff\xfe");
    size_t n = ws_json_end(&w);
    EXPECT_EQ(std::string(buf, n), "{\"a\":\"q\\\"b\\\\\\u000a\\u0001\\u007f\xc3\xa9\",\"b\":\"\\u00ff\\u00fe\"}");
    ws_json_object_t o;
    EXPECT_EQ(ws_json_parse(buf, n, &o), WS_JSON_OK);
}

TEST(JsonWrite, Overflow_ReturnsZeroAndAnEmptyString)
{
    char buf[16];
    ws_json_writer_t w;
    ws_json_begin(&w, buf, sizeof(buf));
    ws_json_put_string(&w, "type", "too long for sixteen bytes");
    EXPECT_EQ(ws_json_end(&w), 0u);
    EXPECT_STREQ(buf, "");
    ws_json_begin(&w, buf, sizeof(buf));
    ws_json_put_string(&w, "a", "0123456789"); // {"a":"0123456789"} is 18 bytes with the NUL
    EXPECT_EQ(ws_json_end(&w), 0u);
    ws_json_begin(&w, buf, sizeof(buf));
    ws_json_put_string(&w, "a", "0123456"); // {"a":"0123456"}: 16 with the NUL, fits exactly
    EXPECT_EQ(ws_json_end(&w), 15u);
}

TEST(JsonHex, RoundTripAndRefusals)
{
    uint8_t in[4] = {0x01, 0x23, 0xab, 0xef}, out[4];
    char hex[9];
    ws_json_hex(in, 4, hex);
    EXPECT_STREQ(hex, "0123abef");
    EXPECT_TRUE(ws_json_unhex("0123ABEF", 8, out, 4));
    EXPECT_EQ(memcmp(in, out, 4), 0);
    EXPECT_FALSE(ws_json_unhex("0123abe", 7, out, 4));
    EXPECT_FALSE(ws_json_unhex("0123abeg", 8, out, 4));
    EXPECT_FALSE(ws_json_unhex(nullptr, 8, out, 4));
}

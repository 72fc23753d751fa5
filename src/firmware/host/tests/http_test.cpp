// Opening handshake (RFC 6455 section 4.2).
#include <gtest/gtest.h>

#include "c_api.h"

static const std::string kSample =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n";

static int Parse(const std::string &req, ws_http_request_t *out)
{
    return ws_http_parse_upgrade(req.data(), req.size(), out);
}

static std::string Replace(std::string s, const std::string &from, const std::string &to)
{
    s.replace(s.find(from), from.size(), to);
    return s;
}

TEST(Handshake, Rfc6455Section1_3SampleKey_GivesSampleAccept)
{
    ws_http_request_t req;
    ASSERT_EQ(Parse(kSample, &req), WS_HTTP_UPGRADE);
    EXPECT_STREQ(req.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(req.request_len, kSample.size());
    char out[256];
    size_t n = ws_http_write_101(out, sizeof(out), req.accept, nullptr);
    ASSERT_GT(n, 0u);
    EXPECT_NE(std::string(out, n).find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
    EXPECT_EQ(std::string(out, 12), "HTTP/1.1 101");
}

TEST(Handshake, HeaderNamesAndTokensAnyCase_ConnectionTokenList_Accepted)
{
    std::string req = Replace(kSample, "Upgrade: websocket", "uPGRADE:   WebSocket  ");
    req = Replace(req, "Connection: Upgrade", "CONNECTION: keep-alive, UPGRADE");
    req = Replace(req, "Sec-WebSocket-Key", "sec-websocket-key");
    ws_http_request_t out;
    ASSERT_EQ(Parse(req, &out), WS_HTTP_UPGRADE);
    EXPECT_STREQ(out.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, EveryPrefix_IsIncomplete)
{
    ws_http_request_t out;
    for (size_t n = 0; n < kSample.size(); n++) {
        ASSERT_EQ(ws_http_parse_upgrade(kSample.data(), n, &out), WS_HTTP_INCOMPLETE) << n;
    }
}

TEST(Handshake, WrongVersion_Rejected426WithSupportedVersion)
{
    ws_http_request_t out;
    ASSERT_EQ(Parse(Replace(kSample, "Version: 13", "Version: 8"), &out), WS_HTTP_REJECT);
    EXPECT_EQ(out.status, 426);
    char text[256];
    size_t n = ws_http_write_error(text, sizeof(text), 426, 0);
    EXPECT_NE(std::string(text, n).find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(Handshake, BadRequests_Rejected400)
{
    const std::string bad[] = {
        Replace(kSample, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),  // no key
        Replace(kSample, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="),         // key not 16 bytes
        Replace(kSample, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j!Q=="), // not base64
        Replace(kSample, "GET", "POST"),
        Replace(kSample, "HTTP/1.1", "HTTP/1.0"),
        Replace(kSample, "Host: server.example.com\r\n", ""),
        Replace(kSample, "Upgrade: websocket", "Upgrade: h2c"),
        Replace(kSample, "Connection: Upgrade", "Connection: keep-alive"),
        Replace(kSample, "Sec-WebSocket-Version: 13\r\n", ""),
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    };
    for (const auto &req : bad) {
        ws_http_request_t out;
        EXPECT_EQ(Parse(req, &out), WS_HTTP_REJECT) << req;
        EXPECT_EQ(out.status, 400) << req;
    }
}

TEST(Handshake, ServiceUnavailable_CarriesRetryAfter)
{
    char text[256];
    size_t n = ws_http_write_error(text, sizeof(text), 503, 7);
    std::string s(text, n);
    EXPECT_EQ(s.rfind("HTTP/1.1 503 ", 0), 0u);
    EXPECT_NE(s.find("Retry-After: 7\r\n"), std::string::npos);
    EXPECT_EQ(s.substr(s.size() - 4), "\r\n\r\n");
}

// ---- Origin (RFC 6455 sections 4.2.2 and 10.2, RFC 6454) ----

TEST(Origin, Parser_ReportsFirstOriginAndCount)
{
    // req.origin points into the request, so each request must outlive the checks on it.
    ws_http_request_t req;
    ASSERT_EQ(Parse(kSample, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(std::string(req.origin, req.origin_len), "http://example.com");
    EXPECT_EQ(req.origin_count, 1u);
    const std::string none = Replace(kSample, "Origin: http://example.com\r\n", "");
    ASSERT_EQ(Parse(none, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(req.origin, nullptr);
    EXPECT_EQ(req.origin_count, 0u);
    const std::string two = Replace(kSample, "Origin: http://example.com\r\n",
                                    "oRiGiN:  http://a.example \r\nOrigin: http://b.example\r\n");
    ASSERT_EQ(Parse(two, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(std::string(req.origin, req.origin_len), "http://a.example");
    EXPECT_EQ(req.origin_count, 2u);
}

// The Host value is reported for the Origin rule's same-origin check (ws_origin.h rule 7); RFC 9112 section 3.2:
// a request with no Host or several is answered 400.
TEST(Origin, Parser_ReportsTheHostAndRefusesARepeatedOne)
{
    ws_http_request_t req;
    ASSERT_EQ(Parse(kSample, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(std::string(req.host, req.host_len), "server.example.com");
    const std::string two =
        Replace(kSample, "Host: server.example.com\r\n", "Host: server.example.com\r\nhost: evil.example\r\n");
    ASSERT_EQ(Parse(two, &req), WS_HTTP_REJECT);
    EXPECT_EQ(req.status, 400);
}

TEST(Origin, Forbidden_Is403WithShortBodyOfItsContentLength)
{
    char text[256];
    size_t n = ws_http_write_error(text, sizeof(text), 403, 0);
    std::string s(text, n);
    EXPECT_EQ(s.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
    size_t body = s.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    EXPECT_EQ(s.substr(body + 4), "origin not allowed\n");
    EXPECT_NE(s.find("Content-Length: " + std::to_string(s.size() - body - 4) + "\r\n"), std::string::npos);
}

TEST(Handshake, Path_BeforeAnyQuery)
{
    ws_http_request_t req;
    ASSERT_EQ(Parse(kSample, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(std::string(req.path, req.path_len), "/chat");
    std::string ota = Replace(kSample, "GET /chat ", "GET /ota?x=1 "); // req points into it
    ASSERT_EQ(Parse(ota, &req), WS_HTTP_UPGRADE);
    EXPECT_EQ(std::string(req.path, req.path_len), "/ota");
}

TEST(Handshake, OffersProtocol_ListsRepeatedHeadersExactTokens)
{
    ws_http_request_t req;
    std::string with = Replace(kSample, "Origin:", "Sec-WebSocket-Protocol: chat, wsctl-ota.1\r\nOrigin:");
    ASSERT_EQ(Parse(with, &req), WS_HTTP_UPGRADE);
    EXPECT_TRUE(ws_http_offers_protocol(&req, "wsctl-ota.1"));
    EXPECT_TRUE(ws_http_offers_protocol(&req, "chat"));
    EXPECT_FALSE(ws_http_offers_protocol(&req, "wsctl-ota"));
    EXPECT_FALSE(ws_http_offers_protocol(&req, "WSCTL-OTA.1")); // tokens compare exactly (RFC 6455 11.3.4)
    std::string twice =
        Replace(kSample, "Origin:", "sec-websocket-protocol: chat\r\nSec-WebSocket-Protocol:wsctl-ota.1 \r\nOrigin:");
    ASSERT_EQ(Parse(twice, &req), WS_HTTP_UPGRADE);
    EXPECT_TRUE(ws_http_offers_protocol(&req, "wsctl-ota.1"));
    ASSERT_EQ(Parse(kSample, &req), WS_HTTP_UPGRADE);
    EXPECT_FALSE(ws_http_offers_protocol(&req, "chat"));
    EXPECT_FALSE(ws_http_offers_protocol(nullptr, "chat"));
}

TEST(Handshake, Write101_WithTheChosenProtocol)
{
    char out[256];
    size_t n = ws_http_write_101(out, sizeof(out), "abc=", "wsctl-ota.1");
    EXPECT_EQ(std::string(out, n), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: abc=\r\nSec-WebSocket-Protocol: wsctl-ota.1\r\n\r\n");
}

TEST(Handshake, WriteReply_StatusesBodiesAndRetryAfter)
{
    char out[256];
    size_t n = ws_http_write_reply(out, sizeof(out), 429, 4, "too many failed authentications\n");
    EXPECT_EQ(std::string(out, n), "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 4\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 32\r\nConnection: close\r\n\r\ntoo many failed authentications\n");
    n = ws_http_write_reply(out, sizeof(out), 409, 0, "an update is in progress\n");
    EXPECT_EQ(std::string(out, n).rfind("HTTP/1.1 409 Conflict\r\n", 0), 0u);
    EXPECT_EQ(std::string(out, n).find("Retry-After"), std::string::npos);
    n = ws_http_write_reply(out, sizeof(out), 403, 0, "ota disabled: no key provisioned\n");
    EXPECT_NE(std::string(out, n).find("\r\n\r\nota disabled: no key provisioned\n"), std::string::npos);
    n = ws_http_write_reply(out, sizeof(out), 400, 0, nullptr);
    EXPECT_EQ(std::string(out, n), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(ws_http_write_reply(out, 20, 409, 0, "an update is in progress\n"), 0u);
}

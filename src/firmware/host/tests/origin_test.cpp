// The Origin rule (ws_origin.h; RFC 6455 sections 4.1 and 10.2, RFC 6454): one test per rule, in the rule's order,
// each also showing where the rule stops. `wsctl serve` implements the same rule.
#include <gtest/gtest.h>

#include <cstring>

#include "c_api.h"

namespace
{

// The device's policy: an allow-list and the mDNS name it answers to.
struct Policy {
    const char *list;
    const char *local_name;
};

ws_origin_verdict_t Check(Policy p, const char *origin, const char *host = "esp32ws.local:8080")
{
    ws_origin_policy_t policy = {p.list, p.local_name};
    return ws_origin_check(&policy, origin, origin != nullptr ? strlen(origin) : 0, host,
                           host != nullptr ? strlen(host) : 0);
}

const Policy kDevice = {"", "esp32ws.local"};

} // namespace

TEST(OriginRule1, NoOrigin_Accepted)
{
    EXPECT_EQ(Check(kDevice, nullptr), WS_ORIGIN_ABSENT); // devices, scripts, wsctl
    EXPECT_EQ(Check({"", nullptr}, nullptr, nullptr), WS_ORIGIN_ABSENT);
    EXPECT_EQ(ws_origin_check(nullptr, nullptr, 0, nullptr, 0), WS_ORIGIN_ABSENT);
    EXPECT_TRUE(ws_origin_accepted(WS_ORIGIN_ABSENT));
}

TEST(OriginRule2, StarInTheList_AcceptsAnyOrigin)
{
    Policy any = {"http://a.example, * ", nullptr};
    EXPECT_EQ(Check(any, "http://evil.example"), WS_ORIGIN_ANY);
    EXPECT_EQ(Check(any, "null"), WS_ORIGIN_ANY);
    EXPECT_EQ(Check(any, "not an origin"), WS_ORIGIN_ANY);
    EXPECT_TRUE(ws_origin_accepted(WS_ORIGIN_ANY));
    EXPECT_EQ(Check({"**, *.example", nullptr}, "http://evil.example"), WS_ORIGIN_FOREIGN); // "*" alone only
}

TEST(OriginRule3, ListedOrigin_AcceptedCaseInsensitivelyWithATrailingSlashIgnored)
{
    Policy list = {" https://Dash.Example:8443 ,http://app.example/,chrome-extension://abc", "esp32ws.local"};
    EXPECT_EQ(Check(list, "https://dash.example:8443"), WS_ORIGIN_LISTED);
    EXPECT_EQ(Check(list, "HTTPS://DASH.EXAMPLE:8443/"), WS_ORIGIN_LISTED);
    EXPECT_EQ(Check(list, "http://app.example"), WS_ORIGIN_LISTED);
    EXPECT_EQ(Check(list, "chrome-extension://abc"), WS_ORIGIN_LISTED); // listed: the scheme does not matter
    EXPECT_TRUE(ws_origin_accepted(WS_ORIGIN_LISTED));
    // Exact otherwise: no default-port folding, no prefixes or suffixes, one slash only.
    EXPECT_EQ(Check(list, "https://dash.example"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(list, "http://app.example:80"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(list, "http://app.example.evil"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(list, "http://app.exampl"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(list, "http://app.example//"), WS_ORIGIN_INVALID);
    EXPECT_EQ(Check({"null", nullptr}, "null"), WS_ORIGIN_LISTED); // "null" only when listed
}

TEST(OriginRule4, NullNotListed_Refused)
{
    EXPECT_EQ(Check(kDevice, "null"), WS_ORIGIN_NULL); // a sandboxed page or a file (RFC 6454 section 6.2)
    EXPECT_EQ(Check({"http://a.example", "esp32ws.local"}, "null", "esp32ws.local:8080"), WS_ORIGIN_NULL);
    EXPECT_FALSE(ws_origin_accepted(WS_ORIGIN_NULL));
}

TEST(OriginRule5, NotHttpOrHttpsHostPort_Refused)
{
    for (const char *origin : {"",
                               "esp32ws.local",
                               "ftp://esp32ws.local",
                               "file://",
                               "http://",
                               "http://:8080",
                               "http://esp32ws.local/",
                               "http://esp32ws.local/page",
                               "http://esp32ws.local?x",
                               "http://esp32ws.local#x",
                               "http://user@esp32ws.local",
                               "http://esp32ws.local:",
                               "http://esp32ws.local:0",
                               "http://esp32ws.local:65536",
                               "http://esp32ws.local:123456",
                               "http://esp32ws.local:80a",
                               "http://esp32 ws.local",
                               "http://esp32ws.local, http://x",
                               "http://[::1",
                               "http://[]",
                               "http://[fe80::1%25eth0]",
                               "http://[g::1]",
                               "NULL",
                               "ws://esp32ws.local:8080"}) {
        EXPECT_EQ(Check(kDevice, origin), WS_ORIGIN_INVALID) << "'" << origin << "'";
    }
    EXPECT_FALSE(ws_origin_accepted(WS_ORIGIN_INVALID));
}

TEST(OriginRule6, LoopbackPage_AcceptedOnAnyPort)
{
    const char *host = "192.168.1.40:8080"; // whatever the browser called the device
    for (const char *origin :
         {"http://localhost", "http://localhost:5173", "HTTPS://LocalHost:8443", "http://app.localhost:3000",
          "http://127.0.0.1:8000", "http://127.200.3.4", "https://[::1]:4430", "http://[::1]"}) {
        EXPECT_EQ(Check(kDevice, origin, host), WS_ORIGIN_LOOPBACK) << origin;
    }
    EXPECT_TRUE(ws_origin_accepted(WS_ORIGIN_LOOPBACK));
    // Not loopback: lookalikes, other addresses, another form of ::1, a name merely containing "localhost".
    for (const char *origin :
         {"http://localhost.evil.example", "http://evillocalhost", "http://.localhost", "http://128.0.0.1",
          "http://127.0.0.256", "http://127.0.0", "http://[::2]", "http://[0:0:0:0:0:0:0:1]", "http://localhost."}) {
        EXPECT_EQ(Check(kDevice, origin, host), WS_ORIGIN_FOREIGN) << origin;
    }
}

TEST(OriginRule7, SameOriginUnderAName_ThatCannotBeRebound_Accepted)
{
    // The device's own name (hostname + ".local", a trailing dot allowed), any case.
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:8080", "esp32ws.local:8080"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "http://ESP32WS.local:8080", "esp32ws.LOCAL:8080"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local.:8080", "esp32ws.local.:8080"), WS_ORIGIN_SAME);
    // An omitted port is the Origin scheme's default, on either side.
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local", "esp32ws.local:80"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:80", "esp32ws.local"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "https://esp32ws.local", "esp32ws.local:443"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "https://esp32ws.local:443", "esp32ws.local"), WS_ORIGIN_SAME);
    // Address literals: DNS plays no part.
    EXPECT_EQ(Check(kDevice, "http://192.168.1.40:8080", "192.168.1.40:8080"), WS_ORIGIN_SAME);
    EXPECT_EQ(Check(kDevice, "http://[fe80::1]:8080", "[FE80::1]:8080"), WS_ORIGIN_SAME);
    EXPECT_TRUE(ws_origin_accepted(WS_ORIGIN_SAME));
}

TEST(OriginRule7, NotTheSameOrigin_OrARebindableName_Refused)
{
    // Other port, other scheme's default, other name, no or a broken Host.
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:8081", "esp32ws.local:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "https://esp32ws.local", "esp32ws.local:80"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local", "esp32ws.local:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://192.168.1.40:8080", "esp32ws.local:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:8080", "esp32ws.local.:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:8080", nullptr), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local:8080", "esp32ws.local:8080/"), WS_ORIGIN_FOREIGN);
    // DNS rebinding: a page on evil.example whose name now resolves to the device sends a matching Host.
    EXPECT_EQ(Check(kDevice, "http://evil.example:8080", "evil.example:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://esp32ws.local.evil:8080", "esp32ws.local.evil:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "http://1.2.3.4.5:8080", "1.2.3.4.5:8080"), WS_ORIGIN_FOREIGN); // not an address
    // Another device's name, and a server configured with no name.
    EXPECT_EQ(Check(kDevice, "http://kitchen.local:8080", "kitchen.local:8080"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check({"", nullptr}, "http://esp32ws.local:8080", "esp32ws.local:8080"), WS_ORIGIN_FOREIGN);
}

TEST(OriginRule8, AnyOtherPage_Refused)
{
    EXPECT_EQ(Check(kDevice, "http://evil.example"), WS_ORIGIN_FOREIGN);
    EXPECT_EQ(Check(kDevice, "https://dash.example:8443"), WS_ORIGIN_FOREIGN);
    EXPECT_FALSE(ws_origin_accepted(WS_ORIGIN_FOREIGN));
}

// The server answers a refused page 403 with a short body saying why (RFC 6455 section 4.2.2).
TEST(OriginRule8, Forbidden_Is403WithItsReasonPhraseAndBody)
{
    char text[256];
    size_t n = ws_http_write_error(text, sizeof(text), 403, 0);
    std::string s(text, n);
    EXPECT_EQ(s.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
    EXPECT_EQ(s.substr(s.find("\r\n\r\n") + 4), "origin not allowed\n");
}

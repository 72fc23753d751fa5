using System.Net;
using Makaretu.Dns;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

/// <summary>Byte-level tests of the mDNS message handling: what arrives on the wire, bit by bit.</summary>
public class MdnsWireTests
{
    // A response as avahi / ESP-IDF send it: ID 0, flags 0x8400 (QR, AA), one answer:
    // esp32ws.local A, class 0x8001 (IN with the cache-flush bit, RFC 6762 §10.2), TTL 120, 10.231.0.1.
    internal static readonly byte[] CacheFlushAResponse =
    [
        0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        7, (byte)'e', (byte)'s', (byte)'p', (byte)'3', (byte)'2', (byte)'w', (byte)'s', 5, (byte)'l', (byte)'o',
        (byte)'c', (byte)'a', (byte)'l', 0,
        0x00, 0x01, // type A
        0x80, 0x01, // class IN | cache-flush
        0x00, 0x00, 0x00, 0x78, // TTL 120
        0x00, 0x04, 10, 231, 0, 1,
    ];

    [Fact]
    public void TryParse_CacheFlushRecord_KeepsTopBitWhichBaseClassMasks()
    {
        var message = MdnsWire.TryParse(CacheFlushAResponse, CacheFlushAResponse.Length);

        Assert.NotNull(message);
        var record = Assert.IsType<ARecord>(Assert.Single(message.Answers));
        // Makaretu.Dns keeps the raw 16-bit class: 0x8001 is not IN until the top bit is masked.
        Assert.Equal((DnsClass)0x8001, record.Class);
        Assert.True(MdnsWire.HasCacheFlush(record));
        Assert.Equal(DnsClass.IN, MdnsWire.BaseClass(record.Class));
    }

    [Fact]
    public void MatchAddresses_CacheFlushAnswer_ReturnsTheAddress()
    {
        var message = MdnsWire.TryParse(CacheFlushAResponse, CacheFlushAResponse.Length)!;

        var addresses = MdnsQueryMatcher.MatchAddresses(
            message, new DomainName("esp32ws", "local"), scopeId: 3).ToList();

        Assert.Equal([IPAddress.Parse("10.231.0.1")], addresses);
    }

    [Fact]
    public void MatchAddresses_NameInOtherCase_Matches()
    {
        var message = MdnsWire.TryParse(CacheFlushAResponse, CacheFlushAResponse.Length)!;

        Assert.Single(MdnsQueryMatcher.MatchAddresses(message, new DomainName("ESP32WS", "Local"), 0));
    }

    [Fact]
    public void MatchAddresses_OtherName_ReturnsNothing()
    {
        var message = MdnsWire.TryParse(CacheFlushAResponse, CacheFlushAResponse.Length)!;

        Assert.Empty(MdnsQueryMatcher.MatchAddresses(message, new DomainName("esp32w", "local"), 0));
    }

    [Fact]
    public void MatchAddresses_GoodbyeWithTtlZero_ReturnsNothing()
    {
        var bytes = (byte[])CacheFlushAResponse.Clone();
        bytes[^7] = 0x00; // TTL 120 → 0: a goodbye (RFC 6762 §10.1)

        var message = MdnsWire.TryParse(bytes, bytes.Length)!;

        Assert.Empty(MdnsQueryMatcher.MatchAddresses(message, new DomainName("esp32ws", "local"), 0));
    }

    [Fact]
    public void MatchAddresses_AddressesInAdditionalSection_AreReturnedWithLinkLocalScope()
    {
        var response = new Message { QR = true, AA = true };
        response.Answers.Add(new PTRRecord
        {
            Name = new DomainName("_ws", "_tcp", "local"),
            DomainName = new DomainName("esp32ws", "_ws", "_tcp", "local")
        });
        response.AdditionalRecords.Add(new AAAARecord
        {
            Name = new DomainName("esp32ws", "local"),
            Address = IPAddress.Parse("fe80::1"),
            Class = (DnsClass)0x8001
        });
        response.AdditionalRecords.Add(new ARecord
        {
            Name = new DomainName("esp32ws", "local"),
            Address = IPAddress.Parse("10.0.0.7"),
            Class = (DnsClass)0x8001
        });
        var bytes = response.ToByteArray();

        var parsed = MdnsWire.TryParse(bytes, bytes.Length)!;
        var addresses = MdnsQueryMatcher.OrderIPv4First(MdnsQueryMatcher.MatchAddresses(
            parsed, new DomainName("esp32ws", "local"), 4));

        Assert.Equal([IPAddress.Parse("10.0.0.7"), IPAddress.Parse("fe80::1%4")], addresses);
        Assert.Equal(4, addresses[1].ScopeId);
    }

    [Fact]
    public void AddressCollector_QueryMessage_IsIgnored()
    {
        var bytes = (byte[])CacheFlushAResponse.Clone();
        bytes[2] = 0x00; // QR bit clear: a query (e.g. another host's known-answer list), not an answer
        var collector = new MdnsAddressCollector(new DomainName("esp32ws", "local"));

        Assert.False(collector.Add(MdnsWire.TryParse(bytes, bytes.Length)!, 1));
        Assert.Empty(collector.Addresses);
    }

    [Fact]
    public void AddressCollector_SameAddressTwice_CountsOnce()
    {
        var collector = new MdnsAddressCollector(new DomainName("esp32ws", "local"));
        var message = MdnsWire.TryParse(CacheFlushAResponse, CacheFlushAResponse.Length)!;

        Assert.True(collector.Add(message, 2));
        Assert.False(collector.Add(message, 2));
        Assert.True(collector.HasIPv4);
        Assert.False(collector.HasIPv6);
        Assert.Equal(2, collector.FirstInterfaceIndex);
    }

    [Fact]
    public void BuildAddressQuery_BothFamilies_IsOneMessageWithAAndAaaaQuestions()
    {
        var bytes = MdnsQueryMatcher.BuildAddressQuery(
            new DomainName("esp32ws", "local"), ipv4: true, ipv6: true).ToByteArray();

        byte[] expected =
        [
            0x00, 0x00, 0x00, 0x00, // ID 0, flags 0 (RFC 6762 §18)
            0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // two questions
            7, (byte)'e', (byte)'s', (byte)'p', (byte)'3', (byte)'2', (byte)'w', (byte)'s', 5, (byte)'l', (byte)'o',
            (byte)'c', (byte)'a', (byte)'l', 0,
            0x00, 0x01, 0x00, 0x01, // A, IN (QM: multicast response wanted)
            0xC0, 0x0C, // the same name, compressed (pointer to offset 12)
            0x00, 0x1C, 0x00, 0x01, // AAAA, IN
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void WantsUnicastResponse_QuBitInQuestionClass_IsTrue()
    {
        byte[] query =
        [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            1, (byte)'x', 5, (byte)'l', (byte)'o', (byte)'c', (byte)'a', (byte)'l', 0,
            0x00, 0x01, 0x80, 0x01, // A, IN with the unicast-response bit (RFC 6762 §5.4)
        ];

        var message = MdnsWire.TryParse(query, query.Length)!;

        Assert.True(MdnsWire.WantsUnicastResponse(message.Questions[0]));
        Assert.True(MdnsWire.IsInternetClass(message.Questions[0].Class));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x00, 0x00, 0x84 })]
    [InlineData(new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 7, (byte)'e', (byte)'s' })] // answer cut short
    // pointer loop
    [InlineData(new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3,
        4 })]
    public void TryParse_MalformedDatagram_ReturnsNull(byte[] bytes) => Assert.Null(MdnsWire.TryParse(
        bytes, bytes.Length));

    [Theory]
    [InlineData("esp32ws", "esp32ws.local")]
    [InlineData("esp32ws.local", "esp32ws.local")]
    [InlineData("ESP32WS.LOCAL.", "ESP32WS.local")]
    [InlineData(" benchhost.local ", "benchhost.local")]
    public void HostName_AcceptedForms_GiveNameDotLocal(string input, string expected) =>
        Assert.Equal(expected, MdnsWire.HostName(input).ToString());

    [Theory]
    [InlineData("")]
    [InlineData(".local")]
    [InlineData("a.b.local")]
    [InlineData("with space")]
    public void HostName_Malformed_ThrowsInvalidInput(string input) =>
        Assert.Equal(FailureKind.InvalidInput, Assert.Throws<WsCoreException>(() => MdnsWire.HostName(input)).Kind);

    [Theory]
    [InlineData("_ws._tcp", "_ws._tcp.local")]
    [InlineData("_ws._tcp.local.", "_ws._tcp.local")]
    public void ServiceTypeName_AcceptedForms_GiveTypeDotLocal(string input, string expected) =>
        Assert.Equal(expected, MdnsWire.ServiceTypeName(input).ToString());

    [Theory]
    [InlineData("ws._tcp")]
    [InlineData("_ws._sctp")]
    [InlineData("_ws")]
    public void ServiceTypeName_Malformed_ThrowsInvalidInput(string input) =>
        Assert.Equal(
            FailureKind.InvalidInput, Assert.Throws<WsCoreException>(() => MdnsWire.ServiceTypeName(input)).Kind);

    [Fact]
    public void FormatSeconds_WholeAndFractional_AreReadable()
    {
        Assert.Equal("3 s", MdnsClient.FormatSeconds(TimeSpan.FromSeconds(3)));
        Assert.Equal("2.5 s", MdnsClient.FormatSeconds(TimeSpan.FromMilliseconds(2500)));
    }
}

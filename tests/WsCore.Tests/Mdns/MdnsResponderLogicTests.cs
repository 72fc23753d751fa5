using System.Net;
using Makaretu.Dns;
using WsCore.Mdns;
using WsCore.Tests.Support;

namespace WsCore.Tests.Mdns;

/// <summary>
/// The responder's answers, computed from queries given as messages and checked after a wire round trip.
/// </summary>
public class MdnsResponderLogicTests
{
    private static readonly DomainName Host = new("benchhost", "local");
    private static readonly DomainName ServiceType = new("_ws", "_tcp", "local");
    private static readonly DomainName Instance = new("bench host", "_ws", "_tcp", "local");
    private static readonly IPAddress[] VethAddresses = [IPAddress.Parse("10.231.0.2"), IPAddress.Parse("fe80::42%7")];

    private static MdnsResponderLogic Logic() =>
        new(Host, ServiceAdvertisement.WebSocket("bench host", 8090, "/", 5, "0.1.0"));

    private static Message Query(DomainName name, DnsType type, bool unicast = false)
    {
        var query = new Message { Id = 0, QR = false };
        query.Questions.Add(new Question { Name = name, Type = type, Class = MdnsWire.QuestionClass(unicast) });
        return RoundTrip(query);
    }

    private static Message RoundTrip(Message message)
    {
        var bytes = message.ToByteArray();
        return MdnsWire.TryParse(bytes, bytes.Length) ?? throw new InvalidOperationException("did not parse back");
    }

    [Fact]
    public void Answer_AQuestionForHost_AnswersAWithCacheFlushAndAaaaAsAdditional()
    {
        var answer = Logic().Answer(Query(new DomainName("BenchHost", "local"), DnsType.A), VethAddresses, 5353);

        Assert.NotNull(answer);
        Assert.False(answer.Unicast);
        var response = RoundTrip(answer.Message);
        Assert.True(response.QR);
        Assert.True(response.AA);
        Assert.Empty(response.Questions); // RFC 6762 §6: multicast responses carry no questions
        var a = Assert.IsType<ARecord>(Assert.Single(response.Answers));
        Assert.Equal(IPAddress.Parse("10.231.0.2"), a.Address);
        Assert.True(MdnsWire.HasCacheFlush(a));
        Assert.Equal(TimeSpan.FromSeconds(120), a.TTL);
        var aaaa = Assert.IsType<AAAARecord>(Assert.Single(response.AdditionalRecords));
        Assert.Equal(IPAddress.Parse("fe80::42"), aaaa.Address); // the scope id is not on the wire
    }

    [Fact]
    public void Answer_AQuestionOnInterfaceWithoutIPv4_ReturnsNull() =>
        Assert.Null(Logic().Answer(Query(Host, DnsType.A), [IPAddress.Parse("fe80::1%2")], 5353));

    [Fact]
    public void Answer_AnswersOnlyWithTheReceivingInterfacesAddresses()
    {
        var answer = Logic().Answer(Query(Host, DnsType.ANY), [IPAddress.Parse("127.0.0.1")], 5353)!;

        var records = RoundTrip(answer.Message).Answers;
        Assert.Equal([IPAddress.Parse("127.0.0.1")], records.OfType<AddressRecord>().Select(r => r.Address));
    }

    [Fact]
    public void Answer_PtrQuestionForServiceType_AnswersPtrWithSrvTxtAndAddressesAdditional()
    {
        var answer = Logic().Answer(Query(ServiceType, DnsType.PTR), VethAddresses, 5353)!;

        Assert.True(answer.HasSharedRecords);
        var response = RoundTrip(answer.Message);
        var ptr = Assert.IsType<PTRRecord>(Assert.Single(response.Answers));
        Assert.Equal(Instance, ptr.DomainName);
        Assert.False(MdnsWire.HasCacheFlush(ptr)); // shared record (RFC 6762 §10.2)
        var srv = Assert.Single(response.AdditionalRecords.OfType<SRVRecord>());
        Assert.Equal(8090, srv.Port);
        Assert.Equal(Host, srv.Target);
        Assert.True(MdnsWire.HasCacheFlush(srv));
        var txt = Assert.Single(response.AdditionalRecords.OfType<TXTRecord>());
        Assert.Equal(["path=/", "max_clients=5", "version=0.1.0"], txt.Strings);
        Assert.Equal(2, response.AdditionalRecords.OfType<AddressRecord>().Count());
    }

    /// <summary>
    /// What serve answers for its TXT record has the firmware's keys in the firmware's order (wsctl_limits.h), so a
    /// browser (wsctl probe --discover) reads a board and a serve the same way.
    /// </summary>
    [Fact]
    public void Answer_TxtQuestion_KeysAreTheFirmwaresInOrder()
    {
        var limits = FirmwareSources.Defines(FirmwareSources.LimitsHeaderPath);
        var query = new Message();
        query.Questions.Add(new Question { Name = Instance, Type = DnsType.TXT });

        var response = RoundTrip(Logic().Answer(RoundTrip(query), VethAddresses, 5353)!.Message);

        var txt = Assert.Single(response.Answers.OfType<TXTRecord>());
        Assert.Equal([limits["WSCTL_TXT_PATH"], limits["WSCTL_TXT_MAX_CLIENTS"], limits["WSCTL_TXT_VERSION"]],
            txt.Strings.Select(entry => (object)entry[..entry.IndexOf('=')]));
        Assert.Equal("5", MdnsTxt.Decode(txt.Strings)[(string)limits["WSCTL_TXT_MAX_CLIENTS"]]);
    }

    [Fact]
    public void Answer_SrvAndTxtQuestionsForInstance_AnswersBoth()
    {
        var query = new Message();
        query.Questions.Add(new Question { Name = Instance, Type = DnsType.SRV });
        query.Questions.Add(new Question { Name = Instance, Type = DnsType.TXT });

        var response = RoundTrip(Logic().Answer(RoundTrip(query), VethAddresses, 5353)!.Message);

        Assert.Single(response.Answers.OfType<SRVRecord>());
        Assert.Single(response.Answers.OfType<TXTRecord>());
    }

    [Fact]
    public void Answer_ServicesMetaQuery_ListsServiceType()
    {
        var response = RoundTrip(Logic()
            .Answer(Query(MdnsWire.ServicesMetaQueryName, DnsType.PTR), VethAddresses, 5353)!
            .Message);

        Assert.Equal(ServiceType, Assert.IsType<PTRRecord>(Assert.Single(response.Answers)).DomainName);
    }

    [Fact]
    public void Answer_OtherName_ReturnsNull() =>
        Assert.Null(Logic().Answer(Query(new DomainName("esp32ws", "local"), DnsType.A), VethAddresses, 5353));

    [Fact]
    public void Answer_Response_ReturnsNull()
    {
        var response = new Message { QR = true };
        response.Questions.Add(new Question { Name = Host, Type = DnsType.A });

        Assert.Null(Logic().Answer(RoundTrip(response), VethAddresses, 5353));
    }

    [Fact]
    public void Answer_KnownAnswerWithFullTtl_IsSuppressed()
    {
        var query = new Message();
        query.Questions.Add(new Question { Name = ServiceType, Type = DnsType.PTR });
        query.Answers.Add(new PTRRecord
        {
            Name = ServiceType,
            DomainName = Instance,
            TTL = TimeSpan.FromSeconds(4500)
        });

        Assert.Null(Logic().Answer(RoundTrip(query), VethAddresses, 5353));
    }

    [Fact]
    public void Answer_KnownAnswerWithLessThanHalfTtl_IsRepeated()
    {
        var query = new Message();
        query.Questions.Add(new Question { Name = ServiceType, Type = DnsType.PTR });
        query.Answers.Add(new PTRRecord
        {
            Name = ServiceType,
            DomainName = Instance,
            TTL = TimeSpan.FromSeconds(1000)
        });

        Assert.NotNull(Logic().Answer(RoundTrip(query), VethAddresses, 5353));
    }

    [Fact]
    public void Answer_QuQuestion_IsUnicast() =>
        Assert.True(Logic().Answer(Query(Host, DnsType.A, unicast: true), VethAddresses, 5353)!.Unicast);

    [Fact]
    public void Answer_LegacyQueryFromOtherPort_EchoesIdAndQuestionCapsTtlAndClearsCacheFlush()
    {
        var query = new Message { Id = 0x1234 };
        query.Questions.Add(new Question { Name = Host, Type = DnsType.A });

        var answer = Logic().Answer(RoundTrip(query), VethAddresses, 40000)!;

        Assert.True(answer.Unicast);
        var response = RoundTrip(answer.Message);
        Assert.Equal(0x1234, response.Id);
        Assert.Single(response.Questions);
        var a = Assert.IsType<ARecord>(Assert.Single(response.Answers));
        Assert.Equal(DnsClass.IN, a.Class); // RFC 6762 §6.7: no cache-flush bit in legacy unicast responses
        Assert.Equal(TimeSpan.FromSeconds(10), a.TTL);
    }

    [Fact]
    public void BuildAnnouncement_ListsEveryRecord_AndGoodbyeHasTtlZero()
    {
        var announcement = RoundTrip(Logic().BuildAnnouncement(VethAddresses));
        var goodbye = RoundTrip(Logic().BuildAnnouncement(VethAddresses, goodbye: true));

        Assert.Equal(
            [DnsType.A, DnsType.AAAA, DnsType.PTR, DnsType.SRV, DnsType.TXT, DnsType.PTR],
            announcement.Answers.Select(r => r.Type));
        Assert.All(announcement.Answers, r => Assert.True(r.TTL > TimeSpan.Zero));
        Assert.Equal(announcement.Answers.Count, goodbye.Answers.Count);
        Assert.All(goodbye.Answers, r => Assert.Equal(TimeSpan.Zero, r.TTL));
    }

    [Fact]
    public void BuildProbe_AsksAnyForHostAndInstance_WithProposedRecordsInAuthority()
    {
        var probe = RoundTrip(Logic().BuildProbe(VethAddresses, unicastResponse: true));

        Assert.False(probe.QR);
        Assert.Equal([Host, Instance], probe.Questions.Select(q => q.Name));
        Assert.All(probe.Questions, q => Assert.Equal(DnsType.ANY, q.Type));
        Assert.All(probe.Questions, q => Assert.True(MdnsWire.WantsUnicastResponse(q)));
        Assert.Equal(4, probe.AuthorityRecords.Count);
    }

    [Fact]
    public void IsConflictingResponse_OtherHostClaimsOurName_IsTrue_OurOwnRecordsAreNot()
    {
        var logic = Logic();
        var other = new Message { QR = true, AA = true };
        other.Answers.Add(new ARecord { Name = Host, Address = IPAddress.Parse("10.231.0.9") });

        Assert.True(logic.IsConflictingResponse(RoundTrip(other), VethAddresses));
        Assert.False(logic.IsConflictingResponse(RoundTrip(logic.BuildAnnouncement(VethAddresses)), VethAddresses));
    }

    [Fact]
    public void Constructor_PortOutOfRange_ThrowsInvalidInput() =>
        Assert.Equal(FailureKind.InvalidInput,
            Assert.Throws<WsCoreException>(() => new MdnsResponderLogic(
                Host, ServiceAdvertisement.WebSocket("x", 0, "/", 5, "1"))).Kind);
}

public class MdnsTimingTests
{
    [Fact]
    public void SendTime_Rfc6762Section5_2_StartsAtOnceThenDoublesFromOneSecond() =>
        Assert.Equal(
            [0, 1, 3, 7, 15],
            Enumerable.Range(0, 5).Select(i => MdnsQuerySchedule.SendTime(i).TotalSeconds));

    [Fact]
    public void SendTime_ManyQueries_IntervalCapsAtOneHour() =>
        Assert.Equal(TimeSpan.FromHours(1), MdnsQuerySchedule.SendTime(31) - MdnsQuerySchedule.SendTime(30));

    [Fact]
    public void RateLimit_SameRecordWithinOneSecondOnSameInterface_IsHeldBack()
    {
        var limit = new MdnsMulticastRateLimit();
        ResourceRecord a = new ARecord { Name = new DomainName("h", "local"), Address = IPAddress.Parse("10.0.0.1") };
        limit.Sent([a], 2, System.Net.Sockets.AddressFamily.InterNetwork, TimeSpan.FromSeconds(10));

        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;
        var v6 = System.Net.Sockets.AddressFamily.InterNetworkV6;
        int Allowed(int interfaceIndex, System.Net.Sockets.AddressFamily family, double seconds, TimeSpan window) =>
            limit.Allowed([a], interfaceIndex, family, TimeSpan.FromSeconds(seconds), window).Count;

        Assert.Equal(0, Allowed(2, v4, 10.5, MdnsMulticastRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v4, 11, MdnsMulticastRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v4, 10.3, MdnsMulticastRateLimit.ProbeDefence));
        Assert.Equal(1, Allowed(3, v4, 10.5, MdnsMulticastRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v6, 10.5, MdnsMulticastRateLimit.Normal));
    }
}

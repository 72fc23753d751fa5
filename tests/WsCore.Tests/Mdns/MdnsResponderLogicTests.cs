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

    // A query through the group from a neighbour on port 5353: the usual one.
    private static readonly MdnsQueryOrigin Neighbour = new(MdnsWire.Port, SourceOnLink: true, SentToGroup: true);
    private static readonly MdnsQueryOrigin LegacyNeighbour = new(40000, SourceOnLink: true, SentToGroup: true);

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
        var answer = Logic().Answer(Query(new DomainName("BenchHost", "local"), DnsType.A), VethAddresses, Neighbour);

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
        Assert.Null(Logic().Answer(Query(Host, DnsType.A), [IPAddress.Parse("fe80::1%2")], Neighbour));

    [Fact]
    public void Answer_AnswersOnlyWithTheReceivingInterfacesAddresses()
    {
        var answer = Logic().Answer(Query(Host, DnsType.ANY), [IPAddress.Parse("127.0.0.1")], Neighbour)!;

        var records = RoundTrip(answer.Message).Answers;
        Assert.Equal([IPAddress.Parse("127.0.0.1")], records.OfType<AddressRecord>().Select(r => r.Address));
    }

    [Fact]
    public void Answer_PtrQuestionForServiceType_AnswersPtrWithSrvTxtAndAddressesAdditional()
    {
        var answer = Logic().Answer(Query(ServiceType, DnsType.PTR), VethAddresses, Neighbour)!;

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

        var response = RoundTrip(Logic().Answer(RoundTrip(query), VethAddresses, Neighbour)!.Message);

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

        var response = RoundTrip(Logic().Answer(RoundTrip(query), VethAddresses, Neighbour)!.Message);

        Assert.Single(response.Answers.OfType<SRVRecord>());
        Assert.Single(response.Answers.OfType<TXTRecord>());
    }

    [Fact]
    public void Answer_ServicesMetaQuery_ListsServiceType()
    {
        var response = RoundTrip(Logic()
            .Answer(Query(MdnsWire.ServicesMetaQueryName, DnsType.PTR), VethAddresses, Neighbour)!
            .Message);

        Assert.Equal(ServiceType, Assert.IsType<PTRRecord>(Assert.Single(response.Answers)).DomainName);
    }

    [Fact]
    public void Answer_OtherName_ReturnsNull() =>
        Assert.Null(Logic().Answer(Query(new DomainName("esp32ws", "local"), DnsType.A), VethAddresses, Neighbour));

    [Fact]
    public void Answer_Response_ReturnsNull()
    {
        var response = new Message { QR = true };
        response.Questions.Add(new Question { Name = Host, Type = DnsType.A });

        Assert.Null(Logic().Answer(RoundTrip(response), VethAddresses, Neighbour));
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

        Assert.Null(Logic().Answer(RoundTrip(query), VethAddresses, Neighbour));
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

        Assert.NotNull(Logic().Answer(RoundTrip(query), VethAddresses, Neighbour));
    }

    [Fact]
    public void Answer_QuQuestion_IsUnicast() =>
        Assert.True(Logic().Answer(Query(Host, DnsType.A, unicast: true), VethAddresses, Neighbour)!.Unicast);

    [Fact]
    public void Answer_LegacyQueryFromOtherPort_EchoesIdAndQuestionCapsTtlAndClearsCacheFlush()
    {
        var query = new Message { Id = 0x1234 };
        query.Questions.Add(new Question { Name = Host, Type = DnsType.A });

        var answer = Logic().Answer(RoundTrip(query), VethAddresses, LegacyNeighbour)!;

        Assert.True(answer.Unicast);
        var response = RoundTrip(answer.Message);
        Assert.Equal(0x1234, response.Id);
        Assert.Single(response.Questions);
        var a = Assert.IsType<ARecord>(Assert.Single(response.Answers));
        Assert.Equal(DnsClass.IN, a.Class); // RFC 6762 §6.7: no cache-flush bit in legacy unicast responses
        Assert.Equal(TimeSpan.FromSeconds(10), a.TTL);
    }

    /// <summary>RFC 6762 §5.5, §11: what a sender off the receiving interface's link gets.</summary>
    [Theory]
    [InlineData(40000, true, false)] // legacy query through the group: nothing (it would need a unicast answer)
    [InlineData(40000, false, false)] // legacy query sent to this host: nothing
    [InlineData(5353, false, false)] // query sent to this host (§5.5): nothing
    [InlineData(5353, true, true)] // QU question through the group: answered, but on the link (multicast)
    [InlineData(5353, true, false)] // plain query through the group: answered by multicast, as always
    public void Answer_FromOffLink_NeverUnicast_AndOnlyWhereMulticastServes(
        int sourcePort, bool sentToGroup, bool unicastQuestion)
    {
        var origin = new MdnsQueryOrigin(sourcePort, SourceOnLink: false, sentToGroup);

        var answer = Logic().Answer(Query(Host, DnsType.A, unicastQuestion), VethAddresses, origin);

        if (origin.OnlyUnicastWillDo)
            Assert.Null(answer);
        else
            Assert.False(Assert.IsType<MdnsAnswer>(answer).Unicast);
    }

    [Fact]
    public void Answer_QuerySentToThisHostFromTheLink_IsAnsweredToTheQuerier()
    {
        var origin = new MdnsQueryOrigin(5353, SourceOnLink: true, SentToGroup: false);

        var answer = Logic().Answer(Query(Host, DnsType.A), VethAddresses, origin);

        Assert.True(answer!.Unicast); // §5.5: as for a QU question
        Assert.Equal(0, RoundTrip(answer.Message).Id); // not a legacy answer: port 5353
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
        var limit = new MdnsAnswerRateLimit();
        ResourceRecord a = new ARecord { Name = new DomainName("h", "local"), Address = IPAddress.Parse("10.0.0.1") };
        limit.Sent([a], 2, System.Net.Sockets.AddressFamily.InterNetwork, null, TimeSpan.FromSeconds(10));

        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;
        var v6 = System.Net.Sockets.AddressFamily.InterNetworkV6;
        int Allowed(int interfaceIndex, System.Net.Sockets.AddressFamily family, double seconds, TimeSpan window) =>
            limit.Allowed([a], interfaceIndex, family, null, TimeSpan.FromSeconds(seconds), window).Count;

        Assert.Equal(0, Allowed(2, v4, 10.5, MdnsAnswerRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v4, 11, MdnsAnswerRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v4, 10.3, MdnsAnswerRateLimit.ProbeDefence));
        Assert.Equal(1, Allowed(3, v4, 10.5, MdnsAnswerRateLimit.Normal));
        Assert.Equal(1, Allowed(2, v6, 10.5, MdnsAnswerRateLimit.Normal));
    }

    [Fact]
    public void RateLimit_UnicastAnswers_HeldBackPerDestination_ApartFromTheGroups()
    {
        var limit = new MdnsAnswerRateLimit();
        ResourceRecord a = new ARecord { Name = new DomainName("h", "local"), Address = IPAddress.Parse("10.0.0.1") };
        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;
        var victim = IPAddress.Parse("10.0.0.7");
        limit.Sent([a], 2, v4, victim, TimeSpan.FromSeconds(10));

        int Allowed(IPAddress? to, double seconds) =>
            limit.Allowed([a], 2, v4, to, TimeSpan.FromSeconds(seconds), MdnsAnswerRateLimit.Normal).Count;

        Assert.Equal(0, Allowed(victim, 10.5));
        Assert.Equal(1, Allowed(victim, 11));
        Assert.Equal(1, Allowed(IPAddress.Parse("10.0.0.8"), 10.5));
        Assert.Equal(1, Allowed(null, 10.5));
    }

    [Fact]
    public void RateLimit_AFloodOfDestinations_KeepsAboutOneSecondOfThem()
    {
        var limit = new MdnsAnswerRateLimit();
        ResourceRecord a = new ARecord { Name = new DomainName("h", "local"), Address = IPAddress.Parse("10.0.0.1") };
        var v4 = System.Net.Sockets.AddressFamily.InterNetwork;

        // 100,000 spoofed sources over 100 s, 1,000 a second: what is over a second old holds nothing back.
        for (var i = 0; i < 100_000; i++)
            limit.Sent([a], 2, v4, new IPAddress(i + 1), TimeSpan.FromMilliseconds(i));

        Assert.InRange(limit.Entries, 1, 4 * 1024);
    }
}

/// <summary>Who is on a link (RFC 6762 §5.5, §11), from the source address and the interface's prefixes.</summary>
public class MdnsLinkTests
{
    private static readonly IPNetwork[] Veth = [IPNetwork.Parse("10.231.0.0/24"), IPNetwork.Parse("fd00:231::/64")];

    [Theory]
    [InlineData("10.231.0.2", true)] // inside the interface's IPv4 prefix
    [InlineData("10.232.0.2", false)] // another subnet, reached through a router
    [InlineData("8.8.8.8", false)]
    [InlineData("169.254.7.9", true)] // IPv4 link-local: never forwarded (RFC 3927 §2.7)
    [InlineData("fe80::1%7", true)] // IPv6 link-local: never forwarded (RFC 4291 §2.5.6)
    [InlineData("fe80::1", true)]
    [InlineData("fd00:231::9", true)] // inside the interface's IPv6 prefix
    [InlineData("fd00:232::9", false)]
    [InlineData("2001:db8::1", false)]
    public void IsOnLink_SourceInsideAPrefixOrLinkLocal(string source, bool onLink) =>
        Assert.Equal(onLink, MdnsLink.IsOnLink(IPAddress.Parse(source), Veth));

    [Fact]
    public void IsOnLink_InterfaceWithoutPrefixes_OnlyLinkLocalSourcesAre()
    {
        Assert.False(MdnsLink.IsOnLink(IPAddress.Parse("10.231.0.2"), []));
        Assert.True(MdnsLink.IsOnLink(IPAddress.Parse("fe80::2%3"), []));
    }

    [Theory]
    [InlineData("224.0.0.251", true)]
    [InlineData("ff02::fb", true)]
    [InlineData("ff02::fb%4", true)]
    [InlineData("10.231.0.1", false)]
    [InlineData("fe80::1%4", false)]
    [InlineData("224.0.0.1", false)]
    public void IsGroup_OnlyTheMdnsGroups(string destination, bool group) =>
        Assert.Equal(group, MdnsLink.IsGroup(IPAddress.Parse(destination)));

    [Theory]
    [InlineData("192.168.1.40", 24, "192.168.1.0/24")]
    [InlineData("10.1.2.3", 13, "10.0.0.0/13")]
    [InlineData("127.0.0.1", 8, "127.0.0.0/8")]
    [InlineData("fe80::1:2:3:4", 64, "fe80::/64")]
    [InlineData("fd00::1", 128, "fd00::1/128")]
    public void Prefix_ClearsTheHostBits(string address, int length, string expected) =>
        Assert.Equal(IPNetwork.Parse(expected), MdnsLink.Prefix(IPAddress.Parse(address), length));
}

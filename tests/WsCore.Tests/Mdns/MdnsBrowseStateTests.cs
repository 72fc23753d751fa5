using System.Net;
using Makaretu.Dns;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

public class MdnsBrowseStateTests
{
    private static readonly DomainName ServiceType = new("_ws", "_tcp", "local");
    private static readonly DomainName Instance = new("esp32ws", "_ws", "_tcp", "local");
    private static readonly DomainName Host = new("esp32ws", "local");

    private static Message Response(params ResourceRecord[] answers)
    {
        var message = new Message { QR = true, AA = true };
        message.Answers.AddRange(answers);
        var bytes = message.ToByteArray();
        return MdnsWire.TryParse(bytes, bytes.Length)!;
    }

    [Fact]
    public void BuildQuery_Initially_AsksOnlyPtr()
    {
        var query = new MdnsBrowseState(ServiceType).BuildQuery(true, true);

        var question = Assert.Single(query.Questions);
        Assert.Equal(DnsType.PTR, question.Type);
        Assert.Empty(query.Answers);
    }

    [Fact]
    public void BuildQuery_AfterPtrOnly_AsksSrvAndTxtAndListsKnownPtr()
    {
        var state = new MdnsBrowseState(ServiceType);
        Assert.True(state.Add(Response(new PTRRecord { Name = ServiceType, DomainName = Instance }), 2));

        var query = state.BuildQuery(true, true);

        Assert.Equal([DnsType.PTR, DnsType.SRV, DnsType.TXT], query.Questions.Select(q => q.Type));
        Assert.IsType<PTRRecord>(Assert.Single(query.Answers)); // RFC 6762 §7.1 known answer
    }

    [Fact]
    public void BuildQuery_AfterSrvWithoutAddresses_AsksAAndAaaaOfTarget()
    {
        var state = new MdnsBrowseState(ServiceType);
        state.Add(Response(
            new PTRRecord { Name = ServiceType, DomainName = Instance },
            new SRVRecord { Name = Instance, Port = 8080, Target = Host, Class = (DnsClass)0x8001 },
            new TXTRecord { Name = Instance, Strings = ["path=/"] }), 2);

        var query = state.BuildQuery(true, true);

        Assert.Equal([DnsType.PTR, DnsType.A, DnsType.AAAA], query.Questions.Select(q => q.Type));
        Assert.All(query.Questions.Skip(1), q => Assert.Equal(Host, q.Name));
    }

    [Fact]
    public void Snapshot_RecordsInAnyOrder_AssembleOneInstance()
    {
        var state = new MdnsBrowseState(ServiceType);
        // The address arrives before anything else; it must still be attached once the SRV names its host.
        state.Add(
            Response(new ARecord
            {
                Name = new DomainName("ESP32WS", "local"),
                Address = IPAddress.Parse("10.231.0.1"),
                Class = (DnsClass)0x8001
            }),
            2);
        state.Add(
            Response(
                new SRVRecord { Name = Instance, Port = 8080, Target = Host },
                new TXTRecord { Name = Instance, Strings = ["path=/"] }),
            2);
        state.Add(Response(new PTRRecord { Name = ServiceType, DomainName = Instance }), 2);

        var instance = Assert.Single(state.Snapshot());

        Assert.Equal(8080, instance.Srv!.Port);
        Assert.Equal(["path=/"], instance.Txt!.Strings);
        Assert.Equal([IPAddress.Parse("10.231.0.1")], instance.Addresses);
        Assert.Equal(2, instance.InterfaceIndex);
    }

    [Fact]
    public void Add_PtrGoodbye_RemovesInstance()
    {
        var state = new MdnsBrowseState(ServiceType);
        state.Add(Response(new PTRRecord { Name = ServiceType, DomainName = Instance }), 2);

        Assert.True(state.Add(
            Response(new PTRRecord { Name = ServiceType, DomainName = Instance, TTL = TimeSpan.Zero }), 2));
        Assert.Empty(state.Snapshot());
    }

    [Fact]
    public void Add_PtrOfOtherServiceType_IsIgnored()
    {
        var state = new MdnsBrowseState(ServiceType);

        Assert.False(state.Add(
            Response(new PTRRecord
            {
                Name = new DomainName("_http", "_tcp", "local"),
                DomainName = new DomainName("x", "_http", "_tcp", "local")
            }),
            2));
        Assert.Empty(state.Snapshot());
    }
}

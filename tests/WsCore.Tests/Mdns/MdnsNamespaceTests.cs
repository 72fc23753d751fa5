using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Makaretu.Dns;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

/// <summary>
/// mDNS for real: our querier and responder (driven by tests/MdnsDriver) against Debian's avahi, in two network
/// namespaces joined by a veth pair that each test makes and deletes. The "device" namespace plays the ESP32.
/// </summary>
public class MdnsNamespaceTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(40);

    // What an ESP32 running the firmware advertises (docs/mdns-testing.md): host esp32ws, _ws._tcp on 8080.
    private const string Esp32Service = """
        <?xml version="1.0" standalone='no'?><!DOCTYPE service-group SYSTEM "avahi-service.dtd">
        <service-group><name>esp32ws</name><service><type>_ws._tcp</type><port>8080</port>
        <txt-record>path=/</txt-record><txt-record>max_clients=5</txt-record></service></service-group>
        """;

    private static string[] Addresses(JsonElement json) =>
        [.. json.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()!)];

    [NetNamespaceFact]
    public async Task ResolveAsync_AvahiPublishedHost_ReturnsItsIPv4ThenIPv6LinkLocalAddress()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: true, busAddress: null);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve", "esp32ws.local", "5000");

        Assert.True(code == 0, process.Output);
        var addresses = Addresses(json);
        Assert.Equal(NetNamespaceLab.DeviceAddress, addresses[0]);
        Assert.Contains(addresses, a => IPAddress.Parse(a) is { IsIPv6LinkLocal: true, ScopeId: > 0 });
        Assert.Equal(lab.HostInterface, json.GetProperty("interface").GetString());
    }

    [NetNamespaceFact]
    public async Task ProbeReportResolveAsync_AvahiHostInWsUrl_RecordsMdnsStage_AndMissingHostRecordsNameNotResolved()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve-stage", "ws://esp32ws.local:8080/", "5000");
        Assert.True(code == 0, process.Output);
        Assert.Equal("Resolve", json.GetProperty("stage").GetString());
        Assert.StartsWith($"mdns: {NetNamespaceLab.DeviceAddress}", json.GetProperty("detail").GetString());
        Assert.EndsWith($"on {lab.HostInterface}", json.GetProperty("detail").GetString());

        (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve-stage", "gone.local", "1500");
        Assert.True(code == 3, process.Output);
        Assert.False(json.GetProperty("succeeded").GetBoolean());
        Assert.Equal("NameNotResolved", json.GetProperty("failure").GetString());
        Assert.Equal("Failed", json.GetProperty("verdict").GetString());
        Assert.InRange(json.GetProperty("elapsedMs").GetInt32(), 1500, 3000);
    }

    [NetNamespaceFact]
    public async Task BrowseAsync_AvahiStaticService_ListsInstanceWithHostPortTxtAndAddress()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "browse", "_ws._tcp", "2500");

        Assert.True(code == 0, process.Output);
        var instance = Assert.Single(json.GetProperty("instances").EnumerateArray());
        Assert.Equal("esp32ws", instance.GetProperty("instance").GetString());
        Assert.Equal("esp32ws.local", instance.GetProperty("host").GetString());
        Assert.Equal(8080, instance.GetProperty("port").GetInt32());
        // avahi publishes the link-local AAAA even with use-ipv6=no (it only stops using IPv6 transport): IPv4 first.
        Assert.Equal(NetNamespaceLab.DeviceAddress, Addresses(instance)[0]);
        Assert.Equal("/", instance.GetProperty("txt").GetProperty("path").GetString());
        Assert.Equal("5", instance.GetProperty("txt").GetProperty("max_clients").GetString());
    }

    [NetNamespaceFact]
    public async Task DiscoverAsync_AvahiDevice_GivesWebSocketUriFromAddressPortAndTxtPath()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        var (code, json, process) = await lab.RunDriverAsync(lab.HostNamespace, ProcessTimeout, "discover", "2000");

        Assert.True(code == 0, process.Output);
        var device = Assert.Single(json.GetProperty("devices").EnumerateArray());
        Assert.Equal("esp32ws", device.GetProperty("instance").GetString());
        Assert.Equal($"ws://{NetNamespaceLab.DeviceAddress}:8080/", device.GetProperty("uri").GetString());
    }

    [NetNamespaceFact]
    public async Task ResolveAsync_NameNobodyHas_RetransmitsThenFailsWithNameNotResolvedAtItsTimeout()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        // A responder is on the link, just not for this name: silence is the only "no" in mDNS.
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve", "nobody-here.local", "3500", "-v");

        Assert.True(code == 3, process.Output);
        Assert.Equal("NameNotResolved", json.GetProperty("kind").GetString());
        Assert.Contains("could not be resolved by mDNS within 3.5 s", json.GetProperty("message").GetString());
        Assert.Contains("on this network", json.GetProperty("hint").GetString());
        // It keeps asking until the timeout (not before) and then stops (not long after): measured in-process.
        Assert.InRange(json.GetProperty("elapsedMs").GetInt32(), 3500, 5000);
        // RFC 6762 §5.2: sent at 0 s, 1 s and 3 s (the next would be at 7 s).
        Assert.Equal(3, process.Lines.Count(l => l.Contains("mDNS: query ", StringComparison.Ordinal)));
    }

    [NetNamespaceFact]
    public async Task ResolveAsync_InterfaceWithoutMulticast_FailsWithInvalidInput()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();

        // lo in a fresh namespace is up but lacks the MULTICAST flag.
        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve", "esp32ws", "1000", "--interface", "lo");

        Assert.True(code == 2, process.Output);
        Assert.Equal("InvalidInput", json.GetProperty("kind").GetString());
    }

    [NetNamespaceFact]
    public async Task Responder_SeenByAvahiClients_AnnouncedResolvedBrowsedAndGoneAfterGoodbye()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var bus = await lab.StartPrivateBusAsync();
        var env = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = bus };
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "avahihost", serviceXml: null, ipv6: false, bus);

        var responder = lab.StartDriver(lab.HostNamespace, "respond", "benchhost", "8090", "-v");
        await responder.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);

        // The announcement alone puts it in avahi's cache; avahi-resolve and avahi-browse see host, port and TXT.
        await NetNamespaceLab.AssertAvahiSeesAsync(env, "benchhost", 8090, maxClients: 5);

        // 4. Stopping sends goodbyes: avahi drops the service from its cache (RFC 6762 §10.1: within about a second).
        Assert.Equal(0, await responder.CloseInputAndWaitAsync(ProcessTimeout));
        await NetNamespaceLab.AssertAvahiForgotAsync(env);
    }

    [NetNamespaceFact]
    public async Task Responder_ResolvedAndBrowsedByOurQuerier_BothFamiliesAndTxt()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var responder = lab.StartDriver(lab.DeviceNamespace, "respond", "wsdevice", "8080");
        await responder.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve", "WSDEVICE.local", "5000");
        Assert.True(code == 0, process.Output);
        var addresses = Addresses(json);
        Assert.Equal(NetNamespaceLab.DeviceAddress, addresses[0]);
        Assert.Contains(addresses, a => IPAddress.Parse(a).IsIPv6LinkLocal);

        (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "browse", "_ws._tcp.local", "2000");
        Assert.True(code == 0, process.Output);
        var instance = Assert.Single(json.GetProperty("instances").EnumerateArray());
        Assert.Equal("wsdevice", instance.GetProperty("instance").GetString());
        Assert.Equal(8080, instance.GetProperty("port").GetInt32());
        Assert.Equal(NetNamespaceLab.DeviceAddress, Addresses(instance)[0]);
        Assert.Equal("test", instance.GetProperty("txt").GetProperty("version").GetString());
    }

    [NetNamespaceFact]
    public async Task Responder_OnLoopbackAndVeth_AnswersEachInterfaceWithItsOwnAddresses()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.EnableLoopbackMulticastAsync(lab.DeviceNamespace);
        var responder = lab.StartDriver(lab.DeviceNamespace, "respond", "twofaced", "8080");
        var ready = await responder.WaitForLineAsync(
            l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);
        Assert.Contains("lo", ready);
        Assert.Contains(lab.DeviceInterface, ready);

        // Across the veth: the veth's addresses, never the loopback address.
        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "resolve", "twofaced", "5000");
        Assert.True(code == 0, process.Output);
        Assert.Equal(NetNamespaceLab.DeviceAddress, Addresses(json)[0]);
        Assert.DoesNotContain(Addresses(json), a => IPAddress.IsLoopback(IPAddress.Parse(a)));

        // On the same host over loopback only (--interface lo): the loopback addresses (127.0.0.1 first, ::1).
        (code, json, process) = await lab.RunDriverAsync(
            lab.DeviceNamespace, ProcessTimeout, "resolve", "twofaced", "5000", "--interface", "lo");
        Assert.True(code == 0, process.Output);
        Assert.Equal("127.0.0.1", Addresses(json)[0]);
        Assert.All(Addresses(json), a => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(a)), a));
        Assert.Equal("lo", json.GetProperty("interface").GetString());
    }

    [NetNamespaceFact]
    public async Task Responder_LegacyUnicastQueryFromEphemeralPort_AnswersUnicastWithIdQuestionAndShortTtl()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var responder = lab.StartDriver(lab.DeviceNamespace, "respond", "wsdevice", "8080");
        await responder.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);
        var query = new Message { Id = 0x4242, RD = false };
        query.Questions.Add(new Question { Name = new DomainName("wsdevice", "local"), Type = DnsType.A });
        // A plain DNS client (RFC 6762 §6.7 "legacy unicast"): one socket on an ephemeral port, no mDNS library.
        const string client = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.0)
            for attempt in range(8):
                s.sendto(bytes.fromhex(sys.argv[1]), ("224.0.0.251", 5353))
                try:
                    data, addr = s.recvfrom(9000)
                    print(addr[0], addr[1], data.hex())
                    sys.exit(0)
                except socket.timeout:
                    pass
            sys.exit(1)
            """;

        var (code, output) = await NetNamespaceLab.RunAsync(
            "ip",
            ["netns", "exec", lab.HostNamespace, "python3", "-c", client, Convert.ToHexString(query.ToByteArray())],
            ProcessTimeout);

        Assert.True(code == 0, output);
        var parts = output.Trim().Split(' ');
        Assert.Equal(NetNamespaceLab.DeviceAddress, parts[0]);
        Assert.Equal("5353", parts[1]);
        var bytes = Convert.FromHexString(parts[2]);
        var response = MdnsWire.TryParse(bytes, bytes.Length)!;
        Assert.Equal(0x4242, response.Id);
        Assert.Single(response.Questions);
        var a = Assert.IsType<ARecord>(Assert.Single(response.Answers));
        Assert.Equal(IPAddress.Parse(NetNamespaceLab.DeviceAddress), a.Address);
        Assert.Equal(DnsClass.IN, a.Class);
        Assert.True(a.TTL <= TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// RFC 6762 §5.5, §11: a querier on another subnet, whose packets reach the device through a router (the host
    /// namespace), gets no unicast answer: neither to a legacy query through the group nor to one sent straight to
    /// the device. The same queries from the link are answered, so the silence is the source check's.
    /// </summary>
    [NetNamespaceFact]
    public async Task Responder_UnicastOnlyQueriesFromAnOffLinkSource_GetNoAnswer_TheSameFromTheLinkDo()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.AddOffLinkHostAddressAsync();
        var responder = lab.StartDriver(lab.DeviceNamespace, "respond", "wsdevice", "8080", "-v");
        await responder.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);
        var query = new Message { Id = 0x4242, RD = false };
        query.Questions.Add(new Question { Name = new DomainName("wsdevice", "local"), Type = DnsType.A });

        var offLinkThroughGroup = await AskOnceAnsweredAsync(
            lab, NetNamespaceLab.OffLinkAddress, "224.0.0.251", query);
        var offLinkDirect = await AskOnceAnsweredAsync(
            lab, NetNamespaceLab.OffLinkAddress, NetNamespaceLab.DeviceAddress, query);
        var onLinkDirect = await AskOnceAnsweredAsync(
            lab, NetNamespaceLab.HostAddress, NetNamespaceLab.DeviceAddress, query, attempts: 8);
        var onLinkThroughGroup = await AskOnceAnsweredAsync(lab, NetNamespaceLab.HostAddress, "224.0.0.251", query,
            attempts: 8);

        Assert.Equal("none", offLinkThroughGroup);
        Assert.Equal("none", offLinkDirect);
        Assert.StartsWith($"answer {NetNamespaceLab.DeviceAddress} 5353 ", onLinkDirect);
        Assert.StartsWith($"answer {NetNamespaceLab.DeviceAddress} 5353 ", onLinkThroughGroup);
        Assert.Contains(responder.Lines, l => l.Contains(
            $"ignored a query from {NetNamespaceLab.OffLinkAddress}:", StringComparison.Ordinal));
    }

    /// <summary>
    /// RFC 6762 §11: a querier accepts an answer sent to its own address only from a source on the link. A host on
    /// another subnet whose packets reach the querier through a router sends it answers for a name nobody on the link
    /// has: the resolve fails. The same answers from an address on the link are taken, so the refusal is the source
    /// check's.
    /// </summary>
    [NetNamespaceFact]
    public async Task Resolve_AnswersSentStraightToTheQuerierFromOffLink_AreIgnored_FromTheLinkTaken()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.AddOffLinkHostAddressAsync();
        var forged = new Message { QR = true, AA = true };
        forged.Answers.Add(new ARecord
        {
            Name = new DomainName("forged", "local"),
            Address = IPAddress.Parse("6.6.6.6"),
            TTL = TimeSpan.FromSeconds(120),
        });
        // Answers to the querier's own address and port 5353, every 50 ms for 4 s: no query needed to aim them.
        const string answerer = """
            import socket, sys, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], 5353))
            end = time.monotonic() + 4
            while time.monotonic() < end:
                s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[2], 5353))
                time.sleep(0.05)
            """;

        async Task<(int Code, JsonElement Json, LabProcess Process)> ResolveWhileAnsweredFromAsync(string source)
        {
            var answering = lab.Start("ip", ["netns", "exec", lab.HostNamespace, "python3", "-c", answerer, source,
                NetNamespaceLab.DeviceAddress, Convert.ToHexString(forged.ToByteArray())], $"answerer at {source}");
            var result = await lab.RunDriverAsync(
                lab.DeviceNamespace, ProcessTimeout, "resolve", "forged.local", "2000");
            await answering.Process.WaitForExitAsync().WaitAsync(ProcessTimeout);
            return result;
        }

        var (offLinkCode, offLinkJson, offLink) = await ResolveWhileAnsweredFromAsync(NetNamespaceLab.OffLinkAddress);
        var (onLinkCode, onLinkJson, onLink) = await ResolveWhileAnsweredFromAsync(NetNamespaceLab.HostAddress);

        Assert.True(offLinkCode == 3, offLink.Output);
        Assert.Equal("NameNotResolved", offLinkJson.GetProperty("kind").GetString());
        Assert.True(onLinkCode == 0, onLink.Output);
        Assert.Equal(["6.6.6.6"], Addresses(onLinkJson));
    }

    /// <summary>
    /// Sends <paramref name="query"/> from <paramref name="source"/> (an address of the host namespace) on an
    /// ephemeral port to <paramref name="destination"/>:5353, a plain DNS client's legacy query (RFC 6762 §6.7),
    /// once a second until an answer comes; returns "answer ADDRESS PORT HEX" or "none" after the attempts.
    /// </summary>
    private static async Task<string> AskOnceAnsweredAsync(
        NetNamespaceLab lab, string source, string destination, Message query, int attempts = 3)
    {
        const string client = """
            import socket, sys
            source, destination, attempts = sys.argv[1], sys.argv[2], int(sys.argv[4])
            query = bytes.fromhex(sys.argv[3])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((source, 0))
            s.settimeout(1.0)
            for attempt in range(attempts):
                s.sendto(query, (destination, 5353))
                try:
                    data, addr = s.recvfrom(9000)
                    print("answer", addr[0], addr[1], data.hex())
                    sys.exit(0)
                except socket.timeout:
                    pass
            print("none")
            """;
        var (code, output) = await NetNamespaceLab.RunAsync(
            "ip",
            ["netns", "exec", lab.HostNamespace, "python3", "-c", client, source, destination,
             Convert.ToHexString(query.ToByteArray()),
             attempts.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ProcessTimeout);
        Assert.True(code == 0, output);
        return output.Trim();
    }

    [NetNamespaceFact]
    public async Task Responder_BesideAvahiOnOneHost_BothShare5353AndBothAnswer()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);
        var responder = lab.StartDriver(lab.DeviceNamespace, "respond", "second", "9000");
        await responder.WaitForLineAsync(l => l.Contains("\"ready\":true", StringComparison.Ordinal), ProcessTimeout);

        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "browse", "_ws._tcp", "2500");

        Assert.True(code == 0, process.Output);
        var ports = json.GetProperty("instances").EnumerateArray()
            .ToDictionary(i => i.GetProperty("instance").GetString()!, i => i.GetProperty("port").GetInt32());
        Assert.Equal(8080, ports["esp32ws"]);
        Assert.Equal(9000, ports["second"]);
    }

    [NetNamespaceFact]
    public async Task Responder_NameAlreadyAnsweredByAvahi_FailsToStartWithInvalidInput()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        // RFC 6762 §8.1: probing finds that esp32ws.local is taken.
        var (code, json, process) = await lab.RunDriverAsync(
            lab.HostNamespace, ProcessTimeout, "respond", "esp32ws", "8080");

        Assert.True(code == 2, process.Output);
        Assert.Equal("InvalidInput", json.GetProperty("kind").GetString());
        Assert.Contains("already in use", json.GetProperty("message").GetString());
    }
}

using System.Net;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The target grammar, one for every verb: each row is what a user types, the verb it is typed to (with the verb's
/// own --port / --path where it has them), and what it means or why it is refused. README, "Targets", lists the same.
/// </summary>
public class WebSocketTargetTests
{
    private static readonly string[] Verbs = ["send", "broadcast", "bench", "probe"];

    // Forms every verb accepts: input, the URI it connects to (port always written), how its host is resolved.
    private static readonly (string Input, string Uri, HostKind Kind)[] Forms =
    [
        ("ws://esp32ws.local:8080/ws?x=1", "ws://esp32ws.local:8080/ws?x=1", HostKind.Mdns),
        ("ws://10.0.0.5", "ws://10.0.0.5:80/", HostKind.Address), // RFC 6455 §3: port 80 by default
        ("WS://Example.org/", "ws://Example.org:80/", HostKind.Dns),
        ("wss://[::1]/", "wss://[::1]:443/", HostKind.Address), // port 443 by default
        ("wss://device.example:8443/ws", "wss://device.example:8443/ws", HostKind.Dns),
        ("ws://[fe80::1%253]:81/", "ws://[fe80::1%253]:81/", HostKind.Address), // RFC 6874: zone as %25
        ("esp32ws.local", "ws://esp32ws.local:8080/", HostKind.Mdns),
        ("ESP32WS.LOCAL.", "ws://ESP32WS.LOCAL:8080/", HostKind.Mdns),
        ("esp32ws.local:9000", "ws://esp32ws.local:9000/", HostKind.Mdns),
        ("esp32ws.local/ws", "ws://esp32ws.local:8080/ws", HostKind.Mdns),
        ("esp32ws.local:9000/ws?id=2", "ws://esp32ws.local:9000/ws?id=2", HostKind.Mdns),
        ("example.org", "ws://example.org:8080/", HostKind.Dns),
        ("localhost:80", "ws://localhost:80/", HostKind.Dns),
        ("10.231.0.1", "ws://10.231.0.1:8080/", HostKind.Address),
        ("10.231.0.1:81", "ws://10.231.0.1:81/", HostKind.Address),
        ("127.0.0.1:9/status", "ws://127.0.0.1:9/status", HostKind.Address),
        ("127.0.0.1/status", "ws://127.0.0.1:8080/status", HostKind.Address),
        ("127.0.0.1?debug", "ws://127.0.0.1:8080/?debug", HostKind.Address),
        ("[::1]", "ws://[::1]:8080/", HostKind.Address),
        ("[::1]:81", "ws://[::1]:81/", HostKind.Address),
        ("[::1]:81/ws", "ws://[::1]:81/ws", HostKind.Address),
        ("::1", "ws://[::1]:8080/", HostKind.Address),
        ("fe80::1%3", "ws://[fe80::1%253]:8080/", HostKind.Address), // bare: the zone as the system writes it
        ("[fe80::1%253]:81", "ws://[fe80::1%253]:81/", HostKind.Address),
        ("  esp32ws.local  ", "ws://esp32ws.local:8080/", HostKind.Mdns),
    ];

    // Inputs no verb accepts, and a part of the reason given.
    private static readonly (string Input, string Reason)[] Refusals =
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("http://esp32ws.local/", "the scheme must be ws:// or wss://"),
        ("https://esp32ws.local/", "the scheme must be ws:// or wss://"),
        ("ftp://esp32ws.local/", "the scheme must be ws:// or wss://"),
        ("ws://", "not a host name"),
        ("ws:///status", "not a host name"),
        ("ws://esp32ws.local/#top", "no fragment"),
        ("esp32ws.local/#top", "no fragment"),
        ("ws://user:secret@esp32ws.local/", "credentials"),
        ("user@esp32ws.local", "credentials"),
        ("esp32ws.local:0", "is not a port"),
        ("esp32ws.local:65536", "is not a port"),
        ("esp32ws.local:http", "is not a port"),
        ("esp32ws.local:", "is not a port"),
        ("ws://esp32ws.local:0/", "is not a port"),
        ("[not-v6]:80", "brackets hold an IPv6 address"),
        ("[10.0.0.1]:80", "brackets hold an IPv6 address"),
        ("[::1", "brackets hold an IPv6 address"),
        ("::1:8080/ws", "goes in brackets"),
        ("fe80::1%3/ws", "goes in brackets"),
        ("two words", "not a host name"),
        (".", "not a host name"),
    ];

    public static TheoryData<string, string, string, HostKind> AcceptedRows()
    {
        var rows = new TheoryData<string, string, string, HostKind>();
        foreach (var (input, uri, kind) in Forms)
            foreach (var verb in Verbs)
                rows.Add(verb, input, uri, kind);
        // The probe's own --port and --path apply where the target names none.
        rows.Add("probe --port 81 --path ws", "esp32ws.local", "ws://esp32ws.local:81/ws", HostKind.Mdns);
        rows.Add("probe --port 81 --path ws", "esp32ws.local:9000/x", "ws://esp32ws.local:9000/x", HostKind.Mdns);
        rows.Add("probe --port 81 --path ws", "ws://esp32ws.local/", "ws://esp32ws.local:80/", HostKind.Mdns);
        return rows;
    }

    public static TheoryData<string, string, string> RefusedRows()
    {
        var rows = new TheoryData<string, string, string>();
        foreach (var (input, reason) in Refusals)
            foreach (var verb in Verbs)
                rows.Add(verb, input, reason);
        return rows;
    }

    [Theory]
    [MemberData(nameof(AcceptedRows))]
    public void Parse_AcceptedForm_GivesTheSameUriForEveryVerb(string verb, string input, string uri, HostKind kind)
    {
        var target = ParseAs(verb, input);

        Assert.Equal(uri, target.Uri.OriginalString);
        Assert.Equal(kind, target.Kind);
    }

    [Theory]
    [MemberData(nameof(RefusedRows))]
    public void Parse_RefusedForm_IsInvalidInputWithAReason(string verb, string input, string reason)
    {
        var e = Assert.Throws<WsCoreException>(() => ParseAs(verb, input));

        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Contains(reason, e.Message);
        Assert.NotNull(e.Hint);
    }

    [Fact]
    public void Parse_HttpUrl_HintsTheWsUrl() =>
        Assert.Equal("try wss://esp32ws.local/x",
            Assert.Throws<WsCoreException>(() => WebSocketTarget.Parse("https://esp32ws.local/x")).Hint);

    [Theory]
    [InlineData("esp32ws.local", null, false)]
    [InlineData("esp32ws.local", 8080, true)]
    [InlineData("esp32ws.local:8080", null, true)]
    [InlineData("esp32ws.local:9000/ws", null, true)]
    [InlineData("esp32ws.local/ws", null, false)]
    [InlineData("ws://esp32ws.local/", null, true)]
    [InlineData("10.0.0.5", null, false)]
    public void Parse_PortGivenOnlyWhenSomethingNamedIt(string text, int? port, bool given) =>
        Assert.Equal(given, WebSocketTarget.Parse(text, port).PortGiven);

    [Fact]
    public void Parse_Components_AreHostWithoutBracketsPortPathAndTls() =>
        Assert.Equal(new WebSocketTarget("fe80::1%3", HostKind.Address, 81, "/ws?x=1", true),
            WebSocketTarget.Parse("wss://[fe80::1%253]:81/ws?x=1"));

    [Fact]
    public void UriFor_IPv6LinkLocal_BracketsAndEscapesScope() =>
        Assert.Equal("ws://[fe80::1%253]:8080/",
            WebSocketTarget.Parse("esp32ws.local").UriFor(IPAddress.Parse("fe80::1%3")).OriginalString);

    // What each verb's command does with its TARGET argument (src/wsctl/Commands): send, broadcast and bench connect
    // to the URI; probe also passes its --port (null unless given) and --path (default "/").
    private static WebSocketTarget ParseAs(string verb, string input)
    {
        var words = verb.Split(' ');
        return words[0] switch
        {
            "probe" => WebSocketTarget.Parse(input, Option(words, "--port") is { } port ? int.Parse(port) : null,
                Option(words, "--path") ?? "/"),
            _ => WebSocketTarget.Parse(input),
        };
    }

    private static string? Option(string[] words, string name) =>
        Array.IndexOf(words, name) is var i and >= 0 ? words[i + 1] : null;
}

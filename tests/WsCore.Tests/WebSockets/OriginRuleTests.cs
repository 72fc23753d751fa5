using System.Net;
using System.Net.Sockets;
using System.Text;
using WsCore.Tests.Probe;
using WsCore.Tests.Support;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// One Origin rule in serve and in the firmware: every row of a table of (Host, Origin) pairs, sent as a real
/// opening handshake, gets the same answer (101 or 403 Forbidden) from the server serve runs and from the firmware's
/// host build, both configured as a device named esp32ws.local with the same allow-list. "PORT" in a row is the
/// server's own port, so same-origin rows are same-origin for real.
/// </summary>
public sealed class OriginRuleTests
{
    private const string Allowed = "https://dash.example.com";

    public enum Server
    {
        Serve,
        Firmware,
    }

    /// <summary>(allow-list, Host, Origin or null for none, accepted, why).</summary>
    public static readonly (string[] AllowList, string Host, string? Origin, bool Accepted, string Why)[] Table =
    [
        ([Allowed], "127.0.0.1:PORT", null, true, "1: no Origin (a device, a script)"),
        ([Allowed], "evil.example:PORT", "http://evil.example:PORT", false, "8: DNS rebinding to this machine"),
        ([Allowed], "evil.example:PORT", "https://evil.example:PORT", false, "8: rebinding, https page"),
        ([Allowed], "127.0.0.1:PORT", "http://evil.example:PORT", false, "8: a foreign page"),
        ([Allowed], "127.0.0.1:PORT", "null", false, "4: a sandboxed frame or a file"),
        (["null"], "127.0.0.1:PORT", "null", true, "3: null listed"),
        ([Allowed], "127.0.0.1:PORT", "http://localhost:5173", true, "6: a dev server on this machine"),
        ([Allowed], "esp32ws.local:PORT", "http://LOCALHOST", true, "6: loopback, any case"),
        ([Allowed], "127.0.0.1:PORT", "http://app.localhost:3000", true, "6: *.localhost"),
        ([Allowed], "127.0.0.1:PORT", "http://127.9.9.9:80", true, "6: 127.0.0.0/8"),
        ([Allowed], "127.0.0.1:PORT", "http://[::1]:8080", true, "6: IPv6 loopback"),
        ([Allowed], "127.0.0.1:PORT", "http://127.0.0.1:PORT", true, "7: the page by loopback address"),
        ([Allowed], "192.168.1.40:PORT", "http://192.168.1.40:PORT", true, "7: the page by LAN address"),
        ([Allowed], "192.168.1.41:PORT", "http://192.168.1.40:PORT", false, "8: another address"),
        ([Allowed], "[fd00::7]:PORT", "http://[fd00::7]:PORT", true, "7: an IPv6 literal"),
        ([Allowed], "esp32ws.local:PORT", "http://esp32ws.local:PORT", true, "7: the device's own name"),
        ([Allowed], "esp32ws.local:PORT", "http://ESP32WS.local:PORT", true, "7: its name in any case"),
        ([Allowed], "esp32ws.local.:PORT", "http://esp32ws.local.:PORT", true, "7: with a trailing dot"),
        ([Allowed], "esp32ws.local:1", "http://esp32ws.local:2", false, "8: another port"),
        ([Allowed], "esp32ws.local", "http://esp32ws.local:80", true, "7: a default port equals an omitted one"),
        ([Allowed], "esp32ws.local:443", "https://esp32ws.local", true, "7: https's default port"),
        ([Allowed], "esp32ws.local:80", "https://esp32ws.local", false, "8: https page, http port"),
        ([Allowed], "otherdevice.local:PORT", "http://otherdevice.local:PORT", false, "8: a name it is not"),
        ([Allowed], "127.0.0.1:PORT", "https://dash.example.com", true, "3: listed"),
        ([Allowed], "127.0.0.1:PORT", "https://DASH.example.com/", true, "3: listed, case and slash aside"),
        ([Allowed], "127.0.0.1:PORT", "https://dash.example.com:8443", false, "8: listed host, other port"),
        ([Allowed], "127.0.0.1:PORT", "http://dash.example.com", false, "8: listed host, other scheme"),
        (["*"], "evil.example:PORT", "http://evil.example:PORT", true, "2: any origin allowed"),
        ([Allowed], "127.0.0.1:PORT", "ftp://localhost", false, "5: not http(s)"),
        ([Allowed], "127.0.0.1:PORT", "http://localhost/page", false, "5: a path"),
        ([Allowed], "127.0.0.1:PORT", "http://user@localhost", false, "5: user information"),
        ([Allowed], "127.0.0.1:PORT", "http://localhost:0", false, "5: port 0"),
        ([Allowed], "127.0.0.1:PORT", "http://localhost:65536", false, "5: port over 65535"),
        ([Allowed], "127.0.0.1:PORT", "http://[fe80::1%25eth0]", false, "5: a zone"),
        ([Allowed], "127.0.0.1:PORT", "localhost", false, "5: no scheme"),
    ];

    public static TheoryData<Server, int> Rows()
    {
        var data = new TheoryData<Server, int>();
        foreach (var server in Enum.GetValues<Server>())
            for (var i = 0; i < Table.Length; i++)
                data.Add(server, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Handshake_AnsweredByTheRule(Server server, int row)
    {
        var (allowList, host, origin, accepted, why) = Table[row];
        await using var running = await StartAsync(server, allowList);
        var status = await HandshakeStatusAsync(running.Port,
            host.Replace("PORT", running.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                StringComparison.Ordinal),
            origin?.Replace("PORT", running.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                StringComparison.Ordinal));
        Assert.True(status == (accepted ? "HTTP/1.1 101 Switching Protocols" : "HTTP/1.1 403 Forbidden"),
            $"{server}, rule {why}: Host {host}, Origin {origin ?? "(none)"}: got '{status}'");
    }

    [Theory]
    [InlineData(Server.Serve)]
    [InlineData(Server.Firmware)]
    public async Task TwoOriginHeaders_Refused(Server server)
    {
        await using var running = await StartAsync(server, [Allowed]);
        var status = await HandshakeStatusAsync(running.Port, $"127.0.0.1:{running.Port}",
            "http://localhost\r\nOrigin: http://localhost");
        Assert.Equal("HTTP/1.1 403 Forbidden", status);
    }

    [Fact]
    public async Task Serve_RebindingHost_403_AndTheLogNamesTheOption()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--bind", "127.0.0.1", "--no-counter");
        using (serve)
        {
            var status = await HandshakeStatusAsync(port, $"evil.example:{port}", $"http://evil.example:{port}");
            Assert.Equal("HTTP/1.1 403 Forbidden", status);
            var line = await serve.WaitForStderrAsync(new System.Text.RegularExpressions.Regex("refused"),
                TimeSpan.FromSeconds(30));
            Assert.Contains("--allow-origin", line, StringComparison.Ordinal);
            Assert.Contains("DNS-rebinding", line, StringComparison.Ordinal);
        }
    }

    /// <summary>Either server, running with the device's name and the allow-list.</summary>
    private sealed class Running(int port, Func<ValueTask> stop) : IAsyncDisposable
    {
        public int Port { get; } = port;

        public ValueTask DisposeAsync() => stop();
    }

    private static async Task<Running> StartAsync(Server server, string[] allowList)
    {
        if (server == Server.Firmware)
        {
            var host = await FirmwareHost.StartAsync(
                ["--hostname", "esp32ws", .. allowList.SelectMany(a => new[] { "--allow-origin", a })]);
            return new Running(host.Port, () =>
            {
                host.Dispose();
                return ValueTask.CompletedTask;
            });
        }
        // The server and policy serve runs, named as serve --mdns-name esp32ws names itself.
        var test = TestServer.Start(echo: false, configure: o => o.Origins = new OriginPolicy(allowList,
            ["esp32ws.local"], "start serve with --allow-origin ORIGIN to allow it"));
        return new Running(test.Port, test.DisposeAsync);
    }

    // The status line the server answers a WebSocket opening handshake with.
    private static async Task<string> HandshakeStatusAsync(int port, string host, string? origin)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var request = "GET / HTTP/1.1\r\n" +
            $"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            (origin is null ? "" : $"Origin: {origin}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await reader.ReadLineAsync(limit.Token) ?? "(closed)";
    }
}

using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The server under hostile or mistaken input: a flood of half-open connections, TLS bytes, pages from foreign
/// origins, a second server on the same port; and the client aiming wss:// at a plain server. Each has a defined
/// answer, and the server keeps serving everyone else.
/// </summary>
public class HostileInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task<string> RawAnswerAsync(int port, byte[] request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync(request, SocketFlags.None);
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Timeout);
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private static byte[] Upgrade(string? origin, string host = "127.0.0.1") => Encoding.ASCII.GetBytes(
        $"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + (origin is null ? "" : $"Origin: {origin}\r\n") + "\r\n");

    [Fact]
    public async Task HalfOpenFlood_BoundedPending_ARealClientStillGetsIn()
    {
        await using var server = TestServer.Start(echo: true, o =>
        {
            o.MaxPendingHandshakes = 64;
            o.RequestHeadTimeout = TimeSpan.FromSeconds(20); // the flood outlives the test: only the bound helps
        });
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, server.Port);
                await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), SocketFlags.None);
            }
            // The server has seen them all and kept at most 64 of them in their handshake.
            var end = DateTime.UtcNow + Timeout;
            while (server.Server.PendingHandshakesEvicted < 1000 - 64 && DateTime.UtcNow < end)
                await Task.Delay(20);
            Assert.True(
                server.Server.PendingHandshakesEvicted >= 1000 - 64,
                $"evicted {server.Server.PendingHandshakesEvicted}");

            using var client = new ClientWebSocket();
            using var cts = new CancellationTokenSource(Timeout);
            await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"), cts.Token);
            await client.SendAsync("still served"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            var buffer = new byte[64];
            var result = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("still served", Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        finally
        {
            foreach (var socket in flood)
                socket.Dispose();
        }
    }

    [Fact]
    public async Task TlsClientHello_Answered400AtOnce()
    {
        await using var server = TestServer.Start();
        // The start of a TLS 1.2 ClientHello record.
        var answer = await RawAnswerAsync(
            server.Port, [0x16, 0x03, 0x01, 0x00, 0xF1, 0x01, 0x00, 0x00, 0xED, 0x03, 0x03]);
        Assert.StartsWith("HTTP/1.1 400 ", answer);
        Assert.Contains("TLS?", answer);
    }

    [Theory]
    [InlineData(null, null, "101")]
    [InlineData("http://127.0.0.1:PORT", null, "101")] // the test page itself (same origin)
    [InlineData("http://localhost:5173", null, "101")] // a dev server on this machine
    [InlineData("http://[::1]:3000", null, "101")]
    [InlineData("null", null, "403")] // sandboxed frames on any site send it too
    [InlineData("null", "null", "101")] // a page opened from a file, allowed on purpose
    [InlineData("https://evil.example", null, "403")]
    [InlineData("http://192.168.1.20:8080", null, "403")]
    [InlineData("https://dash.example.com", "https://dash.example.com", "101")]
    [InlineData("https://evil.example", "*", "101")]
    public async Task Origin_PolicyDecides(string? origin, string? allowed, string status)
    {
        await using var server = TestServer.Start(
            echo: true, o => o.Origins = new OriginPolicy(allowed is null ? [] : [allowed]));
        var answer = await RawAnswerAsync(
            server.Port,
            Upgrade(origin?.Replace("PORT", server.Port.ToString(), StringComparison.Ordinal),
            $"127.0.0.1:{server.Port}"));
        Assert.StartsWith($"HTTP/1.1 {status} ", answer);
    }

    [Fact]
    public async Task SecondServerOnTheSamePort_Refused()
    {
        await using var first = TestServer.Start();
        var second = new WebSocketServer(new WebSocketServerOptions
        {
            BindAddress = IPAddress.Loopback,
            Port = first.Port
        });
        var e = Assert.Throws<WsCoreException>(second.Start);
        Assert.Equal(FailureKind.ConnectionFailed, e.Kind);
        Assert.Contains("another", e.Hint);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Client_WssToAPlainServer_TlsFailureWithHint()
    {
        await using var server = TestServer.Start();
        var e = await Assert.ThrowsAsync<WsCoreException>(() =>
            WebSocketClient.ConnectAsync(
                new Uri($"wss://127.0.0.1:{server.Port}/"),
                new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(20) }));
        Assert.Equal(FailureKind.Tls, e.Kind);
        Assert.Contains("use ws://", e.Hint);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// <see cref="WebSocketClientOptions.Resolve"/>: the hook wsctl uses to resolve NAME.local by its own mDNS.
/// </summary>
public sealed class ClientResolveHookTests
{
    [Fact]
    public async Task ConnectAsync_ResolveHookSet_ConnectsToItsAddressAndKeepsTheNameInHostHeader()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var requestHead = AnswerOneHandshakeAsync(listener);
        var asked = new List<string>();

        await using var client = await WebSocketClient.ConnectAsync(
            new Uri($"ws://esp32ws.local:{port}/"),
            new WebSocketClientOptions
            {
                Resolve = (host, _) =>
                {
                    asked.Add(host);
                    return Task.FromResult(new[] { IPAddress.Loopback });
                },
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });

        Assert.Equal(["esp32ws.local"], asked);
        Assert.Contains($"\r\nHost: esp32ws.local:{port}\r\n", await requestHead.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(101, client.HandshakeResponse.StatusCode);
        Assert.Equal(IPAddress.Loopback, client.RemoteEndPoint!.Address);
    }

    [Fact]
    public async Task ConnectAsync_ResolveHookSilentUntilConnectTimeout_FailsWithNameNotResolved()
    {
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(
            new Uri("ws://nobody-here.local:8080/"),
            new WebSocketClientOptions
            {
                // Like mDNS for a name nobody has: no answer at all, only the deadline.
                Resolve = async (_, cancel) =>
                {
                    await Task.Delay(Timeout.Infinite, cancel);
                    return [];
                },
                ConnectTimeout = TimeSpan.FromMilliseconds(300),
            }));

        Assert.Equal(FailureKind.NameNotResolved, error.Kind);
        Assert.Contains("nobody-here.local", error.Message);
    }

    [Fact]
    public async Task ConnectAsync_ResolveHookSet_NotCalledForAnAddressLiteral()
    {
        await using var server = Support.TestServer.Start();
        var called = false;

        await using var client = await WebSocketClient.ConnectAsync(server.Uri, new WebSocketClientOptions
        {
            Resolve = (_, _) =>
            {
                called = true;
                return Task.FromResult(Array.Empty<IPAddress>());
            },
        });

        Assert.False(called);
    }

    // Reads one opening handshake and answers it with a valid 101 (RFC 6455 §4.2.2); returns the request head.
    private static async Task<string> AnswerOneHandshakeAsync(TcpListener listener)
    {
        using var socket = await listener.AcceptSocketAsync();
        var buffer = new byte[8192];
        var filled = 0;
        string head;
        while (!(head = Encoding.ASCII.GetString(buffer, 0, filled)).Contains("\r\n\r\n", StringComparison.Ordinal))
            filled += await socket.ReceiveAsync(buffer.AsMemory(filled));
        var key = head
            .Split("\r\n")
            .Single(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))
            .Split(':', 2)[1]
            .Trim();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {ServerHandshake.ComputeAccept(key)}\r\n\r\n"));
        return head;
    }
}

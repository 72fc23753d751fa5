using WsCore.Tests.Support;
using Xunit.Abstractions;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// The memory an idle connection costs the server. Managed: the live heap after a full collection with 2,000 idle
/// connections open from another process (wsctl bench --mode idle), over the connections; a count of bytes, not a
/// timing. Today about 640 bytes on Linux (a heap dump of serve at 10,000): the connection 208, the socket 112 and its
/// handle 64, the remote end point 72, the server's two tables (a set and a dictionary by id) and the arrays behind
/// them. No async state machine (readiness callbacks pump the connection, ServerConnection.Pump), no wait source
/// (made only when a wait needs one) and none of the runtime's asynchronous socket state. The runtime's asynchronous
/// receive (WSCTL_SERVER_EPOLL=0, and off Linux) adds a receive loop's state machine (208) and the runtime's
/// per-socket state (the awaitable event args of the zero-byte read 296, its receive operation 128 and callback 64,
/// the async context 152 and its three locks 72): about 1,820. bench/RESULTS.md's RSS figure is this plus what the GC
/// holds beyond it (the connect storm's garbage, up to its gen0 budget) and the code the connections page in.
/// </summary>
[Collection(nameof(AllocationTests))]
public class IdleMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task IdleConnection_HoldsLittleManagedMemory()
    {
        const int Clients = 2000;
        await using var server = TestServer.Start(echo: false, options =>
        {
            options.MaxClients = Clients + 10;
            options.PublishMessageEvents = false;
            options.MessageHandler = (s, id, type, payload) => s.Send(id, type, payload);
        });
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var bench = WsctlProcess.Start("bench", $"ws://127.0.0.1:{server.Port}/", "--mode", "idle", "--clients",
            Clients.ToString(System.Globalization.CultureInfo.InvariantCulture), "--duration", "20s", "-q");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (server.Server.ClientCount < Clients && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(Clients, server.Server.ClientCount);
        await Task.Delay(500);
        var held = GC.GetTotalMemory(forceFullCollection: true);
        var perConnection = (held - before) / (double)Clients;
        output.WriteLine($"{perConnection:F0} bytes of live managed memory per idle connection");
        // Linux's epoll path (SocketReadiness, DescriptorIo, the pump) holds no async state machine and none of the
        // runtime's asynchronous socket state, not even the async context that Socket.Blocking = false makes (224
        // bytes): kept under 850.
        var limit = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("WSCTL_SERVER_EPOLL") != "0"
            ? 850 : 2048;
        Assert.True(perConnection < limit, $"{perConnection:F0} bytes of live managed memory per idle connection");
    }

    // The handshake's SHA-1 is computed in managed code (Sha1): the runtime's would load OpenSSL's libcrypto and the
    // runtime's cryptography assembly into serve, about 4.5 MB resident that nothing else in a plain server uses.
    [Fact]
    public async Task Serve_HandshakeAndEcho_LoadNoCryptographyLibrary()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var (serve, port) = await WsctlProcess.StartServeAsync("--bind", "127.0.0.1", "--echo", "--no-counter");
        using (serve)
        {
            using var client = new System.Net.WebSockets.ClientWebSocket();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), timeout.Token);
            await client.SendAsync("hello"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true,
                timeout.Token);
            var echo = new byte[16];
            var received = await client.ReceiveAsync(echo, timeout.Token);
            Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(echo, 0, received.Count));
            var maps = await File.ReadAllTextAsync($"/proc/{serve.Id}/maps", timeout.Token);
            Assert.DoesNotContain("libcrypto", maps, StringComparison.Ordinal);
            Assert.DoesNotContain("System.Security.Cryptography", maps, StringComparison.Ordinal);
        }
    }
}

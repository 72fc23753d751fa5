using System.Net;
using System.Net.Sockets;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;

namespace WsCore.Tests.WebSockets;

/// <summary>The one way to a server's stream (client and prober): each address in turn, failures, timings.</summary>
public class ConnectorTests
{
    [Fact]
    public async Task ConnectTcpAsync_FirstAddressRefuses_ConnectsToTheNextAndListsTheFailure()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var failures = new List<string>();

        // 127.0.0.2 is loopback too, but nothing listens there: refused at once.
        var tcp = await Connector.ConnectTcpAsync("host", [IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], port,
            TimeSpan.FromSeconds(10), CancellationToken.None, failures);
        using var socket = tcp.Socket;

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), tcp.RemoteEndPoint);
        Assert.StartsWith($"127.0.0.2:{port}: ", Assert.Single(failures));
    }

    [Fact]
    public async Task ConnectTcpAsync_EveryAddressRefuses_ConnectionFailedNamingEach()
    {
        var port = FreePort();
        IPAddress[] addresses = [IPAddress.Parse("127.0.0.2"), IPAddress.Loopback];

        var e = await Assert.ThrowsAsync<WsCoreException>(() =>
            Connector.ConnectTcpAsync("host", addresses, port, TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(FailureKind.ConnectionFailed, e.Kind);
        Assert.Contains($"cannot connect to host:{port} (127.0.0.2:{port}: ", e.Message);
        Assert.Contains($"; 127.0.0.1:{port}: ", e.Message);
    }

    [Fact]
    public async Task ConnectAsync_Loopback_ReportsTimingsOfEachStep()
    {
        await using var server = TestServer.Start();

        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"));

        Assert.Equal(TimeSpan.Zero, client.Timings.Tls);
        Assert.True(client.Timings.Connect > TimeSpan.Zero);
        Assert.True(client.Timings.Handshake > TimeSpan.Zero);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

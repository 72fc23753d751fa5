using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using MessageType = WsCore.WebSockets.Protocol.MessageType;

namespace WsCore.Tests.WebSockets;

/// <summary>WsCore's client against Kestrel (an independent server) and against WsCore's own server.</summary>
public class ClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Kestrel echoing text as it came (no prefix), with TLS when a certificate is given.</summary>
    private static Task<KestrelEndpoint> StartKestrelAsync(X509Certificate2? certificate = null) =>
        KestrelEndpoint.StartAsync(certificate, textEchoPrefix: "");

    private static async Task<WebSocketMessage> ReceiveAsync(WebSocketClient client)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await client.ReceiveAsync(cts.Token) ?? throw new InvalidOperationException("closed");
    }

    [Fact]
    public async Task ConnectAsync_Kestrel_EchoesTextBinaryAndFragments()
    {
        await using var kestrel = await StartKestrelAsync();
        var port = kestrel.Port;
        var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.SendTextAsync("hello kestrel");
        using (var reply = await ReceiveAsync(client))
            Assert.Equal((MessageType.Text, "hello kestrel"), (reply.Type, reply.GetText()));
        var big = RandomNumberGenerator.GetBytes(200_000);
        await client.SendAsync(MessageType.Binary, big);
        using (var reply = await ReceiveAsync(client))
            Assert.Equal(big, reply.Payload.ToArray());
        await client.SendFrameAsync(Opcode.Text, "frag"u8.ToArray(), fin: false);
        await client.SendFrameAsync(Opcode.Continuation, "mented"u8.ToArray(), fin: true);
        using (var reply = await ReceiveAsync(client))
            Assert.Equal("fragmented", reply.GetText());
        await client.CloseAsync();
        Assert.Equal(CloseStatus.NormalClosure, client.CloseStatus);
        Assert.True(client.IsClosed);
    }

    [Fact]
    public async Task PingAsync_Kestrel_ReturnsRoundTripTime()
    {
        await using var kestrel = await StartKestrelAsync();
        var port = kestrel.Port;
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        var rtt = await client.PingAsync().WaitAsync(Timeout);
        Assert.True(rtt > TimeSpan.Zero && rtt < Timeout);
    }

    [Fact]
    public async Task ReceiveAsync_ServerClosesWith1011_ThrowsConnectionEndedWithCode()
    {
        await using var kestrel = await StartKestrelAsync();
        var port = kestrel.Port;
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.SendTextAsync("close:1011");
        var error = await Assert.ThrowsAsync<WsCoreException>(async () => await client
            .ReceiveAsync()
            .AsTask()
            .WaitAsync(Timeout));
        Assert.Equal(FailureKind.ConnectionEnded, error.Kind);
        Assert.Contains("1011", error.Message);
        Assert.Equal((ushort)1011, client.CloseStatus);
    }

    [Fact]
    public async Task ReceiveAsync_ServerClosesWith1000_ReturnsNull()
    {
        await using var kestrel = await StartKestrelAsync();
        var port = kestrel.Port;
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.SendTextAsync("close:1000");
        Assert.Null(await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("asked", client.CloseReason);
    }

    [Fact]
    public async Task ConnectAsync_WssSelfSigned_FailsWithTlsUnlessUntrustedAllowed()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await using var kestrel = await StartKestrelAsync(X509CertificateLoader.LoadPkcs12(
            certificate.Export(X509ContentType.Pkcs12), null));
        var port = kestrel.Port;
        var uri = new Uri($"wss://127.0.0.1:{port}/");
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(uri));
        Assert.Equal(FailureKind.Tls, error.Kind);
        await using var client = await WebSocketClient.ConnectAsync(
            uri, new WebSocketClientOptions { AllowUntrustedCertificate = true });
        await client.SendTextAsync("over tls");
        using var reply = await ReceiveAsync(client);
        Assert.Equal("over tls", reply.GetText());
    }

    [Fact]
    public async Task ConnectAsync_OwnServerFull_ThrowsHandshakeRejectedWith503()
    {
        await using var server = TestServer.Start(configure: o => o.MaxClients = 1);
        await using var first = await WebSocketClient.ConnectAsync(server.Uri);
        var error =
            await Assert.ThrowsAsync<WebSocketHandshakeException>(() => WebSocketClient.ConnectAsync(server.Uri));
        Assert.Equal(FailureKind.HandshakeRejected, error.Kind);
        Assert.StartsWith("503 Service Unavailable: server full", error.Message, StringComparison.Ordinal);
        Assert.Equal(503, error.StatusCode);
        Assert.NotNull(error.Response.Get("Retry-After"));
    }

    [Fact]
    public async Task ConnectAsync_OwnServer_EchoPingAndServerShutdownGiveNull()
    {
        var server = TestServer.Start();
        await using var client = await WebSocketClient.ConnectAsync(server.Uri);
        await client.SendAsync(MessageType.Binary, new byte[] { 7, 7, 7 });
        using (var reply = await ReceiveAsync(client))
            Assert.Equal(new byte[] { 7, 7, 7 }, reply.Payload.ToArray());
        Assert.True(await client.PingAsync().WaitAsync(Timeout) > TimeSpan.Zero);
        await server.DisposeAsync();
        Assert.Null(await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(CloseStatus.GoingAway, client.CloseStatus);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsConnectionFailed()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.LocalEndPoint!).Port;   // bound, not listening: connections are refused
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(new Uri("ws://127.0." +
            $"0.1:{port}/")));
        Assert.Equal(FailureKind.ConnectionFailed, error.Kind);
    }

    [Fact]
    public async Task ConnectAsync_ServerNeverAnswers_ThrowsTimeout()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(
            new Uri($"ws://127.0.0.1:{port}/"),
            new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal(FailureKind.Timeout, error.Kind);
    }

    /// <summary>
    /// A server that resets the connection while a message is being written (wsctl ota through a cut link): the
    /// sender gets the connection's end as a WsCoreException, not the transport's IOException ("unexpected error").
    /// </summary>
    [Fact]
    public async Task SendAsync_ServerResetsMidMessage_ThrowsConnectionEnded()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using (var stream = new NetworkStream(socket, ownsSocket: false))
                await RawWebSocket.AcceptUpgradeAsync(stream);
            // Reads nothing: once 64 KiB of the message wait here, the client's write of 64 MiB is stuck behind
            // full buffers (the kernel grows a receive buffer only for a reader), and the reset reaches it mid-write.
            using var deadline = new CancellationTokenSource(Timeout);
            while (socket.Available < 64 * 1024)
                await Task.Delay(10, deadline.Token);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        });
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        var error = await Assert.ThrowsAsync<WsCoreException>(
            () => client.SendAsync(MessageType.Binary, new byte[64 * 1024 * 1024]).WaitAsync(Timeout));
        Assert.Equal(FailureKind.ConnectionEnded, error.Kind);
        await server.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ConnectAsync_HttpUrl_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(new Uri("http://127." +
            "0.0.1/")));
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
    }
}

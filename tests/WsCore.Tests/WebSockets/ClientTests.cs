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

    /// <summary>A Kestrel echo server on a free loopback port; closes with the code a "close:NNNN" text asks for.</summary>
    private static async Task<(WebApplication App, int Port)> StartKestrelAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
                listen.UseHttps(certificate);
        }));
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 404;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1 << 20];
            while (true)
            {
                var filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
                    filled += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
                }
                var text = System.Text.Encoding.UTF8.GetString(buffer, 0, filled);
                if (text.StartsWith("close:", StringComparison.Ordinal))
                {
                    await socket.CloseAsync((WebSocketCloseStatus)int.Parse(text[6..], System.Globalization.CultureInfo.InvariantCulture), "asked", CancellationToken.None);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, filled), result.MessageType, true, CancellationToken.None);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address).Port);
    }

    private static async Task<WebSocketMessage> ReceiveAsync(WebSocketClient client)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await client.ReceiveAsync(cts.Token) ?? throw new InvalidOperationException("closed");
    }

    [Fact]
    public async Task ConnectAsync_Kestrel_EchoesTextBinaryAndFragments()
    {
        var (app, port) = await StartKestrelAsync();
        await using var _ = app;
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
        var (app, port) = await StartKestrelAsync();
        await using var _ = app;
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        var rtt = await client.PingAsync().WaitAsync(Timeout);
        Assert.True(rtt > TimeSpan.Zero && rtt < Timeout);
    }

    [Fact]
    public async Task ReceiveAsync_ServerClosesWith1011_ThrowsConnectionEndedWithCode()
    {
        var (app, port) = await StartKestrelAsync();
        await using var _ = app;
        await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.SendTextAsync("close:1011");
        var error = await Assert.ThrowsAsync<WsCoreException>(async () => await client.ReceiveAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FailureKind.ConnectionEnded, error.Kind);
        Assert.Contains("1011", error.Message);
        Assert.Equal((ushort)1011, client.CloseStatus);
    }

    [Fact]
    public async Task ReceiveAsync_ServerClosesWith1000_ReturnsNull()
    {
        var (app, port) = await StartKestrelAsync();
        await using var _ = app;
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
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var (app, port) = await StartKestrelAsync(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null));
        await using var _ = app;
        var uri = new Uri($"wss://127.0.0.1:{port}/");
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(uri));
        Assert.Equal(FailureKind.Tls, error.Kind);
        await using var client = await WebSocketClient.ConnectAsync(uri, new WebSocketClientOptions { AllowUntrustedCertificate = true });
        await client.SendTextAsync("over tls");
        using var reply = await ReceiveAsync(client);
        Assert.Equal("over tls", reply.GetText());
    }

    [Fact]
    public async Task ConnectAsync_OwnServerFull_ThrowsHandshakeRejectedWith503()
    {
        await using var server = TestServer.Start(configure: o => o.MaxClients = 1);
        await using var first = await WebSocketClient.ConnectAsync(server.Uri);
        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => WebSocketClient.ConnectAsync(server.Uri));
        Assert.Equal(FailureKind.HandshakeRejected, error.Kind);
        Assert.Equal("503 Service Unavailable", error.Message);
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
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")));
        Assert.Equal(FailureKind.ConnectionFailed, error.Kind);
    }

    [Fact]
    public async Task ConnectAsync_ServerNeverAnswers_ThrowsTimeout()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"),
            new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal(FailureKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task ConnectAsync_HttpUrl_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(new Uri("http://127.0.0.1/")));
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
    }
}

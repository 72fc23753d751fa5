using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsCore.Tests.Support;

/// <summary>
/// A WebSocket endpoint that is not ours: ASP.NET Core Kestrel on a free loopback port (TLS with a certificate given).
/// Text messages are echoed with a prefix ("echoed:TEXT" by default), binary ones as they are; "close:NNNN" makes it
/// close with that code and the reason "asked"; "burst:N" sends N numbered messages "msg-1".."msg-N".
/// </summary>
public sealed class KestrelEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelEndpoint(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"ws://127.0.0.1:{Port}/";

    public List<byte[]> Received { get; } = [];

    public static async Task<KestrelEndpoint> StartAsync(
        X509Certificate2? certificate = null, string textEchoPrefix = "echoed:", bool compression = false)
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
        KestrelEndpoint? self = null;
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 404;
                return;
            }
            // DangerousEnableCompression: ASP.NET Core's permessage-deflate (RFC 7692), accepted when offered.
            using var socket = await context.WebSockets.AcceptWebSocketAsync(
                new WebSocketAcceptContext { DangerousEnableCompression = compression });
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
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
                }
                lock (self!.Received)
                    self.Received.Add(buffer[..filled]);
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    await socket.SendAsync(
                        buffer.AsMemory(0, filled), WebSocketMessageType.Binary, true, CancellationToken.None);
                    continue;
                }
                var text = System.Text.Encoding.UTF8.GetString(buffer, 0, filled);
                if (text.StartsWith("close:", StringComparison.Ordinal))
                {
                    await socket.CloseAsync(
                        (WebSocketCloseStatus)int.Parse(text[6..], System.Globalization.CultureInfo.InvariantCulture),
                        "asked",
                        CancellationToken.None);
                    return;
                }
                if (text.StartsWith("burst:", StringComparison.Ordinal))
                {
                    for (var i = 1; i <= int.Parse(text[6..], System.Globalization.CultureInfo.InvariantCulture); i++)
                        await socket.SendAsync(
                            System.Text.Encoding.UTF8.GetBytes($"msg-{i}"),
                            WebSocketMessageType.Text,
                            true,
                            CancellationToken.None);
                    continue;
                }
                await socket.SendAsync(
                    System.Text.Encoding.UTF8.GetBytes(textEchoPrefix + text),
                    WebSocketMessageType.Text,
                    true,
                    CancellationToken.None);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        self = new KestrelEndpoint(app, new Uri(address).Port);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

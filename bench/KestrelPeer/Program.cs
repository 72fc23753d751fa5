using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

// Usage: KestrelPeer --port P --mode echo|relay [--compress]
var port = int.Parse(Arg("--port") ?? "8080");
var relay = (Arg("--mode") ?? "echo") == "relay";
// permessage-deflate (RFC 7692) accepted when offered: ASP.NET Core's DangerousEnableCompression.
var compress = args.Contains("--compress");

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(port));
var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });

var clients = new ConcurrentDictionary<int, Channel<(byte[] Data, WebSocketMessageType Type)>>();
var nextId = 0;

app.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 404;
        return;
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync(
        new WebSocketAcceptContext { DangerousEnableCompression = compress });
    if (relay)
        await RelayAsync(socket);
    else
        await EchoAsync(socket);
});

Console.Error.WriteLine($"KestrelPeer listening on {port} ({(relay ? "relay" : "echo")})");
app.Run();

static async Task EchoAsync(WebSocket socket)
{
    var buffer = new byte[64 * 1024];
    while (true)
    {
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return;
        }
        // Echo frame by frame; messages in the benchmarks fit one frame.
        await socket.SendAsync(
            buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
    }
}

async Task RelayAsync(WebSocket socket)
{
    // One writer per client (WebSocket allows one send at a time), fed by a bounded queue, like wsctl serve.
    var id = Interlocked.Increment(ref nextId);
    var queue = Channel.CreateBounded<(byte[], WebSocketMessageType)>(new BoundedChannelOptions(1024)
    { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    clients[id] = queue;
    var writer = Task.Run(async () =>
    {
        await foreach (var (data, type) in queue.Reader.ReadAllAsync())
            await socket.SendAsync(data, type, true, CancellationToken.None);
    });
    try
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
                break;
            var message = buffer.AsSpan(0, result.Count).ToArray();
            foreach (var client in clients.Values)
                client.Writer.TryWrite((message, result.MessageType));
        }
    }
    catch (WebSocketException)
    {
    }
    finally
    {
        clients.TryRemove(id, out _);
        queue.Writer.TryComplete();
        try { await writer; } catch (WebSocketException) { }
        if (socket.State == WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

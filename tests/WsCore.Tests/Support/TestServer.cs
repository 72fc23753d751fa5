using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Support;

/// <summary>
/// An in-process <see cref="WebSocketServer"/> on a free loopback port, with its events collected (and echoed back
/// to the sender when asked, like <c>wsctl serve --echo</c>).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly List<ServerEvent> _seen = [];
    private readonly List<ReceivedCopy> _messages = [];
    private readonly Task _pump;

    private TestServer(WebSocketServer server, bool echo)
    {
        Server = server;
        _pump = Task.Run(async () =>
        {
            await foreach (var serverEvent in server.Events.ReadAllAsync())
            {
                if (echo && serverEvent is MessageReceived message)
                    server.Send(message.ClientId, message.Message.Type, message.Message.Payload.Span);
                lock (_seen)
                {
                    // Keep a copy of messages: the pooled payload goes back to the pool right here.
                    if (serverEvent is MessageReceived received)
                    {
                        var copy = received.Message.Payload.ToArray();
                        _messages.Add(new ReceivedCopy(received.ClientId, received.Message.Type, copy));
                        received.Dispose();
                    }
                    _seen.Add(serverEvent);
                }
            }
        });
    }

    private readonly CancellationTokenSource _stopping = new();

    public WebSocketServer Server { get; }

    /// <summary>Cancelled when the server is disposed (for a test's own loops around it).</summary>
    public CancellationToken Stopping => _stopping.Token;

    public int Port => Server.LocalEndPoint.Port;

    public Uri Uri => new($"ws://127.0.0.1:{Port}/");

    public static TestServer Start(bool echo = true, Action<WebSocketServerOptions>? configure = null)
    {
        var options = new WebSocketServerOptions
        {
            BindAddress = System.Net.IPAddress.Loopback,
            Port = 0,
            PingInterval = TimeSpan.Zero,
            PageHandler = request => request.Path == "/"
                ? new HttpPage("text/html; charset=utf-8", "<p>test</p>"u8.ToArray())
                : null,
        };
        configure?.Invoke(options);
        var server = new WebSocketServer(options);
        server.Start();
        return new TestServer(server, echo);
    }

    public IReadOnlyList<ServerEvent> Events
    {
        get
        {
            lock (_seen)
                return [.. _seen];
        }
    }

    public IReadOnlyList<ReceivedCopy> Messages
    {
        get
        {
            lock (_seen)
                return [.. _messages];
        }
    }

    /// <summary>Waits until a received message matches.</summary>
    public async Task<ReceivedCopy> WaitForMessageAsync(Func<ReceivedCopy, bool> match, TimeSpan? timeout = null)
    {
        var end = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < end)
        {
            var found = Messages.FirstOrDefault(match);
            if (found is not null)
                return found;
            await Task.Delay(20);
        }
        throw new TimeoutException("no matching message in time");
    }

    /// <summary>Waits (polling with a deadline) until an event matching <paramref name="match"/> was seen.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool>? match = null, TimeSpan? timeout = null) where T : class
    {
        var end = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < end)
        {
            var found = Events.OfType<T>().FirstOrDefault(e => match is null || match(e));
            if (found is not null)
                return found;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no {typeof(T).Name} event in time");
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Server.DisposeAsync();
        await _pump.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

/// <summary>A received message's copy, kept after the pooled original was disposed.</summary>
public sealed record ReceivedCopy(int ClientId, MessageType Type, byte[] Payload);

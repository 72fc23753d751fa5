using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using WsCore.Tests.Support;

namespace WsCore.Tests.Cluster;

/// <summary>
/// A private Redis and real <c>wsctl serve --cluster</c> processes on free loopback ports, one cluster name per lab (so
/// labs never meet). Every process is killed and Redis removed on dispose.
/// </summary>
public sealed partial class ClusterLab : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private ClusterLab(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }

    public string Name { get; } = "lab" + Guid.NewGuid().ToString("N")[..8];

    public List<Instance> Instances { get; } = [];

    /// <summary>A lab of <paramref name="count"/> instances, each started with <paramref name="args"/>.</summary>
    public static async Task<ClusterLab> StartAsync(int count, params string[] args)
    {
        var lab = new ClusterLab(await RedisServer.StartNewAsync());
        try
        {
            for (var i = 0; i < count; i++)
                await lab.AddInstanceAsync(args);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more instance and waits until it has joined.</summary>
    public async Task<Instance> AddInstanceAsync(params string[] args)
    {
        var (process, port) = await WsctlProcess.StartServeAsync(
            ["--cluster", Redis.Url, "--cluster-name", Name, .. args]);
        try
        {
            var joined = await process.WaitForStderrAsync(JoinedPattern(), Timeout);
            var instance = new Instance(process, port, JoinedPattern().Match(joined).Groups[1].Value);
            Instances.Add(instance);
            return instance;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in Instances)
            instance.Process.Dispose();
        await Redis.DisposeAsync();
    }

    /// <summary>Runs <c>wsctl ARGS</c> to its end.</summary>
    public static Task<WsctlResult> WsctlAsync(params string[] args) => WsctlProcess.RunAsync(args, timeout: Timeout);

    /// <summary>The client objects of <c>broadcast --list --json</c>'s output (the result object left out).</summary>
    public static List<System.Text.Json.JsonElement> ListedClients(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(o => o.GetProperty("type").GetString() == "client").ToList();

    [GeneratedRegex(@"joined cluster \S+ on \S+ as (\S+) \(")]
    public static partial Regex JoinedPattern();

    /// <summary>One serve instance: its process, port and cluster name.</summary>
    public sealed record Instance(WsctlProcess Process, int Port, string Name)
    {
        public string PortText => Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// A WebSocket client (the runtime's ClientWebSocket, independent of WsCore) that collects every text message it gets
/// in order; the test takes them with timeouts.
/// </summary>
public sealed class CollectingClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;

    /// <summary>The close status once the server closed, or null while open.</summary>
    public WebSocketCloseStatus? ClosedWith { get; private set; }

    /// <summary>True once the receive loop has ended (closed by the server, or the connection broke).</summary>
    public bool Ended => _receiving.IsCompleted;

    public static async Task<CollectingClient> ConnectAsync(int port)
    {
        var client = new CollectingClient();
        await client._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None)
            .WaitAsync(ClusterLab.Timeout);
        client._receiving = client.ReceiveLoopAsync();
        return client;
    }

    public Task SendAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next message; TimeoutException when none comes in time.</summary>
    public async Task<string> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? ClusterLab.Timeout);
        try
        {
            return await _messages.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no message within {timeout ?? ClusterLab.Timeout} (closed: {ClosedWith})");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"the connection ended ({ClosedWith})");
        }
    }

    /// <summary>Skips messages until one matches; returns it.</summary>
    public async Task<string> NextMatchingAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var end = DateTime.UtcNow + (timeout ?? ClusterLab.Timeout);
        while (true)
        {
            var left = end - DateTime.UtcNow;
            var message = await NextAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (match(message))
                return message;
        }
    }

    /// <summary>Every message received so far and not yet taken.</summary>
    public List<string> Drain()
    {
        var list = new List<string>();
        while (_messages.Reader.TryRead(out var message))
            list.Add(message);
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        await _receiving;
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                    filled += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ClosedWith = _socket.CloseStatus;
                    return;
                }
                _messages.Writer.TryWrite(Encoding.UTF8.GetString(buffer, 0, filled));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}

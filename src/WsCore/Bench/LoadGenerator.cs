using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Serilog;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>What the load generator does.</summary>
public enum BenchMode
{
    /// <summary>Every client sends a message and waits for its echo (closed loop), every byte checked.</summary>
    Echo,
    /// <summary>One client sends to a relaying server; every client counts what arrives.</summary>
    Broadcast,
    /// <summary>Clients connect, handshake and close, over and over: connects per second.</summary>
    Connect,
    /// <summary>Clients connect and stay idle (answering pings); how many are still alive at the end.</summary>
    Idle,
}

/// <summary>Settings of one load run.</summary>
/// <param name="Target">The server: a ws:// URL.</param>
/// <param name="Mode">The scenario.</param>
/// <param name="Clients">How many connections (connect mode: how many connect loops).</param>
/// <param name="MessageBytes">Payload size of each message.</param>
/// <param name="Duration">How long to measure.</param>
/// <param name="Rate">Messages per second in all (echo: spread over the clients; broadcast: the sender's); null: as fast as the server goes.</param>
public sealed record BenchOptions(Uri Target, BenchMode Mode, int Clients, int MessageBytes, TimeSpan Duration, double? Rate = null)
{
    /// <summary>Connections opened at once while ramping up.</summary>
    public int ConnectConcurrency { get; init; } = 64;

    /// <summary>Broadcast: messages the sender may have in flight (sent but not yet back to itself).</summary>
    public int BroadcastWindow { get; init; } = 32;
}

/// <summary>Latency percentiles in microseconds.</summary>
public sealed record LatencySummary(int Count, double P50, double P90, double P99, double Max)
{
    public static LatencySummary From(List<long> ticks)
    {
        if (ticks.Count == 0)
            return new LatencySummary(0, 0, 0, 0, 0);
        ticks.Sort();
        double At(double q) => ticks[Math.Min(ticks.Count - 1, (int)(q * ticks.Count))] * 1e6 / Stopwatch.Frequency;
        return new LatencySummary(ticks.Count, At(0.50), At(0.90), At(0.99), ticks[^1] * 1e6 / Stopwatch.Frequency);
    }
}

/// <summary>What a load run measured.</summary>
public sealed record BenchResult(
    BenchMode Mode,
    int Clients,
    int Connected,
    double Seconds,
    long MessagesSent,
    long MessagesReceived,
    double MessagesPerSecond,
    LatencySummary Latency,
    long Connects,
    double ConnectsPerSecond,
    long Errors,
    int AliveAtEnd,
    IReadOnlyList<string> ErrorSamples);

/// <summary>
/// The load generator behind <c>wsctl bench</c>: raw sockets, masked frames, every echoed byte checked. Talks to any
/// RFC 6455 server (wsctl serve, Kestrel, node's ws, a board) and reports messages per second, latency
/// percentiles, connects per second and errors.
/// </summary>
public static class LoadGenerator
{
    // Payload layout: u64 sequence number, i64 Stopwatch timestamp of the send, then a pattern derived from both.
    private const int StampBytes = 16;

    public static async Task<BenchResult> RunAsync(BenchOptions options, ILogger? logger = null, CancellationToken cancel = default)
    {
        logger ??= Serilog.Core.Logger.None;
        if (options.Mode != BenchMode.Connect && options.Mode != BenchMode.Idle && options.MessageBytes < StampBytes)
            throw new WsCoreException(FailureKind.InvalidInput, $"--size must be at least {StampBytes} bytes (a sequence number and a timestamp travel in each message)");
        var endpoint = await ResolveAsync(options.Target, cancel);
        var stats = new Stats();
        return options.Mode switch
        {
            BenchMode.Echo => await EchoAsync(options, endpoint, stats, logger, cancel),
            BenchMode.Broadcast => await BroadcastAsync(options, endpoint, stats, logger, cancel),
            BenchMode.Connect => await ConnectLoopAsync(options, endpoint, stats, cancel),
            _ => await IdleAsync(options, endpoint, stats, logger, cancel),
        };
    }

    private sealed class Stats
    {
        public long Sent;
        public long Received;
        public long Connects;
        public long Errors;
        public readonly List<string> Samples = [];
        public readonly List<long> Latencies = [];

        public void Error(string what)
        {
            Interlocked.Increment(ref Errors);
            lock (Samples)
                if (Samples.Count < 5)
                    Samples.Add(what);
        }

        public void AddLatencies(List<long> ticks)
        {
            lock (Latencies)
                Latencies.AddRange(ticks);
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(Uri target, CancellationToken cancel)
    {
        if (target.Scheme != "ws")
            throw new WsCoreException(FailureKind.InvalidInput, "wsctl bench speaks ws:// only (TLS would measure the cipher, not the server)");
        var port = target.IsDefaultPort ? 80 : target.Port;
        if (IPAddress.TryParse(target.IdnHost, out var literal))
            return new IPEndPoint(literal, port);
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(target.IdnHost, cancel);
            return new IPEndPoint(addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).First(), port);
        }
        catch (SocketException e)
        {
            throw new WsCoreException(FailureKind.NameNotResolved, $"cannot resolve '{target.IdnHost}': {e.Message}");
        }
    }

    /// <summary>Opens <paramref name="count"/> connections, <see cref="BenchOptions.ConnectConcurrency"/> at a time.</summary>
    private static async Task<List<BenchConnection>> OpenManyAsync(BenchOptions options, IPEndPoint endpoint, int count, Stats stats, CancellationToken cancel)
    {
        var opened = new List<BenchConnection>(count);
        using var gate = new SemaphoreSlim(options.ConnectConcurrency);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync(cancel);
            try
            {
                var connection = await BenchConnection.OpenAsync(endpoint, options.Target, cancel);
                lock (opened)
                    opened.Add(connection);
            }
            catch (Exception e) when (e is WsCoreException or SocketException)
            {
                stats.Error("connect: " + e.Message);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return opened;
    }

    private static void FillPayload(Span<byte> payload, long sequence, long stamp)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], stamp);
        var seed = (byte)(sequence * 31 + 7);
        for (var i = StampBytes; i < payload.Length; i++)
            payload[i] = (byte)(seed + i);
    }

    private static async Task<BenchResult> EchoAsync(BenchOptions options, IPEndPoint endpoint, Stats stats, ILogger logger, CancellationToken cancel)
    {
        var connections = await OpenManyAsync(options, endpoint, options.Clients, stats, cancel);
        logger.Information("echo: {Connected}/{Clients} connected; running for {Duration}", connections.Count, options.Clients, options.Duration);
        var perClientInterval = options.Rate is { } rate && rate > 0 ? TimeSpan.FromSeconds(connections.Count / rate) : (TimeSpan?)null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stop.CancelAfter(options.Duration);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(connections.Select((c, index) => Task.Run(() => EchoLoopAsync(c, index, options, perClientInterval, stats, stop.Token))));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var alive = connections.Count(c => !c.IsClosed);
        await CloseAllAsync(connections);
        return Result(options, connections.Count, seconds, stats, alive);
    }

    private static async Task EchoLoopAsync(BenchConnection connection, int index, BenchOptions options, TimeSpan? interval, Stats stats, CancellationToken stop)
    {
        var payload = new byte[options.MessageBytes];
        var latencies = new List<long>(1024);
        var opcode = Opcode.Binary;
        long sequence = (long)index << 40;
        var next = Stopwatch.GetTimestamp();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (interval is { } pace)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, stop);
                    next += (long)(pace.TotalSeconds * Stopwatch.Frequency);
                }
                var stamp = Stopwatch.GetTimestamp();
                FillPayload(payload, ++sequence, stamp);
                await connection.SendAsync(opcode, payload, stop);
                Interlocked.Increment(ref stats.Sent);
                var (got, echoed) = await connection.ReceiveAsync(stop);
                if (connection.IsClosed)
                {
                    stats.Error("the server closed the connection");
                    return;
                }
                if (got != opcode || !echoed.Span.SequenceEqual(payload))
                {
                    stats.Error($"echo mismatch (opcode {got}, {echoed.Length} bytes)");
                    continue;
                }
                latencies.Add(Stopwatch.GetTimestamp() - stamp);
                Interlocked.Increment(ref stats.Received);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            stats.Error(e.Message);
        }
        finally
        {
            stats.AddLatencies(latencies);
        }
    }

    private static async Task<BenchResult> BroadcastAsync(BenchOptions options, IPEndPoint endpoint, Stats stats, ILogger logger, CancellationToken cancel)
    {
        var connections = await OpenManyAsync(options, endpoint, options.Clients, stats, cancel);
        if (connections.Count == 0)
            return Result(options, 0, 0, stats, 0);
        logger.Information("broadcast: {Connected}/{Clients} connected; running for {Duration}", connections.Count, options.Clients, options.Duration);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var sender = connections[0];
        var senderEchoes = new SemaphoreSlim(options.BroadcastWindow);
        var started = Stopwatch.GetTimestamp();
        var receivers = connections.Select((c, i) => Task.Run(() => CountArrivalsAsync(c, options, stats, i == 0 ? senderEchoes : null, stop.Token))).ToList();

        // The sender keeps at most BroadcastWindow messages in flight, judged by its own copies coming back, so a
        // server is measured at the rate it sustains, not by how much it lets pile up.
        var payload = new byte[options.MessageBytes];
        var interval = options.Rate is { } rate && rate > 0 ? 1.0 / rate : (double?)null;
        var next = Stopwatch.GetTimestamp();
        long sequence = 0;
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        sending.CancelAfter(options.Duration);
        try
        {
            while (!sending.IsCancellationRequested && !sender.IsClosed)
            {
                await senderEchoes.WaitAsync(sending.Token);
                if (interval is { } gap)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, sending.Token);
                    next += (long)(gap * Stopwatch.Frequency);
                }
                FillPayload(payload, ++sequence, Stopwatch.GetTimestamp());
                await sender.SendAsync(Opcode.Binary, payload, sending.Token);
                Interlocked.Increment(ref stats.Sent);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            stats.Error("send: " + e.Message);
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // Deliveries still on their way count: give them a moment, bounded.
        var expected = Interlocked.Read(ref stats.Sent) * connections.Count;
        var drainUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
        while (Interlocked.Read(ref stats.Received) < expected && Stopwatch.GetTimestamp() < drainUntil)
            await Task.Delay(20, cancel);
        await stop.CancelAsync();
        await Task.WhenAll(receivers);
        var alive = connections.Count(c => !c.IsClosed);
        await CloseAllAsync(connections);
        return Result(options, connections.Count, seconds, stats, alive);
    }

    private static async Task CountArrivalsAsync(BenchConnection connection, BenchOptions options, Stats stats, SemaphoreSlim? senderWindow, CancellationToken stop)
    {
        var latencies = new List<long>(1024);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var (opcode, payload) = await connection.ReceiveAsync(stop);
                if (connection.IsClosed)
                {
                    stats.Error("the server closed a receiving connection");
                    return;
                }
                if (opcode != Opcode.Binary || payload.Length != options.MessageBytes)
                    continue;   // the server's own messages (a counter, say) are not ours to count
                var sequence = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
                var stamp = BinaryPrimitives.ReadInt64LittleEndian(payload.Span[8..]);
                var seed = (byte)(sequence * 31 + 7);
                var span = payload.Span;
                for (var i = StampBytes; i < span.Length; i++)
                {
                    if (span[i] != (byte)(seed + i))
                    {
                        stats.Error("broadcast payload corrupted");
                        break;
                    }
                }
                latencies.Add(Stopwatch.GetTimestamp() - stamp);
                Interlocked.Increment(ref stats.Received);
                senderWindow?.Release();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            stats.Error(e.Message);
        }
        finally
        {
            stats.AddLatencies(latencies);
        }
    }

    private static async Task<BenchResult> ConnectLoopAsync(BenchOptions options, IPEndPoint endpoint, Stats stats, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stop.CancelAfter(options.Duration);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<long>();
            while (!stop.IsCancellationRequested)
            {
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    using var connection = await BenchConnection.OpenAsync(endpoint, options.Target, stop.Token);
                    latencies.Add(Stopwatch.GetTimestamp() - begin);
                    Interlocked.Increment(ref stats.Connects);
                    using var closing = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                    closing.CancelAfter(TimeSpan.FromSeconds(5));
                    await connection.CloseAsync(closing.Token);
                }
                catch (OperationCanceledException)
                {
                    if (stop.IsCancellationRequested)
                        break;
                    stats.Error("close handshake timed out");
                }
                catch (Exception e) when (e is WsCoreException or SocketException)
                {
                    stats.Error(e.Message);
                }
            }
            stats.AddLatencies(latencies);
        })));
        return Result(options, options.Clients, Stopwatch.GetElapsedTime(started).TotalSeconds, stats, 0);
    }

    private static async Task<BenchResult> IdleAsync(BenchOptions options, IPEndPoint endpoint, Stats stats, ILogger logger, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        var connections = await OpenManyAsync(options, endpoint, options.Clients, stats, cancel);
        Interlocked.Add(ref stats.Connects, connections.Count);
        logger.Information("idle: {Connected}/{Clients} connected; holding for {Duration}", connections.Count, options.Clients, options.Duration);
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        hold.CancelAfter(options.Duration);
        // Each connection answers the server's pings while idle; a close or reset ends it.
        var readers = connections.Select(c => Task.Run(async () =>
        {
            try
            {
                while (!c.IsClosed)
                    await c.ReceiveAsync(hold.Token);
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();
        await Task.WhenAll(readers);
        var alive = connections.Count(c => !c.IsClosed);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await CloseAllAsync(connections);
        return Result(options, connections.Count, seconds, stats, alive);
    }

    private static async Task CloseAllAsync(List<BenchConnection> connections)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(connections.Select(async c =>
        {
            try
            {
                if (!c.IsClosed)
                    await c.CloseAsync(limit.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or WsCoreException)
            {
            }
            finally
            {
                c.Dispose();
            }
        }));
    }

    private static BenchResult Result(BenchOptions options, int connected, double seconds, Stats stats, int alive) => new(
        options.Mode,
        options.Clients,
        connected,
        seconds,
        stats.Sent,
        stats.Received,
        seconds > 0 ? stats.Received / seconds : 0,
        LatencySummary.From(stats.Latencies),
        stats.Connects,
        seconds > 0 ? stats.Connects / seconds : 0,
        stats.Errors,
        alive,
        stats.Samples);
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Serilog;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// The load generator behind <c>wsctl bench</c>: raw sockets, masked frames, every answered byte checked. Talks to any
/// RFC 6455 server (wsctl serve, Kestrel, node's ws, a board) and reports messages per second, latency
/// percentiles, connects per second, losses and errors.
/// </summary>
public static class LoadGenerator
{
    /// <summary>The smallest message: a sequence number and a timestamp travel in each.</summary>
    public const int MinMessageBytes = 16;

    /// <summary>The largest ping payload: a control frame carries at most 125 bytes (RFC 6455 §5.5).</summary>
    public const int MaxPingBytes = FrameHeader.MaxControlPayload;

    /// <summary>
    /// Runs one load scenario. Cancelling <paramref name="cancel"/> (Ctrl-C) stops it early: what was measured up to
    /// then comes back with <see cref="BenchResult.Interrupted"/> set, unless nothing was connected yet
    /// (OperationCanceledException then).
    /// </summary>
    /// <param name="options">What to run.</param>
    /// <param name="logger">Where the phases are logged (connected, running, holding).</param>
    /// <param name="cancel">Stops the run early.</param>
    /// <param name="progress">
    /// Hears every <see cref="BenchOptions.ProgressInterval"/> how the run goes, on a pool thread; null costs nothing
    /// (no live latency histogram is kept).
    /// </param>
    public static async Task<BenchResult> RunAsync(
        BenchOptions options,
        ILogger? logger = null,
        CancellationToken cancel = default,
        IProgress<BenchProgress>? progress = null)
    {
        if (options.Mode is BenchMode.Ping or BenchMode.Echo or BenchMode.Broadcast
            && options.MessageBytes < MinMessageBytes)
            throw WsCoreException.Invalid(InputField.MessageSize,
                $"messages must be at least {MinMessageBytes} bytes " +
                "(a sequence number and a timestamp travel in each)");
        if (options.Mode == BenchMode.Ping && options.MessageBytes > MaxPingBytes)
            throw WsCoreException.Invalid(InputField.MessageSize,
                $"messages must be at most {MaxPingBytes} bytes in ping mode " +
                "(a control frame's payload limit, RFC 6455 §5.5)");
        var endpoint = await ResolveAsync(options, options.Target, cancel);
        var run = new Run(options, endpoint, logger ?? Serilog.Core.Logger.None, progress, cancel);
        foreach (var also in options.AlsoTargets)
            run.Servers.Add((await ResolveAsync(options, also, cancel), also));
        return options.Mode switch
        {
            BenchMode.Ping or BenchMode.Echo => await run.RoundTripsAsync(),
            BenchMode.Broadcast => await run.BroadcastAsync(),
            BenchMode.Connect => await run.ConnectLoopAsync(),
            _ => await run.IdleAsync(),
        };
    }

    private static async Task<IPEndPoint> ResolveAsync(BenchOptions options, Uri target, CancellationToken cancel)
    {
        if (target.Scheme != "ws")
            throw new WsCoreException(FailureKind.InvalidInput,
                "the load generator speaks ws:// only (TLS would measure the cipher, not the server)");
        var port = target.IsDefaultPort ? 80 : target.Port;
        var addresses = await Connector.ResolveAsync(
            target.IdnHost, options.Resolve, options.ResolveTimeout, cancel, cancel);
        var first = addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).First();
        return new IPEndPoint(first, port);
    }

    // Payload layout: u64 sequence number, i64 Stopwatch timestamp of the send, then a pattern derived from the
    // sequence number. In ping and echo the number's high half is the connection's random tag and the low half counts.
    private const long TagMask = unchecked((long)0xFFFF_FFFF_0000_0000);

    private static void FillPayload(Span<byte> payload, long sequence, long stamp)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], stamp);
        var seed = (byte)(sequence * 31 + 7);
        for (var i = MinMessageBytes; i < payload.Length; i++)
            payload[i] = (byte)(seed + i);
    }

    private static bool PatternIntact(ReadOnlySpan<byte> payload)
    {
        var seed = (byte)(BinaryPrimitives.ReadInt64LittleEndian(payload) * 31 + 7);
        for (var i = MinMessageBytes; i < payload.Length; i++)
            if (payload[i] != (byte)(seed + i))
                return false;
        return true;
    }

    /// <summary>What the counters of a run are; updated by every client task at once.</summary>
    private sealed class Stats(bool live)
    {
        public long Sent;
        public long Received;
        public long Connects;
        public long Errors;
        public long Lost;
        public long Unsolicited;
        public long Opened;
        public long Closed;
        public readonly List<string> ErrorSamples = [];
        public readonly List<string> LossSamples = [];

        /// <summary>Latencies as they come, for the progress line's median; only kept when someone watches.</summary>
        public readonly LatencyHistogram? Live = live ? new LatencyHistogram() : null;

        public void Error(string what)
        {
            Interlocked.Increment(ref Errors);
            Sample(ErrorSamples, what);
        }

        /// <summary>The first connection that could not be opened, and how many could not.</summary>
        public WsCoreException? FirstConnectFailure;
        public long ConnectFailures;
        public long RefusedAsFull;

        public void ConnectFailed(WsCoreException error)
        {
            Interlocked.CompareExchange(ref FirstConnectFailure, error, null);
            Interlocked.Increment(ref ConnectFailures);
            // 503 is what a server at its client limit answers (the firmware, wsctl serve): the run asked for more
            // clients than it takes, which the report says rather than counting it as the server's error.
            if (error is WebSockets.Client.WebSocketHandshakeException { StatusCode: 503 })
                Interlocked.Increment(ref RefusedAsFull);
            Error("connect: " + error.Message);
        }

        public void Lose(string why)
        {
            Interlocked.Increment(ref Lost);
            Sample(LossSamples, why);
        }

        public void Latency(List<long> mine, long ticks)
        {
            mine.Add(ticks);
            Live?.Record(ticks);
        }

        // Every latency once, by the server whose client measured it (0: the target; the others only with --also).
        private readonly Dictionary<int, List<long>> _latencies = [];

        public void AddLatencies(List<long> ticks, int server = 0)
        {
            lock (_latencies)
            {
                if (!_latencies.TryGetValue(server, out var mine))
                    _latencies[server] = mine = [];
                mine.AddRange(ticks);
            }
        }

        /// <summary>Every latency of the run (one server's list itself when there is one).</summary>
        public List<long> AllLatencies()
        {
            lock (_latencies)
                return _latencies.Count == 1 ? _latencies.Values.Single() : [.. _latencies.Values.SelectMany(l => l)];
        }

        public List<long> LatenciesOf(int server)
        {
            lock (_latencies)
                return _latencies.GetValueOrDefault(server) ?? [];
        }

        /// <summary>Keeps the first few distinct problems, in words, for the report.</summary>
        public static void Sample(List<string> samples, string what)
        {
            lock (samples)
                if (samples.Count < 5 && !samples.Contains(what))
                    samples.Add(what);
        }
    }

    /// <summary>How the wait for one answer ended.</summary>
    private enum Answer
    {
        Matched,
        Corrupted,
        Closed,
    }

    /// <summary>One load run: its settings, counters and the token that interrupts it.</summary>
    private sealed class Run(
        BenchOptions options,
        IPEndPoint endpoint,
        ILogger logger,
        IProgress<BenchProgress>? progress,
        CancellationToken cancel)
    {
        /// <summary>Every server the connections are spread over, <see cref="BenchOptions.Target"/> first.</summary>
        public List<(IPEndPoint EndPoint, Uri Target)> Servers { get; } = [(endpoint, options.Target)];

        private readonly Stats _stats = new(progress is not null);

        private string ModeName => options.Mode.ToString().ToLowerInvariant();

        /// <summary>Ping and echo: every client in a closed loop, one message in flight each.</summary>
        public async Task<BenchResult> RoundTripsAsync()
        {
            var connections = await OpenManyAsync(options.Clients);
            if (connections.Count == 0)
                return Result(0, 0, 0, 0);
            logger.Information(
                "{Mode}: {Connected}/{Clients} connected; running for {Duration}",
                ModeName,
                connections.Count,
                options.Clients,
                options.Duration);
            var perClientInterval = options.Rate is { } rate && rate > 0
                ? TimeSpan.FromSeconds(connections.Count / rate)
                : (TimeSpan?)null;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            stop.CancelAfter(options.Duration);
            var started = Stopwatch.GetTimestamp();
            var reporting = ReportProgressAsync(() => Interlocked.Read(ref _stats.Received), started, stop.Token);
            await Task.WhenAll(connections.Select(c => Task.Run(() => RoundTripLoopAsync(
                c, perClientInterval, stop.Token))));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await stop.CancelAsync();
            await reporting;
            var alive = connections.Count(c => !c.IsClosed);
            await CloseAllAsync(connections);
            return Result(connections.Count, seconds, alive, _stats.Lost);
        }

        private async Task RoundTripLoopAsync(BenchConnection connection, TimeSpan? interval, CancellationToken stop)
        {
            var pinging = options.Mode == BenchMode.Ping;
            var request = pinging ? Opcode.Ping : Opcode.Binary;
            var answer = pinging ? Opcode.Pong : Opcode.Binary;
            var noun = pinging ? "pong" : "echo";
            var payload = new byte[options.MessageBytes];
            var latencies = new List<long>(1024);
            // A random tag marks this connection's messages, so what another connection (of this run or another
            // one) sent, relayed here, is told apart from an answer of ours.
            var tag = (long)RandomNumberGenerator.GetInt32(1, int.MaxValue) << 32;
            uint count = 0;
            var next = Stopwatch.GetTimestamp();
            // A message sent is waited for even when the run's time is up: only Ctrl-C or the answer timeout end the
            // wait, so every message ends up answered, lost or interrupted, never silently dropped. One source for
            // the whole loop, reset after each answer: nothing allocated per message.
            var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
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
                    FillPayload(payload, tag | ++count, stamp);
                    await connection.SendAsync(request, payload, cancel);
                    Interlocked.Increment(ref _stats.Sent);
                    deadline.CancelAfter(options.AnswerTimeout);
                    Answer outcome;
                    try
                    {
                        outcome = await AwaitAnswerAsync(connection, answer, payload, tag, deadline.Token);
                    }
                    catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                    {
                        _stats.Lose($"no {noun} within {Seconds(options.AnswerTimeout)}");
                        return;
                    }
                    switch (outcome)
                    {
                        case Answer.Matched:
                            _stats.Latency(latencies, Stopwatch.GetTimestamp() - stamp);
                            Interlocked.Increment(ref _stats.Received);
                            break;
                        case Answer.Corrupted:
                            _stats.Error($"{noun} corrupted ({payload.Length} bytes sent, the answer differs)");
                            break;
                        default:
                            // The message in flight is lost, and a connection the server ends mid-run is an error.
                            Interlocked.Increment(ref _stats.Lost);
                            _stats.Error($"the server closed the connection before the {noun}");
                            return;
                    }
                    if (!deadline.TryReset())
                    {
                        // The timeout fired just as the answer came (or Ctrl-C, which the next send sees): a new one.
                        deadline.Dispose();
                        deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is SocketException or WsCoreException)
            {
                _stats.Error(e.Message);
            }
            finally
            {
                deadline.Dispose();
                _stats.AddLatencies(latencies);
            }
        }

        // Ours is a frame of the expected kind and length carrying this connection's tag; anything else the server
        // sends meanwhile (the firmware's counter, a status push, an unasked pong, another client's message relayed)
        // is unsolicited and skipped. Ours but not byte for byte what was sent (another sequence number, changed
        // bytes) is corrupted. A tag changed in transit makes the answer unrecognisable: it is then lost at the
        // timeout.
        private async Task<Answer> AwaitAnswerAsync(
            BenchConnection connection, Opcode answer, byte[] sent, long tag, CancellationToken deadline)
        {
            while (true)
            {
                var (opcode, data) = await connection.ReceiveAsync(deadline);
                if (connection.IsClosed)
                    return Answer.Closed;
                if (opcode == answer && data.Length == sent.Length
                    && (BinaryPrimitives.ReadInt64LittleEndian(data.Span) & TagMask) == tag)
                    return data.Span.SequenceEqual(sent) ? Answer.Matched : Answer.Corrupted;
                Interlocked.Increment(ref _stats.Unsolicited);
            }
        }

        /// <summary>One sender, every client (the sender too) counts what the server relays.</summary>
        public async Task<BenchResult> BroadcastAsync()
        {
            var connections = await OpenManyAsync(options.Clients);
            if (connections.Count == 0)
                return Result(0, 0, 0, 0);
            logger.Information(
                "broadcast: {Connected}/{Clients} connected; running for {Duration}",
                connections.Count,
                options.Clients,
                options.Duration);
            using var receiving = new CancellationTokenSource();
            var sender = connections[0];
            using var senderEchoes = new SemaphoreSlim(options.BroadcastWindow);
            var started = Stopwatch.GetTimestamp();
            var receivers = connections
                .Select((c, i) => Task.Run(() => CountArrivalsAsync(c, i == 0 ? senderEchoes : null, receiving.Token)))
                .ToList();

            // The sender keeps at most BroadcastWindow messages in flight, judged by its own copies coming back, so a
            // server is measured at the rate it sustains, not by how much it lets pile up.
            var payload = new byte[options.MessageBytes];
            var interval = options.Rate is { } rate && rate > 0 ? 1.0 / rate : (double?)null;
            var next = Stopwatch.GetTimestamp();
            long sequence = 0;
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            sending.CancelAfter(options.Duration);
            var reporting = ReportProgressAsync(() => Interlocked.Read(ref _stats.Received), started, sending.Token);
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
                    Interlocked.Increment(ref _stats.Sent);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException e)
            {
                _stats.Error("send: " + e.Message);
            }
            await sending.CancelAsync();
            await reporting;
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            // Deliveries still on their way are not lost: give them a moment, bounded (shorter after Ctrl-C, where
            // the user is waiting for the results).
            var expected = Interlocked.Read(ref _stats.Sent) * connections.Count;
            var drainUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (cancel.IsCancellationRequested ? 1 : 2);
            while (Interlocked.Read(ref _stats.Received) < expected && Stopwatch.GetTimestamp() < drainUntil)
                await Task.Delay(20, CancellationToken.None);
            await receiving.CancelAsync();
            await Task.WhenAll(receivers);
            var lost = Math.Max(0, expected - Interlocked.Read(ref _stats.Received));
            if (lost > 0)
                Stats.Sample(
                    _stats.LossSamples,
                    $"{Interlocked.Read(ref _stats.Sent):N0} sent × {connections.Count} " +
                        $"{(connections.Count == 1 ? "receiver" : "receivers")} = {expected:N0} deliveries expected, " +
                        $"{Interlocked.Read(ref _stats.Received):N0} arrived");
            var alive = connections.Count(c => !c.IsClosed);
            await CloseAllAsync(connections);
            return Result(connections.Count, seconds, alive, lost);
        }

        private async Task CountArrivalsAsync(
            BenchConnection connection, SemaphoreSlim? senderWindow, CancellationToken stop)
        {
            var latencies = new List<long>(1024);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var (opcode, payload) = await connection.ReceiveAsync(stop);
                    if (connection.IsClosed)
                    {
                        _stats.Error("the server closed a receiving connection");
                        return;
                    }
                    if (opcode != Opcode.Binary || payload.Length != options.MessageBytes)
                    {
                        // the server's own (a counter, say): not ours to count
                        Interlocked.Increment(ref _stats.Unsolicited);
                        continue;
                    }
                    if (!PatternIntact(payload.Span))
                        _stats.Error("broadcast payload corrupted");
                    var stamp = BinaryPrimitives.ReadInt64LittleEndian(payload.Span[8..]);
                    _stats.Latency(latencies, Stopwatch.GetTimestamp() - stamp);
                    Interlocked.Increment(ref _stats.Received);
                    senderWindow?.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is SocketException or WsCoreException)
            {
                _stats.Error(e.Message);
            }
            finally
            {
                _stats.AddLatencies(latencies, connection.Server);
            }
        }

        /// <summary>Connect, handshake, close, repeat, in <see cref="BenchOptions.Clients"/> loops.</summary>
        public async Task<BenchResult> ConnectLoopAsync()
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            stop.CancelAfter(options.Duration);
            var started = Stopwatch.GetTimestamp();
            var reporting = ReportProgressAsync(() => Interlocked.Read(ref _stats.Connects), started, stop.Token);
            await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(async () =>
            {
                var latencies = new List<long>();
                while (!stop.IsCancellationRequested)
                {
                    var begin = Stopwatch.GetTimestamp();
                    try
                    {
                        using var connection = await BenchConnection.OpenAsync(endpoint, options.Target, stop.Token);
                        _stats.Latency(latencies, Stopwatch.GetTimestamp() - begin);
                        Interlocked.Increment(ref _stats.Connects);
                        using var closing = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                        closing.CancelAfter(TimeSpan.FromSeconds(5));
                        await connection.CloseAsync(closing.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        if (stop.IsCancellationRequested)
                            break;
                        _stats.Error("close handshake timed out");
                    }
                    catch (Exception e) when (e is WsCoreException or SocketException)
                    {
                        _stats.Error(e.Message);
                    }
                }
                _stats.AddLatencies(latencies);
            })));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await stop.CancelAsync();
            await reporting;
            return Result(options.Clients, seconds, 0, 0);
        }

        /// <summary>Connect every client, then hold them, answering pings; count those still open at the end.</summary>
        public async Task<BenchResult> IdleAsync()
        {
            var started = Stopwatch.GetTimestamp();
            using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var reporting = ReportProgressAsync(
                () => Interlocked.Read(ref _stats.Opened) - Interlocked.Read(ref _stats.Closed), started, hold.Token);
            var connections = await OpenManyAsync(options.Clients);
            Interlocked.Add(ref _stats.Connects, connections.Count);
            logger.Information(
                "idle: {Connected}/{Clients} connected; holding for {Duration}",
                connections.Count,
                options.Clients,
                options.Duration);
            hold.CancelAfter(options.Duration);
            // Each connection answers the server's pings while idle; a close or reset ends it.
            var readers = connections.Select(c => Task.Run(async () =>
            {
                try
                {
                    while (!c.IsClosed)
                        await c.ReceiveAsync(hold.Token);
                    Interlocked.Increment(ref _stats.Closed);
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception e) when (e is SocketException or WsCoreException)
                {
                    Interlocked.Increment(ref _stats.Closed);
                    _stats.Error(e.Message);
                }
            })).ToList();
            await Task.WhenAll(readers);
            await hold.CancelAsync();
            await reporting;
            var alive = connections.Count(c => !c.IsClosed);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await CloseAllAsync(connections);
            return Result(connections.Count, seconds, alive, 0);
        }

        /// <summary>
        /// Opens <paramref name="count"/> connections, <see cref="BenchOptions.ConnectConcurrency"/> at a time; after
        /// Ctrl-C, those opened so far.
        /// </summary>
        private async Task<List<BenchConnection>> OpenManyAsync(int count)
        {
            var opened = new List<BenchConnection>(count);
            using var gate = new SemaphoreSlim(options.ConnectConcurrency);
            var tasks = Enumerable.Range(0, count).Select(async index =>
            {
                try
                {
                    await gate.WaitAsync(cancel);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                try
                {
                    var server = Servers[index % Servers.Count];
                    var connection = await BenchConnection.OpenAsync(server.EndPoint, server.Target, cancel);
                    connection.Server = index % Servers.Count;
                    Interlocked.Increment(ref _stats.Opened);
                    lock (opened)
                        opened.Add(connection);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                }
                catch (WsCoreException e)
                {
                    _stats.ConnectFailed(e);
                }
                catch (SocketException e)
                {
                    _stats.ConnectFailed(new WsCoreException(FailureKind.ConnectionFailed,
                        $"cannot connect to {Servers[index % Servers.Count].EndPoint}: {e.Message}",
                        "is the server running, and is the port right?"));
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(tasks);
            return opened;
        }

        private async Task ReportProgressAsync(Func<long> count, long started, CancellationToken stop)
        {
            if (progress is null)
                return;
            using var timer = new PeriodicTimer(options.ProgressInterval);
            var lastCount = 0L;
            var lastTime = started;
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    var now = Stopwatch.GetTimestamp();
                    var current = count();
                    var interval = Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                    var rate = options.Mode == BenchMode.Idle || interval <= 0 ? 0 : (current - lastCount) / interval;
                    double? median = options.Mode == BenchMode.Idle
                        ? null
                        : _stats.Live!.ValueAt(0.5) * 1e6 / Stopwatch.Frequency;
                    progress.Report(new BenchProgress(
                        options.Mode, Stopwatch.GetElapsedTime(started, now), current, rate, median));
                    (lastCount, lastTime) = (current, now);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task CloseAllAsync(List<BenchConnection> connections)
        {
            // After Ctrl-C the user waits for the results: a shorter bound on the close handshakes.
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(cancel.IsCancellationRequested ? 1 : 5));
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

        private List<LatencySummary> LatencyByServer() => options.Mode == BenchMode.Broadcast && Servers.Count > 1
            ? [.. Servers.Select((_, i) => LatencySummary.From(_stats.LatenciesOf(i)))]
            : [];

        private BenchResult Result(int connected, double seconds, int alive, long lost) => new(
            options.Mode,
            options.Clients,
            connected,
            seconds,
            _stats.Sent,
            _stats.Received,
            seconds > 0 ? _stats.Received / seconds : 0,
            LatencySummary.From(_stats.AllLatencies()),
            LatencyByServer(),
            _stats.Connects,
            seconds > 0 ? _stats.Connects / seconds : 0,
            _stats.Errors,
            alive,
            lost,
            _stats.Unsolicited,
            cancel.IsCancellationRequested,
            _stats.ErrorSamples,
            _stats.LossSamples)
        {
            FirstConnectFailure = _stats.FirstConnectFailure,
            ConnectFailures = Interlocked.Read(ref _stats.ConnectFailures),
            RefusedAsFull = Interlocked.Read(ref _stats.RefusedAsFull),
        };
    }

    private static string Seconds(TimeSpan time) =>
        time.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Serilog;

namespace WsCore.Bench;

/// <summary>A server a run's connections go to: where to connect, and the URL its handshake asks for.</summary>
internal readonly record struct BenchServer(IPEndPoint EndPoint, Uri Target);

/// <summary>
/// What every scenario of one load run shares: its settings, its servers, its statistics, the token that interrupts
/// it (Ctrl-C), and the steps every mode takes (opening connections, reporting progress, closing, the result).
/// </summary>
internal sealed class BenchRun(
    BenchOptions options,
    IReadOnlyList<BenchServer> servers,
    ILogger logger,
    IProgress<BenchProgress>? progress,
    CancellationToken interrupt)
{
    public BenchOptions Options { get; } = options;

    /// <summary>Every server the connections are spread over, <see cref="BenchOptions.Target"/> first.</summary>
    public IReadOnlyList<BenchServer> Servers { get; } = servers;

    public ILogger Logger { get; } = logger;

    /// <summary>Cancelled by Ctrl-C: the run stops early and reports what it measured.</summary>
    public CancellationToken Interrupt { get; } = interrupt;

    public BenchStatistics Statistics { get; } = new(servers.Count);

    // The first connection's permessage-deflate answer, or null.
    private string? _compression;

    public string ModeName => Options.Mode.ToString().ToLowerInvariant();

    /// <summary>
    /// Opens <paramref name="count"/> connections, <see cref="BenchOptions.ConnectConcurrency"/> at a time, connection
    /// i to server i mod N; after Ctrl-C, those opened so far. They come back in the order they were asked for, not
    /// in the order their handshakes completed, so the first is the target's whenever the target took one.
    /// </summary>
    public async Task<IReadOnlyList<BenchConnection>> OpenManyAsync(int count)
    {
        var opened = new BenchConnection?[count];
        using var gate = new SemaphoreSlim(Options.ConnectConcurrency);
        var tasks = Enumerable.Range(0, count).Select(async index =>
        {
            try
            {
                await gate.WaitAsync(Interrupt);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var server = index % Servers.Count;
            try
            {
                var connection = await BenchConnection.OpenAsync(Servers[server].EndPoint, Servers[server].Target,
                    Interrupt, Options.HandshakeTimeout, Statistics, Options.Compression);
                if (connection.Compression is { } agreed)
                    Interlocked.CompareExchange(ref _compression, agreed, null);
                connection.Server = server;
                Statistics.CountOpened();
                opened[index] = connection;
            }
            catch (OperationCanceledException) when (Interrupt.IsCancellationRequested)
            {
            }
            catch (WsCoreException e)
            {
                Statistics.ConnectFailed(e);
            }
            catch (SocketException e)
            {
                Statistics.ConnectFailed(new WsCoreException(FailureKind.ConnectionFailed,
                    $"cannot connect to {Servers[server].EndPoint}: {e.Message}",
                    "is the server running, and is the port right?"));
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return [.. opened.OfType<BenchConnection>()];
    }

    /// <summary>
    /// Tells the progress callback, every <see cref="BenchOptions.ProgressInterval"/> until <paramref name="stop"/>,
    /// what <paramref name="count"/> says, its rate and the median latency so far; nothing without a callback.
    /// </summary>
    public async Task ReportProgressAsync(Func<long> count, long started, CancellationToken stop)
    {
        if (progress is null)
            return;
        using var timer = new PeriodicTimer(Options.ProgressInterval);
        var lastCount = 0L;
        var lastTime = started;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = Stopwatch.GetTimestamp();
                var current = count();
                var interval = Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                var idle = Options.Mode == BenchMode.Idle;
                var rate = idle || interval <= 0 ? 0 : (current - lastCount) / interval;
                double? median = idle || Statistics.Latencies.All().ValueAt(0.5) is not { } ticks
                    ? null
                    : LatencySummary.Microseconds(ticks);
                progress.Report(new BenchProgress(
                    Options.Mode, Stopwatch.GetElapsedTime(started, now), current, rate, median));
                (lastCount, lastTime) = (current, now);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Closes every connection (close handshake, bounded) and disposes it.</summary>
    public async Task CloseAllAsync(IReadOnlyList<BenchConnection> connections)
    {
        // After Ctrl-C the user waits for the results: a shorter bound on the close handshakes.
        using var limit = new CancellationTokenSource(
            TimeSpan.FromSeconds(Interrupt.IsCancellationRequested ? 1 : 5));
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

    /// <summary>The run's result from its statistics and what the scenario measured itself.</summary>
    public BenchResult Result(int connected, double seconds, int alive, long lost)
    {
        var stats = Statistics;
        var latencies = stats.Latencies;
        return new BenchResult(
            Options.Mode,
            Options.Clients,
            connected,
            seconds,
            stats.Sent,
            stats.Received,
            seconds > 0 ? stats.Received / seconds : 0,
            LatencySummary.From(latencies.All()),
            // Broadcast through several servers: each one's clients apart (the target's sends, the others relay).
            Options.Mode == BenchMode.Broadcast && latencies.ServerCount > 1
                ? [.. Enumerable.Range(0, latencies.ServerCount).Select(s => LatencySummary.From(latencies.Of(s)))]
                : [],
            stats.Connects,
            seconds > 0 ? stats.Connects / seconds : 0,
            stats.Errors,
            alive,
            lost,
            stats.Unsolicited,
            Interrupt.IsCancellationRequested,
            stats.ErrorSamples,
            stats.LossSamples)
        {
            FirstConnectFailure = stats.FirstConnectFailure,
            ConnectFailures = stats.ConnectFailures,
            RefusedAsFull = stats.RefusedAsFull,
            WireBytesSent = stats.WireBytesSent,
            WireBytesReceived = stats.WireBytesReceived,
            Compression = _compression,
        };
    }
}

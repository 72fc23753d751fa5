using System.Net;
using System.Net.Sockets;
using Serilog;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// The load generator behind <c>wsctl bench</c>: raw sockets, masked frames, every answered byte checked. Talks to any
/// RFC 6455 server (wsctl serve, Kestrel, node's ws, a board) and reports messages per second, latency
/// percentiles, connects per second, losses and errors. Each mode is a <see cref="BenchScenario"/> over the run's
/// shared <see cref="BenchStatistics"/>, whose latency histograms keep its memory flat however long it runs.
/// </summary>
public static class LoadGenerator
{
    /// <summary>The smallest message: a sequence number and a timestamp travel in each.</summary>
    public const int MinMessageBytes = BenchPayload.HeaderBytes;

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
    /// Hears every <see cref="BenchOptions.ProgressInterval"/> how the run goes, on a pool thread; null: no reports.
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
        List<BenchServer> servers = [];
        foreach (var target in (IEnumerable<Uri>)[options.Target, .. options.AlsoTargets])
            servers.Add(new BenchServer(await ResolveAsync(options, target, cancel), target));
        var run = new BenchRun(options, servers, logger ?? Serilog.Core.Logger.None, progress, cancel);
        // The generator's own CPU, so a run can say when it, not the server, was the limit.
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await BenchScenario.For(run).RunAsync();
        self.Refresh();
        return result with
        {
            GeneratorCpuSeconds = (self.TotalProcessorTime - cpuBefore).TotalSeconds,
            GeneratorWallSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            GeneratorCores = Environment.ProcessorCount,
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
}

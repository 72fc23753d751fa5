using System.Diagnostics;
using System.Net.Sockets;

namespace WsCore.Bench;

/// <summary>
/// <see cref="BenchMode.Connect"/>: connect, handshake, close, repeat, in <see cref="BenchOptions.Clients"/> loops
/// against the target; the latency is connect + handshake.
/// </summary>
internal sealed class ConnectScenario(BenchRun run) : BenchScenario(run)
{
    public override async Task<BenchResult> RunAsync()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Run.Interrupt);
        stop.CancelAfter(Options.Duration);
        var started = Stopwatch.GetTimestamp();
        var reporting = Run.ReportProgressAsync(() => Stats.Connects, started, stop.Token);
        await Task.WhenAll(Enumerable.Range(0, Options.Clients).Select(_ => Task.Run(() => LoopAsync(stop.Token))));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // Handshakes still pending when the time was up end without an error of their own: when not one completed
        // (a server that accepts and never answers, a run shorter than the handshake timeout), that is the result.
        if (Stats.Connects == 0 && Stats.Errors == 0 && !Run.Interrupt.IsCancellationRequested)
            Stats.Error(FormattableString.Invariant($"no handshake completed within the run ({seconds:0.#} s)"));
        await stop.CancelAsync();
        await reporting;
        return Run.Result(Options.Clients, seconds, 0, 0);
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var target = Run.Servers[0];
        while (!stop.IsCancellationRequested)
        {
            var begin = Stopwatch.GetTimestamp();
            try
            {
                using var connection = await BenchConnection.OpenAsync(
                    target.EndPoint, target.Target, stop, Options.HandshakeTimeout);
                Stats.Latencies.Record(0, Stopwatch.GetTimestamp() - begin);
                Stats.CountConnects();
                using var closing = CancellationTokenSource.CreateLinkedTokenSource(Run.Interrupt);
                closing.CancelAfter(TimeSpan.FromSeconds(5));
                await connection.CloseAsync(closing.Token);
            }
            catch (OperationCanceledException)
            {
                if (stop.IsCancellationRequested)
                    break;
                Stats.Error("close handshake timed out");
            }
            catch (Exception e) when (e is WsCoreException or SocketException)
            {
                Stats.Error(e.Message);
            }
        }
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// <see cref="BenchMode.Broadcast"/>: one client sends, every client (the sender too) counts what the server relays
/// (<c>wsctl serve --relay</c>, or a cluster's instances through <see cref="BenchOptions.AlsoTargets"/>). A delivery
/// that never comes is lost: sent × receivers − received, once deliveries have stopped arriving.
/// </summary>
internal sealed class BroadcastScenario(BenchRun run) : BenchScenario(run)
{
    public override async Task<BenchResult> RunAsync()
    {
        var connections = await Run.OpenManyAsync(Options.Clients);
        if (connections.Count == 0)
            return Run.Result(0, 0, 0, 0);
        Run.Logger.Information(
            "broadcast: {Connected}/{Clients} connected; running for {Duration}",
            connections.Count,
            Options.Clients,
            Options.Duration);
        using var receiving = new CancellationTokenSource();
        // The sender is a client of the target, whatever order the handshakes completed in: through --also servers
        // that relay only what reaches them from the target (a cluster's other instances), a sender on another
        // server would see nothing delivered. Without a connection to the target, the first one sends.
        var sender = connections.FirstOrDefault(c => c.Server == 0) ?? connections[0];
        using var senderEchoes = new SemaphoreSlim(Options.BroadcastWindow);
        var started = Stopwatch.GetTimestamp();
        var receivers = connections
            .Select(c => Task.Run(() => CountArrivalsAsync(c, c == sender ? senderEchoes : null, receiving.Token)))
            .ToList();
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(Run.Interrupt);
        sending.CancelAfter(Options.Duration);
        var reporting = Run.ReportProgressAsync(() => Stats.Received, started, sending.Token);
        await SendAsync(sender, senderEchoes, sending.Token);
        await sending.CancelAsync();
        await reporting;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var expected = Stats.Sent * connections.Count;
        await WaitForStragglersAsync(expected);
        await receiving.CancelAsync();
        await Task.WhenAll(receivers);
        var lost = Math.Max(0, expected - Stats.Received);
        if (lost > 0)
            Stats.ExplainLoss(
                $"{Stats.Sent:N0} sent × {connections.Count} " +
                    $"{(connections.Count == 1 ? "receiver" : "receivers")} = {expected:N0} deliveries expected, " +
                    $"{Stats.Received:N0} arrived");
        var alive = connections.Count(c => !c.IsClosed);
        await Run.CloseAllAsync(connections);
        return Run.Result(connections.Count, seconds, alive, lost);
    }

    // The sender keeps at most BroadcastWindow messages in flight, judged by its own copies coming back, so a server
    // is measured at the rate it sustains, not by how much it lets pile up.
    private async Task SendAsync(BenchConnection sender, SemaphoreSlim senderEchoes, CancellationToken stop)
    {
        var payload = new byte[Options.MessageBytes];
        var interval = Options.Rate is { } rate && rate > 0 ? 1.0 / rate : (double?)null;
        var next = Stopwatch.GetTimestamp();
        long sequence = 0;
        try
        {
            while (!stop.IsCancellationRequested && !sender.IsClosed)
            {
                await senderEchoes.WaitAsync(stop);
                if (interval is { } gap)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, stop);
                    next += (long)(gap * Stopwatch.Frequency);
                }
                BenchPayload.Fill(payload, ++sequence, Stopwatch.GetTimestamp());
                await sender.SendAsync(Opcode.Binary, payload, stop);
                Stats.CountSent();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            Stats.Error("send: " + e.Message);
        }
    }

    // Deliveries still on their way are not lost: the wait goes on while they keep arriving and ends when every one
    // has, or when none came for a while (2 s; 1 s after Ctrl-C, where the user is waiting for the results). A fixed
    // window from the end of sending would count a backlog that is still draining (a server, or this process, slowed
    // down by a busy machine) as lost.
    private async Task WaitForStragglersAsync(long expected)
    {
        var quiet = TimeSpan.FromSeconds(Run.Interrupt.IsCancellationRequested ? 1 : 2);
        var arrived = Stats.Received;
        var lastArrival = Stopwatch.GetTimestamp();
        while (arrived < expected)
        {
            await Task.Delay(20, CancellationToken.None);
            var now = Stats.Received;
            if (now != arrived)
                (arrived, lastArrival) = (now, Stopwatch.GetTimestamp());
            else if (Stopwatch.GetElapsedTime(lastArrival) >= quiet)
                return;
        }
    }

    private async Task CountArrivalsAsync(
        BenchConnection connection, SemaphoreSlim? senderWindow, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var (opcode, payload) = await connection.ReceiveAsync(stop);
                if (connection.IsClosed)
                {
                    Stats.Error("the server closed a receiving connection");
                    return;
                }
                if (opcode != Opcode.Binary || payload.Length != Options.MessageBytes)
                {
                    // the server's own (a counter, say): not ours to count
                    Stats.CountUnsolicited();
                    continue;
                }
                if (!BenchPayload.PatternIntact(payload.Span))
                    Stats.Error("broadcast payload corrupted");
                Stats.Latencies.Record(
                    connection.Server, Stopwatch.GetTimestamp() - BenchPayload.Stamp(payload.Span));
                Stats.CountReceived();
                senderWindow?.Release();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or WsCoreException)
        {
            Stats.Error(e.Message);
        }
    }
}

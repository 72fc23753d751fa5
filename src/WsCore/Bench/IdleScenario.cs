using System.Diagnostics;
using System.Net.Sockets;

namespace WsCore.Bench;

/// <summary>
/// <see cref="BenchMode.Idle"/>: connect every client, then hold them for the duration, answering the server's pings;
/// the result is how many are still open at the end.
/// </summary>
internal sealed class IdleScenario(BenchRun run) : BenchScenario(run)
{
    public override async Task<BenchResult> RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(Run.Interrupt);
        var reporting = Run.ReportProgressAsync(() => Stats.Open, started, hold.Token);
        var connections = await Run.OpenManyAsync(Options.Clients);
        Stats.CountConnects(connections.Count);
        Run.Logger.Information(
            "idle: {Connected}/{Clients} connected; holding for {Duration}",
            connections.Count,
            Options.Clients,
            Options.Duration);
        hold.CancelAfter(Options.Duration);
        // Each connection answers the server's pings while idle; a close or reset ends it.
        await Task.WhenAll(connections.Select(c => Task.Run(() => HoldAsync(c, hold.Token))));
        await hold.CancelAsync();
        await reporting;
        var alive = connections.Count(c => !c.IsClosed);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await Run.CloseAllAsync(connections);
        return Run.Result(connections.Count, seconds, alive, 0);
    }

    private async Task HoldAsync(BenchConnection connection, CancellationToken hold)
    {
        try
        {
            while (!connection.IsClosed)
                await connection.ReceiveAsync(hold);
            Stats.CountClosed();
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or WsCoreException)
        {
            Stats.CountClosed();
            Stats.Error(e.Message);
        }
    }
}

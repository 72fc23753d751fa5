using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// Ping and echo: every client in a closed loop, one message in flight each, every answer checked byte for byte.
/// </summary>
/// <param name="run">The run this scenario is.</param>
/// <param name="request">What a client sends.</param>
/// <param name="answer">What answers it.</param>
/// <param name="answerName">The answer in the report's words ("pong", "echo").</param>
internal abstract class RoundTripScenario(BenchRun run, Opcode request, Opcode answer, string answerName)
    : BenchScenario(run)
{
    /// <summary>How the wait for one answer ended.</summary>
    private enum Outcome
    {
        Matched,
        Corrupted,
        Closed,
    }

    public override async Task<BenchResult> RunAsync()
    {
        var connections = await Run.OpenManyAsync(Options.Clients);
        if (connections.Count == 0)
            return Run.Result(0, 0, 0, 0);
        Run.Logger.Information(
            "{Mode}: {Connected}/{Clients} connected; running for {Duration}",
            Run.ModeName,
            connections.Count,
            Options.Clients,
            Options.Duration);
        var perClientInterval = Options.Rate is { } rate && rate > 0
            ? TimeSpan.FromSeconds(connections.Count / rate)
            : (TimeSpan?)null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Run.Interrupt);
        stop.CancelAfter(Options.Duration);
        var started = Stopwatch.GetTimestamp();
        var reporting = Run.ReportProgressAsync(() => Stats.Received, started, stop.Token);
        await Task.WhenAll(connections.Select(c => Task.Run(() => LoopAsync(c, perClientInterval, stop.Token))));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stop.CancelAsync();
        await reporting;
        var alive = connections.Count(c => !c.IsClosed);
        await Run.CloseAllAsync(connections);
        return Run.Result(connections.Count, seconds, alive, Stats.Lost);
    }

    private async Task LoopAsync(BenchConnection connection, TimeSpan? interval, CancellationToken stop)
    {
        var interrupt = Run.Interrupt;
        var payload = new byte[Options.MessageBytes];
        // A random tag marks this connection's messages, so what another connection (of this run or another one)
        // sent, relayed here, is told apart from an answer of ours.
        var tag = (long)RandomNumberGenerator.GetInt32(1, int.MaxValue) << 32;
        uint count = 0;
        var next = Stopwatch.GetTimestamp();
        // A message sent is waited for even when the run's time is up: only Ctrl-C or the answer timeout end the
        // wait, so every message ends up answered, lost or interrupted, never silently dropped. One source for the
        // whole loop, reset after each answer: nothing allocated per message.
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
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
                if (Options.JsonPayload)
                    BenchPayload.FillJson(payload, tag | ++count, stamp);
                else
                    BenchPayload.Fill(payload, tag | ++count, stamp);
                await connection.SendAsync(request, payload, interrupt);
                Stats.CountSent();
                deadline.CancelAfter(Options.AnswerTimeout);
                Outcome outcome;
                try
                {
                    outcome = await AwaitAnswerAsync(connection, payload, tag, deadline.Token);
                }
                catch (OperationCanceledException) when (!interrupt.IsCancellationRequested)
                {
                    Stats.Lose($"no {answerName} within {Seconds(Options.AnswerTimeout)}");
                    return;
                }
                switch (outcome)
                {
                    case Outcome.Matched:
                        Stats.Latencies.Record(connection.Server, Stopwatch.GetTimestamp() - stamp);
                        Stats.CountReceived();
                        break;
                    case Outcome.Corrupted:
                        Stats.Error($"{answerName} corrupted ({payload.Length} bytes sent, the answer differs)");
                        break;
                    default:
                        // The message in flight is lost, and a connection the server ends mid-run is an error.
                        Stats.CountLost();
                        Stats.Error($"the server closed the connection before the {answerName}");
                        return;
                }
                if (!deadline.TryReset())
                {
                    // The timeout fired just as the answer came (or Ctrl-C, which the next send sees): a new one.
                    deadline.Dispose();
                    deadline = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or WsCoreException)
        {
            Stats.Error(e.Message);
        }
        finally
        {
            deadline.Dispose();
        }
    }

    // Ours is a frame of the expected kind and length carrying this connection's tag; anything else the server sends
    // meanwhile (the firmware's counter, a status push, an unasked pong, another client's message relayed) is
    // unsolicited and skipped. Ours but not byte for byte what was sent (another sequence number, changed bytes) is
    // corrupted. A tag changed in transit makes the answer unrecognisable: it is then lost at the timeout.
    private async Task<Outcome> AwaitAnswerAsync(
        BenchConnection connection, byte[] sent, long tag, CancellationToken deadline)
    {
        while (true)
        {
            var (opcode, data) = await connection.ReceiveAsync(deadline);
            if (connection.IsClosed)
                return Outcome.Closed;
            if (opcode == answer && data.Length == sent.Length
                && (Options.JsonPayload
                    ? BenchPayload.JsonHasTag(data.Span, tag)
                    : BenchPayload.HasTag(data.Span, tag)))
                return data.Span.SequenceEqual(sent) ? Outcome.Matched : Outcome.Corrupted;
            Stats.CountUnsolicited();
        }
    }

    private static string Seconds(TimeSpan time) =>
        time.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";
}

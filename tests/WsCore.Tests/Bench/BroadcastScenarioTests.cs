using System.Threading.Channels;
using WsCore.Bench;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Bench;

/// <summary>The broadcast scenario run by itself: who sends, and when a delivery counts as lost.</summary>
public sealed class BroadcastScenarioTests
{
    [Fact]
    public async Task Run_DeliveriesThroughTheOtherServerStillArrivingLongAfterSendingEnded_NoneCountedLost()
    {
        // The target relays to its own clients at once, and to the other server's through a forwarder that passes
        // one message every 500 ms: the last deliveries arrive seconds after sending ended, but one never waits
        // long for the next.
        await using var other = TestServer.Start(echo: false);
        var forwarding = Channel.CreateUnbounded<byte[]>();
        await using var target = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
        {
            s.Send(WebSocketServer.AllClients, type, payload);
            forwarding.Writer.TryWrite(payload.ToArray());
        });
        var forwarder = Task.Run(async () =>
        {
            await foreach (var message in forwarding.Reader.ReadAllAsync(other.Stopping))
            {
                await Task.Delay(500, other.Stopping);
                other.Server.Send(WebSocketServer.AllClients, MessageType.Binary, message);
            }
        });
        var options = new BenchOptions(target.Uri, BenchMode.Broadcast, Clients: 4, MessageBytes: 32,
            TimeSpan.FromMilliseconds(300))
        {
            AlsoTargets = [other.Uri],
            Rate = 20,
        };

        var result = await new BroadcastScenario(TestBenchRun.For(options)).RunAsync()
            .WaitAsync(TimeSpan.FromMinutes(1));
        forwarding.Writer.Complete();
        await forwarder;

        // About 6 at 20 a second for 300 ms; a busy machine sends fewer (4 in one CI run), and 2 already make the
        // last delivery through the forwarder come a second after sending ended.
        Assert.True(result.MessagesSent >= 2, $"{result.MessagesSent} sent");
        Assert.Equal((0L, 0L), (result.Errors, result.Lost));
        Assert.Equal(result.MessagesSent * 2, result.LatencyByServer[1].Count);
    }

    [Fact]
    public async Task Run_ServerDropsEveryOtherMessage_TheMissingDeliveriesCountedLost()
    {
        var relayed = 0;
        await using var server = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, type, payload) =>
        {
            if (Interlocked.Increment(ref relayed) % 2 == 1)
                s.Send(WebSocketServer.AllClients, type, payload);
        });
        var options = new BenchOptions(server.Uri, BenchMode.Broadcast, Clients: 3, MessageBytes: 32,
            TimeSpan.FromMilliseconds(300))
        { Rate = 50 };

        var result = await new BroadcastScenario(TestBenchRun.For(options)).RunAsync()
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(result.MessagesSent / 2 * 3, result.Lost);
        Assert.Equal(result.MessagesSent * 3 - result.Lost, result.MessagesReceived);
        Assert.Contains(result.LossSamples, s => s.Contains("deliveries expected", StringComparison.Ordinal));
    }
}

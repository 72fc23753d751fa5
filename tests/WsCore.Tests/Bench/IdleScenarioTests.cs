using WsCore.Bench;
using WsCore.Tests.Support;

namespace WsCore.Tests.Bench;

/// <summary>The idle scenario run by itself: connections held, pings answered, the ones still open counted.</summary>
public sealed class IdleScenarioTests
{
    [Fact]
    public async Task Run_ServerClosesOneOfThree_TwoAliveAtTheEnd()
    {
        await using var server = TestServer.Start(echo: false, o => o.PingInterval = TimeSpan.FromMilliseconds(50));
        using var interrupt = new CancellationTokenSource();
        var closedOne = 0;
        // Once all three are open, the server closes one; once the run sees two open, the test stops it.
        var progress = new TestBenchRun.Collect(p =>
        {
            if (p.Count == 3 && Interlocked.Exchange(ref closedOne, 1) == 0)
                server.Server.CloseClient(server.Server.ClientIds[0]);
            else if (p.Count == 2 && Volatile.Read(ref closedOne) == 1)
                interrupt.Cancel();
        });
        var options = new BenchOptions(server.Uri, BenchMode.Idle, 3, 16, TimeSpan.FromMinutes(5))
        { ProgressInterval = TimeSpan.FromMilliseconds(50) };

        var result = await new IdleScenario(TestBenchRun.For(options, progress, interrupt.Token)).RunAsync()
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.Interrupted);
        Assert.Equal((3, 3L, 2), (result.Connected, result.Connects, result.AliveAtEnd));
        Assert.Equal(0, result.Errors);
        // The server's pings (every 50 ms) were answered on the way and are no messages of the run.
        Assert.Equal((0L, 0L), (result.MessagesReceived, result.Latency.Count));
    }
}
